"""Run history and client liveness, from what the scheduler reports.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

A job's ``job_schedule`` holds only its latest status; each move to
``running`` and back now also opens and closes a row of ``runs``, the
backups posted meanwhile are linked to it in ``run_backups``, and the
job points at its open run (``jobs.open_run_seq``). A client's polls
are recorded as ``clients.last_seen``. What the service told of by
notification (a lost run, a missed run, an offline client) is marked
(``runs.lost_told``, ``jobs.missed_due``, ``clients.offline_told``) so
that several API processes tell it once. When the scheduler arms a job
again (a start after a stop, a changed schedule), ``jobs.armed_at`` says
so: its next run is due from then.
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# As the models have them (models.MYSQL_TABLE_OPTIONS, LongText, BigId).
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), 'mysql')
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'runs',
        sa.Column('seq', sa.Integer, primary_key=True, autoincrement=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('version', sa.Integer, nullable=False),
        sa.Column('created_at', sa.DateTime, nullable=False),
        sa.Column('updated_at', sa.DateTime, nullable=True),
        sa.Column('run_id', sa.String(255), nullable=False),
        sa.Column('job_id', sa.String(255), nullable=False),
        sa.Column('client_id', sa.String(255), nullable=False),
        sa.Column('session_id', sa.String(255), nullable=False),
        sa.Column('status', sa.String(16), nullable=False),
        sa.Column('result', sa.String(255), nullable=True),
        sa.Column('time_started', sa.BigInteger, nullable=False),
        sa.Column('time_ended', sa.BigInteger, nullable=True),
        sa.Column('current_pid', sa.BigInteger, nullable=True),
        sa.Column('actions', LONG_TEXT, nullable=False),
        sa.Column('events', LONG_TEXT, nullable=False),
        sa.Column('lost_told', sa.Boolean, nullable=False,
                  server_default=sa.false()),
        sa.UniqueConstraint('run_id', name='uniq_runs0run_id'),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
        mysql_collate='utf8mb4_bin')
    op.create_index('ix_runs_project_seq', 'runs', ['project_id', 'seq'])
    op.create_index('ix_runs_project_ended', 'runs',
                    ['project_id', 'time_ended'])
    op.create_index('ix_runs_job_seq', 'runs', ['job_id', 'seq'])
    op.create_table(
        'run_backups',
        sa.Column('id', BIG_ID, primary_key=True, autoincrement=True),
        sa.Column('run_seq', sa.Integer, nullable=False),
        sa.Column('backup_id', sa.String(255), nullable=False),
        mysql_engine='InnoDB', mysql_charset='utf8mb4',
        mysql_collate='utf8mb4_bin')
    op.create_index('ix_run_backups_run_seq', 'run_backups', ['run_seq'])
    with op.batch_alter_table('jobs') as batch:
        batch.add_column(sa.Column('open_run_seq', sa.Integer,
                                   nullable=True))
        batch.add_column(sa.Column('missed_due', sa.BigInteger,
                                   nullable=True))
        batch.add_column(sa.Column('armed_at', sa.BigInteger,
                                   nullable=True))
    with op.batch_alter_table('clients') as batch:
        batch.add_column(sa.Column('last_seen', sa.BigInteger,
                                   nullable=True))
        batch.add_column(sa.Column('offline_told', sa.Boolean,
                                   nullable=False,
                                   server_default=sa.false()))
