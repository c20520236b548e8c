"""Interim reports (Zwischennachweise) over HTTP, and the reminders recorded for an application."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from api.deps import CaseReaderDep, SessionDep, UnitOfWorkRoute, WriterDep
from api.schemas import (
    InterimChangesRequest,
    InterimReportOut,
    InterimReportReview,
    InterimReportSubmit,
    ReminderOut,
)
from workflow import queries, reports
from workflow.presenters import reminder_out, report_out

router = APIRouter(prefix="/api/v1/applications/{reference}", tags=["interim reports"],
                   route_class=UnitOfWorkRoute)


@router.get("/interim-reports", response_model=list[InterimReportOut],
            summary="Interim reports of one application")
def list_interim_reports(reference: str, session: SessionDep,
                         actor: CaseReaderDep) -> list[dict[str, Any]]:
    return [report_out(r) for r in queries.interim_reports_of(session, reference, actor)]


@router.post("/interim-reports", status_code=201, response_model=InterimReportOut,
             summary="Submit an interim report (carrier; meets its deadline)")
def submit_interim_report(reference: str, body: InterimReportSubmit, session: SessionDep,
                          actor: WriterDep) -> dict[str, Any]:
    report = reports.submit_interim_report(session, reference, actor, narrative=body.narrative,
                                           spending=body.spending, period=body.period,
                                           document_ids=body.document_ids)
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
def list_reminders(reference: str, session: SessionDep,
                   actor: CaseReaderDep) -> list[dict[str, Any]]:
    return [reminder_out(r) for r in queries.reminders_of(session, reference, actor)]
