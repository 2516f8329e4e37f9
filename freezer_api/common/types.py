"""Type aliases shared by the modules of freezer_api."""

from collections.abc import Callable
from collections.abc import Iterable
import typing

# A JSON document (an action, job, session, client or backup) as the API
# shows it and the database stores it.
Document = dict[str, typing.Any]

# A WSGI application (PEP 3333): (environ, start_response) -> body.
WSGIApp = Callable[[dict[str, typing.Any], Callable[..., typing.Any]],
                   Iterable[bytes]]
