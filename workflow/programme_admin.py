"""What programme administration does to a call: declare or lift a funding stop, change a
budget line. Each re-evaluates the stop and the waiting list in the same transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import Session

from notifications.formatting import moment, money
from states import ACTIONS, ActionName, StopKind
from workflow import budget, calls_admin, engine, funding_stop
from workflow.errors import FundingStopInForce, InvalidInput, NotFound, NotPermitted, WrongState
from workflow.models import Call, Programme
from workflow.rows import Actor

_KIND_DE = {StopKind.declared: "erklärt", StopKind.automatic: "automatisch"}


def _allowed(action: ActionName, actor: Actor, de: str, en: str) -> None:
    if not ACTIONS[action].allows(actor.role):
        raise NotPermitted(de, en)


def _stop_of(call: Call) -> dict[str, object] | None:
    """The call's funding stop as the audit records it."""
    if not call.stop_kind:
        return None
    since = call.stop_since
    return {"kind": call.stop_kind, "since": since.isoformat() if since else None,
            "reason": call.stop_reason}


def _after_money_change(session: Session, call: Call, now: datetime) -> None:
    programme = session.get(Programme, call.programme_id)
    outcome = funding_stop.reevaluate(session, call, programme, now)
    engine.offer_again(session, call, programme, outcome, now)


def declare_funding_stop(
    session: Session, call: Call, reason: str, actor: Actor, now: datetime | None = None
) -> Call:
    """An admin declares a stop (with a reason); carriers with drafts are told once. A stop
    already in force (declared or automatic) is refused: its `since` and reason stay."""
    now = now or datetime.now(UTC)
    _allowed(ActionName.declare_funding_stop, actor,
             "Nur die Programmverwaltung kann einen Fördermittelstopp erklären.",
             "Only programme administration can declare a funding stop.")
    if not reason or not reason.strip():
        raise InvalidInput("Bitte einen Grund für den Fördermittelstopp angeben.",
                           "Give a reason for the funding stop.", field="reason")
    call = budget.lock_call(session, call.id)
    if call.stop_kind:
        kind = StopKind(call.stop_kind)
        since = call.stop_since
        raise WrongState(
            f"Für diesen Aufruf gilt bereits ein Fördermittelstopp ({_KIND_DE[kind]}) seit "
            f"{moment(since, 'de') if since else '–'}; es wurde nichts geändert.",
            f"A funding stop ({kind.value}) is already in force for this call since "
            f"{moment(since, 'en') if since else '–'}; nothing was changed.",
            stop_kind=kind.value, stop_since=since.isoformat() if since else None)
    programme = session.get(Programme, call.programme_id)
    funding_stop.set_stop(session, call, programme, StopKind.declared, reason.strip(), now)
    calls_admin.record_change(session, actor, ActionName.declare_funding_stop, "call", call.code,
                              {"funding_stop": None}, {"funding_stop": _stop_of(call)}, now,
                              reason.strip())
    return call


def lift_funding_stop(
    session: Session, call: Call, actor: Actor, now: datetime | None = None
) -> Call:
    """An admin lifts a stop. An automatic stop that still holds is refused with the reason; a
    declared stop while money is short turns into the automatic stop with the same `since`
    (a stop stays in force, so nobody is told again)."""
    now = now or datetime.now(UTC)
    _allowed(ActionName.lift_funding_stop, actor,
             "Nur die Programmverwaltung kann einen Fördermittelstopp aufheben.",
             "Only programme administration can lift a funding stop.")
    call = budget.lock_call(session, call.id)
    if not call.stop_kind:
        raise WrongState("Für diesen Aufruf gilt kein Fördermittelstopp.",
                         "No funding stop is in force for this call.")
    if budget.automatic_stop_due(session, call):
        if call.stop_kind == StopKind.automatic:
            threshold = max(call.min_grant_cents, 1)
            raise FundingStopInForce(
                "Der automatische Fördermittelstopp kann nicht aufgehoben werden: kein "
                "Haushaltsjahr des Aufrufs hat noch die Mindestzuwendung von "
                f"{budget.format_euros(threshold)} verfügbar. Er endet von selbst, sobald "
                "wieder Mittel verfügbar sind (z. B. durch eine Budgeterhöhung).",
                "The automatic funding stop cannot be lifted: no budget year of the call has "
                f"the minimum grant of {money(threshold, 'en')} left. It ends by itself as "
                "soon as money is available again (e.g. after a budget increase).",
                stop_kind=StopKind.automatic.value,
                stop_since=call.stop_since.isoformat() if call.stop_since else None)
        before = _stop_of(call)
        funding_stop.keep_automatic(session, call)
        calls_admin.record_change(session, actor, ActionName.lift_funding_stop, "call",
                                  call.code, {"funding_stop": before},
                                  {"funding_stop": _stop_of(call)}, now)
        return call
    since, before = call.stop_since, _stop_of(call)
    funding_stop.clear_stop(session, call)
    _after_money_change(session, call, now)
    if not call.stop_kind:
        funding_stop.announce_lifted(session, call, session.get(Programme, call.programme_id),
                                     since or now)
    calls_admin.record_change(session, actor, ActionName.lift_funding_stop, "call", call.code,
                              {"funding_stop": before}, {"funding_stop": _stop_of(call)}, now)
    return call


def change_budget(
    session: Session, call: Call, year: int, source: str, delta_cents: int, actor: Actor,
    note: str, now: datetime | None = None,
) -> None:
    """Increase or cut one budget line; re-evaluates the stop and the waiting list."""
    now = now or datetime.now(UTC)
    _allowed(ActionName.change_budget, actor, "Nur die Programmverwaltung ändert Budgets.",
             "Only programme administration changes budgets.")
    call = budget.lock_call(session, call.id)
    line = next((ln for ln in budget.budget_lines(session, call.id)
                 if ln.year == year and ln.source == source), None)
    if line is None:
        raise NotFound(f"Keine Budgetzeile {year}/{source}.", f"No budget line {year}/{source}.")
    budget.change_budget(session, line, delta_cents, now, actor.id, note)
    _after_money_change(session, call, now)
