"""admin audit: who changed which programme, module or call, when, before and after

Revision ID: 0008_admin_audit
Revises: 0007_early_start
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_admin_audit"
down_revision = "0007_early_start"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(), nullable=False),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("subject_kind", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(["actor_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_admin_audit_subject", "admin_audit", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_admin_audit_subject", table_name="admin_audit")
    op.drop_table("admin_audit")
