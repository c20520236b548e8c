"""The public status of calls: budget years, money available, funding stop, submission window."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from sqlmodel import Session, select

from api.deps import ActorDep, SessionDep
from api.schemas import CallOut, euros
from workflow import budget
from workflow.errors import NotFound
from workflow.models import Call, Programme

router = APIRouter(prefix="/api/v1", tags=["calls"])


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def find_call(session: Session, code: str) -> Call:
    call = session.exec(select(Call).where(Call.code == code)
                        .execution_options(populate_existing=True)).first()
    if call is None:
        raise NotFound(f"Förderaufruf {code} wurde nicht gefunden.", f"Call {code} was not found.")
    return call


def call_status(session: Session, call: Call, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    programme = session.get(Programme, call.programme_id)
    opens, closes = _aware(call.opens_at), _aware(call.closes_at)
    return {
        "code": call.code, "title": call.title, "programme": programme.name if programme else "",
        "policy": call.policy, "min_grant": euros(call.min_grant_cents),
        "earliest_project_start": call.earliest_project_start,
        "min_project_months": call.min_project_months,
        "submission_window": {"opens_at": opens, "closes_at": closes,
                              "open_now": opens <= now <= closes},
        "funding_stop": {"in_force": bool(call.stop_kind), "kind": call.stop_kind,
                         "since": call.stop_since, "reason": call.stop_reason},
        "years": [{"year": y.year, "budget": euros(y.budget_cents),
                   "committed": euros(y.committed_cents), "available": euros(y.available_cents),
                   "available_cents": y.available_cents}
                  for y in budget.years(session, call.id).values()],
    }


@router.get("/calls", response_model=list[CallOut], summary="All calls with their public status")
def list_calls(session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    calls = session.exec(select(Call).order_by(Call.id)).all()
    return [call_status(session, c) for c in calls]


@router.get("/calls/{code}", response_model=CallOut, summary="One call's public status")
def get_call(code: str, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return call_status(session, find_call(session, code))
