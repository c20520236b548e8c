"""Calls of funds (Mittelabruf) and payments after the approval (issue 16).

The carrier calls money of an approved budget year, as far as it is needed within two months
(ANBest-P no. 1.4), never more than committed less what is paid and called already; staff
certify the call as factually correct ("sachlich richtig"); a second person orders the payment
(four-eyes). Ordering records the payment with its value date and the ledger's `paid` entries.
No payment before the notice is final (`finality.require_final`).

The database keeps the sums honest: `called`, `paid` and a line's `paid` change only by
conditional UPDATEs (`workflow.repository`), backed by CHECK constraints, so concurrent calls
and orders can never pay more than is committed, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from notifications import formatting
from notifications.formatting import money
from states import (
    ACTIONS,
    FUNDS_CALL_STATUS_LABELS,
    FUNDS_NEEDED_WITHIN_MONTHS,
    STATE_LABELS,
    Action,
    ActionName,
    FundsCallStatus,
    Role,
    State,
)
from workflow import budget, deadlines, finality, repository
from workflow.applications import load_application
from workflow.errors import (
    Conflict,
    FourEyesViolation,
    GuardFailed,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    NotPermitted,
    WrongState,
)
from workflow.models import Application, Call, Organisation, Programme, TransitionRecord, User
from workflow.notices import email_carrier
from workflow.payment_tables import FundsCall, Payment
from workflow.repository import connection
from workflow.rows import Actor

CALL = ACTIONS[ActionName.call_funds]
CHECK = ACTIONS[ActionName.check_funds_call]
ORDER = ACTIONS[ActionName.order_payment]
MAX_TEXT = 500


def _now(now: datetime | None) -> datetime:
    now = now or datetime.now(UTC)
    return now if now.tzinfo else now.replace(tzinfo=UTC)


def _allowed(action: Action, actor: Actor) -> None:
    if not action.allows(actor.role):
        who, who_en = (("dem Träger", "the carrier") if action.roles == {Role.carrier} else
                       ("der Sachbearbeitung und den Zeichnungsbefugten",
                        "reviewers and approvers"))
        raise NotPermitted(f"„{action.label.de}“ ist nur {who} erlaubt.",
                           f"'{action.label.en}' is only allowed for {who_en}.")


def _application(session: Session, key: int | str, actor: Actor | None,
                 action: Action) -> Application:
    app = load_application(session, key, actor)
    if app.state not in action.in_states or app.approved_at is None:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(
            f"„{action.label.de}“ ist nur für bewilligte Projekte möglich (Status: {label.de}).",
            f"'{action.label.en}' is only possible for approved projects (state: {label.en}).",
            state=app.state)
    return app


def _text(value: str | None, field: str, de: str, en: str) -> str:
    text = (value or "").strip()
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{de}: höchstens {MAX_TEXT} Zeichen.",
                           f"{en}: at most {MAX_TEXT} characters.", field=field)
    return text


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
        programme = session.get(Programme, session.get(Call, app.call_id).programme_id)
        email_carrier(session, app, programme, action.email, record, [], now, extra=payload)
    return record


def _year_room(session: Session, app_id: int, year: int) -> tuple[int, int, int] | None:
    """(committed, called, paid) of the application's year, None when it has no row."""
    for y, _approved, committed, called, paid, _repaid in repository.year_money(
            connection(session), app_id):
        if y == year:
            return committed, called, paid
    return None


def request_call(session: Session, reference: int | str, actor: Actor, *, year: int,
                 amount: object, needed_within_two_months: bool, purpose: str | None = None,
                 now: datetime | None = None, operator: str | None = None) -> FundsCall:
    """The carrier calls `amount` of budget year `year`. Refusals write nothing."""
    now = _now(now)
    _allowed(CALL, actor)
    app = _application(session, reference, actor, CALL)
    cents = budget.parse_euros(amount, "Betrag", "Amount")
    if cents <= 0:
        raise InvalidInput("Betrag: bitte einen Betrag über 0 € angeben.",
                           "Amount: please give an amount above 0 €.", field="amount")
    if not needed_within_two_months:
        raise InvalidInput(
            "Mittel dürfen nur abgerufen werden, soweit sie innerhalb von zwei Monaten nach der "
            "Auszahlung für fällige Zahlungen benötigt werden (ANBest-P Nr. 1.4). Bitte "
            "bestätigen Sie das.",
            "Funds may only be called as far as they are needed within two months of the "
            "payment for payments due (ANBest-P no. 1.4). Please confirm this.",
            field="needed_within_two_months")
    text = _text(purpose, "purpose", "Verwendungszweck", "Purpose")
    finality.require_final(app, now)
    room = _year_room(session, app.id, year)
    if room is None or room[0] <= 0:
        raise GuardFailed(f"Für das Haushaltsjahr {year} sind keine Mittel bewilligt.",
                          f"No funds are approved for the budget year {year}.", field="year")
    if repository.add_called(connection(session), app.id, year, cents) is None:
        committed, called, paid = _year_room(session, app.id, year) or room
        left = max(committed - called, 0)
        raise InsufficientFunds(
            f"Der Abruf von {money(cents)} übersteigt die für {year} noch abrufbaren Mittel: "
            f"bewilligt {money(committed)}, ausgezahlt {money(paid)}, offen abgerufen "
            f"{money(called - paid)}, noch abrufbar {money(left)}.",
            f"The call of {money(cents, 'en')} exceeds what can still be called for {year}: "
            f"approved {money(committed, 'en')}, paid {money(paid, 'en')}, called and open "
            f"{money(called - paid, 'en')}, left {money(left, 'en')}.",
            field="amount", available=euros_text(left))
    today = deadlines.local_date(now)
    call = FundsCall(application_id=app.id, year=year, amount_cents=cents, purpose=text,
                     needed_by=deadlines.add_months(today, FUNDS_NEEDED_WITHIN_MONTHS),
                     status=FundsCallStatus.requested.value, requested_at=now,
                     requested_by_id=actor.id)
    session.add(call)
    session.flush()
    _history(session, app, CALL, actor, now, _payload(call), operator=operator)
    return call


def euros_text(cents: int) -> str:
    """Cents as the API writes money: "50000.00"."""
    return f"{cents // 100}.{cents % 100:02d}"


def _payload(call: FundsCall, payment: Payment | None = None) -> dict[str, Any]:
    """What the history row and the email of a step say about the call (JSON values)."""
    out: dict[str, Any] = {"funds_call_id": call.id, "year": call.year,
                           "amount_cents": call.amount_cents, "purpose": call.purpose,
                           "needed_by": call.needed_by.isoformat(), "status": call.status,
                           "check_note": call.check_note or ""}
    if payment is not None:
        out.update(value_date=payment.value_date.isoformat(), payee_name=payment.payee_name,
                   iban_masked=mask_iban(payment.iban), remittance=payment.remittance)
    return out


def mask_iban(iban: str) -> str:
    """An IBAN as an email may show it: country, check digits and the last four digits."""
    return f"{iban[:4]} **** {iban[-4:]}" if len(iban) > 8 else iban


def _staff_call(session: Session, call_id: int, actor: Actor, action: Action
                ) -> tuple[FundsCall, Application]:
    _allowed(action, actor)
    call = session.get(FundsCall, call_id, populate_existing=True)
    if call is None:
        raise NotFound(f"Mittelabruf {call_id} wurde nicht gefunden.",
                       f"Call of funds {call_id} was not found.")
    return call, _application(session, call.application_id, actor, action)


def _move(session: Session, call: FundsCall, before: FundsCallStatus,
          values: dict[str, object]) -> None:
    """Move the call on from `before`, only if nobody else moved it meanwhile."""
    changed = session.execute(
        update(FundsCall).where(FundsCall.id == call.id, FundsCall.status == before.value)
        .values(**values).execution_options(synchronize_session=False))
    if changed.rowcount != 1:
        raise Conflict("Der Mittelabruf wurde gleichzeitig bearbeitet. Bitte neu laden.",
                       "The call of funds was changed at the same time. Please reload.")
    session.refresh(call)


def _wrong_status(call: FundsCall, action: Action) -> Conflict:
    label = FUNDS_CALL_STATUS_LABELS[FundsCallStatus(call.status)]
    return Conflict(
        f"„{action.label.de}“ ist für diesen Mittelabruf nicht möglich (Stand: {label.de}).",
        f"'{action.label.en}' is not possible for this call of funds (status: {label.en}).",
        status_of_call=call.status)


def check_call(session: Session, call_id: int, actor: Actor, *, note: str | None = None,
               now: datetime | None = None, operator: str | None = None) -> FundsCall:
    """Staff certify the call as factually correct ("sachlich richtig"), with who and when."""
    now = _now(now)
    call, app = _staff_call(session, call_id, actor, CHECK)
    if call.status != FundsCallStatus.requested:
        raise _wrong_status(call, CHECK)
    text = _text(note, "note", "Vermerk", "Note") or None
    _move(session, call, FundsCallStatus.requested,
          {"status": FundsCallStatus.checked.value, "checked_at": now,
           "checked_by_id": actor.id, "check_note": text})
    _history(session, app, CHECK, actor, now, _payload(call), reason=text, operator=operator)
    return call


def order_payment(session: Session, call_id: int, actor: Actor, *,
                  value_date: date | None = None, now: datetime | None = None,
                  operator: str | None = None) -> Payment:
    """A second person orders the payment of a certified call: the payment with its value date
    (default: the next working day), the ledger's `paid` entries. Refusals write nothing."""
    now = _now(now)
    call, app = _staff_call(session, call_id, actor, ORDER)
    if call.status != FundsCallStatus.checked:
        raise _wrong_status(call, ORDER)
    if call.checked_by_id == actor.id:
        raise FourEyesViolation(
            "Vier-Augen-Prinzip: Wer den Mittelabruf sachlich richtig gezeichnet hat, darf die "
            "Auszahlung nicht selbst anordnen. Bitte eine zweite Person anordnen lassen.",
            "Four-eyes principle: whoever certified the call of funds may not order its "
            "payment. Please have a second person order it.")
    finality.require_final(app, now)
    today = deadlines.local_date(now)
    day = value_date or deadlines.next_working_day(date.fromordinal(today.toordinal() + 1))
    if day < today:
        raise InvalidInput(
            f"Das Valutadatum ({formatting.day(day)}) liegt in der Vergangenheit.",
            f"The value date ({formatting.day(day, 'en')}) is in the past.", field="value_date")
    organisation = session.get(Organisation, app.organisation_id)
    if organisation is None or not organisation.iban:
        raise GuardFailed(
            "Für den Träger ist keine Bankverbindung hinterlegt; die Auszahlung kann erst "
            "angeordnet werden, wenn die Organisation ihre IBAN angegeben hat.",
            "The carrier has no bank account on record; the payment can be ordered once the "
            "organisation has given its IBAN.", field="iban")
    _move(session, call, FundsCallStatus.checked,
          {"status": FundsCallStatus.ordered.value, "ordered_at": now,
           "ordered_by_id": actor.id})
    _pay(session, app, call, actor, now)
    payment = Payment(funds_call_id=call.id, application_id=app.id, year=call.year,
                      amount_cents=call.amount_cents, value_date=day, ordered_at=now,
                      ordered_by_id=actor.id,
                      payee_name=organisation.account_holder or organisation.name,
                      iban=organisation.iban, bic=organisation.bic,
                      remittance=f"{app.reference} Mittelabruf {call.id} HHJ {call.year}"[:140],
                      end_to_end_id=f"Q{call.id}-{secrets.token_hex(6)}")
    session.add(payment)
    session.flush()
    _history(session, app, ORDER, actor, now, _payload(call, payment), operator=operator)
    return payment


def _pay(session: Session, app: Application, call: FundsCall, actor: Actor,
         now: datetime) -> None:
    """paid += the call's amount for its year, and on the budget lines the application's
    commitment of that year stands on (by priority); the ledger gets one `paid` entry a line."""
    conn = connection(session)
    if repository.add_year_paid(conn, app.id, call.year, call.amount_cents) is None:
        raise InsufficientFunds(
            f"Die Auszahlung von {money(call.amount_cents)} überstiege die für {call.year} "
            "gebundenen Mittel des Projekts.",
            f"Paying {money(call.amount_cents, 'en')} would exceed the project's committed "
            f"money for {call.year}.")
    lines = [ln for ln in repository.budget_lines(conn, app.call_id) if ln.year == call.year]
    held = repository.commitments(conn, app.id)
    paid = repository.paid_by_line(conn, app.id)
    remaining, entries = call.amount_cents, []
    for line in lines:
        take = min(remaining, held.get(line.id, 0) - paid.get(line.id, 0))
        if take <= 0:
            continue
        if repository.add_line_paid(conn, line.id, take) is None:
            raise InsufficientFunds(
                "Die Auszahlung überstiege die gebundenen Mittel der Haushaltsstelle.",
                "The payment would exceed the committed money of the budget line.")
        entries.append(budget._entry(line, "paid", now, actor.id, app.id, paid=take,
                                     funds_call_id=call.id,
                                     note=f"Auszahlung {app.reference} ({call.year})"))
        remaining -= take
        if remaining == 0:
            break
    if remaining:
        raise InsufficientFunds(
            f"Für {call.year} ist nicht genug Geld des Projekts gebunden.",
            f"Not enough of the project's money is committed for {call.year}.")
    repository.insert_ledger(conn, entries)


# ---------------------------------------------------------------- reading


def calls_of(session: Session, reference: int | str, actor: Actor) -> tuple[
        Application, list[tuple[FundsCall, Payment | None]]]:
    """The application's calls of funds, oldest first, each with its payment if ordered."""
    app = load_application(session, reference, actor)
    calls = list(session.exec(select(FundsCall).where(FundsCall.application_id == app.id)
                              .order_by(FundsCall.id)))
    payments = {p.funds_call_id: p for p in session.exec(
        select(Payment).where(Payment.application_id == app.id))}
    return app, [(c, payments.get(c.id)) for c in calls]


def _name(session: Session, user_id: int | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    return user.name if user else None


def call_out(session: Session, call: FundsCall, payment: Payment | None, lang: str = "de",
             reference: str | None = None) -> dict[str, Any]:
    """A call of funds as the API and the command line show it (money as "50000.00")."""
    status = FundsCallStatus(call.status)
    return {
        "id": call.id, "reference": reference, "year": call.year,
        "amount": euros_text(call.amount_cents), "purpose": call.purpose,
        "needed_by": call.needed_by, "status": status.value,
        "status_label": FUNDS_CALL_STATUS_LABELS[status].in_language(lang),
        "requested_at": call.requested_at, "requested_by": _name(session, call.requested_by_id),
        "checked_at": call.checked_at, "checked_by": _name(session, call.checked_by_id),
        "check_note": call.check_note,
        "ordered_at": call.ordered_at, "ordered_by": _name(session, call.ordered_by_id),
        "payment": None if payment is None else {
            "id": payment.id, "amount": euros_text(payment.amount_cents),
            "value_date": payment.value_date, "payee_name": payment.payee_name,
            "iban": payment.iban, "bic": payment.bic, "remittance": payment.remittance,
            "end_to_end_id": payment.end_to_end_id, "sepa_export_id": payment.sepa_export_id,
            "exported": payment.sepa_export_id is not None},
    }


def money_of(session: Session, app: Application) -> list[dict[str, Any]]:
    """Per budget year of the application: approved, committed, called (open), paid and what
    may still be called."""
    out = []
    for year, approved, committed, called, paid, _repaid in repository.year_money(
            connection(session), app.id):
        out.append({"year": year, "approved": euros_text(approved or 0),
                    "committed": euros_text(committed), "paid": euros_text(paid),
                    "called_open": euros_text(called - paid),
                    "callable": euros_text(max(committed - called, 0))})
    return out


def ledger_by_line(session: Session, call_id: int) -> list[dict[str, Any]]:
    """Budget, committed, paid and repaid per year and source of a call, as running sums and as
    the ledger adds them up (they are equal; a test checks it under concurrency)."""
    conn = connection(session)
    sums = repository.ledger_sums(conn, call_id)
    out = []
    for line_id, year, source, budget_cents, committed, paid, repaid in repository.line_money(
            conn, call_id):
        out.append({"line_id": line_id, "year": year, "source": source,
                    "budget_cents": budget_cents, "committed_cents": committed,
                    "paid_cents": paid, "repaid_cents": repaid,
                    "ledger_cents": sums.get(line_id, (0, 0, 0, 0))})
    return out


def totals_by_year(lines: list[dict[str, Any]]) -> dict[int, dict[str, int]]:
    """The lines of `ledger_by_line` added up per year."""
    years: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        for key in ("budget_cents", "committed_cents", "paid_cents", "repaid_cents"):
            years[line["year"]][key] += line[key]
    return {y: dict(v) for y, v in sorted(years.items())}
