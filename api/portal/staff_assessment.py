"""The Prüfvermerk form (/pruefung/antraege/{reference}/pruefvermerk): per criterion of the call a
rating and a note, a summary and the recommended amounts per budget year; every save is a new
version (workflow.assessment), what is still missing is listed; and a printable view. Staff
only: the carrier's pages never show it."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal import case_view
from api.portal import staff_view as view
from api.portal.base import FormDep, StaffDep, form_values, page, portal_router, redirect, refused
from api.portal.i18n import _, request_language
from workflow import assessment
from workflow.errors import WorkflowError
from workflow.models import User
from workflow.rows import Actor

router = portal_router()


def _url(reference: str) -> str:
    return f"/pruefung/antraege/{reference}/pruefvermerk"


def _context(request: Request, session: SessionDep, reference: str,
             actor: Actor) -> dict[str, Any]:
    lang = request_language(request)
    app, call, current, count = assessment.assessment_of(session, reference, actor)
    criteria = assessment.criteria_of(call)
    scale = assessment.scale_of(call)
    ratings = current.ratings if current else {}
    amounts = current.amounts_cents if current else {}
    summary = current.summary if current else ""
    years = case_view.years_of(session, app)
    missing = assessment.missing_parts(ratings, summary, amounts, criteria,
                                       [y.year for y in years])
    author = session.get(User, current.author_id) if current and current.author_id else None
    values = {"zusammenfassung": summary}
    for c in criteria:
        entry = ratings.get(c.code) or {}
        values[f"bewertung__{c.code}"] = entry.get("rating") or ""
        values[f"notiz__{c.code}"] = entry.get("note") or ""
    for y in years:
        if str(y.year) in amounts:
            values[f"betrag__{y.year}"] = view.amount_text(int(amounts[str(y.year)]))
    labels = {s.code: s.label.in_language(lang) for s in scale}
    return {"app": app, "call": call, "current": current, "count": count,
            "criteria": [(c.code, c.label.in_language(lang)) for c in criteria],
            "scale": [(s.code, s.label.in_language(lang)) for s in scale],
            "rating_labels": labels, "years": years, "values": values,
            "missing": [m.in_language(lang) for m in missing],
            "required": assessment.required(call), "author": author.name if author else None,
            "may_edit": assessment.RECORD.allows(actor.role) and app.state in {
                s.value for s in assessment.RECORD.in_states}}


@router.get("/pruefung/antraege/{reference}/pruefvermerk")
def assessment_form(reference: str, request: Request, session: SessionDep,
                    actor: StaffDep) -> Response:
    view.staff_application(session, reference, actor)
    return page(request, "portal/staff/assessment.html",
                _context(request, session, reference, actor))


@router.get("/pruefung/antraege/{reference}/pruefvermerk/druck")
def assessment_print(reference: str, request: Request, session: SessionDep,
                     actor: StaffDep) -> Response:
    view.staff_application(session, reference, actor)
    return page(request, "portal/staff/assessment_print.html",
                _context(request, session, reference, actor))


def _field(error: WorkflowError) -> str:
    """The form field a refusal of workflow.assessment names."""
    name = str(error.extra.get("field") or "")
    parts = name.split(".")
    if parts[0] == "ratings" and len(parts) > 1:
        return ("notiz__" if parts[-1] == "note" else "bewertung__") + parts[1]
    if parts[0] == "amounts" and len(parts) > 1:
        return f"betrag__{parts[1]}"
    if parts[0] == "summary":
        return "zusammenfassung"
    return ""


@router.post("/pruefung/antraege/{reference}/pruefvermerk")
def save_assessment(reference: str, request: Request, session: SessionDep, actor: StaffDep,
                    form: FormDep) -> Response:
    """A new version of the Prüfvermerk, from the version the form showed."""
    view.staff_application(session, reference, actor)
    app, call, _current, _count = assessment.assessment_of(session, reference, actor)
    ratings = {}
    for c in assessment.criteria_of(call):
        rating = str(form.get(f"bewertung__{c.code}") or "") or None
        ratings[c.code] = {"rating": rating, "note": str(form.get(f"notiz__{c.code}") or "")}
    amounts = {str(y.year): str(form.get(f"betrag__{y.year}")).strip()
               for y in case_view.years_of(session, app)
               if str(form.get(f"betrag__{y.year}") or "").strip()}
    raw = str(form.get("version") or "")
    try:
        assessment.record_assessment(
            session, reference, actor, ratings=ratings,
            summary=str(form.get("zusammenfassung") or ""), amounts=amounts or None,
            expected_version=int(raw) if raw.isdigit() and len(raw) < 10 else None)
    except WorkflowError as error:
        refused(session)
        context = _context(request, session, reference, actor)
        context["values"] = form_values(form)
        context["errors"] = {_field(error): error.message(request_language(request))}
        return page(request, "portal/staff/assessment.html", context,
                    status_code=error.status)
    return redirect(request, _url(reference),
                    flash=_(request, "Der Prüfvermerk ist als neue Version gespeichert."))
