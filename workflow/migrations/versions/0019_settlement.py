"""settlement: repayment claims, their years, repayments received, late use of paid money;
net paid (paid less repaid) within committed for an application's year

Revision ID: 0019_settlement
Revises: 0018_final_report
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_settlement"
down_revision = "0018_final_report"
branch_labels = None
depends_on = None


def _money(name: str, **kw) -> sa.Column:
    return sa.Column(name, sa.BigInteger(), nullable=False, **kw)


def upgrade() -> None:
    op.create_table(
        "repayment_claim",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False, index=True),
        sa.Column("transition_id", sa.Integer(), sa.ForeignKey("transition_record.id"),
                  nullable=True),
        sa.Column("basis", sa.String(), nullable=False),
        _money("principal_cents"),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("interest_rule", sa.String(), nullable=False, server_default="49a3"),
        sa.Column("status", sa.String(), nullable=False, index=True, server_default="open"),
        _money("principal_repaid_cents", server_default="0"),
        _money("interest_paid_cents", server_default="0"),
        _money("costs_paid_cents", server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "principal_cents > 0 AND principal_repaid_cents >= 0 AND principal_repaid_cents <= "
            "principal_cents AND interest_paid_cents >= 0 AND costs_paid_cents >= 0",
            name="ck_claim_not_negative"),
        sa.CheckConstraint("basis IN ('partial_revocation', 'revocation')",
                           name="ck_claim_basis"),
        sa.CheckConstraint("status IN ('open', 'paid')", name="ck_claim_status"),
        sa.CheckConstraint("status = 'open' OR principal_repaid_cents = principal_cents",
                           name="ck_claim_paid_in_full"),
        sa.CheckConstraint("due_on >= effective_on", name="ck_claim_due_after_effect"),
    )
    op.create_table(
        "claim_year",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("repayment_claim.id"),
                  nullable=False, index=True),
        sa.Column("year", sa.Integer(), nullable=False),
        _money("principal_cents"),
        _money("repaid_cents", server_default="0"),
        sa.UniqueConstraint("claim_id", "year"),
        sa.CheckConstraint("principal_cents > 0 AND repaid_cents >= 0 AND "
                           "repaid_cents <= principal_cents", name="ck_claim_year_not_over"),
    )
    op.create_table(
        "repayment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("claim_id", sa.Integer(), sa.ForeignKey("repayment_claim.id"),
                  nullable=False, index=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False, index=True),
        _money("amount_cents"),
        sa.Column("value_date", sa.Date(), nullable=False),
        _money("costs_cents", server_default="0"),
        _money("interest_cents", server_default="0"),
        _money("principal_cents", server_default="0"),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.Column("note", sa.String(), nullable=False, server_default=""),
        sa.CheckConstraint(
            "amount_cents > 0 AND costs_cents >= 0 AND interest_cents >= 0 AND "
            "principal_cents >= 0 AND amount_cents = costs_cents + interest_cents + "
            "principal_cents", name="ck_repayment_allocated"),
    )
    op.create_table(
        "late_use",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("payment_id", sa.Integer(), sa.ForeignKey("payment.id"), nullable=False,
                  unique=True),
        sa.Column("application_id", sa.Integer(), sa.ForeignKey("application.id"),
                  nullable=False, index=True),
        _money("amount_cents"),
        sa.Column("used_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), sa.ForeignKey("app_user.id"), nullable=False),
        sa.CheckConstraint("amount_cents > 0", name="ck_late_use_positive"),
    )
    with op.batch_alter_table("application_year") as batch:
        batch.drop_constraint("ck_year_paid_not_over", type_="check")
        batch.create_check_constraint(
            "ck_year_paid_not_over",
            "committed_cents >= 0 AND paid_cents >= 0 AND paid_cents - repaid_cents <= "
            "committed_cents AND called_cents >= paid_cents")


def downgrade() -> None:
    with op.batch_alter_table("application_year") as batch:
        batch.drop_constraint("ck_year_paid_not_over", type_="check")
        batch.create_check_constraint(
            "ck_year_paid_not_over",
            "committed_cents >= 0 AND paid_cents >= 0 AND paid_cents <= committed_cents "
            "AND called_cents >= paid_cents")
    for table in ("late_use", "repayment", "claim_year", "repayment_claim"):
        op.drop_table(table)
