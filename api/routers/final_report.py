"""The Verwendungsnachweis over HTTP (issue 16): read it (the carrier its own, staff any), keep
the carrier's draft, import the Belegliste from CSV or XLSX, submit it (the transition
`submit_final_report`), and record staff's check with the final grant. Each handler parses,
makes one workflow call and presents."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Response, UploadFile
from pydantic import BaseModel, Field, StringConstraints

from api.deps import (
    CaseReaderDep,
    IfMatchDep,
    LanguageDep,
    SessionDep,
    UnitOfWorkRoute,
    WriterDep,
    etag,
)
from api.routers.applications import _precondition_failed
from api.schemas import VISIBLE, BudgetYear, FinalReportContent, Money, Strict
from states import SUBMIT_FINAL_REPORT
from workflow import belegliste, engine, final_report, final_report_check, queries
from workflow.errors import StaleVersion
from workflow.presenters import application_out, history_entry

router = APIRouter(prefix="/api/v1", tags=["final report"], route_class=UnitOfWorkRoute)
INVALID = {422: {"description": "Refused with the reasons (problem+json, `field`; for an "
                                "import `rows`: the row numbers and their reasons)"}}


class FinalReportSubmit(FinalReportContent):
    document_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        default=None, max_length=100)


class Rating(Strict):
    rating: Annotated[str, StringConstraints(max_length=50)] | None = None
    note: Annotated[str, StringConstraints(max_length=4000)] | None = None


class Lowered(Strict):
    amount: Money
    reason: Annotated[str, StringConstraints(max_length=2000, pattern=VISIBLE)]


class FinalReportCheckIn(Strict):
    ratings: dict[Annotated[str, StringConstraints(max_length=50)], Rating] = Field(
        max_length=20, description="Per criterion (sachbericht, finanzplan, belegliste, "
        "zweck): a rating of the scale (erfuellt, teilweise, nicht_erfuellt) and a note")
    summary: Annotated[str, StringConstraints(max_length=20_000)]
    lowered: dict[BudgetYear, Lowered] | None = Field(
        default=None, max_length=10, description="A final grant below the computed one, "
        "per year, with the reason (ineligible expenses)")


class FinalReportOut(BaseModel):
    reference: str | None
    state: str
    version: int | None
    status: str
    submitted_at: str | None
    sachbericht: str
    headings: list[dict[str, Any]]
    years: list[dict[str, Any]]
    belege: list[dict[str, Any]]
    problems: list[dict[str, Any]]
    check: dict[str, Any] | None


class ImportResult(BaseModel):
    entries: list[dict[str, Any]]
    totals: dict[str, dict[str, str]]
    filed: bool
    report: FinalReportOut | None = None


def _content(body: FinalReportContent) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_none=True,
                           include={"sachbericht", "nachweis", "belege"})


@router.get("/applications/{reference}/final-report", response_model=FinalReportOut,
            summary="The Verwendungsnachweis beside the approved plan (carrier: its own; staff)")
def read_final_report(reference: str, session: SessionDep, actor: CaseReaderDep,
                      lang: LanguageDep) -> dict[str, Any]:
    return final_report.view(session, reference, actor, lang)


@router.put("/applications/{reference}/final-report", response_model=FinalReportOut,
            summary="Keep the carrier's draft of the Verwendungsnachweis (may be incomplete)",
            responses=INVALID)
def save_final_report(reference: str, body: FinalReportContent, session: SessionDep,
                      actor: WriterDep, lang: LanguageDep) -> dict[str, Any]:
    final_report.save_draft(session, reference, actor, _content(body))
    return final_report.view(session, reference, actor, lang)


@router.post("/applications/{reference}/final-report/submit",
             summary="Submit the Verwendungsnachweis (the body's, else the saved draft): the "
                     "transition submit_final_report", responses=INVALID)
def submit_final_report(reference: str, response: Response, session: SessionDep,
                        actor: WriterDep, lang: LanguageDep, expected: IfMatchDep,
                        body: FinalReportSubmit | None = None) -> dict[str, Any]:
    payload = _content(body) if body else {}
    if body and body.document_ids:
        payload["document_ids"] = body.document_ids
    try:
        record = engine.fire(session, reference, SUBMIT_FINAL_REPORT, actor,
                             reason="Verwendungsnachweis", payload=payload,
                             expected_version=expected)
    except StaleVersion as error:
        if expected is None:
            raise
        raise _precondition_failed(error, expected) from None
    application = application_out(session, record.application_id, lang)
    response.headers["ETag"] = etag(application["version"])
    return {"transition": history_entry(record, queries.actor_name(session, record.actor_id,
                                                                   actor)),
            "application": application,
            "final_report": final_report.view(session, reference, actor, lang)}


@router.post("/applications/{reference}/final-report/belegliste", response_model=ImportResult,
             summary="Import the Belegliste from CSV (German Excel: ';', 1.234,56, 31.12.2026) "
                     "or XLSX; with file_into_draft the draft's Belegliste is replaced and its "
                     "expenses set from the sums", responses=INVALID)
async def import_belegliste(reference: str, session: SessionDep, actor: WriterDep,
                            lang: LanguageDep, file: Annotated[UploadFile, File()],
                            file_into_draft: Annotated[bool, Form()] = False) -> dict[str, Any]:
    data = await file.read(belegliste.MAX_BYTES + 1)
    app = final_report.editable(session, reference, actor)
    entries = belegliste.parse_file(data, final_report.frame_of(session, app))
    report = None
    if file_into_draft:
        final_report.file_belege(session, reference, actor, entries)
        report = final_report.view(session, reference, actor, lang)
    return {"entries": [{**b.as_dict(), "amount": f"{b.amount_cents // 100}."
                                                  f"{b.amount_cents % 100:02d}"}
                        for b in entries],
            "totals": {str(y): {h: f"{c // 100}.{c % 100:02d}" for h, c in by.items()}
                       for y, by in belegliste.totals(entries).items()},
            "filed": file_into_draft, "report": report}


@router.post("/applications/{reference}/final-report/check", response_model=FinalReportOut,
             summary="Record staff's check of the submitted Verwendungsnachweis and fix the "
                     "final grant per year (reviewer or approver)", responses=INVALID)
def check_final_report(reference: str, body: FinalReportCheckIn, session: SessionDep,
                       actor: WriterDep, lang: LanguageDep) -> dict[str, Any]:
    lowered = ({y: v.model_dump(mode="json") for y, v in body.lowered.items()}
               if body.lowered else None)
    final_report_check.check_final_report(
        session, reference, actor, summary=body.summary, lowered=lowered,
        ratings={k: v.model_dump(exclude_none=True) for k, v in body.ratings.items()})
    return final_report.view(session, reference, actor, lang)



