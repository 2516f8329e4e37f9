"""SQLAlchemy models.

Each resource table keeps the caller-visible document in typed columns plus
JSON text, an integer ``version`` for optimistic concurrency, and an
autoincrement ``seq`` primary key that gives lists a stable creation order.
``search_entries`` is the key/value index the search language runs on.
"""

import datetime
import json
import typing

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy import types
from sqlalchemy.dialects import mysql

# MySQL's TEXT holds 64 KiB; a document's text may be longer.
LongText = sa.Text().with_variant(mysql.LONGTEXT(), 'mysql')

# Ids of rows written and deleted with every write: 64-bit. SQLite's
# INTEGER PRIMARY KEY is its 64-bit rowid already, and only that type
# autoincrements there.
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')

# Every table on MySQL/MariaDB: transactional, full Unicode (emoji too),
# and ids compared byte for byte ("ABC" is not "abc"), as on PostgreSQL and
# SQLite.
MYSQL_TABLE_OPTIONS = {'mysql_engine': 'InnoDB', 'mysql_charset': 'utf8mb4',
                       'mysql_collate': 'utf8mb4_bin'}


class JSONText(types.TypeDecorator):
    """JSON stored as text: portable, and keeps the caller's key order."""

    impl = sa.Text
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.engine.Dialect
                          ) -> types.TypeEngine[typing.Any]:
        if dialect.name == 'mysql':
            return dialect.type_descriptor(mysql.LONGTEXT())
        return dialect.type_descriptor(sa.Text())

    def process_bind_param(self, value: typing.Any,
                           dialect: sa.engine.Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(value, separators=(',', ':'), ensure_ascii=False)

    def process_result_value(self, value: str | None,
                             dialect: sa.engine.Dialect) -> typing.Any:
        if value is None:
            return None
        return json.loads(value)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Base(orm.DeclarativeBase):
    pass


def document_table_args(table: str, id_column: str
                        ) -> tuple[sa.UniqueConstraint, sa.Index]:
    """A document table's unique id and its index of each project's rows
    in creation order (what a list reads), named as the migrations did."""
    return (
        sa.UniqueConstraint(id_column, name=f'uniq_{table}0{id_column}'),
        sa.Index(f'ix_{table}_project_seq', 'project_id', 'seq'),
    )


class DocumentMixin:
    """Columns every stored document has."""

    seq: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, primary_key=True, autoincrement=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    version: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=1)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=utcnow)


class Action(DocumentMixin, Base):
    __tablename__ = 'actions'
    __table_args__ = document_table_args('actions', 'action_id')

    action_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    max_retries: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    max_retries_interval: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    mandatory: orm.Mapped[bool] = orm.mapped_column(sa.Boolean)
    freezer_action: orm.Mapped[dict] = orm.mapped_column(JSONText)


class SearchEntry(Base):
    """One (key, value) occurrence in a stored document.

    Keys and JSON-encoded values are stored as SHA-256 digests, so that any
    key or value, however long, is indexed the same way on SQLite,
    PostgreSQL and MySQL.
    """

    __tablename__ = 'search_entries'
    __table_args__ = (
        sa.Index('ix_search_entries_doc', 'resource', 'doc_seq',
                 'key_hash', 'value_hash'),
        # A term's entries in a project, in document order: what drives
        # a search (documents.list_rows).
        sa.Index('ix_search_entries_term', 'resource', 'key_hash',
                 'value_hash', 'project_id', 'doc_seq'),
    )

    id: orm.Mapped[int] = orm.mapped_column(
        BigId, primary_key=True, autoincrement=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    doc_seq: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    # The document's project, which never changes.
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    key_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    value_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64))


class SearchText(Base):
    """The free-text body of a stored document (``_all`` free text): its
    string values, lower-cased, joined by a control character."""

    __tablename__ = 'search_texts'

    resource: orm.Mapped[str] = orm.mapped_column(
        sa.String(16), primary_key=True)
    doc_seq: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, primary_key=True, autoincrement=False)
    body: orm.Mapped[str] = orm.mapped_column(LongText)


class Job(DocumentMixin, Base):
    """A scheduled list of actions for one client."""

    __tablename__ = 'jobs'
    __table_args__ = document_table_args('jobs', 'job_id')

    job_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    client_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    session_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    session_tag: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    description: orm.Mapped[str | None] = orm.mapped_column(
        LongText, nullable=True)
    job_schedule: orm.Mapped[dict] = orm.mapped_column(JSONText)
    # Keystone trust of a centralized scheduler; made by the service only.
    user_credentials: orm.Mapped[dict | None] = orm.mapped_column(
        JSONText, nullable=True)
    # The run the scheduler reports as running (runs.seq), kept by the
    # service and never shown in the job's document.
    open_run_seq: orm.Mapped[int | None] = orm.mapped_column(
        sa.Integer, nullable=True)
    # The due time of the missed run last told of (run.missed), so that
    # one missed run is told once by all API processes together.
    missed_due: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)
    # When freezer-scheduler arms the job again (a start after a stop or
    # its one run, a changed schedule; jobs.rearms()): its runs are due
    # from then. None: from its creation (job_schedule's time_created).
    armed_at: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)

    links: orm.Mapped[list['JobAction']] = orm.relationship(
        order_by='JobAction.position', cascade='all, delete-orphan',
        lazy='selectin')


class JobAction(Base):
    """The position of an action in a job; actions live in ``actions``
    and may be shared by several jobs of their project."""

    __tablename__ = 'job_actions'
    __table_args__ = (
        sa.Index('ix_job_actions_job_seq', 'job_seq', 'position'),
        sa.Index('ix_job_actions_action_seq', 'action_seq'),
    )

    id: orm.Mapped[int] = orm.mapped_column(
        BigId, primary_key=True, autoincrement=True)
    job_seq: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey('jobs.seq', ondelete='CASCADE'))
    position: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    action_seq: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, sa.ForeignKey('actions.seq', ondelete='CASCADE'))

    action: orm.Mapped[Action] = orm.relationship(lazy='joined')


class Session(DocumentMixin, Base):
    """Jobs, possibly on several clients, started and ended together."""

    __tablename__ = 'sessions'
    __table_args__ = document_table_args('sessions', 'session_id')

    session_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    session_tag: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    description: orm.Mapped[str | None] = orm.mapped_column(
        LongText, nullable=True)
    hold_off: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    status: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255), nullable=True)
    result: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255), nullable=True)
    time_start: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)
    time_end: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)
    time_started: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)
    time_ended: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)
    schedule: orm.Mapped[dict] = orm.mapped_column(JSONText)
    jobs: orm.Mapped[dict] = orm.mapped_column(JSONText)


class Client(DocumentMixin, Base):
    """A registered freezer-scheduler and what it can do.

    ``client_id`` is unique in its project; ``central_client_id`` holds
    the client_id of a central client only (NULL otherwise), so that the
    database keeps central client ids unique across all projects.
    """

    __tablename__ = 'clients'
    __table_args__ = (
        sa.UniqueConstraint('project_id', 'client_id',
                            name='uniq_clients0project_id0client_id'),
        sa.UniqueConstraint('central_client_id',
                            name='uniq_clients0central_client_id'),
        sa.Index('ix_clients_client_id', 'client_id'),
        sa.Index('ix_clients_project_seq', 'project_id', 'seq'),
    )

    client_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    central_client_id: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255), nullable=True)
    is_central: orm.Mapped[bool] = orm.mapped_column(sa.Boolean)
    client: orm.Mapped[dict] = orm.mapped_column(JSONText)
    # When the client last polled for its jobs (seconds since the epoch),
    # kept by the service and never shown in the client's document.
    last_seen: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)
    # Whether client.offline was told since its last poll.
    offline_told: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, default=False, server_default=sa.false())


class Backup(DocumentMixin, Base):
    """The metadata record of one backup made by freezer-agent."""

    __tablename__ = 'backups'
    __table_args__ = document_table_args('backups', 'backup_id')

    backup_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    status: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    backup_metadata: orm.Mapped[dict] = orm.mapped_column(JSONText)


class Run(DocumentMixin, Base):
    """One run of a job, derived from the scheduler's status reports.

    A run outlives its job (it is history): ``job_id`` is not a foreign
    key. Its times are the scheduler's, in seconds since the epoch.
    """

    __tablename__ = 'runs'
    __table_args__ = (
        *document_table_args('runs', 'run_id'),
        # What retention prunes: a project's runs that ended long ago.
        sa.Index('ix_runs_project_ended', 'project_id', 'time_ended'),
        # A job's runs, newest last: what its health reads.
        sa.Index('ix_runs_job_seq', 'job_id', 'seq'),
    )

    run_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    job_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    client_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    session_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    # running or ended ('lost' is derived when it is read).
    status: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    result: orm.Mapped[str | None] = orm.mapped_column(
        sa.String(255), nullable=True)
    time_started: orm.Mapped[int] = orm.mapped_column(sa.BigInteger)
    time_ended: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)
    current_pid: orm.Mapped[int | None] = orm.mapped_column(
        sa.BigInteger, nullable=True)
    # The job's actions when the run started: [{action_id, action, mode,
    # backup_name}].
    actions: orm.Mapped[list] = orm.mapped_column(JSONText)
    # Start, stop and abort requests made while it ran: [{event, time}].
    events: orm.Mapped[list] = orm.mapped_column(JSONText)
    # Whether run.lost was told.
    lost_told: orm.Mapped[bool] = orm.mapped_column(
        sa.Boolean, default=False, server_default=sa.false())


class RunBackup(Base):
    """A backup record posted for a job while one of its runs ran."""

    __tablename__ = 'run_backups'
    __table_args__ = (
        sa.Index('ix_run_backups_run_seq', 'run_seq'),
    )

    id: orm.Mapped[int] = orm.mapped_column(
        BigId, primary_key=True, autoincrement=True)
    run_seq: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    backup_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))


for _table in Base.metadata.tables.values():
    _table.dialect_kwargs.update(MYSQL_TABLE_OPTIONS)
