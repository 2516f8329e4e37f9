"""Notifications: what changed, sent through oslo.messaging's notifier.

Nothing is sent unless the operator chooses a driver (``[oslo_messaging_
notifications] driver``, e.g. ``messagingv2``, with a ``transport_url``):
the default driver is ``noop``. Every notification is of priority
``info``, from publisher ``backup.<host>``.

A notification tells of a write that is stored: it is sent only after
its transaction committed, and once. The database code records what a
transaction would tell (:func:`pending`, kept in the ORM session of the
transaction); when that transaction commits the records move to the
request's list, and when it rolls back (a refused write, a write planned
again or retried on deadlock) they are dropped. The request's list is
sent when its handler is done (:func:`collecting`, around every handler);
a commit outside any request (a background thread) sends at once.

Sending never fails a request: an unreachable broker is logged once as a
warning (and once when it is reachable again), without the transport
URL's password.

Event types and their payloads (every payload has ``project_id`` and
``user_id``, the writer; a job's trust is never sent):

* ``action.create|update|delete``, ``job.create|update|delete``,
  ``session.create|update|delete``, ``client.create|update|delete``,
  ``backup.create|update|delete``: ``<resource>_id`` and the document's
  ``version`` (a delete: the last version). ``session.update`` is also
  sent when a job joins or leaves the session and when a member job
  starts or ends in it. A delete of nothing sends nothing.
* ``job.event``: a start, stop or abort was requested: ``job_id``,
  ``version`` and ``event``.
* ``run.start``: a run opened (freezer-scheduler reported the job
  running): ``run_id``, ``job_id``, ``client_id``, ``session_id`` and
  ``time_started``.
* ``run.end``: it ended: the same, with ``result`` (None when the run
  ended without one), ``time_ended``, ``duration`` (seconds) and
  ``backup_ids`` (the backups linked to the run).

Told by each API process's periodic look (``[history] sweep_interval``;
:mod:`freezer_api.db.sqlalchemy.sweep`), once across all processes:

* ``run.lost``: a running run whose client stopped polling for longer
  than ``[history] run_timeout``: ``run_id``, ``job_id``, ``client_id``,
  ``time_started`` and ``client_seen`` (its client's last poll, or None).
* ``run.missed``: a job was due by its schedule more than ``[history]
  grace`` ago and did not start: ``job_id``, ``client_id`` and
  ``next_due`` (once per due time).
* ``client.offline``: a client that polled has not for three times
  ``[history] client_timeout``: ``client_id`` and ``last_seen`` (once
  until it polls again).
"""

from collections.abc import Iterator
import contextlib
import contextvars
import logging
import socket
import threading
import typing
import urllib.parse
import warnings

from oslo_config import cfg
from oslo_log import log

with warnings.catch_warnings():
    # oslo.messaging loads oslo.service's eventlet back end, which warns
    # at import that eventlet is deprecated: this service runs no
    # eventlet, and the warning on every start would only mislead.
    warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')
    import oslo_messaging
    from oslo_messaging import opts as messaging_opts
from sqlalchemy import event
from sqlalchemy import orm

LOG = log.getLogger(__name__)

Payload = dict[str, typing.Any]
Event = tuple[str, Payload]

# Where a transaction's events wait for its commit, in session.info.
_PENDING = 'freezer_notifications'

# The events of the running request, sent when its handler is done; None
# outside a request.
_REQUEST: contextvars.ContextVar[list[Event] | None] = (
    contextvars.ContextVar('freezer_notifications', default=None))

_lock = threading.Lock()
_conf: cfg.ConfigOpts | None = None
_notifier: oslo_messaging.Notifier | None = None
# Made once per process (lazily: a server's workers fork after
# configure()); False when it could not be made.
_made = False
# Whether a driver sends them (read once, at configure(): every write
# asks).
_enabled = False


def configure(conf: cfg.ConfigOpts) -> None:
    """Send with ``conf`` (the application's) from now on; the notifier
    is made when the first notification is sent."""
    global _conf, _notifier, _made, _enabled
    register_opts(conf)
    with _lock:
        _conf, _notifier, _made = conf, None, False
        _enabled = any(driver != 'noop' for driver in
                       conf.oslo_messaging_notifications.driver)


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register oslo.messaging's [oslo_messaging_notifications] options
    on ``conf`` (oslo.messaging would when the notifier is made)."""
    for group, opts in messaging_opts.list_opts():
        if group == 'oslo_messaging_notifications':
            conf.register_opts(opts, group=group)


def enabled() -> bool:
    """Whether notifications are sent: a driver other than ``noop`` was
    configured."""
    return _enabled


def publisher_id(conf: cfg.ConfigOpts) -> str:
    host = getattr(conf, 'host', None) or socket.gethostname()
    return 'backup.%s' % host


def _get_notifier() -> oslo_messaging.Notifier | None:
    global _notifier, _made
    with _lock:
        if _made or _conf is None:
            return _notifier
        _made = True
        conf = _conf
        try:
            transport = oslo_messaging.get_notification_transport(conf)
            # The default retry (-1) is forever: a request never waits
            # for more than one attempt.
            retry = conf.oslo_messaging_notifications.retry
            _notifier = oslo_messaging.Notifier(
                transport, publisher_id=publisher_id(conf),
                retry=0 if retry < 0 else retry)
        except Exception as error:
            LOG.warning('Notifications are off: their transport could not '
                        'be set up: %s', _safe(error))
        return _notifier


def _password() -> str | None:
    conf = _conf
    if conf is None:
        return None
    urls = [conf.oslo_messaging_notifications.transport_url,
            getattr(conf, 'transport_url', None)]
    for url in urls:
        if url:
            try:
                password = urllib.parse.urlsplit(url).password
            except ValueError:
                continue
            if password:
                return urllib.parse.unquote(password)
    return None


def _safe(error: object) -> str:
    """A one-line summary of ``error``, without the transport's
    password."""
    text = ('%s: %s' % (type(error).__name__, error)
            if isinstance(error, BaseException) else str(error))
    text = text.splitlines()[0] if text else ''
    password = _password()
    if password:
        text = text.replace(password, '***')
        text = text.replace(urllib.parse.quote(password, safe=''), '***')
    return text[:300]


class _Failures(logging.Filter):
    """Catches oslo.messaging's own report of a failed send (an exception
    logged with its traceback and payload, on every send) and notes it,
    for :func:`send` to log once."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.msg)
        if not message.startswith(('Problem ', 'Could not send')):
            return True
        error: object = message
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
        elif isinstance(record.args, dict) and 'e' in record.args:
            error = record.args['e']
        self.local.error = error
        return False

    def take(self) -> object | None:
        error = getattr(self.local, 'error', None)
        self.local.error = None
        return error


_failures = _Failures()
for _name in ('oslo_messaging.notify.notifier',
              'oslo_messaging.notify.messaging'):
    logging.getLogger(_name).addFilter(_failures)


class _Outage:
    lock = threading.Lock()
    down = False

    @classmethod
    def report(cls, error: object | None) -> None:
        with cls.lock:
            was, cls.down = cls.down, error is not None
        if error is not None and not was:
            LOG.warning('Notifications cannot be sent (they are dropped '
                        'until the broker is reachable): %s', _safe(error))
        elif error is None and was:
            LOG.warning('Notifications are sent again')


def send(event_type: str, payload: Payload) -> None:
    """Send one notification now; never raises."""
    if not _enabled:
        return
    try:
        notifier = _get_notifier()
        if notifier is None:
            return
        _failures.take()
        notifier.info({}, event_type, payload)
        _Outage.report(_failures.take())
    except Exception as error:
        _Outage.report(error)


def emit(event_type: str, payload: Payload) -> None:
    """A notification of something already stored: sent when the
    request's handler is done, or now outside a request."""
    events = _REQUEST.get()
    if events is None:
        send(event_type, payload)
    else:
        events.append((event_type, payload))


def pending(session: orm.Session, event_type: str,
            payload: Payload) -> None:
    """A notification to send once the transaction of ``session``
    commits (and never if it rolls back)."""
    if not _enabled:
        return
    session.info.setdefault(_PENDING, []).append((event_type, payload))


@event.listens_for(orm.Session, 'after_commit')
def _after_commit(session: orm.Session) -> None:
    events = session.info.pop(_PENDING, None)
    for event_type, payload in events or ():
        emit(event_type, payload)


@event.listens_for(orm.Session, 'after_soft_rollback')
def _after_rollback(session: orm.Session,
                    previous_transaction: orm.SessionTransaction) -> None:
    session.info.pop(_PENDING, None)


@contextlib.contextmanager
def collecting() -> Iterator[list[Event]]:
    """Collect the notifications of the writes committed inside, and
    send them at the end (whatever the outcome: what committed is
    stored)."""
    events: list[Event] = []
    token = _REQUEST.set(events)
    try:
        yield events
    finally:
        _REQUEST.reset(token)
        for event_type, payload in events:
            send(event_type, payload)


def written(session: orm.Session, resource: str, change: str,
            document: Payload, doc_id: str | None = None) -> None:
    """A CRUD event of a document (``<resource>.<change>``) to send once
    the transaction of ``session`` commits; its payload is built only
    when notifications are sent."""
    if _enabled:
        pending(session, '%s.%s' % (resource, change),
                resource_payload(resource, document, doc_id))


def resource_payload(resource: str, document: Payload,
                     doc_id: str | None = None) -> Payload:
    """The payload of a CRUD event of a document (never its trust)."""
    payload: Payload = {
        'project_id': document.get('project_id'),
        'user_id': document.get('user_id'),
        '%s_id' % resource: (doc_id if doc_id is not None
                             else document.get('%s_id' % resource)),
    }
    version = document.get('_version', document.get('version'))
    if version is not None:
        payload['version'] = version
    return payload
