"""exercise and CIP: outbox rows know an exercise's messages; a crisis keeps its participants
(the exercise allow-list) and its CIP number's previous configuration (restored at closing)

Revision ID: 0003
Revises: 0002
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('outbox') as batch:
        batch.add_column(
            sa.Column('exercise', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('crisis') as batch:
        batch.add_column(sa.Column('participants', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('cip_number', sa.String(length=40), nullable=True))
        batch.add_column(sa.Column('cip_previous', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('crisis') as batch:
        batch.drop_column('cip_previous')
        batch.drop_column('cip_number')
        batch.drop_column('participants')
    with op.batch_alter_table('outbox') as batch:
        batch.drop_column('exercise')
