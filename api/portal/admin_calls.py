"""Programme administration's pages of calls: the list, a new call (window, policy, minimum
grant, Finanzierungsart, Prüfkriterien, budget per year and source), one call with its budget
lines and ledger, editing it, budget changes, the funding stop declared or lifted, closing it
early. Each change goes through the same audited workflow function as the admin API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal import i18n
from api.portal.base import (
    AdminPageDep,
    FormDep,
    form_errors,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.i18n import _
from notifications.formatting import BERLIN
from states import FINANCING, Policy
from workflow import budget, calls_admin, commands, exports, payments, queries
from workflow.applications import find_call
from workflow.assessment import default_criteria_config
from workflow.errors import InvalidInput, WorkflowError
from workflow.rows import Actor

router = portal_router()
BUDGET_ROWS = 6  # empty budget lines offered on the form (year, source, amount)
POLICY_LABELS = {Policy.waitlist.value: ("Warteliste (nach Eingang nachrücken)",
                                         "Waiting list (in order of receipt)"),
                 Policy.reject.value: ("Ablehnen (bleibt in Prüfung mit Begründung)",
                                       "Refuse (stays in review with the reason)")}
SOURCES = ("Landesmittel", "ESF", "REACT-EU")


def _budget_fields(values: dict[str, str]) -> list[dict[str, str]]:
    """The budget lines the form filled (a line with neither year nor amount is skipped)."""
    lines = []
    for index in range(BUDGET_ROWS):
        year = values.get(f"jahr-{index}", "").strip()
        source = values.get(f"quelle-{index}", "").strip()
        amount = values.get(f"betrag-{index}", "").strip()
        if year or amount:
            lines.append({"year": year, "source": source, "amount": amount})
    return lines


def call_fields(values: dict[str, str], *, with_budget: bool = True) -> dict[str, Any]:
    """The form's fields as calls_admin takes them (German field names on the page)."""
    names = {"code": "code", "titel": "title", "beginn": "opens_at", "ende": "closes_at",
             "verfahren": "policy", "mindestzuwendung": "min_grant",
             "fruehester_beginn": "earliest_project_start", "mindestlaufzeit": "min_project_months",
             "finanzierungsart": "financing_kind", "anteil": "grant_share_percent",
             "festbetrag": "fixed_grant", "hoechstbetrag": "max_grant",
             "kriterien": "assessment_criteria"}
    fields: dict[str, Any] = {name: values.get(key, "") for key, name in names.items()
                              if key in values}
    for optional in ("earliest_project_start", "grant_share_percent", "fixed_grant",
                     "max_grant", "min_grant"):
        if fields.get(optional) == "":
            fields[optional] = None if optional != "min_grant" else "0"
    if with_budget:
        fields["budget"] = _budget_fields(values)
    return fields


# The workflow's field names -> the form's, so a refusal sits next to its field.
FORM_FIELD = {"code": "code", "title": "titel", "opens_at": "beginn", "closes_at": "ende",
              "policy": "verfahren", "min_grant": "mindestzuwendung",
              "earliest_project_start": "fruehester_beginn",
              "min_project_months": "mindestlaufzeit", "financing_kind": "finanzierungsart",
              "grant_share_percent": "anteil", "fixed_grant": "festbetrag",
              "max_grant": "hoechstbetrag", "assessment_criteria": "kriterien",
              "budget": "budget", "programme": "programm", "reason": "grund",
              "delta": "aenderung"}


def _errors(refusal: WorkflowError, language: str) -> dict[str, str]:
    return {FORM_FIELD.get(k, k): v for k, v in form_errors(refusal, language).items()}


def _criteria_text(criteria: list[dict[str, str]] | None) -> str:
    return "\n".join(f"{c['de']} | {c.get('en') or c['de']}" for c in criteria or [])


def _form_page(request: Request, session: SessionDep, template: str, context: dict[str, Any],
               status: int = 200) -> Response:
    language = i18n.request_language(request)
    return page(request, template, {
        "policies": [(p.value, POLICY_LABELS.get(p.value, (p.value, p.value))[
            0 if language == "de" else 1]) for p in Policy],
        "financing": [(f.kind.value, f.label.in_language(language)) for f in FINANCING.values()],
        "programmes": [(p.code, f"{p.code} – {p.name}") for p in calls_admin.programmes(session)],
        "budget_rows": range(BUDGET_ROWS), **context}, status_code=status)


@router.get("/verwaltung/aufrufe")
def calls(request: Request, session: SessionDep, actor: AdminPageDep) -> Response:
    rows = []
    for call in queries.calls(session):
        lines = budget.budget_lines(session, call.id)
        rows.append({"call": call, "budget": sum(ln.budget_cents for ln in lines),
                     "committed": sum(ln.committed_cents for ln in lines),
                     "submitted": calls_admin.submitted_count(session, call.id)})
    return page(request, "portal/admin/calls.html", {"rows": rows})


@router.get("/verwaltung/aufrufe/neu")
def new_call(request: Request, session: SessionDep, actor: AdminPageDep) -> Response:
    values = {"verfahren": Policy.waitlist.value, "finanzierungsart": "shortfall",
              "mindestlaufzeit": "8", "kriterien": _criteria_text(default_criteria_config())}
    values.update({f"quelle-{i}": s for i, s in enumerate(SOURCES)})
    return _form_page(request, session, "portal/admin/call_new.html", {"values": values})


@router.post("/verwaltung/aufrufe/neu")
def create_call(request: Request, session: SessionDep, actor: AdminPageDep,
                form: FormDep) -> Response:
    values = form_values(form)
    try:
        call = calls_admin.create_call(session, actor, values.get("programm", ""),
                                       call_fields(values))
    except WorkflowError as refusal:
        refused(session)
        return _form_page(request, session, "portal/admin/call_new.html", {
            "values": values, "errors": _errors(refusal, i18n.request_language(request))},
            refusal.status)
    return redirect(request, f"/verwaltung/aufrufe/{call.code}",
                    flash=_(request, "Der Förderaufruf %(code)s ist angelegt.", code=call.code))


def _call_values(session: SessionDep, call: Any) -> dict[str, str]:
    """The call as the edit form shows it (Berlin time, German amounts)."""
    snapshot = calls_admin.call_snapshot(session, call)

    def local(moment: datetime) -> str:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")

    return {"code": call.code, "titel": call.title, "beginn": local(call.opens_at),
            "ende": local(call.closes_at), "verfahren": call.policy,
            "mindestzuwendung": snapshot["min_grant"],
            "fruehester_beginn": (call.earliest_project_start.isoformat()
                                  if call.earliest_project_start else ""),
            "mindestlaufzeit": str(call.min_project_months),
            "finanzierungsart": call.financing_kind,
            "anteil": snapshot["grant_share_percent"] or "",
            "festbetrag": snapshot["fixed_grant"] or "",
            "hoechstbetrag": snapshot["max_grant"] or "",
            "kriterien": _criteria_text(call.assessment_criteria)}


def _call_page(request: Request, session: SessionDep, actor: Actor, code: str,
               values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status: int = 200) -> Response:
    call = find_call(session, code)
    lines = budget.budget_lines(session, call.id)
    ledger = queries.ledger_page(session, call.code, 200, 0)
    audit = calls_admin.audit_page(session, actor, 50, 0, call.code)
    language = i18n.request_language(request)
    return _form_page(request, session, "portal/admin/call.html", {
        "call": call, "lines": lines, "ledger": ledger,
        "money_lines": payments.ledger_by_line(session, call.id),
        "audit": [calls_admin.audit_out(r, language) for r in audit.items],
        "submitted": calls_admin.submitted_count(session, call.id),
        "kinds": exports.LEDGER_KINDS,
        "line_options": [(f"{ln.year}/{ln.source}", f"{ln.year} – {ln.source}") for ln in lines],
        "values": values or _call_values(session, call), "errors": errors or {}}, status)


@router.get("/verwaltung/aufrufe/{code}")
def call_page(request: Request, code: str, session: SessionDep, actor: AdminPageDep) -> Response:
    return _call_page(request, session, actor, code)


def _acted(request: Request, session: SessionDep, actor: Actor, code: str, form: Any,
           action: Any, done: str) -> Response:
    """Run one change of the call page; a refusal shows the page again with the reason."""
    values = form_values(form)
    try:
        new_code = action(values) or code
    except WorkflowError as refusal:
        refused(session)
        language = i18n.request_language(request)
        shown = {**_call_values(session, find_call(session, code)), **values}
        return _call_page(request, session, actor, code, shown, _errors(refusal, language),
                          refusal.status)
    return redirect(request, f"/verwaltung/aufrufe/{new_code}", flash=done)


@router.post("/verwaltung/aufrufe/{code}/bearbeiten")
def edit_call(request: Request, code: str, session: SessionDep, actor: AdminPageDep,
              form: FormDep) -> Response:
    def edit(values: dict[str, str]) -> str:
        return calls_admin.edit_call(session, actor, code,
                                     call_fields(values, with_budget=False)).code
    return _acted(request, session, actor, code, form, edit,
                  _(request, "Die Änderungen am Förderaufruf sind gespeichert."))


@router.post("/verwaltung/aufrufe/{code}/budget")
def change_budget(request: Request, code: str, session: SessionDep, actor: AdminPageDep,
                  form: FormDep) -> Response:
    def change(values: dict[str, str]) -> None:
        year, _sep, source = values.get("zeile", "").partition("/")
        if not year.isdigit():
            raise InvalidInput("Bitte eine Budgetzeile wählen.", "Choose a budget line.",
                               field="zeile")
        try:
            delta = budget.parse_signed_euros(values.get("aenderung", ""))
        except InvalidInput as error:
            error.extra["field"] = "aenderung"
            raise
        note = values.get("vermerk", "").strip()
        if not note:
            raise InvalidInput("Bitte einen Vermerk zur Budgetänderung angeben.",
                               "Give a note for the budget change.", field="vermerk")
        commands.change_budget(session, code, int(year), source, delta, actor, note)
    return _acted(request, session, actor, code, form, change,
                  _(request, "Die Budgetänderung ist im Mittelbuch eingetragen."))


@router.post("/verwaltung/aufrufe/{code}/stopp")
def declare_stop(request: Request, code: str, session: SessionDep, actor: AdminPageDep,
                 form: FormDep) -> Response:
    def declare(values: dict[str, str]) -> None:
        commands.declare_funding_stop(session, code, values.get("grund", ""), actor)
    return _acted(request, session, actor, code, form, declare,
                  _(request, "Der Fördermittelstopp ist erklärt; Träger mit Entwürfen werden "
                             "per E-Mail informiert."))


@router.post("/verwaltung/aufrufe/{code}/stopp-aufheben")
def lift_stop(request: Request, code: str, session: SessionDep, actor: AdminPageDep,
              form: FormDep) -> Response:
    def lift(values: dict[str, str]) -> None:
        commands.lift_funding_stop(session, code, actor)
    return _acted(request, session, actor, code, form, lift,
                  _(request, "Der Fördermittelstopp ist aufgehoben."))


@router.post("/verwaltung/aufrufe/{code}/schliessen")
def close_call(request: Request, code: str, session: SessionDep, actor: AdminPageDep,
               form: FormDep) -> Response:
    def close(values: dict[str, str]) -> None:
        try:
            calls_admin.close_call(session, actor, code, values.get("schliessgrund", ""))
        except InvalidInput as error:
            error.extra["field"] = "schliessgrund"
            raise
    return _acted(request, session, actor, code, form, close,
                  _(request, "Der Förderaufruf ist geschlossen."))


@router.get("/verwaltung/aufrufe/{code}/mittelbuch.{fmt}")
def ledger_download(code: str, fmt: str, session: SessionDep, actor: AdminPageDep) -> Response:
    """The call's whole ledger as CSV or XLSX (what the API's ledger export gives)."""
    try:
        form = exports.ExportFormat(fmt)
    except ValueError:
        raise InvalidInput("Das Mittelbuch gibt es als xlsx oder csv.",
                           "The ledger comes as xlsx or csv.") from None
    call = find_call(session, code)
    table = exports.ledger_table(session, call.code)
    return Response(exports.render(table, form), media_type=exports.MEDIA_TYPES[form],
                    headers={"Content-Disposition":
                             f'attachment; filename="mittelbuch-{call.code}.{form.value}"'})
