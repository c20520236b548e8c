"""Repayment claims (Rückforderung): what a revocation claims, and a claim's balance on a day.

A claim is created by the revocation that causes it (`revoke_partially`: money paid beyond the
final grant; `revoke`: all money paid and not repaid), inside the firing's transaction. Its
balance on a day is the open principal plus interest: § 49a (3) VwVfG on the open principal
from the day the revocation takes effect, and § 49a (4) for money staff record as used later
than two months after its payment. Repayments are allocated when they come in, in the order of
§ 367 (1) BGB: costs, then interest, then principal; interest bears no interest (§ 289 BGB).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, select

from notifications import formatting
from states import CLAIM_DUE_MONTHS, INTEREST_RULE, ClaimBasis, ClaimStatus
from workflow import interest
from workflow.claim_tables import ClaimYear, LateUse, Repayment, RepaymentClaim
from workflow.deadlines import add_months, local_date
from workflow.errors import GuardFailed, InvalidInput
from workflow.inputs import parse_date
from workflow.models import ApplicationYear
from workflow.payment_tables import Payment


@dataclass(frozen=True)
class ClaimPlan:
    """What a revocation will claim, decided before anything is written."""

    basis: ClaimBasis
    per_year: dict[int, int]  # principal cents per budget year
    effective_on: date
    due_on: date

    @property
    def principal_cents(self) -> int:
        return sum(self.per_year.values())


def year_money(session: Session, application_id: int) -> list[ApplicationYear]:
    """The application's years, read fresh (paid, repaid and final grant change by Core)."""
    return list(session.exec(
        select(ApplicationYear).where(ApplicationYear.application_id == application_id)
        .order_by(ApplicationYear.year).execution_options(populate_existing=True)))


def overpaid(years: list[ApplicationYear]) -> dict[int, int]:
    """Net paid (paid less repaid) beyond the final grant, per year with a final grant."""
    out = {}
    for y in years:
        if y.final_grant_cents is not None and y.paid_cents - y.repaid_cents > y.final_grant_cents:
            out[y.year] = y.paid_cents - y.repaid_cents - y.final_grant_cents
    return out


def kept(y: ApplicationYear) -> int:
    """What a settled year keeps committed: the final grant, or more while money paid beyond
    it has not come back."""
    return max(y.final_grant_cents or 0, y.paid_cents - y.repaid_cents)


def surplus(years: list[ApplicationYear]) -> dict[int, int]:
    """Commitment beyond what each settled year keeps: it goes back to the budget."""
    return {y.year: y.committed_cents - kept(y) for y in years
            if y.final_grant_cents is not None and y.committed_cents > kept(y)}


def final_payments(years: list[ApplicationYear]) -> dict[int, int]:
    """The Schlusszahlung per settled year: the final grant not yet paid nor called."""
    return {y.year: owed for y in years if y.final_grant_cents is not None
            and (owed := y.final_grant_cents + y.repaid_cents - y.called_cents) > 0}


def missing_final_grant(years: list[ApplicationYear]) -> list[int]:
    """Years with money committed or paid whose final grant is not fixed yet."""
    return [y.year for y in years
            if y.final_grant_cents is None and (y.committed_cents or y.paid_cents)]


def plan(session: Session, application_id: int, basis: ClaimBasis, payload: dict[str, Any],
         now: datetime, config: dict[str, Any] | None) -> ClaimPlan | None:
    """The claim a revocation makes, or None when there is nothing to claim (full revocation
    of a case with nothing paid). Refuses a partial revocation without money to reclaim."""
    years = year_money(session, application_id)
    if basis == ClaimBasis.partial_revocation:
        missing = missing_final_grant(years)
        if missing:
            listed = ", ".join(str(y) for y in missing)
            raise GuardFailed(
                f"Die Zuwendung ist für das Haushaltsjahr {listed} noch nicht festgesetzt; der "
                "Teilwiderruf braucht die Festsetzung aus dem Verwendungsnachweis.",
                f"The final grant for the budget year {listed} is not fixed yet; a partial "
                "revocation needs it from the final report.", field="final_grant")
        per_year = overpaid(years)
        if not per_year:
            raise GuardFailed(
                "Es wurde nicht mehr ausgezahlt als die festgesetzte Zuwendung: Es gibt nichts "
                "zurückzufordern, ein Teilwiderruf ist nicht nötig.",
                "No more was paid than the final grant: there is nothing to reclaim and no "
                "partial revocation is needed.", field="final_grant")
    else:
        per_year = {y.year: y.paid_cents - y.repaid_cents for y in years
                    if y.paid_cents > y.repaid_cents}
        if not per_year:
            return None
    today = local_date(now)
    raw = payload.get("effective_on")
    effective = (parse_date(raw, "Wirksamkeit des Widerrufs", "effective_on",
                            "Day the revocation takes effect") if raw else today)
    months = int((config or {}).get("claim_due_months", CLAIM_DUE_MONTHS))
    due = add_months(today, months)
    if effective > due:
        raise InvalidInput(
            f"Der Widerruf kann nicht erst nach der Fälligkeit ({formatting.day(due)}) wirksam "
            "werden.", f"The revocation cannot take effect after the due date "
            f"({formatting.day(due, 'en')}).", field="effective_on")
    return ClaimPlan(basis, per_year, effective, due)


def bank_details(config: dict[str, Any] | None) -> dict[str, str]:
    """The authority's account for repayments (programme config `repayment_account`)."""
    account = (config or {}).get("repayment_account") or {}
    return {"holder": str(account.get("holder", "")), "iban": str(account.get("iban", "")),
            "bic": str(account.get("bic", "")), "bank": str(account.get("bank", ""))}


def payload_of(claim: ClaimPlan, reference: str | None, config: dict[str, Any] | None,
               language: str = "de") -> dict[str, Any]:
    """What the history row and the email say of the claim (JSON values)."""
    return {"basis": claim.basis.value, "principal_cents": claim.principal_cents,
            "per_year": {str(y): c for y, c in sorted(claim.per_year.items())},
            "effective_on": claim.effective_on.isoformat(), "due_on": claim.due_on.isoformat(),
            "interest_rule": INTEREST_RULE.in_language(language),
            "account": bank_details(config), "remittance": f"Rückforderung {reference}"}


def insert(session: Session, application_id: int, transition_id: int, claim: ClaimPlan,
           now: datetime) -> RepaymentClaim:
    row = RepaymentClaim(application_id=application_id, transition_id=transition_id,
                         basis=claim.basis.value, principal_cents=claim.principal_cents,
                         effective_on=claim.effective_on, due_on=claim.due_on, created_at=now)
    session.add(row)
    session.flush()
    session.add_all(ClaimYear(claim_id=row.id, year=y, principal_cents=c)
                    for y, c in sorted(claim.per_year.items()))
    session.flush()
    return row


# ---------------------------------------------------------------- the balance on a day


@dataclass(frozen=True)
class Balance:
    """A claim on a day: principal and interest owed, paid and open (cents)."""

    on: date
    principal_cents: int
    principal_open_cents: int
    interest_cents: int  # all interest accrued until `on` (§ 49a (3) and (4))
    late_use_interest_cents: int  # the part of it under § 49a (4)
    interest_paid_cents: int
    costs_paid_cents: int

    @property
    def interest_open_cents(self) -> int:
        return self.interest_cents - self.interest_paid_cents

    @property
    def open_cents(self) -> int:
        return self.principal_open_cents + self.interest_open_cents


@dataclass(frozen=True)
class Allocation:
    costs_cents: int
    interest_cents: int
    principal_cents: int


def late_use_interest(session: Session, application_id: int,
                      config: dict[str, Any] | None) -> int:
    """§ 49a (4) interest of the application's late uses, each for its own stretch."""
    total = 0
    for use, paid in session.exec(
            select(LateUse, Payment).join(Payment, Payment.id == LateUse.payment_id)
            .where(LateUse.application_id == application_id)):
        total += interest.unused_money_interest(use.amount_cents, paid.value_date,
                                                use.used_on, config).cents
    return total


def repayments(session: Session, claim_id: int) -> list[Repayment]:
    return list(session.exec(select(Repayment).where(Repayment.claim_id == claim_id)
                             .order_by(Repayment.value_date, Repayment.id)))


def balance(claim: RepaymentClaim, received: list[Repayment], on: date, late_interest: int,
            config: dict[str, Any] | None) -> Balance:
    """The claim on `on`: § 49a (3) interest runs on the open principal from the effective day,
    stretch by stretch between the value dates of the repayments received by then."""
    open_principal, accrued, paid_interest, paid_costs = claim.principal_cents, late_interest, 0, 0
    since = claim.effective_on
    for r in received:
        if r.value_date > on:
            break
        if r.value_date > since:
            accrued += interest.interest(open_principal, since, r.value_date, config).cents
            since = r.value_date
        open_principal -= r.principal_cents
        paid_interest += r.interest_cents
        paid_costs += r.costs_cents
    if on > since:
        accrued += interest.interest(open_principal, since, on, config).cents
    return Balance(on, claim.principal_cents, open_principal, accrued, late_interest,
                   paid_interest, paid_costs)


def allocate(amount_cents: int, before: Balance) -> Allocation:
    """§ 367 (1) BGB: costs (none are charged), then interest, then principal."""
    to_interest = min(amount_cents, before.interest_open_cents)
    return Allocation(0, to_interest, amount_cents - to_interest)


def status_of(claim: RepaymentClaim) -> ClaimStatus:
    return ClaimStatus(claim.status)
