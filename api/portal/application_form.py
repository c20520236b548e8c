"""The application as a step-by-step form: choose the call, the project (with its period), the
Kosten- und Finanzierungsplan, the preview with the engine's verdict, submit, the receipt. Each
step saves the draft; the engine and the drafts module decide every rule."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session, select

from api.deps import SessionDep
from api.portal.base import (
    CarrierDep,
    FormDep,
    form_errors,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.case_view import application_of
from api.portal.i18n import _, request_language
from states import State
from workflow import budget, drafts, engine, finance_plan, queries
from workflow.errors import WorkflowError
from workflow.models import Application, Call, Module, Programme
from workflow.presenters import finance_plan_out, public_call_status
from workflow.rows import Actor

router = portal_router()
# The steps of the form, in order (the path segment of /antraege/{reference}/bearbeiten/{step}).
STEPS = ("projekt", "finanzplan")
PROJECT_FIELDS = ("module_code", "title", "summary", "quartier", "municipality",
                  "project_start", "project_end")


def _draft(session: Session, reference: str, actor: Actor) -> Application:
    return application_of(session, reference, actor)


def _steps(request: Request, current: str) -> list[dict[str, Any]]:
    names = {"projekt": _(request, "Projekt und Zeitraum"),
             "finanzplan": _(request, "Kosten- und Finanzierungsplan"),
             "vorschau": _(request, "Vorschau und Einreichen")}
    return [{"code": code, "name": names[code], "current": code == current}
            for code in (*STEPS, "vorschau")]


def _plan_years(session: Session, app: Application, call: Call) -> list[int]:
    """The budget years of the call within the project period (all of them without a period)."""
    years = sorted(budget.years(session, call.id))
    if app.project_start and app.project_end:
        inside = [y for y in years if app.project_start.year <= y <= app.project_end.year]
        return inside or years
    return years


def _headings(session: Session, call: Call) -> tuple[finance_plan.Heading, ...]:
    programme = session.get(Programme, call.programme_id)
    return finance_plan.headings(programme.config if programme else None)


def _modules(session: Session, call: Call) -> list[tuple[str, str]]:
    return [(m.code, f"{m.code} – {m.name}") for m in session.exec(
        select(Module).where(Module.programme_id == call.programme_id).order_by(Module.code))]


# ---- choosing the call ---------------------------------------------------------------------

def _open_calls(session: Session) -> list[dict[str, Any]]:
    return [status for status in (public_call_status(session, c) for c in queries.calls(session))
            if status["open_now"] and not status["funding_stop"]["in_force"]]


def _new_page(request: Request, session: Session, values: dict[str, str],
              errors: dict[str, str], status: int = 200) -> Response:
    calls = _open_calls(session)
    modules: list[tuple[str, str]] = []
    for status_ in calls:
        call = session.exec(select(Call).where(Call.code == status_["code"])).first()
        if call is not None:
            modules.extend(_modules(session, call))
    return page(request, "portal/form/new.html", {
        "calls": calls, "modules": list(dict.fromkeys(modules)), "values": values,
        "errors": errors}, status)


@router.get("/antraege/neu")
def new_form(request: Request, session: SessionDep, actor: CarrierDep,
             aufruf: str | None = None) -> Response:
    return _new_page(request, session, {"call": aufruf or ""}, {})


@router.post("/antraege/neu")
def create(request: Request, session: SessionDep, actor: CarrierDep, form: FormDep) -> Response:
    values = form_values(form)
    errors: dict[str, str] = {}
    if not values.get("call"):
        errors["call"] = _(request, "Bitte wählen Sie einen Förderaufruf.")
    if not values.get("module_code"):
        errors["module_code"] = _(request, "Bitte wählen Sie einen Baustein.")
    if errors:
        return _new_page(request, session, values, errors, 422)
    try:
        app = drafts.create_application(session, actor, values["call"],
                                        {"module_code": values["module_code"]})
    except WorkflowError as error:
        refused(session)
        return _new_page(request, session, values,
                         form_errors(error, request_language(request)), error.status)
    return redirect(request, f"/antraege/{app.reference}/bearbeiten/projekt",
                    flash=_(request, "Ihr Entwurf %(reference)s ist angelegt.",
                            reference=app.reference))


# ---- the steps -------------------------------------------------------------------------------

def _project_values(app: Application) -> dict[str, str]:
    return {"module_code": app.module_code, "title": app.title, "summary": app.summary,
            "quartier": app.quartier, "municipality": app.municipality,
            "project_start": app.project_start.isoformat() if app.project_start else "",
            "project_end": app.project_end.isoformat() if app.project_end else ""}


def _plan_values(session: Session, app: Application) -> dict[str, str]:
    plan = finance_plan_out(session, app.id) or {}
    values: dict[str, str] = {}
    for year, lines in plan.items():
        for code, amount in lines["expenses"].items():
            values[f"y{year}_{code}"] = amount
        for line in ("own", "third_party"):
            values[f"y{year}_{line}"] = lines[line]
    return values


def _step_page(request: Request, session: Session, app: Application, step: str,
               values: dict[str, str] | None, errors: dict[str, str],
               status: int = 200) -> Response:
    call = session.get(Call, app.call_id)
    context: dict[str, Any] = {"app": app, "step": step, "steps": _steps(request, step),
                               "errors": errors}
    if step == "projekt":
        context["values"] = values if values is not None else _project_values(app)
        context["modules"] = _modules(session, call)
    else:
        context["values"] = values if values is not None else _plan_values(session, app)
        context["years"] = _plan_years(session, app, call)
        context["headings"] = _headings(session, call)
        context["plan"] = finance_plan_out(session, app.id) or {}
    return page(request, f"portal/form/{step}.html", context, status)


def _known_step(step: str) -> str:
    if step not in STEPS:
        from workflow.errors import NotFound
        raise NotFound(f"Schritt „{step}“ gibt es nicht.", f"There is no step '{step}'.")
    return step


@router.get("/antraege/{reference}/bearbeiten/{step}")
def step_form(reference: str, step: str, request: Request, session: SessionDep,
              actor: CarrierDep) -> Response:
    app = _draft(session, reference, actor)
    if app.state != State.draft:
        return redirect(request, f"/antraege/{app.reference}")
    return _step_page(request, session, app, _known_step(step), None, {})


def _plan_input(session: Session, app: Application, values: dict[str, str]) -> dict[str, Any]:
    call = session.get(Call, app.call_id)
    heads = _headings(session, call)
    raw: dict[str, Any] = {}
    for year in _plan_years(session, app, call):
        raw[str(year)] = {
            "expenses": {h.code: values.get(f"y{year}_{h.code}", "").strip() or "0"
                         for h in heads},
            "own": values.get(f"y{year}_own", "").strip() or "0",
            "third_party": values.get(f"y{year}_third_party", "").strip() or "0"}
    return raw


@router.post("/antraege/{reference}/bearbeiten/{step}")
def save_step(reference: str, step: str, request: Request, session: SessionDep,
              actor: CarrierDep, form: FormDep) -> Response:
    app = _draft(session, reference, actor)
    step = _known_step(step)
    values = form_values(form)
    if step == "projekt":
        fields: dict[str, Any] = {name: values.get(name, "") for name in PROJECT_FIELDS}
    else:
        fields = {finance_plan.FIELD: _plan_input(session, app, values)}
    try:
        app = drafts.edit_draft(session, app, actor, fields)
    except WorkflowError as error:
        refused(session)
        app = _draft(session, reference, actor)
        return _step_page(request, session, app, step, values,
                          form_errors(error, request_language(request)), error.status)
    if "weiter" in form:
        following = STEPS[STEPS.index(step) + 1] if step != STEPS[-1] else None
        target = (f"/antraege/{app.reference}/bearbeiten/{following}" if following
                  else f"/antraege/{app.reference}/vorschau")
        return redirect(request, target, flash=_(request, "Gespeichert."))
    return redirect(request, "/antraege",
                    flash=_(request, "Ihr Entwurf %(reference)s ist gespeichert.",
                            reference=app.reference))


# ---- preview, submit, receipt ----------------------------------------------------------------

def _preview(request: Request, session: Session, app: Application, actor: Actor,
             refusal: WorkflowError | None, status: int = 200) -> Response:
    call = session.get(Call, app.call_id)
    verdict = refusal or engine.check(session, app, "submit", actor)
    return page(request, "portal/form/preview.html", {
        "app": app, "call": call, "steps": _steps(request, "vorschau"),
        "plan": finance_plan_out(session, app.id) or {}, "headings": _headings(session, call),
        "refusal": verdict.message(request_language(request)) if verdict else None}, status)


@router.get("/antraege/{reference}/vorschau")
def preview(reference: str, request: Request, session: SessionDep,
            actor: CarrierDep) -> Response:
    app = _draft(session, reference, actor)
    if app.state != State.draft:
        return redirect(request, f"/antraege/{app.reference}")
    return _preview(request, session, app, actor, None)


@router.post("/antraege/{reference}/einreichen")
def submit(reference: str, request: Request, session: SessionDep, actor: CarrierDep,
           form: FormDep) -> Response:
    app = _draft(session, reference, actor)
    try:
        engine.fire(session, app, "submit", actor)
    except WorkflowError as error:
        refused(session)
        app = _draft(session, reference, actor)
        return _preview(request, session, app, actor, error, error.status)
    return redirect(request, f"/antraege/{reference}/eingang",
                    flash=_(request, "Ihr Antrag ist eingegangen."))


@router.get("/antraege/{reference}/eingang")
def receipt(reference: str, request: Request, session: SessionDep,
            actor: CarrierDep) -> Response:
    app = _draft(session, reference, actor)
    return page(request, "portal/form/receipt.html", {"app": app})
