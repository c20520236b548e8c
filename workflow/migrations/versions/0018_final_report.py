"""Verwendungsnachweis: the report's versions (Sachbericht), its zahlenmäßiger Nachweis, its
Belegliste and staff's checks with the final grant per year

Revision ID: 0018_final_report
Revises: 0017_final_grant
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_final_report"
down_revision = "0017_final_grant"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "final_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sachbericht", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.UniqueConstraint("application_id", "version"),
        sa.CheckConstraint("version >= 1", name="ck_final_report_version"),
    )
    op.create_index("ix_final_report_application_id", "final_report", ["application_id"])
    op.create_table(
        "final_report_line",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("final_report.id"), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("heading", sa.String(), nullable=False),
        sa.Column("cents", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("report_id", "year", "kind", "heading"),
        sa.CheckConstraint("cents >= 0", name="ck_final_report_line_not_negative"),
    )
    op.create_index("ix_final_report_line_report_id", "final_report_line", ["report_id"])
    op.create_table(
        "final_report_entry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("final_report.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("heading", sa.String(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("party", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name="ck_final_report_entry_positive"),
    )
    op.create_index("ix_final_report_entry_report_id", "final_report_entry", ["report_id"])
    op.create_table(
        "final_report_check",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("report_id", sa.Integer(), sa.ForeignKey("final_report.id"), nullable=False),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ratings", sa.JSON(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("grants", sa.JSON(), nullable=False),
    )
    op.create_index("ix_final_report_check_report_id", "final_report_check", ["report_id"])
    op.create_index("ix_final_report_check_application_id", "final_report_check",
                    ["application_id"])


def downgrade() -> None:
    op.drop_table("final_report_check")
    op.drop_table("final_report_entry")
    op.drop_table("final_report_line")
    op.drop_table("final_report")
