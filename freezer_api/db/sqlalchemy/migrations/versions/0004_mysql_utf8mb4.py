"""MySQL/MariaDB: full Unicode, exact comparison, long texts.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01

Tables made by revisions 0001-0003 took the database's default character
set, often latin1 or 3-byte utf8: an emoji in a description failed, and a
case-insensitive collation made the ids "ABC" and "abc" one. They are
converted to utf8mb4 with the binary collation, and their TEXT columns,
which hold 64 KiB on MySQL, become LONGTEXT. Nothing changes on other
databases.
"""

from alembic import op
from sqlalchemy.dialects import mysql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

TABLES = ('actions', 'search_entries', 'search_texts', 'jobs',
          'job_actions', 'sessions', 'clients', 'backups')
# (table, column, nullable) of every TEXT column made by 0001-0002.
TEXT_COLUMNS = (
    ('actions', 'freezer_action', False),
    ('jobs', 'description', True),
    ('jobs', 'job_schedule', False),
    ('jobs', 'user_credentials', True),
    ('sessions', 'description', True),
    ('sessions', 'schedule', False),
    ('sessions', 'jobs', False),
    ('clients', 'client', False),
    ('backups', 'backup_metadata', False),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'mysql':
        return
    for table in TABLES:
        op.execute('ALTER TABLE %s ENGINE=InnoDB' % table)
        op.execute('ALTER TABLE %s CONVERT TO CHARACTER SET utf8mb4 '
                   'COLLATE utf8mb4_bin' % table)
    for table, column, nullable in TEXT_COLUMNS:
        op.alter_column(table, column, type_=mysql.LONGTEXT(),
                        existing_nullable=nullable)
