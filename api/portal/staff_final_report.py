"""Staff's page of the Verwendungsnachweis (/pruefung/antraege/{reference}/verwendungsnachweis):
the Nachweis beside the approved plan with the differences, the financing received, the
Belegliste, and the check form (a rating and note per criterion, a summary, the final grant
the Finanzierungsart gives and a lower one with a reason). The check is
workflow.final_report_check; the page decides nothing itself."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal import staff_view as view
from api.portal.base import FormDep, StaffDep, form_values, page, portal_router, redirect, refused
from api.portal.i18n import _, request_language
from workflow import final_report, final_report_check
from workflow.errors import WorkflowError
from workflow.rows import Actor

router = portal_router()


def _url(reference: str) -> str:
    return f"/pruefung/antraege/{reference}/verwendungsnachweis"


def _context(request: Request, session: SessionDep, reference: str,
             actor: Actor) -> dict[str, Any]:
    lang = request_language(request)
    app = view.staff_application(session, reference, actor)
    report = final_report.view(session, reference, actor, lang)
    values: dict[str, str] = {}
    check = report["check"]
    if check:
        values["zusammenfassung"] = check.get("summary", "")
        for code, entry in (check.get("ratings") or {}).items():
            values[f"bewertung__{code}"] = entry.get("rating") or ""
            values[f"notiz__{code}"] = entry.get("note") or ""
    return {"app": app, "report": report, "values": values, "errors": {},
            "criteria": [(c.code, c.label.in_language(lang))
                         for c in final_report_check.CRITERIA],
            "scale": [(s.code, s.label.in_language(lang)) for s in final_report_check.SCALE],
            "may_check": final_report_check.CHECK.allows(actor.role) and app.state in {
                s.value for s in final_report_check.CHECK.in_states}}


def _field(error: WorkflowError) -> str:
    parts = str(error.extra.get("field") or "").split(".")
    if parts[0] == "ratings" and len(parts) > 1:
        return ("notiz__" if parts[-1] == "note" else "bewertung__") + parts[1]
    if parts[0] == "lowered" and len(parts) > 2:
        return f"{'grund' if parts[2] == 'reason' else 'zuwendung'}__{parts[1]}"
    if parts[0] == "summary":
        return "zusammenfassung"
    return ""


@router.get("/pruefung/antraege/{reference}/verwendungsnachweis")
def final_report_page(reference: str, request: Request, session: SessionDep,
                      actor: StaffDep) -> Response:
    return page(request, "portal/staff/final_report.html",
                _context(request, session, reference, actor))


@router.post("/pruefung/antraege/{reference}/verwendungsnachweis")
def check_final_report(reference: str, request: Request, session: SessionDep, actor: StaffDep,
                       form: FormDep) -> Response:
    context = _context(request, session, reference, actor)
    ratings = {code: {"rating": str(form.get(f"bewertung__{code}") or "") or None,
                      "note": str(form.get(f"notiz__{code}") or "")}
               for code, _label in context["criteria"]}
    lowered = {}
    for y in context["report"]["years"]:
        amount = str(form.get(f"zuwendung__{y['year']}") or "").strip()
        if amount:
            lowered[str(y["year"])] = {"amount": amount,
                                       "reason": str(form.get(f"grund__{y['year']}") or "")}
    try:
        final_report_check.check_final_report(
            session, reference, actor, ratings=ratings, lowered=lowered or None,
            summary=str(form.get("zusammenfassung") or ""))
    except WorkflowError as error:
        refused(session)
        context = _context(request, session, reference, actor)
        context["values"] = form_values(form)
        context["errors"] = {_field(error): error.message(request_language(request))}
        return page(request, "portal/staff/final_report.html", context,
                    status_code=error.status)
    return redirect(request, f"/pruefung/antraege/{reference}",
                    flash=_(request, "Die Prüfung des Verwendungsnachweises ist erfasst; die "
                                     "Zuwendung ist festgesetzt."))
