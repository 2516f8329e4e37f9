"""SQLAlchemy models.

Each resource table keeps the caller-visible document in typed columns plus
JSON text, an integer ``version`` for optimistic concurrency, and an
autoincrement ``seq`` primary key that gives lists a stable creation order.
``search_entries`` is the key/value index the search language runs on.
"""

import datetime
import json

import sqlalchemy as sa
from sqlalchemy import orm
from sqlalchemy import types


class JSONText(types.TypeDecorator):
    """JSON stored as text: portable, and keeps the caller's key order."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return json.dumps(value, separators=(',', ':'), ensure_ascii=False)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return json.loads(value)


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


class Base(orm.DeclarativeBase):
    pass


class DocumentMixin:
    """Columns every stored document has."""

    seq: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, primary_key=True, autoincrement=True)
    project_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    user_id: orm.Mapped[str] = orm.mapped_column(sa.String(255))
    version: orm.Mapped[int] = orm.mapped_column(sa.Integer, default=1)
    created_at: orm.Mapped[datetime.datetime] = orm.mapped_column(
        sa.DateTime, default=_utcnow)
    updated_at: orm.Mapped[datetime.datetime | None] = orm.mapped_column(
        sa.DateTime, nullable=True, onupdate=_utcnow)


class Action(DocumentMixin, Base):
    __tablename__ = 'actions'
    __table_args__ = (
        sa.UniqueConstraint('action_id', name='uniq_actions0action_id'),
        sa.Index('ix_actions_project_seq', 'project_id', 'seq'),
    )

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
        sa.Index('ix_search_entries_value', 'resource', 'key_hash',
                 'value_hash'),
    )

    id: orm.Mapped[int] = orm.mapped_column(
        sa.Integer, primary_key=True, autoincrement=True)
    resource: orm.Mapped[str] = orm.mapped_column(sa.String(16))
    doc_seq: orm.Mapped[int] = orm.mapped_column(sa.Integer)
    key_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64))
    value_hash: orm.Mapped[str] = orm.mapped_column(sa.String(64))
