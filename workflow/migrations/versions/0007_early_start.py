"""early start: when staff granted the vorzeitiger Maßnahmebeginn

Revision ID: 0007_early_start
Revises: 0006_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_early_start"
down_revision = "0006_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("early_start_granted_at", sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("early_start_granted_at")
