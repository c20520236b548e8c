"""Tables of the settlement (issue 16): repayment claims (Rückforderung) after a partial or full
revocation, their years, repayments received with their allocation (§ 367 BGB: costs, then
interest, then principal) and the late use of paid money (§ 49a (4) VwVfG). Imported at the
bottom of workflow.models, so this module imports only sqlmodel/sqlalchemy and states."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from states import ClaimStatus
from workflow.sqltypes import UTCDateTime


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


def _money(**kw: Any) -> Any:
    return Field(sa_column=Column(BigInteger, **kw))


class RepaymentClaim(SQLModel, table=True):
    """A repayment claim: the principal (the sum of its years), its legal basis, the day the
    revocation takes effect (interest runs from it, § 49a (3)), the due date and the status."""

    __tablename__ = "repayment_claim"
    __table_args__ = (
        CheckConstraint("principal_cents > 0 AND principal_repaid_cents >= 0 AND "
                        "principal_repaid_cents <= principal_cents AND interest_paid_cents >= 0 "
                        "AND costs_paid_cents >= 0", name="ck_claim_not_negative"),
        CheckConstraint("basis IN ('partial_revocation', 'revocation')", name="ck_claim_basis"),
        CheckConstraint("status IN ('open', 'paid')", name="ck_claim_status"),
        CheckConstraint("status = 'open' OR principal_repaid_cents = principal_cents",
                        name="ck_claim_paid_in_full"),
        CheckConstraint("due_on >= effective_on", name="ck_claim_due_after_effect"),
    )
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    transition_id: int | None = Field(default=None, foreign_key="transition_record.id")
    basis: str  # states.ClaimBasis
    principal_cents: int = _money(nullable=False)
    effective_on: date  # the revocation takes effect: § 49a (3) interest runs from this day
    due_on: date
    interest_rule: str = "49a3"  # five points above the base rate a year (workflow.interest)
    status: str = Field(default=ClaimStatus.open.value, index=True)
    principal_repaid_cents: int = _money(nullable=False, default=0)
    interest_paid_cents: int = _money(nullable=False, default=0)
    costs_paid_cents: int = _money(nullable=False, default=0)
    created_at: datetime = _ts(nullable=False)
    paid_at: datetime | None = _ts(nullable=True)


class ClaimYear(SQLModel, table=True):
    """The part of a claim that belongs to one budget year (paid less final grant of the year)."""

    __tablename__ = "claim_year"
    __table_args__ = (
        UniqueConstraint("claim_id", "year"),
        CheckConstraint("principal_cents > 0 AND repaid_cents >= 0 AND "
                        "repaid_cents <= principal_cents", name="ck_claim_year_not_over"),
    )
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="repayment_claim.id", index=True)
    year: int
    principal_cents: int = _money(nullable=False)
    repaid_cents: int = _money(nullable=False, default=0)


class Repayment(SQLModel, table=True):
    """Money received on a claim, with its value date and its allocation: costs first, then
    interest, then principal (§ 367 (1) BGB)."""

    __table_args__ = (
        CheckConstraint("amount_cents > 0 AND costs_cents >= 0 AND interest_cents >= 0 AND "
                        "principal_cents >= 0 AND amount_cents = costs_cents + interest_cents "
                        "+ principal_cents", name="ck_repayment_allocated"),
    )
    id: int | None = Field(default=None, primary_key=True)
    claim_id: int = Field(foreign_key="repayment_claim.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    amount_cents: int = _money(nullable=False)
    value_date: date
    costs_cents: int = _money(nullable=False, default=0)
    interest_cents: int = _money(nullable=False, default=0)
    principal_cents: int = _money(nullable=False, default=0)
    recorded_at: datetime = _ts(nullable=False)
    recorded_by_id: int = Field(foreign_key="app_user.id")
    note: str = ""


class LateUse(SQLModel, table=True):
    """Staff record that money of a payment was used only on `used_on`, later than two months
    after its value date: § 49a (4) interest for that time is owed on the claim."""

    __tablename__ = "late_use"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="ck_late_use_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    payment_id: int = Field(foreign_key="payment.id", unique=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    amount_cents: int = _money(nullable=False)  # the part of the payment used late
    used_on: date
    recorded_at: datetime = _ts(nullable=False)
    recorded_by_id: int = Field(foreign_key="app_user.id")
