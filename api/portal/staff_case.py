"""The staff case view (/pruefung/antraege/{reference}): everything about one application on one
page (data, finance plan, case file, history, deadlines with reminders and grace periods, case
officer with take and assign) and the actions possible now, their forms generated from the
transition table (api.portal.staff_actions). Firing goes through `engine.fire` as the API's
`POST /applications/{reference}/transitions/{trigger}` does, with the version the page showed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal import case_view, payments_pages
from api.portal import staff_actions as actions
from api.portal import staff_view as view
from api.portal.base import (
    FormDep,
    StaffDep,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.i18n import _, request_language
from states import TRANSITIONS_BY_TRIGGER
from states.staff import STAFF_ACTIONS, StaffActionName
from workflow import assessment, assignment, engine, finance_plan
from workflow.errors import InvalidInput, StaleVersion, UnknownTrigger, WorkflowError
from workflow.models import Application, Programme
from workflow.presenters import finance_plan_out
from workflow.rows import Actor

router = portal_router()
TAKE = STAFF_ACTIONS[StaffActionName.take_case]
ASSIGN = STAFF_ACTIONS[StaffActionName.assign_case]
STALE = ("Der Antrag wurde inzwischen von jemand anderem geändert. Die Seite zeigt jetzt den "
         "neuen Stand; bitte prüfen Sie ihn und handeln Sie dann noch einmal.")


def staff_case_url(reference: str) -> str:
    return f"/pruefung/antraege/{reference}"


def _version(form: Any) -> int | None:
    raw = form.get("version")
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else None


def _cents(euros: str | None) -> int:
    return int(Decimal(euros or "0") * 100)


def _plan(session: SessionDep, app: Application, call: Any,
          lang: str) -> dict[str, dict[str, Any]] | None:
    """The finance plan per year with the programme's heading labels, in cents."""
    plan = finance_plan_out(session, app.id)
    if plan is None:
        return None
    programme = session.get(Programme, call.programme_id) if call else None
    labels = {h.code: h.label(lang) for h in finance_plan.headings(
        programme.config if programme else None)}
    return {year: {"expenses": [(labels.get(code, code), _cents(v))
                                for code, v in p["expenses"].items()],
                   **{k: _cents(p[k]) for k in ("total_expenses", "own", "third_party",
                                                 "grant", "difference")}}
            for year, p in plan.items()}


def render_case(request: Request, session: SessionDep, app: Application, actor: Actor, *,
                errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                notice: str | None = None, status_code: int = 200) -> Response:
    lang = request_language(request)
    call, module = case_view.call_and_module(session, app)
    current = assessment.latest(session, app.id)
    forms = actions.action_forms(session, app, actor, lang)
    for form in forms:
        form.errors = {k: v for k, v in (errors or {}).items()
                       if k.startswith(form.trigger + "__")}
    return page(request, "portal/staff/case.html", {
        "app": app, "call": call, "module": module,
        "years": case_view.years_of(session, app), "plan": _plan(session, app, call, lang),
        "documents": case_view.documents_of(session, app, lang),
        "history": view.history(request, session, app),
        "deadlines": view.deadlines_with_reminders(request, session, app),
        "officer": view.officer_name(session, app), "reviewers": view.reviewer_names(session, app),
        "may_take": TAKE.allows(actor.role) and app.case_officer_id is None
        and app.state in {s.value for s in TAKE.in_states},
        "officers": view.officer_choices(session, actor)
        if app.state in {s.value for s in ASSIGN.in_states} else None,
        "take_label": TAKE.label.in_language(lang), "assign_label": ASSIGN.label.in_language(lang),
        "actions": forms, "assessment": current, "suggested": {
            int(y): view.amount_text(c) for y, c in (current.amounts_cents or {}).items()}
        if current else {}, "field_name": actions.field_name,
        "may_assess": assessment.RECORD.allows(actor.role),
        "money": payments_pages.staff_money_section(session, app, lang),
        "errors": errors or {}, "values": values or {}, "notice": notice},
        status_code=status_code)


@router.get("/pruefung/antraege/{reference}")
def staff_case(reference: str, request: Request, session: SessionDep,
               actor: StaffDep) -> Response:
    app = view.staff_application(session, reference, actor)
    return render_case(request, session, app, actor)


def _refusal_page(request: Request, session: SessionDep, reference: str, actor: Actor,
                  error: WorkflowError, errors: dict[str, str],
                  values: dict[str, str]) -> Response:
    refused(session)
    app = view.staff_application(session, reference, actor)
    if isinstance(error, StaleVersion):
        return render_case(request, session, app, actor, notice=_(request, STALE),
                           status_code=409)
    return render_case(request, session, app, actor, errors=errors, values=values,
                       status_code=error.status)


@router.post("/pruefung/antraege/{reference}/uebernehmen")
def take(reference: str, request: Request, session: SessionDep, actor: StaffDep,
         form: FormDep) -> Response:
    lang = request_language(request)
    try:
        record = assignment.take_case(session, reference, actor,
                                      expected_version=_version(form))
    except WorkflowError as error:
        return _refusal_page(request, session, reference, actor, error,
                             {"fall": error.message(lang)}, {})
    app = session.get(Application, record.application_id)
    return redirect(request, staff_case_url(app.reference or reference),
                    flash=_(request, "Sie sind jetzt Sachbearbeiterin oder Sachbearbeiter "
                                     "dieses Antrags."))


@router.post("/pruefung/antraege/{reference}/zuweisen")
def assign(reference: str, request: Request, session: SessionDep, actor: StaffDep,
           form: FormDep) -> Response:
    lang = request_language(request)
    raw = str(form.get("bearbeitung") or "")
    try:
        app = view.staff_application(session, reference, actor)
        if app.version != _version(form):
            raise StaleVersion(STALE, STALE)
        officer = int(raw) if raw.isdigit() and len(raw) < 10 else None
        if raw and officer is None:
            raise InvalidInput("Bitte eine Person aus der Liste wählen.",
                               "Please choose a person from the list.", field="bearbeitung")
        assignment.assign_cases(session, [app.reference or reference], officer, actor,
                                reason=str(form.get("grund") or "") or None)
    except WorkflowError as error:
        return _refusal_page(request, session, reference, actor, error,
                             {"bearbeitung": error.message(lang)}, form_values(form))
    return redirect(request, staff_case_url(reference),
                    flash=_(request, "Die Zuweisung ist gespeichert."))


@router.post("/pruefung/antraege/{reference}/aktionen/{trigger}")
def fire_action(reference: str, trigger: str, request: Request, session: SessionDep,
                actor: StaffDep, form: FormDep) -> Response:
    """One transition, as the API fires it: the page's version must still hold."""
    lang = request_language(request)
    spec = TRANSITIONS_BY_TRIGGER.get(trigger)
    try:
        view.staff_application(session, reference, actor)
        if spec is None:
            raise UnknownTrigger(f"Unbekannte Aktion „{trigger[:40]}“.",
                                 f"Unknown action '{trigger[:40]}'.")
        reason, payload = actions.payload_from(form, spec)
        engine.fire(session, reference, trigger, actor, reason=reason, payload=payload,
                    expected_version=_version(form))
    except WorkflowError as error:
        errors = actions.errors_for(trigger, error, lang, spec) if spec else {
            "": error.message(lang)}
        return _refusal_page(request, session, reference, actor, error, errors,
                             form_values(form))
    label = spec.label.in_language(lang)
    return redirect(request, staff_case_url(reference),
                    flash=_(request, "Erledigt: %(action)s.", action=label))


@router.get("/pruefung/antraege/{reference}/dokumente/{document_id}")
def staff_download(reference: str, document_id: str, request: Request, session: SessionDep,
                   actor: StaffDep) -> Response:
    """One document of the case file for staff, streamed."""
    return case_view.document_download(request, session,
                                       view.staff_application(session, reference, actor),
                                       document_id)
