"""64-bit ids for the rows every write adds and deletes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

``search_entries`` gains and loses rows with every write of a document,
``job_actions`` with every write of a job's actions: their autoincrement
ids outgrow 32 bits long before the documents do. SQLite's INTEGER
PRIMARY KEY is 64-bit already.
"""

from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        return
    for table in ('search_entries', 'job_actions'):
        op.alter_column(table, 'id', type_=sa.BigInteger(),
                        existing_type=sa.Integer(), existing_nullable=False,
                        autoincrement=True)
