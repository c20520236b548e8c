"""settlement: the final grant of an application's year and the money repaid for it

Revision ID: 0017_final_grant
Revises: 0016_calls_of_funds
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_final_grant"
down_revision = "0016_calls_of_funds"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("application_year") as batch:
        batch.add_column(sa.Column("final_grant_cents", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("repaid_cents", sa.BigInteger(), nullable=False,
                                   server_default="0"))
        batch.create_check_constraint(
            "ck_year_repaid", "repaid_cents >= 0 AND repaid_cents <= paid_cents AND "
            "(final_grant_cents IS NULL OR final_grant_cents >= 0)")


def downgrade() -> None:
    with op.batch_alter_table("application_year") as batch:
        batch.drop_constraint("ck_year_repaid", type_="check")
        batch.drop_column("repaid_cents")
        batch.drop_column("final_grant_cents")
