"""Initial schema: actions and the search index.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

import typing

from alembic import op
import sqlalchemy as sa

revision = '0001'
down_revision = None
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
        'actions',
        *_document_columns(),
        sa.Column('action_id', sa.String(255), nullable=False),
        sa.Column('max_retries', sa.Integer(), nullable=False),
        sa.Column('max_retries_interval', sa.Integer(), nullable=False),
        sa.Column('mandatory', sa.Boolean(), nullable=False),
        sa.Column('freezer_action', sa.Text(), nullable=False),
        sa.UniqueConstraint('action_id', name='uniq_actions0action_id'),
    )
    op.create_index('ix_actions_project_seq', 'actions',
                    ['project_id', 'seq'])
    op.create_table(
        'search_entries',
        sa.Column('id', sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column('resource', sa.String(16), nullable=False),
        sa.Column('doc_seq', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(64), nullable=False),
        sa.Column('value_hash', sa.String(64), nullable=False),
    )
    op.create_index('ix_search_entries_doc', 'search_entries',
                    ['resource', 'doc_seq', 'key_hash', 'value_hash'])
    op.create_index('ix_search_entries_value', 'search_entries',
                    ['resource', 'key_hash', 'value_hash'])
