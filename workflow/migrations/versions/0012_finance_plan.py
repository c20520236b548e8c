"""finance plan: the Kosten- und Finanzierungsplan per application and budget year, and each
call's Finanzierungsart (issue 14)

Revision ID: 0012_finance_plan
Revises: 0011_outbox_attachments
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_finance_plan"
down_revision = "0011_outbox_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("financing_kind", sa.String(), nullable=False,
                                   server_default="shortfall"))
        batch.add_column(sa.Column("grant_share_bp", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fixed_grant_cents", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("max_grant_cents", sa.BigInteger(), nullable=True))
    op.create_table(
        "finance_plan_line",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("heading", sa.String(), nullable=False, server_default=""),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("application_id", "year", "kind", "heading"),
        sa.CheckConstraint("cents >= 0", name="ck_finance_plan_line_not_negative"),
    )
    op.create_index("ix_finance_plan_line_application_id", "finance_plan_line",
                    ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_finance_plan_line_application_id", table_name="finance_plan_line")
    op.drop_table("finance_plan_line")
    with op.batch_alter_table("call") as batch:
        batch.drop_column("max_grant_cents")
        batch.drop_column("fixed_grant_cents")
        batch.drop_column("grant_share_bp")
        batch.drop_column("financing_kind")
