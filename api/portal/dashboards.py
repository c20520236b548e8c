"""The dashboard /auswertung for the authority and the observer (G.I.B.): per call the money per
budget year and source, applications by state, module and municipality, submissions over time
with the funding stop marked; each chart with its table and the table as CSV or XLSX. Only
aggregates: the page shows no single case, so the observer reads the same page as staff."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.portal import charts, i18n
from api.portal.base import FiguresDep, page, portal_router
from api.portal.i18n import _
from notifications import formatting
from states import Role
from workflow import aggregates, dashboard, exports, queries
from workflow.applications import find_call
from workflow.errors import InvalidInput

router = portal_router()

_MONTHS = {"de": "Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez".split(),
           "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()}


def cell(value: Any, language: str) -> str:
    """A table cell as the page shows it (the downloads keep numbers and dates as such)."""
    if value is None:
        return "–"
    if isinstance(value, Decimal):
        return formatting.money(int(value * 100), language)
    if isinstance(value, date):
        return formatting.day(value, language)
    return str(value)


def _tick(start: date, period: dashboard.Period, language: str) -> str:
    if period == dashboard.Period.week:
        return f"{start.day:02d}.{start.month:02d}."
    return f"{_MONTHS[language][start.month - 1]} {start.year % 100:02d}"


def _table(table: exports.Table, language: str) -> dict[str, Any]:
    return {"columns": [i18n.gettext(language, c) for c in table.columns],
            "rows": [[cell(v, language) for v in row] for row in table.rows],
            "numeric": [isinstance(v, Decimal | int) and not isinstance(v, bool)
                        for v in (table.rows[0] if table.rows else [])]}


def _money_section(session: SessionDep, call: Any, language: str) -> dict[str, Any]:
    table = dashboard.money_table(session, call)
    totals = [row for row in table.rows if row[1] == "Summe"]
    committed = i18n.gettext(language, "Gebunden")
    paid = i18n.gettext(language, "Ausgezahlt")
    unpaid = i18n.gettext(language, "Gebunden, nicht ausgezahlt")
    available = i18n.gettext(language, "Verfügbar")
    chart = charts.stacked(
        i18n.gettext(language, "Mittel je Haushaltsjahr: ausgezahlt, gebunden und verfügbar"),
        [(str(row[0]), [charts.Part(paid, row[6], "q-chart__paid"),
                        charts.Part(unpaid, row[3] - row[6], "q-chart__bar"),
                        charts.Part(available, row[4], "q-chart__rest")],
          f"{row[5]} % {committed.lower()}") for row in totals])
    return {"table": _table(table, language), "chart": chart}


def _group_section(session: SessionDep, call: Any, figure: dashboard.Figure,
                   language: str) -> dict[str, Any]:
    table = dashboard.group_table(session, call, figure)
    title = i18n.gettext(language, dashboard.TITLES[figure])
    chart = charts.bars(title, [(str(row[0]), row[1], str(row[1])) for row in table.rows])
    return {"table": _table(table, language), "chart": chart, "empty": not table.rows,
            "title": title}


def _submissions_section(session: SessionDep, call: Any, period: dashboard.Period,
                         language: str) -> dict[str, Any]:
    found = dashboard.submissions(session, call, period)
    stop_at = dashboard.stop_period(found.stop_since, period)
    marker = found.starts.index(stop_at) if stop_at in found.starts else None
    stop_text = (i18n.gettext(language, "Fördermittelstopp seit %(since)s",
                              since=formatting.moment(found.stop_since, language))
                 if found.stop_since else "")
    chart = charts.columns(i18n.gettext(language, "Eingereichte Anträge je Zeitraum"),
                           [_tick(s, period, language) for s in found.starts], found.counts,
                           marker, stop_text)
    return {"table": _table(found.table(call.code), language), "chart": chart,
            "stop": stop_text, "empty": not found.starts}


def _period(value: str) -> dashboard.Period:
    try:
        return dashboard.Period(value)
    except ValueError:
        return dashboard.Period.month


@router.get("/auswertung")
def overview(request: Request, session: SessionDep, actor: FiguresDep,
             aufruf: Annotated[str | None, Query(max_length=60)] = None,
             zeitraum: Annotated[str, Query(max_length=10)] = "monat") -> Response:
    """The figures of one call (the one chosen, else the first)."""
    aggregates.may_read(actor)
    language = i18n.request_language(request)
    calls = queries.calls(session)
    chosen = next((c for c in calls if c.code == aufruf), calls[0] if calls else None)
    period = _period(zeitraum)
    context: dict[str, Any] = {
        "calls": [(c.code, f"{c.code} – {c.title}") for c in calls],
        "values": {"aufruf": chosen.code if chosen else "", "zeitraum": period.value},
        "periods": [(dashboard.Period.month.value, _(request, "Monat")),
                    (dashboard.Period.week.value, _(request, "Woche"))],
        "call": None, "is_admin": actor.role == Role.admin,
        "unknown": aufruf is not None and chosen is not None and chosen.code != aufruf,
        "figures": dashboard.Figure}
    if chosen is not None:
        call = find_call(session, chosen.code)
        context.update(call=call, money=_money_section(session, call, language),
                       submissions=_submissions_section(session, call, period, language),
                       groups=[(figure, _group_section(session, call, figure, language))
                               for figure in (dashboard.Figure.states, dashboard.Figure.modules,
                                              dashboard.Figure.municipalities)])
    return page(request, "portal/dashboard/overview.html", context)


@router.get("/auswertung/{code}/{figure}.{fmt}")
def download(request: Request, code: str, figure: str, fmt: str, session: SessionDep,
             actor: FiguresDep,
             zeitraum: Annotated[str, Query(max_length=10)] = "monat") -> Response:
    """One figure of a call's dashboard as CSV or XLSX (German column names, numbers as
    numbers, dates as dates)."""
    try:
        chosen = dashboard.Figure(figure)
        form = exports.ExportFormat(fmt)
    except ValueError:
        raise InvalidInput("Diese Auswertung gibt es nicht (Tabelle oder Format unbekannt).",
                           "There is no such figure (table or format unknown).") from None
    table = dashboard.figure_table(session, actor, code, chosen, _period(zeitraum))
    name = f"{chosen.value}-{code}.{form.value}"
    return Response(exports.render(table, form), media_type=exports.MEDIA_TYPES[form],
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
