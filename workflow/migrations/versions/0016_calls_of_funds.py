"""payments, part 2: the bank account, calls of funds, payments, SEPA exports, and the ledger's
paid and repaid money (paid <= committed per application and year, and per budget line)

Revision ID: 0016_calls_of_funds
Revises: 0014_payments
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_calls_of_funds"
down_revision = "0014_payments"
branch_labels = None
depends_on = None


def _money(name: str) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")


def upgrade() -> None:
    with op.batch_alter_table("organisation") as batch:
        batch.add_column(sa.Column("iban", sa.String(), nullable=True))
        batch.add_column(sa.Column("bic", sa.String(), nullable=True))
        batch.add_column(sa.Column("account_holder", sa.String(), nullable=True))
    op.create_table(
        "funds_call",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("needed_by", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), sa.ForeignKey("app_user.id"),
                  nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("check_note", sa.String(), nullable=True),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ordered_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.CheckConstraint("amount_cents > 0", name="ck_funds_call_positive"),
    )
    op.create_index("ix_funds_call_app_year", "funds_call", ["application_id", "year"])
    op.create_index("ix_funds_call_status", "funds_call", ["status"])
    op.create_table(
        "sepa_export",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.String(), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=True),
        sa.Column("payment_count", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("debtor_iban", sa.String(), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("funds_call_id", sa.Integer(), sa.ForeignKey("funds_call.id"), nullable=False,
                  unique=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("value_date", sa.Date(), nullable=False),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ordered_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("payee_name", sa.String(), nullable=False),
        sa.Column("iban", sa.String(), nullable=False),
        sa.Column("bic", sa.String(), nullable=True),
        sa.Column("remittance", sa.String(), nullable=False),
        sa.Column("end_to_end_id", sa.String(), nullable=False, unique=True),
        sa.Column("sepa_export_id", sa.Integer(), sa.ForeignKey("sepa_export.id"),
                  nullable=True),
        sa.CheckConstraint("amount_cents > 0", name="ck_payment_positive"),
    )
    op.create_index("ix_payment_application_id", "payment", ["application_id"])
    op.create_index("ix_payment_sepa_export_id", "payment", ["sepa_export_id"])
    with op.batch_alter_table("ledger_entry") as batch:
        batch.add_column(_money("paid_delta_cents"))
        batch.add_column(_money("repaid_delta_cents"))
        batch.add_column(sa.Column("funds_call_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_ledger_entry_funds_call", "funds_call",
                                 ["funds_call_id"], ["id"])
        batch.create_index("ix_ledger_entry_funds_call_id", ["funds_call_id"])
    with op.batch_alter_table("budget_line") as batch:
        batch.add_column(_money("paid_cents"))
        batch.add_column(_money("repaid_cents"))
        batch.create_check_constraint(
            "ck_budget_paid_not_over",
            "paid_cents >= 0 AND repaid_cents >= 0 AND paid_cents - repaid_cents <= "
            "committed_cents")
    with op.batch_alter_table("application_year") as batch:
        batch.add_column(_money("committed_cents"))
        batch.add_column(_money("called_cents"))
        batch.add_column(_money("paid_cents"))
    # Each application year's committed money as its ledger says (commit less release).
    op.execute(
        "UPDATE application_year SET committed_cents = COALESCE((SELECT "
        "SUM(e.committed_delta_cents) FROM ledger_entry e JOIN budget_line l ON "
        "l.id = e.budget_line_id WHERE e.application_id = application_year.application_id "
        "AND l.year = application_year.year), 0)")
    with op.batch_alter_table("application_year") as batch:
        batch.create_check_constraint(
            "ck_year_paid_not_over",
            "committed_cents >= 0 AND paid_cents >= 0 AND paid_cents <= committed_cents "
            "AND called_cents >= paid_cents")


def downgrade() -> None:
    with op.batch_alter_table("application_year") as batch:
        batch.drop_constraint("ck_year_paid_not_over", type_="check")
        batch.drop_column("paid_cents")
        batch.drop_column("called_cents")
        batch.drop_column("committed_cents")
    with op.batch_alter_table("budget_line") as batch:
        batch.drop_constraint("ck_budget_paid_not_over", type_="check")
        batch.drop_column("repaid_cents")
        batch.drop_column("paid_cents")
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_index("ix_ledger_entry_funds_call_id")
        batch.drop_constraint("fk_ledger_entry_funds_call", type_="foreignkey")
        batch.drop_column("funds_call_id")
        batch.drop_column("repaid_delta_cents")
        batch.drop_column("paid_delta_cents")
    op.drop_table("payment")
    op.drop_table("sepa_export")
    op.drop_table("funds_call")
    with op.batch_alter_table("organisation") as batch:
        batch.drop_column("account_holder")
        batch.drop_column("bic")
        batch.drop_column("iban")
