"""Search entries know their document's project, so a term drives a search.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

A search used to walk every document of the project in creation order and
test its terms on each one: a term that matches three documents in a
project of 100,000 cost 100,000 probes. With the project in the entry and
an index on (resource, key, value, project, document), the database reads
the matching entries of the project, already in document order, and tests
the other terms on those alone. The index replaces
``ix_search_entries_value``, of which it is an extension.
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

RESOURCES = ('actions', 'jobs', 'sessions', 'clients', 'backups')


def upgrade() -> None:
    with op.batch_alter_table('search_entries') as batch:
        batch.add_column(sa.Column('project_id', sa.String(255),
                                   nullable=True))
    entries = sa.table('search_entries', sa.column('resource'),
                       sa.column('doc_seq'), sa.column('project_id'))
    for resource in RESOURCES:
        documents = sa.table(resource, sa.column('seq'),
                             sa.column('project_id'))
        op.execute(entries.update().where(
            entries.c.resource == resource).values(
                project_id=sa.select(documents.c.project_id).where(
                    documents.c.seq == entries.c.doc_seq
                ).scalar_subquery()))
    # An entry of no document is of no use to any search.
    op.execute('DELETE FROM search_entries WHERE project_id IS NULL')
    with op.batch_alter_table('search_entries') as batch:
        batch.alter_column('project_id', existing_type=sa.String(255),
                           nullable=False)
    op.drop_index('ix_search_entries_value', table_name='search_entries')
    op.create_index('ix_search_entries_term', 'search_entries',
                    ['resource', 'key_hash', 'value_hash', 'project_id',
                     'doc_seq'])
