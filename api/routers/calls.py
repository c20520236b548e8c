"""The public status of calls: budget years, money available, funding stop, submission window."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ActorDep, SessionDep, UnitOfWorkRoute
from api.schemas import CallOut
from workflow import queries
from workflow.applications import find_call
from workflow.presenters import call_status

router = APIRouter(prefix="/api/v1", tags=["calls"], route_class=UnitOfWorkRoute)


@router.get("/calls", response_model=list[CallOut], summary="All calls with their public status")
def list_calls(session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    return [call_status(session, call) for call in queries.calls(session)]


@router.get("/calls/{code}", response_model=CallOut, summary="One call's public status")
def get_call(code: str, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return call_status(session, find_call(session, code))
