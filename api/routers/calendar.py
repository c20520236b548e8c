"""The iCalendar feed of a carrier organisation's open deadlines, at a secret URL (no login)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import SessionDep, UnitOfWorkRoute
from workflow import calendar

router = APIRouter(prefix="/api/v1", tags=["calendar"], route_class=UnitOfWorkRoute)


@router.get("/calendar/{token}.ics", summary="Open deadlines of one organisation (iCalendar)",
            response_class=Response,
            responses={200: {"content": {"text/calendar": {}}},
                       404: {"description": "No feed at this address"}})
def organisation_feed(token: str, session: SessionDep) -> Response:
    body = calendar.calendar_for_token(session, token)
    return Response(content=body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="quartier-fristen.ics"'})
