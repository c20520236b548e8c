"""onboarding: organisations register (address, contact, status), organisation admins, one-time
links to choose a password

Revision ID: 0013_onboarding
Revises: 0011_outbox_attachments
"""
import sqlalchemy as sa
from alembic import op

revision = "0013_onboarding"
down_revision = "0012_finance_plan"
branch_labels = None
depends_on = None

_TEXT = ("legal_form", "street", "postcode", "city", "contact_name", "contact_email")


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        for name in _TEXT:
            batch.add_column(sa.Column(name, sa.String(), nullable=False, server_default=""))
        # Organisations that exist already were set up by the programme administration.
        batch.add_column(sa.Column("status", sa.String(), nullable=False,
                                   server_default="confirmed"))
        batch.add_column(sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("confirmed_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rejection_reason", sa.String(), nullable=True))
        batch.create_foreign_key("fk_organisation_confirmed_by", "app_user",
                                 ["confirmed_by_id"], ["id"])
        batch.create_index("ix_organisation_status", ["status"])
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("organisation_admin", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
    op.create_table(
        "one_time_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_one_time_token_user_id", "one_time_token", ["user_id"])


def downgrade() -> None:
    op.drop_index("ix_one_time_token_user_id", table_name="one_time_token")
    op.drop_table("one_time_token")
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("organisation_admin")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_index("ix_organisation_status")
        batch.drop_constraint("fk_organisation_confirmed_by", type_="foreignkey")
        for name in ("rejection_reason", "confirmed_by_id", "confirmed_at", "registered_at",
                     "status", *_TEXT):
            batch.drop_column(name)
