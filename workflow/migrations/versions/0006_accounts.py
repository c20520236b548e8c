"""accounts: a token version (logout, password change and reset revoke tokens) and a forced
password change after an admin reset

Revision ID: 0006_accounts
Revises: 0005_one_head
"""
import sqlalchemy as sa
from alembic import op

revision = "0006_accounts"
down_revision = "0005_one_head"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("token_version", sa.Integer(), nullable=False,
                                      server_default="0"))
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("token_version")
