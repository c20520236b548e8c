"""documents: the case file (Akte) of an application, contents in the content-addressed store

Revision ID: 0010_documents
Revises: 0008_admin_audit
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_documents"
down_revision = "0008_admin_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("filename", sa.String(), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_id", sa.Integer(), sa.ForeignKey("deadline.id"), nullable=True),
        sa.Column("transition_id", sa.Integer(), sa.ForeignKey("transition_record.id"),
                  nullable=True),
        sa.Column("scan", sa.String(), nullable=False, server_default=""),
    )
    op.create_index("ix_document_application_id", "document", ["application_id"])
    op.create_index("ix_document_sha256", "document", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_document_sha256", table_name="document")
    op.drop_index("ix_document_application_id", table_name="document")
    op.drop_table("document")
