"""The database facade the API calls.

Controllers use only these functions. Each takes the request context first
and returns plain documents (dicts) as the API shows them, with their
``_version``, or raises a
:class:`freezer_api.common.exception.FreezerException`. What holds for
every function, and is not repeated below:

* **One transaction.** A call is written whole or not at all: the
  document, its version, its search index and every document the rules
  between resources change with it (the jobs embedding a changed action, a
  session and its member jobs). A write that raises has written nothing,
  except as CommitOutcomeUnknown says.
* **Concurrency.** Writes lock the rows they change (sessions, then jobs,
  then actions) and read them under the lock, so concurrent writes on any
  number of API processes lose no update and give no version twice
  (:mod:`freezer_api.db.sqlalchemy.relations`).
* **Projects.** ``project_id`` None (reads only) means every project;
  otherwise a document of another project is as absent: NotFound for a
  read or an update, nothing done for a delete.
* **expected_version** (the request's If-Match): None checks nothing;
  otherwise PreconditionFailed when the stored version differs, and
  NotFound when the document does not exist (where a delete of nothing
  would otherwise do nothing and a replace would create it).
* **The database failing.** DatabaseUnavailable (503, nothing written)
  when it cannot be reached or gives up (deadlock after retries, shutting
  down); CommitOutcomeUnknown (503) when the connection was lost during a
  write's commit, which may have been stored; StorageError (500, cause
  logged) for anything else; Conflict for an id the unique index refuses.
"""

from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Sequence
import typing

from oslo_config import cfg

from freezer_api.common.context import RequestContext
from freezer_api.common.types import Document
from freezer_api.db import search_index as search_lang
from freezer_api.db.sqlalchemy import actions
from freezer_api.db.sqlalchemy import api
from freezer_api.db.sqlalchemy import backups
from freezer_api.db.sqlalchemy import clients
from freezer_api.db.sqlalchemy import health
from freezer_api.db.sqlalchemy import jobs
from freezer_api.db.sqlalchemy import liveness
from freezer_api.db.sqlalchemy import metrics
from freezer_api.db.sqlalchemy import relations
from freezer_api.db.sqlalchemy import runs
from freezer_api.db.sqlalchemy import sessions
from freezer_api.db.sqlalchemy import sweep

Values = relations.Values
Entry = relations.Entry
JobApply = relations.JobApply


def get_action(context: RequestContext, project_id: str | None,
               action_id: str) -> Document:
    """The action ``action_id`` of ``project_id``; NotFound otherwise."""
    return actions.get_action(context, project_id, action_id)


def list_actions(context: RequestContext, project_id: str | None,
                 search: search_lang.Search, limit: int,
                 offset: int) -> list[Document]:
    """Actions of ``project_id`` that satisfy ``search``, in creation
    order, ``limit`` of them after skipping ``offset``."""
    return actions.list_actions(context, project_id, search, limit, offset)


def create_action(context: RequestContext, values: Values) -> Document:
    """Store a new action; Conflict if its id is taken in any project."""
    return actions.create_action(context, values)


def replace_action(context: RequestContext, values: Values,
                   expected_version: int | None = None
                   ) -> tuple[Document, bool]:
    """Create the action or replace it in its project.

    :returns: (document, created)
    """
    return relations.replace_action(context, values, expected_version)


def update_action(context: RequestContext, project_id: str, action_id: str,
                  apply: Callable[[Document], Values],
                  expected_version: int | None = None) -> Document:
    """Update an action in one locked read-modify-write.

    :param apply: (current document) -> the columns to store; it may
        raise to refuse the change, and then nothing is written.
    :raises PreconditionFailed: the stored version is not
        ``expected_version``.
    """
    return relations.update_action(context, project_id, action_id, apply,
                                   expected_version)


def delete_action(context: RequestContext, project_id: str, action_id: str,
                  expected_version: int | None = None) -> None:
    """Delete the action if it exists in ``project_id``."""
    return relations.delete_action(context, project_id, action_id,
                                   expected_version)


def check_database(context: RequestContext) -> None:
    """Raise if the database cannot answer a trivial query."""
    return api.check_database(context)


# --- jobs ----------------------------------------------------------------

def get_job(context: RequestContext, project_id: str | None,
            job_id: str) -> Document:
    """The job ``job_id`` of ``project_id`` (of any project if None)."""
    return jobs.get_job(context, project_id, job_id)


def list_jobs(context: RequestContext, project_id: str | None,
              search: search_lang.Search, limit: int,
              offset: int) -> list[Document]:
    """A page of the jobs of ``project_id`` (of every project if None)."""
    return jobs.list_jobs(context, project_id, search, limit, offset)


def create_job(context: RequestContext, values: Values,
               entries: Sequence[Entry] | None) -> Document:
    """Create a job with its actions in one transaction.

    :param entries: one dict per job action: ``action_id`` (or None),
        ``create`` (columns of a new action, or None for a reference to an
        existing one) and ``fields`` (the columns the entry gives, applied
        to an existing action).
    :raises Conflict: the job id, or an action id, is taken.
    :raises UnprocessableEntity: unknown client, missing capability, or
        an unknown action referenced by id alone.
    """
    return relations.create_job(context, values, entries)


def check_new_job(context: RequestContext, values: Values,
                  entries: Sequence[Entry]) -> bool:
    """Refuse a job as :func:`create_job` would, writing nothing (the
    columns and entries are those :func:`create_job` takes).

    :returns: whether the job's client is a central client.
    :raises Conflict: the job id, or an action id, is taken.
    :raises UnprocessableEntity: unknown client, missing capability, or
        an unknown action referenced by id alone.
    """
    return jobs.check_new_job(context, values, entries)


def replace_job(context: RequestContext, values: Values,
                entries: Sequence[Entry] | None,
                expected_version: int | None = None
                ) -> tuple[Document, bool]:
    """Create or replace a job. :returns: (document, created)"""
    return relations.replace_job(context, values, entries,
                                 expected_version)


def update_job(context: RequestContext, project_id: str, job_id: str,
               apply: JobApply, expected_version: int | None = None,
               keeps_actions: bool = False) -> Document:
    """One locked read-modify-write of a job.

    :param apply: (current document) -> (columns, entries or None).
    :param keeps_actions: ``apply`` always returns None entries.
    """
    return relations.update_job(context, project_id, job_id, apply,
                                expected_version, keeps_actions)


def delete_job(context: RequestContext, project_id: str, job_id: str,
               expected_version: int | None = None
               ) -> dict[str, typing.Any] | None:
    """Delete the job if it exists in ``project_id``.

    :returns: its trust ``{"trust_id", "trustor_user_id"}``, or None.
    """
    return relations.delete_job(context, project_id, job_id,
                                expected_version)


def job_event(context: RequestContext, project_id: str, job_id: str,
              event: str) -> str:
    """Record a start, stop or abort request; returns the result text."""
    return relations.job_event(context, project_id, job_id, event)


def client_polled(project_id: str, client_id: str) -> None:
    """Note that the client ``client_id`` polled the jobs of
    ``project_id`` now: written to the database within seconds, in the
    background (:mod:`liveness`); costs the poll nothing more."""
    liveness.saw(project_id, client_id)


def trust_in_use(context: RequestContext, trust_id: str) -> bool:
    """Whether a job of any project holds the trust ``trust_id``."""
    return jobs.trust_in_use(context, trust_id)


def own_client_ids(context: RequestContext, project_id: str | None,
                   client_ids: Collection[str]) -> set[str]:
    """The subset of ``client_ids`` that ``project_id`` owns."""
    return jobs.own_client_ids(context, project_id, client_ids)


# --- sessions ------------------------------------------------------------

def get_session(context: RequestContext, project_id: str | None,
                session_id: str) -> Document:
    """The session ``session_id`` of ``project_id``; NotFound
    otherwise."""
    return sessions.get_session(context, project_id, session_id)


def list_sessions(context: RequestContext, project_id: str | None,
                  search: search_lang.Search, limit: int,
                  offset: int) -> list[Document]:
    """A page of the sessions of ``project_id`` that satisfy ``search``,
    in creation order."""
    return sessions.list_sessions(context, project_id, search, limit,
                                  offset)


def create_session(context: RequestContext, values: Values) -> Document:
    """Store a new session. Its id is one the caller generated: it is not
    looked up first, and a taken one is refused (Conflict) by the
    unique index."""
    return sessions.create_session(context, values)


def replace_session(context: RequestContext, values: Values,
                    expected_version: int | None = None
                    ) -> tuple[Document, bool]:
    """Create or replace a session. :returns: (document, created)"""
    return relations.replace_session(context, values, expected_version)


def update_session(context: RequestContext, project_id: str, session_id: str,
                   apply: Callable[[Document], Values],
                   expected_version: int | None = None) -> Document:
    """One locked read-modify-write of a session (see
    :func:`update_action` for ``apply``)."""
    return relations.update_session(context, project_id, session_id,
                                    apply, expected_version)


def delete_session(context: RequestContext, project_id: str, session_id: str,
                   expected_version: int | None = None) -> None:
    """Delete a session and detach its jobs."""
    return relations.delete_session(context, project_id, session_id,
                                    expected_version)


def add_session_job(context: RequestContext, project_id: str, session_id: str,
                    job_id: str) -> None:
    """Make the job a member of the session (both written together)."""
    return relations.add_job(context, project_id, session_id, job_id)


def remove_session_job(context: RequestContext, project_id: str,
                       session_id: str, job_id: str) -> None:
    """Take the job out of the session (both written together)."""
    return relations.remove_job(context, project_id, session_id, job_id)


def session_action(context: RequestContext, project_id: str, session_id: str,
                   job_id: str, action: str,
                   current_tag: int | None = None,
                   result: str | None = None) -> dict[str, typing.Any]:
    """``start`` or ``end`` a job of the session.

    :returns: {"result": ..., "session_tag": ...}
    """
    return relations.session_action(context, project_id, session_id,
                                    job_id, action, current_tag, result)


# --- clients -------------------------------------------------------------

def get_client(context: RequestContext, project_id: str,
               client_id: str) -> Document:
    """The client ``client_id`` of ``project_id``, else the central
    client with that id (of any project); NotFound otherwise."""
    return clients.get_client(context, project_id, client_id)


def list_clients(context: RequestContext, project_id: str,
                 search: search_lang.Search, limit: int,
                 offset: int) -> list[Document]:
    """A page of the clients of ``project_id`` and the central clients
    of every project that satisfy ``search``, in creation order."""
    return clients.list_clients(context, project_id, search, limit, offset)


def register_client(context: RequestContext, values: Values,
                    given: Document) -> tuple[Document, bool]:
    """Register a client, or update the project's client of that id.

    :param values: the columns of a new client: project_id, user_id,
        client_id, is_central and client (every field, defaults filled in).
    :param given: the client fields the caller gave; they replace the
        stored ones of an existing client, except client_id and
        is_central. Nothing is written when nothing changes.
    :raises Conflict: the id is a central client of another project.
    :returns: (document, created)
    """
    return clients.register_client(context, values, given)


def delete_client(context: RequestContext, project_id: str, client_id: str,
                  expected_version: int | None = None) -> None:
    """Delete the project's client if it exists.

    :raises Forbidden: the id is a central client of another project.
    """
    return clients.delete_client(context, project_id, client_id,
                                 expected_version)


# --- backups -------------------------------------------------------------

def get_backup(context: RequestContext, project_id: str | None,
               backup_id: str) -> Document:
    """The backup ``backup_id`` of ``project_id``; NotFound otherwise."""
    return backups.get_backup(context, project_id, backup_id)


def list_backups(context: RequestContext, project_id: str | None,
                 search: search_lang.Search, limit: int,
                 offset: int) -> list[Document]:
    """A page of the backups of ``project_id`` that satisfy ``search``,
    in creation order."""
    return backups.list_backups(context, project_id, search, limit, offset)


def create_backup(context: RequestContext, values: Values) -> Document:
    """Store a new backup record, its id generated as a session's
    (:func:`create_session`)."""
    return backups.create_backup(context, values)


def update_backup(context: RequestContext, project_id: str, backup_id: str,
                  apply: Callable[[Document], Values],
                  expected_version: int | None = None) -> Document:
    """One locked read-modify-write of a backup (see
    :func:`update_action` for ``apply``)."""
    return backups.update_backup(context, project_id, backup_id, apply,
                                 expected_version)


def delete_backup(context: RequestContext, project_id: str, backup_id: str,
                  expected_version: int | None = None) -> None:
    """Delete the backup if it exists in ``project_id``."""
    return backups.delete_backup(context, project_id, backup_id,
                                 expected_version)


# --- runs ----------------------------------------------------------------

def configure(conf: cfg.ConfigOpts) -> None:
    """Take the options the database layer reads (``[history]``) from
    ``conf``, the application's configuration."""
    runs.configure(conf)


def get_run(context: RequestContext, project_id: str | None,
            run_id: str) -> Document:
    """The run ``run_id`` of ``project_id``, with its linked backups;
    NotFound otherwise."""
    return runs.get_run(context, project_id, run_id)


def list_runs(context: RequestContext, project_id: str | None,
              search: search_lang.Search, limit: int,
              offset: int) -> list[Document]:
    """A page of the runs of ``project_id`` that satisfy ``search``,
    newest first. Runs are written by the job writes that report them
    (update_job, replace_job, job_event, delete_job, create_backup), never
    directly."""
    return runs.list_runs(context, project_id, search, limit, offset)


def list_job_runs(context: RequestContext, project_id: str, job_id: str,
                  search: search_lang.Search, limit: int,
                  offset: int) -> list[Document]:
    """A page of the runs of one job that satisfy ``search``, newest
    first; NotFound if the project has no job ``job_id``."""
    return runs.list_job_runs(context, project_id, job_id, search, limit,
                              offset)


# --- health ----------------------------------------------------------------
# Judged now, by the [history] options (freezer_api.common.health); the
# poll times noted by this process are written first.

def list_job_health(context: RequestContext, project_id: str,
                    search: search_lang.Search, limit: int,
                    offset: int) -> list[Document]:
    """The health of a page of the project's jobs that satisfy
    ``search``, paged as the jobs list is."""
    return health.list_job_health(context, project_id, search, limit,
                                  offset)


def get_job_health(context: RequestContext, project_id: str,
                   job_id: str) -> Document:
    """The health of the job ``job_id``; NotFound otherwise."""
    return health.get_job_health(context, project_id, job_id)


def list_client_health(context: RequestContext, project_id: str,
                       limit: int) -> list[Document]:
    """The liveness of the clients the project sees (its own and the
    central ones), at most ``limit``, in registration order."""
    return health.list_client_health(context, project_id, limit)


def metrics_snapshot(context: RequestContext) -> metrics.Snapshot:
    """The figures of ``GET /metrics``, of every project, as they are
    now."""
    return metrics.snapshot(context)


def start_background_work() -> None:
    """Start this process's periodic look for lost and missed runs and
    offline clients (:mod:`sweep`), if notifications are sent and it is
    not running yet."""
    sweep.start()
