"""Client liveness: when each freezer-scheduler last polled for its jobs.

The scheduler's poll (a job list whose search matches its ``client_id``)
is the commonest request; it must not become a write. A poll is noted in
this process's memory (:func:`saw`), and the notes are written to
``clients.last_seen`` in one transaction every few seconds by a
background thread, and before anything reads them here
(:func:`flush`). Several API processes each write their own notes; a
time only ever moves forward, so the latest poll seen by any of them
wins.
"""

import threading
import time
import typing

import sqlalchemy as sa

from freezer_api.common import context as freezer_context
from freezer_api.common import periodic
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import models

# Seconds between two writes of the notes of one process.
FLUSH_INTERVAL = 5.0

_CLIENTS = typing.cast(sa.Table, models.Client.__table__)

# A client is the project's own or a central one (seen by every project).
_SEEN = (sa.update(_CLIENTS)
         .where(_CLIENTS.c.client_id == sa.bindparam('seen_client'),
                sa.or_(_CLIENTS.c.project_id == sa.bindparam('project'),
                       _CLIENTS.c.central_client_id ==
                       sa.bindparam('seen_client')),
                sa.or_(_CLIENTS.c.last_seen.is_(None),
                       _CLIENTS.c.last_seen < sa.bindparam('seen_at')))
         .values(last_seen=sa.bindparam('seen_at'), offline_told=False))

_lock = threading.Lock()
# (project_id, client_id) -> the latest poll time noted.
_notes: dict[tuple[str, str], int] = {}


def saw(project_id: str, client_id: str, when: int | None = None) -> None:
    """Note that ``client_id`` polled the jobs of ``project_id``."""
    when = int(time.time()) if when is None else when
    with _lock:
        key = (project_id, client_id)
        if _notes.get(key, 0) < when:
            _notes[key] = when
    FLUSHER.ensure_started()


def flush() -> None:
    """Write this process's notes to the database now."""
    with _lock:
        notes = dict(_notes)
        _notes.clear()
    if not notes:
        return
    try:
        _write(freezer_context.get_admin_context(), notes)
    except BaseException:
        with _lock:
            for key, when in notes.items():
                if _notes.get(key, 0) < when:
                    _notes[key] = when
        raise


@api.write_transaction
def _write(context: freezer_context.RequestContext,
           notes: dict[tuple[str, str], int]) -> None:
    connection = context.session.connection()
    # In one order, so that two processes' flushes never deadlock.
    for (project_id, client_id), when in sorted(notes.items()):
        connection.execute(_SEEN, {'seen_client': client_id,
                                   'project': project_id, 'seen_at': when})


def discard() -> None:
    """Drop this process's notes unwritten (for a process that changes
    databases, as each test does)."""
    with _lock:
        _notes.clear()


# (The notes of a flush that failed are kept for the next one.)
FLUSHER = periodic.Periodic(
    'freezer-liveness', flush, lambda: FLUSH_INTERVAL,
    'The clients\' poll times could not be written; they will be retried')
