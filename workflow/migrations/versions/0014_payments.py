"""payments, part 1: finality of the approval notice (date of notification, waiver of appeal)

Revision ID: 0014_payments
Revises: 0011_outbox_attachments
"""
import sqlalchemy as sa
from alembic import op

revision = "0014_payments"
down_revision = "0015_staff_work"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notified_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("appeal_waived_at", sa.DateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("appeal_waived_at")
        batch_op.drop_column("notified_on")
