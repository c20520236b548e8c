"""The status of calls: budget years, money available, funding stop, submission window (for
logged-in users); window and funding stop for anyone under /public."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import ActorDep, SessionDep, UnitOfWorkRoute
from api.schemas import CallOut, PublicCallOut
from workflow import queries
from workflow.applications import find_call
from workflow.presenters import call_status, public_call_status

router = APIRouter(prefix="/api/v1", tags=["calls"], route_class=UnitOfWorkRoute)


@router.get("/calls", response_model=list[CallOut], summary="All calls with their public status")
def list_calls(session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    return [call_status(session, call) for call in queries.calls(session)]


@router.get("/calls/{code}", response_model=CallOut, summary="One call's public status")
def get_call(code: str, session: SessionDep, actor: ActorDep) -> dict[str, Any]:
    return call_status(session, find_call(session, code))


@router.get("/public/calls", response_model=list[PublicCallOut], tags=["public"],
            summary="All calls as anyone may see them, without logging in")
def list_public_calls(session: SessionDep) -> list[dict[str, Any]]:
    """Window, funding stop (since when) and the status in German and English; no ids, policy
    or money."""
    return [public_call_status(session, call) for call in queries.calls(session)]


@router.get("/public/calls/{code}", response_model=PublicCallOut, tags=["public"],
            summary="One call's status, without logging in")
def get_public_call(code: str, session: SessionDep) -> dict[str, Any]:
    return public_call_status(session, find_call(session, code))
