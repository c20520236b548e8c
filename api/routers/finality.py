"""Finality of the approval notice (issue 16): the carrier's waiver of appeal and the date of
notification staff record. Each handler parses, makes one workflow call and presents."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from api.deps import IfMatchDep, LanguageDep, SessionDep, UnitOfWorkRoute, WriterDep, etag
from api.routers.applications import _precondition_failed
from api.schemas import ApplicationOut, HistoryEntry, Reason, Strict
from workflow import finality, queries
from workflow.errors import StaleVersion
from workflow.presenters import application_out, history_entry

router = APIRouter(prefix="/api/v1", tags=["payments"], route_class=UnitOfWorkRoute)


class NotificationDateRequest(Strict):
    notified_on: date
    reason: Reason


class FinalityResult(BaseModel):
    transition: HistoryEntry
    application: ApplicationOut


def _result(session: SessionDep, record: Any, actor: Any, lang: str,
            response: Response) -> dict[str, Any]:
    application = application_out(session, record.application_id, lang)
    response.headers["ETag"] = etag(application["version"])
    return {"transition": history_entry(record, queries.actor_name(session, record.actor_id,
                                                                   actor)),
            "application": application}


@router.post("/applications/{reference}/waiver-of-appeal", response_model=FinalityResult,
             summary="Waive the right of appeal (Rechtsbehelfsverzicht; carrier): the approval "
                     "notice is final at once",
             responses={200: {"headers": {"ETag": {}}}})
def waive_appeal(reference: str, response: Response, session: SessionDep, actor: WriterDep,
                 lang: LanguageDep, expected: IfMatchDep) -> dict[str, Any]:
    try:
        record = finality.waive_appeal(session, reference, actor, expected_version=expected)
    except StaleVersion as error:
        if expected is None:
            raise
        raise _precondition_failed(error, expected) from None
    return _result(session, record, actor, lang, response)


@router.put("/applications/{reference}/notification-date", response_model=FinalityResult,
            summary="Set the approval notice's date of notification (Bekanntgabe; reviewer or "
                    "approver); the one-month appeal period runs from it",
            responses={200: {"headers": {"ETag": {}}}})
def set_notification_date(reference: str, body: NotificationDateRequest, response: Response,
                          session: SessionDep, actor: WriterDep, lang: LanguageDep,
                          expected: IfMatchDep) -> dict[str, Any]:
    try:
        record = finality.set_notification_date(session, reference, actor,
                                                notified_on=body.notified_on,
                                                reason=body.reason, expected_version=expected)
    except StaleVersion as error:
        if expected is None:
            raise
        raise _precondition_failed(error, expected) from None
    return _result(session, record, actor, lang, response)
