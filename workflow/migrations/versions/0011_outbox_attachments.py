"""outbox attachments: files an email carries, by reference to the document store

Revision ID: 0011_outbox_attachments
Revises: 0010_documents
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_outbox_attachments"
down_revision = "0010_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("attachments", sa.JSON(), nullable=False,
                                   server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("attachments")
