"""The public status of calls: budget years, money available, funding stop, submission window."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlmodel import select

from api.deps import ActorDep, SessionDep
from api.schemas import CallOut
from workflow.models import Call
from workflow.presenters import call_status, find_call

router = APIRouter(prefix="/api/v1", tags=["calls"])


@router.get("/calls", response_model=list[CallOut], summary="All calls with their public status")
def list_calls(session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    calls = session.exec(select(Call).order_by(Call.id)).all()
    return [call_status(session, c) for c in calls]


@router.get("/calls/{code}", response_model=CallOut, summary="One call's public status")
def get_call(code: str, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return call_status(session, find_call(session, code))
