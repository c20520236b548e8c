"""The reviewer's worklist (/pruefung): views (my cases, unassigned, overdue, escalated, waiting
for me, all), filters (call, state, module), search, sort and paging, read by
`workflow.worklist` as the API's list; and the same list as XLSX or CSV (workflow.exports)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import select

from api.deps import SessionDep
from api.portal import staff_view
from api.portal.base import FormDep, StaffDep, page, portal_router, redirect, refused
from api.portal.i18n import _, request_language
from states import STATE_LABELS, State
from states.staff import HIDDEN_FROM_STAFF, WorklistSort
from workflow import assignment, exports, queries, worklist
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import Module

router = portal_router()
PAGE_SIZE = 25


def _msg(text: str) -> str:
    return text


@dataclass(frozen=True)
class View:
    slug: str
    label: str  # msgid
    filter: dict[str, bool]


VIEWS = (
    View("meine", _msg("Meine Fälle"), {"mine": True}),
    View("wartend", _msg("Wartet auf mich"), {"waiting_for_me": True}),
    View("offen", _msg("Nicht zugewiesen"), {"unassigned": True}),
    View("ueberfaellig", _msg("Überfällig"), {"overdue": True}),
    View("eskaliert", _msg("Eskaliert"), {"escalated": True}),
    View("alle", _msg("Alle"), {}),
)
VIEWS_BY_SLUG = {v.slug: v for v in VIEWS}
SORTS = {WorklistSort.due: _msg("Nächste Frist"), WorklistSort.received: _msg("Eingang"),
         WorklistSort.reference: _msg("Aktenzeichen"),
         WorklistSort.requested: _msg("Beantragter Betrag"),
         WorklistSort.approved: _msg("Bewilligter Betrag")}
# The page's query parameters (German) and the values they were given.
PARAMS = ("ansicht", "aufruf", "status", "baustein", "suche", "sortierung", "richtung")


@dataclass
class Query:
    view: View
    values: dict[str, str]
    where: worklist.WorklistFilter
    sort: WorklistSort
    descending: bool
    errors: dict[str, str]


def _query(request: Request) -> Query:
    """The page's parameters read leniently: a value it does not know is named on the page and
    left out of the filter (a link must never break the list)."""
    params = request.query_params
    values = {name: (params.get(name) or "").strip()[:200] for name in PARAMS}
    errors: dict[str, str] = {}
    view = VIEWS_BY_SLUG.get(values["ansicht"] or "meine")
    if view is None:
        errors["ansicht"] = _(request, "Diese Ansicht gibt es nicht; gezeigt wird „Meine Fälle“.")
        view = VIEWS_BY_SLUG["meine"]
    values["ansicht"] = view.slug
    state = None
    if values["status"]:
        if values["status"] in State.__members__ and State(values["status"]) \
                not in HIDDEN_FROM_STAFF:
            state = State(values["status"])
        else:
            errors["status"] = _(request, "Unbekannter Status; der Filter wurde nicht angewandt.")
            values["status"] = ""
    try:
        sort = WorklistSort(values["sortierung"] or WorklistSort.due.value)
    except ValueError:
        errors["sortierung"] = _(request, "Unbekannte Sortierung; sortiert wird nach der "
                                          "nächsten Frist.")
        sort = WorklistSort.due
    values["sortierung"] = sort.value
    descending = values["richtung"] == "ab"
    values["richtung"] = "ab" if descending else "auf"
    where = worklist.WorklistFilter(state=state, call=values["aufruf"] or None,
                                    module=values["baustein"] or None,
                                    text=values["suche"] or None, **view.filter)
    return Query(view, values, where, sort, descending, errors)


def _link(values: dict[str, str], **changes: Any) -> str:
    merged = {**values, **{k: str(v) for k, v in changes.items()}}
    return urlencode({k: v for k, v in merged.items() if v})


@router.get("/pruefung")
def worklist_page(request: Request, session: SessionDep, actor: StaffDep) -> Response:
    return _worklist(request, session, actor)


def _worklist(request: Request, session: SessionDep, actor: StaffDep,
              refusal: dict[str, str] | None = None, bulk_values: dict[str, Any] | None = None,
              status_code: int = 200) -> Response:
    query = _query(request)
    raw_page = request.query_params.get("seite") or "1"
    number = int(raw_page) if raw_page.isdigit() and 0 < len(raw_page) < 6 else 1
    number = max(number, 1)
    lang = request_language(request)
    found = worklist.worklist_page(session, actor, query.where, sort=query.sort,
                                   descending=query.descending, limit=PAGE_SIZE,
                                   offset=(number - 1) * PAGE_SIZE)
    pages = max(1, -(-found.total // PAGE_SIZE))
    modules = sorted(set(session.exec(select(Module.code)).all()))
    states = [(s.value, STATE_LABELS[s].in_language(lang)) for s in State
              if s not in HIDDEN_FROM_STAFF]
    here = _link(query.values, seite=number if number > 1 else "")
    return page(request, "portal/staff/worklist.html", {
        "query": query, "values": query.values, "errors": query.errors, "rows": found.items,
        "total": found.total, "number": number, "pages": pages,
        "views": [(v, _link(query.values, ansicht=v.slug)) for v in VIEWS],
        "calls": [(c.code, f"{c.code} – {c.title}") for c in queries.calls(session)],
        "modules": [(m, m) for m in modules], "states": states,
        "sorts": [(s.value, _(request, label)) for s, label in SORTS.items()],
        "link": lambda **changes: _link(query.values, **changes),
        "export": lambda fmt: "/pruefung/export?" + _link(query.values, format=fmt),
        # Bulk assignment (admins and lead reviewers): the officers, the refusal, the ticks.
        "officers": staff_view.officer_choices(session, actor),
        "bulk_action": "/pruefung/zuweisen" + (f"?{here}" if here else ""),
        "bulk_errors": refusal or {}, "bulk_values": bulk_values or {"antraege": []},
    }, status_code=status_code)


@router.post("/pruefung/zuweisen")
def assign_many(request: Request, session: SessionDep, actor: StaffDep,
                form: FormDep) -> Response:
    """Assign the ticked cases of the worklist to one person (or release them), all or none:
    a refusal names the case and the page comes back with the same ticks."""
    lang = request_language(request)
    references = [str(r) for r in form.getlist("antraege")][:500]
    raw = str(form.get("bearbeitung") or "")
    reason = str(form.get("grund") or "").strip()[:2000] or None
    kept = {"antraege": references, "bearbeitung": raw, "grund": reason or ""}
    try:
        if raw and not (raw.isdigit() and len(raw) < 10) and raw != "niemand":
            raise InvalidInput("Bitte eine Person aus der Liste wählen.",
                               "Please choose a person from the list.", field="bearbeitung")
        if not raw:
            raise InvalidInput("Bitte wählen Sie, wem die Anträge zugewiesen werden.",
                               "Please choose whom the applications go to.",
                               field="bearbeitung")
        if not references:
            raise InvalidInput("Bitte kreuzen Sie mindestens einen Antrag an.",
                               "Please tick at least one application.", field="antraege")
        officer = None if raw == "niemand" else int(raw)
        records = assignment.assign_cases(session, references, officer, actor, reason=reason)
    except WorkflowError as error:
        refused(session)
        field = str(error.extra.get("field") or "")
        if field.startswith("references."):
            position = int(field.split(".", 1)[1])
            message = f"{references[position]}: {error.message(lang)}"
            field = "antraege"
        else:
            message = error.message(lang)
            field = {"references": "antraege", "case_officer_id": "bearbeitung"}.get(
                field, field or "antraege")
        return _worklist(request, session, actor, {field: message}, kept,
                         status_code=error.status)
    back = "/pruefung" + (f"?{request.url.query}" if request.url.query else "")
    count = len(records)
    message = (_(request, "Ein Antrag zugewiesen.") if count == 1 else
               _(request, "%(count)s Anträge zugewiesen.", count=count))
    return redirect(request, back, flash=message)


@router.get("/pruefung/export")
def export(request: Request, session: SessionDep, actor: StaffDep,
           format: str = "xlsx") -> Response:
    """The filtered worklist (all pages) as a file: the export of the API's worklist."""
    query = _query(request)
    fmt = exports.ExportFormat.csv if format == "csv" else exports.ExportFormat.xlsx
    table = exports.worklist_table(session, actor, query.where, sort=query.sort,
                                   descending=query.descending)
    return Response(exports.render(table, fmt), media_type=exports.MEDIA_TYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="arbeitsliste.{fmt.value}"'})
