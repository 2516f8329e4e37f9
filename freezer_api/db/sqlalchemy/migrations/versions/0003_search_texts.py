"""Free-text bodies of the stored documents, for ``_all`` free text.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01

The upgrade fills the table for the documents already stored: their
string values (those of the text columns, and those inside the JSON
columns; for a job, also those of its actions), lower-cased and joined by
U+001F (which also replaces NUL), as the service writes them from then
on.
"""

from collections.abc import Collection
from collections.abc import Mapping
import json
import typing

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SEPARATOR = '\x1f'
# resource -> (table, its JSON text columns), as revisions 0001-0002 made
# them.
TABLES = {
    'actions': ('actions', ('freezer_action',)),
    'jobs': ('jobs', ('job_schedule', 'user_credentials')),
    'sessions': ('sessions', ('schedule', 'jobs')),
    'clients': ('clients', ('client',)),
    'backups': ('backups', ('backup_metadata',)),
}


def _strings(value: typing.Any, out: list[str]) -> None:
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)


# (A RowMapping's keys are typed "str or Column"; they are the names.)
def _row_strings(row: Mapping[typing.Any, typing.Any],
                 json_columns: Collection[str]) -> list[str]:
    out: list[str] = []
    for name, value in row.items():
        if value is None:
            continue
        if name in json_columns:
            _strings(json.loads(value), out)
        elif isinstance(value, str):
            out.append(value)
    return out


def _backfill(connection: sa.engine.Connection, texts: sa.Table) -> None:
    meta = sa.MetaData()
    for resource, (name, json_columns) in TABLES.items():
        table = sa.Table(name, meta, autoload_with=connection)
        extra: dict[int, list[str]] = {}
        if resource == 'jobs':
            # A job's document embeds its actions.
            links = sa.Table('job_actions', meta, autoload_with=connection)
            actions = sa.Table('actions', meta, autoload_with=connection)
            query = sa.select(links.c.job_seq, actions).join(
                actions, actions.c.seq == links.c.action_seq)
            for link in connection.execute(query).mappings():
                action = {k: v for k, v in link.items() if k != 'job_seq'}
                extra.setdefault(link['job_seq'], []).extend(
                    _row_strings(action, ('freezer_action',)))
        rows = connection.execute(sa.select(table)).mappings()
        batch = []
        for row in rows:
            strings = _row_strings(row, json_columns)
            strings.extend(extra.get(row['seq'], ()))
            batch.append({'resource': resource, 'doc_seq': row['seq'],
                          'body': SEPARATOR.join(strings).replace(
                              '\x00', SEPARATOR).lower()})
            if len(batch) >= 500:
                connection.execute(texts.insert(), batch)
                batch = []
        if batch:
            connection.execute(texts.insert(), batch)


def upgrade() -> None:
    texts = op.create_table(
        'search_texts',
        sa.Column('resource', sa.String(16), primary_key=True),
        sa.Column('doc_seq', sa.Integer(), primary_key=True,
                  autoincrement=False),
        sa.Column('body',
                  sa.Text().with_variant(mysql.LONGTEXT(), 'mysql'),
                  nullable=False),
    )
    _backfill(op.get_bind(), texts)
