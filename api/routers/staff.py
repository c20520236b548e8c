"""Staff work (issue 15): take and assign cases, the Prüfvermerk, the observer's aggregates and
the exports of the worklist and the ledger. Thin: parse, one workflow call, present."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from api.deps import (
    ActorDep,
    AdminDep,
    CaseReaderDep,
    IfMatchDep,
    LanguageDep,
    SessionDep,
    UnitOfWorkRoute,
    WriterDep,
    etag,
)
from api.routers.applications import WorklistQueryDep
from api.schemas import NO_NUL, ApplicationOut
from api.schemas_staff import (
    AggregatesOut,
    AssessmentIn,
    AssessmentOut,
    AssignmentRequest,
    AssignmentResult,
    CriteriaIn,
)
from states.staff import AggregateDimension
from workflow import aggregates, assessment, assignment, exports
from workflow.access import refuse_observer
from workflow.presenters import application_out, euros, history_entry

router = APIRouter(prefix="/api/v1", tags=["staff"], route_class=UnitOfWorkRoute)


@router.post("/applications/{reference}/take", response_model=ApplicationOut,
             summary="Take an unassigned case: I become its case officer",
             responses={200: {"headers": {"ETag": {}}}})
def take_case(reference: str, response: Response, session: SessionDep, actor: WriterDep,
              lang: LanguageDep, expected: IfMatchDep) -> dict[str, Any]:
    record = assignment.take_case(session, reference, actor, expected_version=expected)
    out = application_out(session, record.application_id, lang)
    response.headers["ETag"] = etag(out["version"])
    return out


@router.post("/assignments", response_model=AssignmentResult,
             summary="Assign or reassign cases, one or many (admin or lead reviewer)",
             responses={404: {"description": "A reference or the case officer does not exist"},
                        409: {"description": "A case is in a state that takes no officer"}})
def assign_cases(body: AssignmentRequest, session: SessionDep,
                 actor: WriterDep) -> dict[str, Any]:
    records = assignment.assign_cases(session, body.references, body.case_officer_id, actor,
                                      reason=body.reason)
    return {"changed": [history_entry(r, actor.name) for r in records]}


def _assessment_out(session, reference: str, actor, lang: str) -> dict[str, Any]:
    app, call, current, count = assessment.assessment_of(session, reference, actor)
    criteria = assessment.criteria_of(call)
    scale = assessment.scale_of(call)
    labels = {s.code: s.label.in_language(lang) for s in scale}
    ratings = current.ratings if current else {}
    amounts = current.amounts_cents if current else {}
    summary = current.summary if current else ""
    years = sorted(assessment.years_of(session, app.id))
    missing = assessment.missing_parts(ratings, summary, amounts, criteria, years)
    return {
        "reference": app.reference, "required": assessment.required(call),
        "version": current.version if current else 0, "versions": count,
        "complete": not missing, "missing": [
            m.in_language(lang) for m in missing],
        "author_id": current.author_id if current else None,
        "at": current.at if current else None,
        "criteria": [{"code": c.code, "label": c.label.in_language(lang),
                      "rating": (ratings.get(c.code) or {}).get("rating"),
                      "rating_label": labels.get((ratings.get(c.code) or {}).get("rating")),
                      "note": (ratings.get(c.code) or {}).get("note", "")} for c in criteria],
        "scale": [{"code": s.code, "value": s.value, "label": s.label.in_language(lang)}
                  for s in scale],
        "summary": summary, "amounts": {y: euros(c) for y, c in sorted(amounts.items())},
    }


@router.get("/applications/{reference}/assessment", response_model=AssessmentOut,
            summary="The Prüfvermerk (staff and admins only; never the carrier or observer)",
            responses={200: {"headers": {"ETag": {}}}})
def get_assessment(reference: str, response: Response, session: SessionDep,
                   actor: CaseReaderDep, lang: LanguageDep) -> dict[str, Any]:
    out = _assessment_out(session, reference, actor, lang)
    response.headers["ETag"] = etag(out["version"])
    return out


@router.put("/applications/{reference}/assessment", response_model=AssessmentOut,
            summary="Record the Prüfvermerk: a new version (If-Match: the version read)",
            responses={200: {"headers": {"ETag": {}}}})
def put_assessment(reference: str, body: AssessmentIn, response: Response, session: SessionDep,
                   actor: WriterDep, lang: LanguageDep, expected: IfMatchDep) -> dict[str, Any]:
    assessment.may_read(actor)
    assessment.record_assessment(
        session, reference, actor,
        ratings={k: v.model_dump() for k, v in body.ratings.items()}, summary=body.summary,
        amounts=body.amounts, expected_version=expected)
    out = _assessment_out(session, reference, actor, lang)
    response.headers["ETag"] = etag(out["version"])
    return out


@router.put("/admin/calls/{code}/assessment-criteria", response_model=list[dict[str, str]],
            summary="A call's Prüfvermerk criteria (null: no structured assessment)",
            responses={422: {"description": "A criterion's code appears twice"}})
def put_criteria(code: str, body: CriteriaIn, session: SessionDep,
                 actor: AdminDep) -> list[dict[str, str]]:
    criteria = None if body.criteria is None else [c.model_dump() for c in body.criteria]
    call = assessment.set_criteria(session, code, criteria)
    return call.assessment_criteria or []


@router.get("/aggregates", response_model=AggregatesOut,
            summary="Counts and sums by module, municipality or state (no single case)",
            responses={403: {"description": "Carriers see no aggregates"},
                       404: {"description": "No call with this code"}})
def get_aggregates(session: SessionDep, actor: ActorDep, lang: LanguageDep,
                   by: AggregateDimension = AggregateDimension.module,
                   call: Annotated[str | None, Query(max_length=100, pattern=NO_NUL)] = None
                   ) -> dict[str, Any]:
    aggregates.may_read(actor)
    groups = aggregates.aggregates(session, by, call=call, lang=lang)
    return {"by": by.value, "call": call, "groups": [
        {"key": g.key, "label": g.label, "applications": g.applications,
         "requested": euros(g.requested_cents), "approved": euros(g.approved_cents)}
        for g in groups], "total": {
        "applications": sum(g.applications for g in groups),
        "requested": euros(sum(g.requested_cents for g in groups)),
        "approved": euros(sum(g.approved_cents for g in groups))}}


def _file(table: exports.Table, fmt: exports.ExportFormat, name: str) -> Response:
    return Response(exports.render(table, fmt), media_type=exports.MEDIA_TYPES[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt.value}"'})


EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t in exports.MEDIA_TYPES.values()}}}


@router.get("/exports/worklist", response_class=Response, responses=EXPORT_RESPONSES,
            summary="The filtered worklist as CSV or XLSX (the list's filters and sort)")
def export_worklist(session: SessionDep, actor: CaseReaderDep, query: WorklistQueryDep,
                    format: exports.ExportFormat = exports.ExportFormat.xlsx) -> Response:
    refuse_observer(actor)
    table = exports.worklist_table(session, actor, query.filter, sort=query.sort,
                                   descending=query.descending)
    return _file(table, format, "arbeitsliste")


@router.get("/admin/calls/{code}/ledger/export", response_class=Response,
            responses=EXPORT_RESPONSES, summary="A call's ledger as CSV or XLSX")
def export_ledger(code: str, session: SessionDep, actor: AdminDep,
                  format: exports.ExportFormat = exports.ExportFormat.xlsx) -> Response:
    return _file(exports.ledger_table(session, code), format, f"mittelbuch-{code}")
