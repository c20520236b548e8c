"""The settlement of an application (Abrechnung, issue 16): per budget year, paid less the final
grant. Unpaid commitment goes back to the budget (the waiting list moves); money paid beyond the
final grant is reclaimed after a partial revocation (Teilwiderruf) that goes through a hearing
like the full one. Repayments received are recorded with their value date and allocation
(workflow.claims); the claim is paid when its balance reaches 0, and then the case can close.

Repaid principal is booked as the ledger's `repaid` on the application's year and budget lines
and, like unpaid commitment, goes back to the call's budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, select

from notifications.formatting import money
from states import (
    ACTIONS,
    CLAIM_BASIS_LABELS,
    CLAIM_STATUS_LABELS,
    INTEREST_RULE,
    SETTLEMENT,
    STATE_LABELS,
    Action,
    ActionName,
    ClaimBasis,
    ClaimStatus,
    State,
)
from workflow import budget, claims, deadlines, engine, funding_stop, repository
from workflow.applications import load_application
from workflow.claim_tables import ClaimYear, LateUse, Repayment, RepaymentClaim
from workflow.errors import Conflict, GuardFailed, InvalidInput, NotFound, NotPermitted, WrongState
from workflow.models import Application, Call, Programme, TransitionRecord, User
from workflow.notices import email_carrier
from workflow.payment_tables import Payment
from workflow.repository import connection
from workflow.rows import Actor

SETTLE = ACTIONS[ActionName.settle]
REPAY = ACTIONS[ActionName.record_repayment]
LATE_USE = ACTIONS[ActionName.record_late_use]
SETTLED = ACTIONS[ActionName.claim_settled]
MAX_NOTE = 500


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def today() -> date:
    """Today in Berlin."""
    return deadlines.local_date(_now(None))


def euros(cents: int) -> str:
    """Cents as the API writes money: "50000.00" (negative: "-12.50")."""
    sign, cents = ("-", -cents) if cents < 0 else ("", cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def _allowed(action: Action, actor: Actor) -> None:
    if not action.allows(actor.role):
        raise NotPermitted(f"„{action.label.de}“ ist nur der Sachbearbeitung und den "
                           "Zeichnungsbefugten erlaubt.",
                           f"'{action.label.en}' is only allowed for reviewers and approvers.")


def _in_state(app: Application, action: Action) -> None:
    if app.state not in action.in_states:
        label = STATE_LABELS[State(app.state)]
        wanted = ", ".join(STATE_LABELS[s].de for s in action.in_states)
        wanted_en = ", ".join(STATE_LABELS[s].en for s in action.in_states)
        raise WrongState(f"„{action.label.de}“ ist nur im Status {wanted} möglich (Status: "
                         f"{label.de}).", f"'{action.label.en}' is only possible in the state "
                         f"{wanted_en} (state: {label.en}).", state=app.state)


def _programme(session: Session, app: Application) -> Programme:
    return session.get(Programme, session.get(Call, app.call_id).programme_id)


def _history(session: Session, app: Application, action: Action, actor: Actor, now: datetime,
             payload: dict[str, Any], reason: str | None = None,
             operator: str | None = None) -> TransitionRecord:
    """The history row of one step and, if the action has one, the carrier's email."""
    if operator:
        payload = {**payload, "operator": operator}
    record = TransitionRecord(application_id=app.id, trigger=action.history_trigger,
                              from_state=app.state, to_state=app.state, actor_id=actor.id,
                              actor_role=actor.role.value, at=now, reason=reason,
                              payload=payload)
    session.add(record)
    session.flush()
    if action.email:
        email_carrier(session, app, _programme(session, app), action.email, record, [], now,
                      extra=payload)
    return record


def _after_release(session: Session, app: Application, now: datetime) -> None:
    """Money came back: set or lift the automatic stop, offer the waiting list again."""
    call = budget.lock_call(session, app.call_id)
    programme = _programme(session, app)
    outcome = funding_stop.reevaluate(session, call, programme, now)
    engine.offer_again(session, call, programme, outcome, now)


# ---------------------------------------------------------------- the settlement table


@dataclass(frozen=True)
class YearSettlement:
    year: int
    approved_cents: int
    committed_cents: int
    paid_cents: int
    repaid_cents: int
    final_grant_cents: int | None

    @property
    def net_paid_cents(self) -> int:
        return self.paid_cents - self.repaid_cents

    @property
    def unpaid_cents(self) -> int:
        """Commitment not paid out: goes back to the budget on settlement."""
        return max(self.committed_cents - self.net_paid_cents, 0)

    @property
    def difference_cents(self) -> int | None:
        """Paid less the final grant (positive: paid too much), None without a final grant."""
        if self.final_grant_cents is None:
            return None
        return self.net_paid_cents - self.final_grant_cents

    def out(self) -> dict[str, Any]:
        diff = self.difference_cents
        return {"year": self.year, "approved": euros(self.approved_cents),
                "committed": euros(self.committed_cents), "paid": euros(self.paid_cents),
                "repaid": euros(self.repaid_cents),
                "final_grant": None if self.final_grant_cents is None
                else euros(self.final_grant_cents),
                "unpaid": euros(self.unpaid_cents),
                "difference": None if diff is None else euros(diff),
                "overpaid": euros(max(diff or 0, 0))}


def years_of(session: Session, app: Application) -> list[YearSettlement]:
    return [YearSettlement(y.year, y.approved_cents or 0, y.committed_cents, y.paid_cents,
                           y.repaid_cents, y.final_grant_cents)
            for y in claims.year_money(session, app.id)]


def claim_of(session: Session, app_id: int) -> RepaymentClaim | None:
    """The application's repayment claim (the newest, if ever more than one)."""
    return session.exec(select(RepaymentClaim).where(RepaymentClaim.application_id == app_id)
                        .order_by(RepaymentClaim.id.desc())
                        .execution_options(populate_existing=True)).first()


def claim_balance(session: Session, claim: RepaymentClaim, on: date) -> claims.Balance:
    """The claim's balance on `on`: principal plus § 49a (3) and (4) interest, less repayments
    allocated by then."""
    app = session.get(Application, claim.application_id)
    config = _programme(session, app).config or {}
    return claims.balance(claim, claims.repayments(session, claim.id), on,
                          claims.late_use_interest(session, app.id, config), config)


def _name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.name if user else None


def claim_out(session: Session, claim: RepaymentClaim, on: date, lang: str = "de",
              reference: str | None = None) -> dict[str, Any]:
    """A claim as the API, the command line and the pages show it."""
    bal = claim_balance(session, claim, on)
    app = session.get(Application, claim.application_id)
    config = _programme(session, app).config or {}
    basis, status = ClaimBasis(claim.basis), ClaimStatus(claim.status)
    years = session.exec(select(ClaimYear).where(ClaimYear.claim_id == claim.id)
                         .order_by(ClaimYear.year).execution_options(populate_existing=True))
    return {
        "id": claim.id, "reference": reference or app.reference,
        "basis": basis.value, "basis_label": CLAIM_BASIS_LABELS[basis].in_language(lang),
        "status": status.value, "status_label": CLAIM_STATUS_LABELS[status].in_language(lang),
        "principal": euros(claim.principal_cents), "effective_on": claim.effective_on,
        "due_on": claim.due_on, "interest_rule": INTEREST_RULE.in_language(lang),
        "years": [{"year": y.year, "principal": euros(y.principal_cents),
                   "repaid": euros(y.repaid_cents)} for y in years],
        "balance": {"on": on, "principal_open": euros(bal.principal_open_cents),
                    "interest": euros(bal.interest_cents),
                    "late_use_interest": euros(bal.late_use_interest_cents),
                    "interest_paid": euros(bal.interest_paid_cents),
                    "interest_open": euros(bal.interest_open_cents),
                    "open": euros(bal.open_cents)},
        "repayments": [{"id": r.id, "amount": euros(r.amount_cents), "value_date": r.value_date,
                        "costs": euros(r.costs_cents), "interest": euros(r.interest_cents),
                        "principal": euros(r.principal_cents), "note": r.note,
                        "recorded_at": r.recorded_at,
                        "recorded_by": _name(session, r.recorded_by_id)}
                       for r in claims.repayments(session, claim.id)],
        "account": claims.bank_details(config), "paid_at": claim.paid_at,
    }


def view(session: Session, reference: int | str, actor: Actor, on: date | None = None,
         lang: str = "de") -> dict[str, Any]:
    """The settlement of one application: the table per year and the claim with its balance
    on `on` (default: today in Berlin)."""
    app = load_application(session, reference, actor)
    on = on or deadlines.local_date(_now(None))
    rows = years_of(session, app)
    claim = claim_of(session, app.id)
    return {"reference": app.reference, "state": app.state,
            "state_label": STATE_LABELS[State(app.state)].in_language(lang),
            "years": [r.out() for r in rows],
            "unpaid": euros(sum(r.unpaid_cents for r in rows)),
            "overpaid": euros(sum(max(r.difference_cents or 0, 0) for r in rows)),
            "final_grant_complete": all(r.final_grant_cents is not None for r in rows
                                        if r.committed_cents or r.paid_cents),
            "claim": None if claim is None else claim_out(session, claim, on, lang,
                                                          app.reference)}


# ---------------------------------------------------------------- settle


def settle(session: Session, reference: int | str, actor: Actor, *, reason: str | None = None,
           now: datetime | None = None, operator: str | None = None) -> TransitionRecord:
    """Staff settle a checked final report: commitment beyond the final grant goes back to the
    budget (the final grant not yet paid is the Schlusszahlung the closure opens); money
    paid beyond the final grant opens the hearing on a partial revocation (`reason` are its
    grounds), otherwise the case closes. Returns the history row of the last step."""
    now = _now(now)
    _allowed(SETTLE, actor)
    app = load_application(session, reference, actor)
    _in_state(app, SETTLE)
    rows = years_of(session, app)
    missing = [r.year for r in rows if r.final_grant_cents is None
               and (r.committed_cents or r.paid_cents)]
    if missing:
        listed = ", ".join(str(y) for y in missing)
        raise GuardFailed(
            f"Die Zuwendung ist für das Haushaltsjahr {listed} noch nicht festgesetzt; bitte "
            "zuerst den Verwendungsnachweis prüfen und die Zuwendung festsetzen.",
            f"The final grant for the budget year {listed} is not fixed yet; check the final "
            "report and fix the final grant first.", field="final_grant")
    over = {r.year: r.difference_cents for r in rows if (r.difference_cents or 0) > 0}
    text = (reason or "").strip()
    if over and not text:
        raise InvalidInput(
            "Begründung: Es wurde mehr als die festgesetzte Zuwendung ausgezahlt; bitte die "
            "Gründe des beabsichtigten Teilwiderrufs für die Anhörung angeben.",
            "Reason: more than the final grant was paid; give the grounds of the intended "
            "partial revocation for the hearing.", field="reason")
    if len(text) > 4000:
        raise InvalidInput("Begründung: höchstens 4000 Zeichen.",
                           "Reason: at most 4000 characters.", field="reason")
    budget.lock_call(session, app.call_id)
    # Each year keeps its final grant (or what was paid beyond it, until that is repaid); the
    # final grant not yet paid stays committed for the Schlusszahlung the closure opens.
    released = budget.release(session, app, now, actor.id, f"Abrechnung {app.reference}",
                              per_year=claims.surplus(claims.year_money(session, app.id)))
    total_over = sum(over.values())
    payload = {"years": [r.out() for r in rows], "released_cents": released,
               "overpaid_cents": total_over, "partial": bool(over)}
    _history(session, app, SETTLE, actor, now, payload, reason=text or None,
                      operator=operator)
    if released:
        _after_release(session, app, now)
    if over:
        return engine.fire(session, app.id, SETTLEMENT.hearing, actor, reason=text, now=now,
                           payload={"partial_repayment_cents": total_over}, operator=operator)
    return engine.fire(session, app.id, SETTLEMENT.close, actor, reason=text or None, now=now,
                       operator=operator)


# ---------------------------------------------------------------- repayments


def _open_claim(session: Session, app: Application) -> RepaymentClaim:
    claim = session.exec(select(RepaymentClaim).where(
        RepaymentClaim.application_id == app.id, RepaymentClaim.status == ClaimStatus.open.value)
        .with_for_update().execution_options(populate_existing=True)).first()
    if claim is None:
        raise GuardFailed("Für diesen Antrag ist keine Rückforderung offen.",
                          "There is no open repayment claim for this application.",
                          field="claim")
    return claim


def _value_date(value: date | None, claim: RepaymentClaim, session: Session, today: date,
                field: str = "value_date") -> date:
    day = value or today
    if day > today:
        raise InvalidInput("Valutadatum: Eine Rückzahlung kann nicht in der Zukunft eingehen.",
                           "Value date: a repayment cannot come in in the future.", field=field)
    received = claims.repayments(session, claim.id)
    if received and day < received[-1].value_date:
        last = received[-1].value_date
        raise InvalidInput(
            f"Valutadatum: Es ist schon eine Rückzahlung mit Valuta {last:%d.%m.%Y} erfasst; "
            "Rückzahlungen bitte in der Reihenfolge ihres Eingangs erfassen.",
            f"Value date: a repayment with value date {last.isoformat()} is already on record; "
            "record repayments in the order they came in.", field=field)
    return day


def record_repayment(session: Session, reference: int | str, actor: Actor, *, amount: object,
                     value_date: date | None = None, note: str | None = None,
                     now: datetime | None = None, operator: str | None = None) -> Repayment:
    """Staff record money received on the open claim (value date: the day it came in). It pays
    interest first, then principal (§ 367 BGB); principal is the ledger's `repaid` and goes
    back to the budget. At a balance of 0 the claim is paid."""
    now = _now(now)
    _allowed(REPAY, actor)
    app = load_application(session, reference, actor)
    _in_state(app, REPAY)
    cents = budget.parse_euros(amount, "Betrag", "Amount")
    if cents <= 0:
        raise InvalidInput("Betrag: bitte einen Betrag über 0 € angeben.",
                           "Amount: please give an amount above 0 €.", field="amount")
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise InvalidInput(f"Vermerk: höchstens {MAX_NOTE} Zeichen.",
                           f"Note: at most {MAX_NOTE} characters.", field="note")
    claim = _open_claim(session, app)
    day = _value_date(value_date, claim, session, deadlines.local_date(now))
    before = claim_balance(session, claim, day)
    if cents > before.open_cents:
        raise InvalidInput(
            f"Betrag: {money(cents)} übersteigt die offene Forderung von "
            f"{money(before.open_cents)} zum {day:%d.%m.%Y}.",
            f"Amount: {money(cents, 'en')} exceeds the open claim of "
            f"{money(before.open_cents, 'en')} on {day.isoformat()}.", field="amount",
            open=euros(before.open_cents))
    share = claims.allocate(cents, before)
    repayment = Repayment(claim_id=claim.id, application_id=app.id, amount_cents=cents,
                          value_date=day, costs_cents=share.costs_cents,
                          interest_cents=share.interest_cents,
                          principal_cents=share.principal_cents, recorded_at=now,
                          recorded_by_id=actor.id, note=text)
    session.add(repayment)
    claim.principal_repaid_cents += share.principal_cents
    claim.interest_paid_cents += share.interest_cents
    session.add(claim)
    session.flush()
    per_year = _book_principal(session, app, claim, share.principal_cents, now, actor)
    after = claim_balance(session, claim, day)
    payload = {"claim_id": claim.id, "amount_cents": cents, "value_date": day.isoformat(),
               "interest_cents": share.interest_cents, "principal_cents": share.principal_cents,
               "open_cents": after.open_cents, "principal_open_cents": after.principal_open_cents,
               "due_on": claim.due_on.isoformat(),
               "repaid_per_year": {str(y): c for y, c in per_year.items()}}
    _history(session, app, REPAY, actor, now, payload, reason=text or None, operator=operator)
    if per_year:
        budget.lock_call(session, app.call_id)
        budget.release(session, app, now, actor.id, f"Rückzahlung {app.reference}",
                       per_year=per_year)
        _after_release(session, app, now)
    if after.open_cents == 0:
        claim.status, claim.paid_at = ClaimStatus.paid.value, now
        session.add(claim)
        session.flush()
        _history(session, app, SETTLED, actor, now,
                 {"claim_id": claim.id, "principal_cents": claim.principal_cents,
                  "interest_paid_cents": claim.interest_paid_cents,
                  "value_date": day.isoformat()}, operator=operator)
    return repayment


def _book_principal(session: Session, app: Application, claim: RepaymentClaim, cents: int,
                    now: datetime, actor: Actor) -> dict[int, int]:
    """Principal repaid, year by year of the claim: the claim's years, the application's years,
    the budget lines the money was paid from, and one ledger `repaid` entry a line."""
    conn = connection(session)
    remaining, per_year = cents, {}
    for part in session.exec(select(ClaimYear).where(ClaimYear.claim_id == claim.id)
                             .order_by(ClaimYear.year).execution_options(populate_existing=True)):
        take = min(remaining, part.principal_cents - part.repaid_cents)
        if take <= 0:
            continue
        part.repaid_cents += take
        session.add(part)
        if repository.add_year_repaid(conn, app.id, part.year, take) is None:
            raise Conflict(f"Die Rückzahlung überstiege die für {part.year} ausgezahlten Mittel.",
                           f"The repayment would exceed the money paid for {part.year}.")
        per_year[part.year] = take
        remaining -= take
        if remaining == 0:
            break
    session.flush()
    lines = [ln for ln in repository.budget_lines(conn, app.call_id) if ln.year in per_year]
    net_paid = repository.paid_by_line(conn, app.id)
    entries, left = [], dict(per_year)
    for line in sorted(lines, key=lambda ln: (ln.year, -ln.priority, -ln.id)):
        take = min(left.get(line.year, 0), net_paid.get(line.id, 0))
        if take <= 0:
            continue
        if repository.add_line_repaid(conn, line.id, take) is None:
            raise Conflict("Die Rückzahlung überstiege die ausgezahlten Mittel der "
                           "Haushaltsstelle.",
                           "The repayment would exceed the money paid from the budget line.")
        entries.append(budget._entry(line, "repaid", now, actor.id, app.id, repaid=take,
                                     note=f"Rückzahlung {app.reference} ({line.year})"))
        left[line.year] -= take
    if any(left.values()):
        raise Conflict("Die Rückzahlung lässt sich keiner Auszahlung zuordnen.",
                       "The repayment matches no payment.")
    repository.insert_ledger(conn, entries)
    return per_year


def record_late_use(session: Session, reference: int | str, actor: Actor, *, payment_id: int,
                    used_on: date, amount: object | None = None, now: datetime | None = None,
                    operator: str | None = None) -> LateUse:
    """Staff record that (part of) a payment was used only on `used_on`, more than two months
    after its value date: § 49a (4) interest for the time after those two months is added to
    the open claim."""
    now = _now(now)
    _allowed(LATE_USE, actor)
    app = load_application(session, reference, actor)
    _in_state(app, LATE_USE)
    claim = _open_claim(session, app)
    payment = session.get(Payment, payment_id)
    if payment is None or payment.application_id != app.id:
        raise NotFound(f"Auszahlung {payment_id} gehört nicht zu diesem Antrag.",
                       f"Payment {payment_id} does not belong to this application.")
    if session.exec(select(LateUse).where(LateUse.payment_id == payment.id)).first():
        raise Conflict("Für diese Auszahlung ist die Verwendung schon erfasst.",
                       "The use of this payment is already on record.", field="payment_id")
    cents = payment.amount_cents if amount is None else budget.parse_euros(amount)
    if cents <= 0 or cents > payment.amount_cents:
        raise InvalidInput(f"Betrag: zwischen 0,01 € und {money(payment.amount_cents)}.",
                           f"Amount: between 0.01 € and {money(payment.amount_cents, 'en')}.",
                           field="amount")
    grace_ends = deadlines.add_months(payment.value_date, 2)
    if used_on <= grace_ends:
        raise InvalidInput(
            f"Verwendet am: Das Geld wurde innerhalb von zwei Monaten nach der Auszahlung "
            f"(bis {grace_ends:%d.%m.%Y}) verwendet; Zinsen nach § 49a Abs. 4 VwVfG fallen "
            "nicht an.", f"Used on: the money was used within two months of the payment "
            f"(by {grace_ends.isoformat()}); no interest under section 49a (4) VwVfG is owed.",
            field="used_on")
    if used_on > deadlines.local_date(now):
        raise InvalidInput("Verwendet am: Das Datum liegt in der Zukunft.",
                           "Used on: the date lies in the future.", field="used_on")
    use = LateUse(payment_id=payment.id, application_id=app.id, amount_cents=cents,
                  used_on=used_on, recorded_at=now, recorded_by_id=actor.id)
    session.add(use)
    session.flush()
    _history(session, app, LATE_USE, actor, now,
             {"claim_id": claim.id, "payment_id": payment.id, "amount_cents": cents,
              "paid_on": payment.value_date.isoformat(), "used_on": used_on.isoformat()},
             operator=operator)
    return use


# ---------------------------------------------------------------- all claims


def require_staff(actor: Actor) -> None:
    """All claims are for staff (a carrier sees its own on the case)."""
    _allowed(SETTLE, actor)


def all_claims(session: Session, on: date, status: ClaimStatus | None = None,
               lang: str = "de") -> list[dict[str, Any]]:
    """Every claim with its balance on `on` (for staff: the command line and the export)."""
    query = select(RepaymentClaim).order_by(RepaymentClaim.due_on, RepaymentClaim.id)
    if status is not None:
        query = query.where(RepaymentClaim.status == status.value)
    return [claim_out(session, c, on, lang) for c in session.exec(query)]
