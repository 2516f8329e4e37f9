"""The two reads every resource makes alike: one document by id, and a
page of a search, each in a read transaction of its own.

Each read is named as if written by hand (``get_action``,
``list_actions``): the name is what the log of a failing database
operation shows.
"""

from collections.abc import Callable
import typing

from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db import search_index as search_lang
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import documents

GetDocument = Callable[[RequestContext, str | None, str], Document]
ListDocuments = Callable[
    [RequestContext, str | None, search_lang.Search, int, int],
    list[Document]]

F = typing.TypeVar('F', bound=Callable[..., typing.Any])


def _named(fn: F, name: str) -> F:
    fn.__name__ = fn.__qualname__ = name
    return fn


def getter(kind: documents.Kind) -> GetDocument:
    """``(context, project_id, doc_id) -> document`` of ``kind``: of any
    project when ``project_id`` is None; NotFound otherwise."""
    def get(context: api.ReadContext, project_id: str | None,
            doc_id: str) -> Document:
        return documents.get_document(context.connection, kind, doc_id,
                                      project_id)
    return api.read_connection(_named(get, 'get_' + kind.label.lower()))


def lister(kind: documents.Kind) -> ListDocuments:
    """``(context, project_id, search, limit, offset) -> documents`` of
    ``kind`` (of every project when ``project_id`` is None), in creation
    order."""
    def list_page(context: api.ReadContext, project_id: str | None,
                  search: search_lang.Search, limit: int,
                  offset: int) -> list[Document]:
        return documents.list_documents(context.connection, kind,
                                        project_id, search, limit, offset)
    return api.read_connection(_named(list_page, 'list_' + kind.resource))
