"""The effects of the transition table: each records on the firing what it will write
(`workflow.firing.apply` writes it). Effects read what the guards parsed."""

from __future__ import annotations

from collections.abc import Callable

from states import SCHEDULED_START, ClaimBasis, Effect, Money
from workflow import claims, deadlines, final_report
from workflow.firing import Firing, MoneyChange
from workflow.rows import YearRow


def become_case_officer(f: Firing) -> None:
    f.changes["case_officer_id"] = f.actor.id


def record_assessment(f: Firing) -> None:
    f.changes["assessment"] = f.reason
    amounts = f.parsed.amounts or {}
    f.year_values["approved_cents"] = {y: amounts.get(y, 0) for y in f.years}


def mark_received(f: Firing) -> None:
    f.changes["received_at"] = f.now


def mark_waitlisted(f: Firing) -> None:
    f.changes["waitlisted_at"] = f.now


def approved_amounts(f: Firing) -> dict[int, int]:
    return {y: r.approved_cents for y, r in f.years.items() if r.approved_cents}


def commit_budget(f: Firing) -> None:
    amounts = approved_amounts(f)
    f.money = MoneyChange(Money.commit, amounts, f"Bewilligung {f.app.reference}")
    # The notice is issued with the approval: that day is its date of notification until staff
    # record another (workflow.finality).
    f.changes.update(approved_at=f.now, approved_by_id=f.actor.id,
                     notified_on=deadlines.local_date(f.now))
    f.record_payload["committed_cents"] = {str(y): c for y, c in amounts.items()}


def release_budget(f: Firing) -> None:
    f.money = MoneyChange(Money.release, None, f"{f.spec.label.de} {f.app.reference}")


def _kept(r: YearRow) -> int:
    """What the application keeps of a year: the final grant once staff fixed it, else the
    reported spending."""
    return r.final_grant_cents if r.final_grant_cents is not None else (r.spent_cents or 0)


def release_underspend(f: Firing) -> None:
    years = claims.year_money(f.session, f.app.id)
    if any(y.final_grant_cents is not None for y in years):
        # Settled (workflow.settlement): the year keeps its final grant (or what was paid
        # beyond it until that comes back); the final grant not yet paid is the Schlusszahlung.
        f.money = MoneyChange(Money.release, claims.surplus(years), f"Abrechnung {f.app.reference}")
        f.final_payments = claims.final_payments(years)
        if f.final_payments:
            f.record_payload["final_payment_cents"] = {
                str(y): c for y, c in sorted(f.final_payments.items())}
        return
    under = {
        y: r.approved_cents - _kept(r)
        for y, r in f.years.items()
        if r.approved_cents and r.approved_cents > _kept(r)
    }
    f.money = MoneyChange(Money.release, under, f"Minderausgabe {f.app.reference}")


def record_spending(f: Firing) -> None:
    spending = f.parsed.spending or {}
    f.year_values["spent_cents"] = {y: spending[y] for y in f.years if y in spending}


def record_final_report(f: Firing) -> None:
    if f.parsed.final_report is not None:
        final_report.submit(f.session, f.app.id, f.actor, f.parsed.final_report, f.now)


def record_repayment(f: Firing) -> None:
    f.changes["repayment_claim_cents"] = f.parsed.repayment_cents


def record_hearing_subject(f: Firing) -> None:
    """A hearing about a partial revocation says so, with the amount to be reclaimed."""
    cents = f.payload.get("partial_repayment_cents")
    if isinstance(cents, int) and not isinstance(cents, bool) and cents > 0:
        f.record_payload.update(partial=True, repayment_cents=cents)


def record_claim(f: Firing) -> None:
    """The repayment claim of a (partial) revocation; `firing.apply` writes it."""
    # A revocation that ends the case reclaims all money paid; a partial one what was paid
    # beyond the final grant.
    basis = ClaimBasis.revocation if f.spec.ends_case else ClaimBasis.partial_revocation
    config = f.programme.config or {}
    plan = claims.plan(f.session, f.app.id, basis, f.payload, f.now, config)
    if plan is None:
        return
    f.claim = plan
    f.changes["repayment_claim_cents"] = plan.principal_cents
    f.record_payload["repayment_cents"] = plan.principal_cents
    f.record_payload["claim"] = claims.payload_of(plan, f.app.reference, config)


def record_waiver_of_appeal(f: Firing) -> None:
    if f.record_payload.get(SCHEDULED_START.waiver_key) and f.app.appeal_waived_at is None:
        f.changes["appeal_waived_at"] = f.now


EFFECTS: dict[Effect, Callable[[Firing], None]] = {
    Effect.become_case_officer: become_case_officer,
    Effect.record_assessment: record_assessment,
    Effect.mark_received: mark_received,
    Effect.mark_waitlisted: mark_waitlisted,
    Effect.commit_budget: commit_budget,
    Effect.release_budget: release_budget,
    Effect.release_underspend: release_underspend,
    Effect.record_waiver_of_appeal: record_waiver_of_appeal,
    Effect.record_spending: record_spending,
    Effect.record_repayment: record_repayment,
    Effect.record_hearing_subject: record_hearing_subject,
    Effect.record_claim: record_claim,
    Effect.record_final_report: record_final_report,
}
assert set(EFFECTS) == set(Effect), "every effect in the table needs an implementation"
