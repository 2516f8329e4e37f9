"""The request context: who is calling, and the DB transaction provider."""

from collections.abc import Iterable
import typing

from oslo_context import context
from oslo_db.sqlalchemy import enginefacade

if typing.TYPE_CHECKING:
    from sqlalchemy import orm


@enginefacade.transaction_context_provider
class RequestContext(context.RequestContext):
    """Caller identity for one request.

    Roles are lower-cased, so that policy checks match Keystone role names
    however a proxy or a noauth caller spelled them.
    """

    if typing.TYPE_CHECKING:
        # Set by enginefacade.transaction_context_provider: the ORM
        # session of the transaction that a writer/reader decorator opened.
        session: orm.Session

    def __init__(self, roles: Iterable[str] | None = None,
                 **kwargs: typing.Any) -> None:
        roles = [r.strip().lower() for r in (roles or []) if r.strip()]
        kwargs.setdefault('is_admin', 'admin' in roles)
        super().__init__(roles=roles, **kwargs)


def get_admin_context() -> RequestContext:
    """A context for work the service does on its own behalf (tools)."""
    return RequestContext(user_id='freezer-api', project_id=None,
                          roles=['admin'], is_admin=True, overwrite=False)
