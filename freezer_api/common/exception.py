"""The one exception tree of freezer-api.

Every error a request can meet is a :class:`FreezerException`: its ``code``
is the HTTP status, ``title`` and the formatted ``_msg_fmt`` become the JSON
fault ``{"title": ..., "description": ...}`` that python-freezerclient and
freezer-scheduler parse. Messages are written for the caller: they never
carry SQL, class names or tracebacks.
"""

from http import HTTPStatus
import typing


class FreezerException(Exception):
    """Base class: an error with an HTTP status and a caller-facing text."""

    code: int = HTTPStatus.INTERNAL_SERVER_ERROR
    title = 'Internal Server Error'
    _msg_fmt = 'An unexpected error occurred on the server.'
    headers: dict[str, str] = {}

    def __init__(self, message: object = None,
                 **kwargs: typing.Any) -> None:
        if message is None:
            try:
                message = self._msg_fmt % kwargs
            except (KeyError, TypeError, ValueError):
                message = self._msg_fmt
        self.message = str(message)
        self.kwargs = kwargs
        super().__init__(self.message)

    def to_dict(self) -> dict[str, str]:
        return {'title': self.title, 'description': self.message}


class BadRequest(FreezerException):
    code = HTTPStatus.BAD_REQUEST
    title = 'Bad request format'
    _msg_fmt = 'The request is not valid: %(reason)s'


class MissingBody(BadRequest):
    _msg_fmt = 'Missing request body'


class InvalidParameter(BadRequest):
    title = 'Invalid parameter'
    _msg_fmt = 'The "%(name)s" parameter is invalid. %(reason)s'


class InvalidSearch(BadRequest):
    title = 'Invalid search'
    _msg_fmt = 'The search body is invalid: %(reason)s'


class IntegerOutOfRange(BadRequest):
    _msg_fmt = ('%(field)s: the number %(value)s is too long; an integer '
                'must be within the signed 64-bit range (-2**63 to '
                '2**63-1).')


class ClientDisconnected(BadRequest):
    _msg_fmt = 'The client disconnected before sending the whole body.'


class BadFraming(BadRequest):
    _msg_fmt = ('The request body is not framed as HTTP/1.1 requires '
                '(RFC 9112).')


class MalformedJSON(FreezerException):
    """Status 753, as the API reference documents for a body that is not
    JSON; python-freezerclient and freezer-scheduler expect it."""

    code = 753
    title = 'Malformed JSON'
    _msg_fmt = 'The request body is not valid JSON: %(reason)s'


class Unauthorized(FreezerException):
    code = HTTPStatus.UNAUTHORIZED
    title = 'Unauthorized'
    _msg_fmt = 'The request you have made requires authentication.'


class Forbidden(FreezerException):
    code = HTTPStatus.FORBIDDEN
    title = 'Access Forbidden'
    _msg_fmt = 'You are not allowed to access this resource'


class NotFound(FreezerException):
    code = HTTPStatus.NOT_FOUND
    title = 'Not Found'
    _msg_fmt = 'The resource could not be found.'


class ResourceNotFound(NotFound):
    _msg_fmt = '%(resource)s %(id)s not found'


class MethodNotAllowed(FreezerException):
    code = HTTPStatus.METHOD_NOT_ALLOWED
    title = 'Method Not Allowed'
    _msg_fmt = 'The method %(method)s is not allowed on this resource.'


class NotAcceptable(FreezerException):
    code = HTTPStatus.NOT_ACCEPTABLE
    title = 'Not Acceptable'
    _msg_fmt = 'This resource only answers with application/json.'


class Conflict(FreezerException):
    code = HTTPStatus.CONFLICT
    title = 'Document already existing'
    _msg_fmt = '%(resource)s already registered with ID %(id)s'


class PreconditionFailed(FreezerException):
    code = HTTPStatus.PRECONDITION_FAILED
    title = 'Precondition Failed'
    _msg_fmt = ('%(resource)s %(id)s is at version %(current)s, which the '
                'If-Match header does not match')


class RequestTooLarge(FreezerException):
    code = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    title = 'Request Entity Too Large'
    _msg_fmt = 'The request body is too large.'


class UnprocessableEntity(FreezerException):
    code = HTTPStatus.UNPROCESSABLE_ENTITY
    title = 'Unprocessable Entity'
    _msg_fmt = '%(reason)s'


class MissingCredentials(UnprocessableEntity):
    """No Keystone trust can be made for the caller (the reference's
    title, which clients show)."""

    title = 'Missing required credentials'


class StorageError(FreezerException):
    title = 'Internal Storage Error'
    _msg_fmt = 'Database operation failed.'


class ServiceUnavailable(FreezerException):
    code = HTTPStatus.SERVICE_UNAVAILABLE
    title = 'Service Unavailable'
    _msg_fmt = 'The service is temporarily unavailable, try again later.'


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached: nothing was written, retry."""

    _msg_fmt = ('The database is unavailable; nothing was changed. Try '
                'again in a few seconds.')
    headers = {'Retry-After': '5'}


class CommitOutcomeUnknown(DatabaseUnavailable):
    """The connection was lost while the write was being committed: the
    server may have stored it before the answer was lost (no service can
    know), so the caller must not be told that nothing changed."""

    _msg_fmt = ('The database connection was lost while the change was '
                'being committed; it may or may not have been stored. Read '
                'the resource before trying again.')


class IdentityUnavailable(ServiceUnavailable):
    """Keystone cannot be reached (or fails): nothing was written, retry."""

    _msg_fmt = ('The identity service (Keystone) is unavailable; nothing '
                'was changed. Try again in a few seconds.')
    headers = {'Retry-After': '5'}
