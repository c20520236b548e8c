"""The public start page: every call with its status (window, funding stop since when)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal.base import MaybeUserDep, page, portal_router
from workflow import queries
from workflow.presenters import public_call_status

router = portal_router()


@router.get("/")
def start(request: Request, session: SessionDep, user: MaybeUserDep) -> Response:
    calls = [public_call_status(session, call) for call in queries.calls(session)]
    return page(request, "portal/start.html", {"calls": calls})
