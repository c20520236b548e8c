"""The funding stop of a call: declared by an admin, or automatic when no budget year has the
call's minimum grant left; re-evaluated whenever the call's money changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session

from states import FUNDING_STOP_LIFTED_NOTICE, FUNDING_STOP_NOTICE, StopKind
from workflow import budget, notices, repository, waitlist
from workflow.models import Call, Programme
from workflow.repository import connection
from workflow.rows import BudgetLineRow, CallRow, ProgrammeRow

AUTOMATIC_REASON = "Die Mittel aller Haushaltsjahre sind vollständig gebunden."


@dataclass
class Reevaluation:
    """What follows from a change of the call's money: applications to offer again (in order of
    receipt), and the moment an automatic stop began if it has just lifted."""

    offer_again: list[int] = field(default_factory=list)
    lifted_since: datetime | None = None


def _write_stop(session: Session, call: CallRow | Call, kind: StopKind | None,
                since: datetime | None, reason: str | None) -> None:
    repository.set_stop(connection(session), call.id, kind, since, reason)
    stop_kind = kind.value if kind else None
    if isinstance(call, CallRow):
        call.stop_kind, call.stop_since, call.stop_reason = stop_kind, since, reason
    repository.sync(session, Call, call.id,
                    {"stop_kind": stop_kind, "stop_since": since, "stop_reason": reason})


def set_stop(session: Session, call: CallRow | Call, programme: ProgrammeRow | Programme,
             kind: StopKind, reason: str, now: datetime) -> None:
    """A stop of `kind` is in force from now (or since it already was); the carriers with drafts
    hear of a new stop once."""
    already = bool(call.stop_kind)
    _write_stop(session, call, kind, call.stop_since if already else now, reason)
    since = call.stop_since or now
    if not already:
        notices.tell_carriers(session, call, programme, FUNDING_STOP_NOTICE, since, {
            "stop_since": since.isoformat(), "stop_reason": call.stop_reason or ""})


def keep_automatic(session: Session, call: CallRow | Call) -> None:
    """A declared stop lifted while money is short: the automatic stop holds on, since the
    same moment (the stop never ended, so nobody is told again)."""
    _write_stop(session, call, StopKind.automatic, call.stop_since, AUTOMATIC_REASON)


def clear_stop(session: Session, call: CallRow | Call) -> None:
    _write_stop(session, call, None, None, None)


def announce_lifted(session: Session, call: CallRow | Call, programme: ProgrammeRow | Programme,
                    since: datetime) -> None:
    """Carriers still waiting or holding a draft hear once that the stop lifted."""
    notices.tell_carriers(session, call, programme, FUNDING_STOP_LIFTED_NOTICE, since, {})


def needs_reevaluation(session: Session, call: CallRow, lines: list[BudgetLineRow] | None,
                       money_returned: bool) -> bool:
    """Whether a firing that moved money can change the stop or the waiting list at all (the
    call was read under its lock, the lines after the change)."""
    if call.stop_kind == StopKind.declared:
        return False
    if call.stop_kind or budget.automatic_stop_due(session, call, lines):
        return True
    # Money only taken: nobody waiting fits now who did not fit before.
    return money_returned and waitlist.anyone_waiting(session, call.id)


def reevaluate(session: Session, call: CallRow | Call, programme: ProgrammeRow | Programme,
               now: datetime, money_returned: bool = True,
               lines: list[BudgetLineRow] | None = None) -> Reevaluation:
    """After the call's money changed: set or lift the automatic stop, and say who on the
    waiting list fits now. `call` must be current and locked."""
    if call.stop_kind == StopKind.declared:
        return Reevaluation()
    if budget.automatic_stop_due(session, call, lines):
        if not call.stop_kind:
            set_stop(session, call, programme, StopKind.automatic, AUTOMATIC_REASON, now)
        return Reevaluation()
    if not money_returned and not call.stop_kind:
        return Reevaluation()
    lifted_since = None
    if call.stop_kind == StopKind.automatic:
        lifted_since = call.stop_since or now
        clear_stop(session, call)
    return Reevaluation(waitlist.who_fits(session, call.id), lifted_since)
