"""one head: the idempotency records (0002) and the reminders (0004) both came off 0001

Revision ID: 0005_one_head
Revises: 0002_api, 0004_reminders

A merge revision without schema changes, rather than re-pointing 0004 onto 0002: a database
already at both heads records two revisions, and upgrading it to this one leaves one.
"""

revision = "0005_one_head"
down_revision = ("0002_api", "0004_reminders")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
