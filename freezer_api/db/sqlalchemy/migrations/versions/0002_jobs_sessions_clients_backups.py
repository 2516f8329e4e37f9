"""Jobs with their actions, sessions, clients and backups.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import typing

from alembic import op
import sqlalchemy as sa

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def _document_columns() -> list[sa.Column[typing.Any]]:
    return [
        sa.Column('seq', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('project_id', sa.String(255), nullable=False),
        sa.Column('user_id', sa.String(255), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        'jobs',
        *_document_columns(),
        sa.Column('job_id', sa.String(255), nullable=False),
        sa.Column('client_id', sa.String(255), nullable=False),
        sa.Column('session_id', sa.String(255), nullable=False),
        sa.Column('session_tag', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('job_schedule', sa.Text(), nullable=False),
        sa.Column('user_credentials', sa.Text(), nullable=True),
        sa.UniqueConstraint('job_id', name='uniq_jobs0job_id'),
    )
    op.create_index('ix_jobs_project_seq', 'jobs', ['project_id', 'seq'])
    op.create_table(
        'job_actions',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('job_seq', sa.Integer(),
                  sa.ForeignKey('jobs.seq', ondelete='CASCADE'),
                  nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('action_seq', sa.Integer(),
                  sa.ForeignKey('actions.seq', ondelete='CASCADE'),
                  nullable=False),
    )
    op.create_index('ix_job_actions_job_seq', 'job_actions',
                    ['job_seq', 'position'])
    op.create_index('ix_job_actions_action_seq', 'job_actions',
                    ['action_seq'])
    op.create_table(
        'sessions',
        *_document_columns(),
        sa.Column('session_id', sa.String(255), nullable=False),
        sa.Column('session_tag', sa.Integer(), nullable=False),
        sa.Column('description', sa.Text(), nullable=True),
        sa.Column('hold_off', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(255), nullable=True),
        sa.Column('result', sa.String(255), nullable=True),
        sa.Column('time_start', sa.BigInteger(), nullable=True),
        sa.Column('time_end', sa.BigInteger(), nullable=True),
        sa.Column('time_started', sa.BigInteger(), nullable=True),
        sa.Column('time_ended', sa.BigInteger(), nullable=True),
        sa.Column('schedule', sa.Text(), nullable=False),
        sa.Column('jobs', sa.Text(), nullable=False),
        sa.UniqueConstraint('session_id', name='uniq_sessions0session_id'),
    )
    op.create_index('ix_sessions_project_seq', 'sessions',
                    ['project_id', 'seq'])
    op.create_table(
        'clients',
        *_document_columns(),
        sa.Column('client_id', sa.String(255), nullable=False),
        sa.Column('central_client_id', sa.String(255), nullable=True),
        sa.Column('is_central', sa.Boolean(), nullable=False),
        sa.Column('client', sa.Text(), nullable=False),
        sa.UniqueConstraint('project_id', 'client_id',
                            name='uniq_clients0project_id0client_id'),
        sa.UniqueConstraint('central_client_id',
                            name='uniq_clients0central_client_id'),
    )
    op.create_index('ix_clients_client_id', 'clients', ['client_id'])
    op.create_index('ix_clients_project_seq', 'clients',
                    ['project_id', 'seq'])
    op.create_table(
        'backups',
        *_document_columns(),
        sa.Column('backup_id', sa.String(255), nullable=False),
        sa.Column('status', sa.String(64), nullable=False),
        sa.Column('backup_metadata', sa.Text(), nullable=False),
        sa.UniqueConstraint('backup_id', name='uniq_backups0backup_id'),
    )
    op.create_index('ix_backups_project_seq', 'backups',
                    ['project_id', 'seq'])
