"""Interim reports (Zwischennachweise) over HTTP, and the reminders recorded for an application."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from api.deps import ActorDep, SessionDep, WriterDep
from api.schemas import Amounts, Strict
from workflow import applications, reminders, reports
from workflow.presenters import reminder_out, report_out

router = APIRouter(prefix="/api/v1/applications/{reference}", tags=["interim reports"])


class InterimReportSubmit(Strict):
    period: str | None = Field(default=None, description="Budget year; default: the next open one")
    narrative: str = Field(max_length=reports.MAX_NARRATIVE)
    spending: Amounts = Field(description='Spending to date per budget year {"2021": "38500.00"}')


class InterimReportReview(Strict):
    note: str | None = Field(default=None, max_length=5000)


class InterimChangesRequest(Strict):
    reason: str = Field(max_length=5000)
    deadline: date | None = Field(default=None, description="Default: 14 days (programme rule)")


class InterimReportOut(BaseModel):
    id: int
    period: str
    status: str
    narrative: str
    spending: dict[str, str | None]
    late: bool
    submitted_at: datetime
    reviewed_at: datetime | None
    review_note: str | None


class ReminderOut(BaseModel):
    deadline_id: int
    due_date: date
    step: str
    status: str
    scheduled_on: date
    at: datetime
    recipient: str | None
    grace_until: date | None


@router.get("/interim-reports", response_model=list[InterimReportOut],
            summary="Interim reports of one application")
def list_interim_reports(reference: str, session: SessionDep,
                         actor: ActorDep) -> list[dict[str, Any]]:
    app = applications.load_application(session, reference, actor)
    return [report_out(r) for r in reports.interim_reports(session, app)]


@router.post("/interim-reports", status_code=201, response_model=InterimReportOut,
             summary="Submit an interim report (carrier; meets its deadline)")
def submit_interim_report(reference: str, body: InterimReportSubmit, session: SessionDep,
                          actor: WriterDep) -> dict[str, Any]:
    report = reports.submit_interim_report(session, reference, actor, narrative=body.narrative,
                                           spending=body.spending, period=body.period)
    return report_out(report)


@router.post("/interim-reports/{period}/accept", response_model=InterimReportOut,
             summary="Accept a submitted interim report (reviewer)")
def accept_interim_report(reference: str, period: str, session: SessionDep, actor: WriterDep,
                          body: Annotated[InterimReportReview | None, Body()] = None
                          ) -> dict[str, Any]:
    report = reports.accept_interim_report(session, reference, actor, period=period,
                                           note=body.note if body else None)
    return report_out(report)


@router.post("/interim-reports/{period}/request-changes", response_model=InterimReportOut,
             summary="Ask for changes (reviewer; re-opens the deadline)")
def request_interim_changes(reference: str, period: str, body: InterimChangesRequest,
                            session: SessionDep, actor: WriterDep) -> dict[str, Any]:
    report = reports.request_interim_changes(session, reference, actor, reason=body.reason,
                                             period=period, deadline=body.deadline)
    return report_out(report)


@router.get("/reminders", response_model=list[ReminderOut],
            summary="Every reminder step recorded (sent or skipped), with time and grace period")
def list_reminders(reference: str, session: SessionDep, actor: ActorDep) -> list[dict[str, Any]]:
    app = applications.load_application(session, reference, actor)
    return [reminder_out(r) for r in reminders.reminders_of(session, app.id)]
