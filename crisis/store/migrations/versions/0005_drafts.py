"""drafting: a crisis keeps the messages written on the dashboard before approval (step id ->
message template), sent instead of the playbook's templates

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# plain ALTER TABLE on SQLite too (ADD COLUMN with a default; DROP COLUMN since SQLite 3.35):
# recreating `crisis` would drop a table its steps, journal and outbox rows point at


def upgrade() -> None:
    with op.batch_alter_table('crisis', recreate='never') as batch:
        batch.add_column(sa.Column('drafts', sa.JSON(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('crisis', recreate='never') as batch:
        batch.drop_column('drafts')
