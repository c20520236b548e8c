"""The Kosten- und Finanzierungsplan: expenses by cost heading, own and third-party money, and the
grant that follows from them under the call's Finanzierungsart, per budget year. A draft's plan
sets its requested amounts (and own contribution); the submit guard wants it complete and
balanced in every budget year of the project period."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import Session, delete, select

from notifications.formatting import money
from states import (
    CARRIER_FINANCING,
    DEFAULT_FINANCING,
    EXPENSE,
    FINANCING,
    FINANCING_LABELS,
    FinancingKind,
    FinancingLine,
)
from workflow import budget
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import ApplicationYear, FinancePlanLine

FIELD = "finance_plan"
MAX_PLAN_YEARS = 10


@dataclass(frozen=True, slots=True)
class Heading:
    """A cost heading of the programme (Ausgabenposition)."""

    code: str
    de: str
    en: str

    def label(self, language: str = "de") -> str:
        return self.en if language == "en" else self.de


def headings(config: Mapping[str, Any] | None) -> tuple[Heading, ...]:
    """The programme's cost headings; none means the programme takes plain amounts."""
    raw = ((config or {}).get("finance_plan") or {}).get("expense_headings") or []
    return tuple(Heading(str(h["code"]), str(h["de"]), str(h.get("en") or h["de"])) for h in raw)


class CallTerms(Protocol):
    """The call settings the grant follows from (a Call or a CallRow)."""

    financing_kind: str
    grant_share_bp: int | None
    fixed_grant_cents: int | None
    max_grant_cents: int | None


@dataclass(frozen=True, slots=True)
class YearPlan:
    """The plan of one budget year: what the carrier typed and the grant that follows."""

    year: int
    expenses: dict[str, int]  # heading code -> cents
    own: int
    third_party: int
    grant: int

    @property
    def total_expenses(self) -> int:
        return sum(self.expenses.values())

    @property
    def total_financing(self) -> int:
        return self.own + self.third_party + self.grant

    @property
    def difference(self) -> int:
        """Expenses minus financing: 0 when the year balances."""
        return self.total_expenses - self.total_financing

    @property
    def balanced(self) -> bool:
        return self.total_expenses > 0 and self.difference == 0


def grant_for(terms: CallTerms, expenses: int, own: int, third_party: int) -> int:
    """The grant of one budget year under the call's Finanzierungsart (integer cents)."""
    if expenses <= 0:
        return 0
    ceiling = terms.max_grant_cents
    if terms.financing_kind == FinancingKind.fixed:
        grant = terms.fixed_grant_cents or 0
        return min(grant, ceiling) if ceiling is not None else grant
    gap = max(expenses - own - third_party, 0)
    if terms.financing_kind == FinancingKind.share:
        share = expenses * (terms.grant_share_bp or 0) // 10_000
        ceiling = share if ceiling is None else min(share, ceiling)
    return gap if ceiling is None else min(gap, ceiling)


@dataclass(frozen=True, slots=True)
class Plan:
    """A whole plan, by budget year."""

    years: dict[int, YearPlan] = field(default_factory=dict)

    @property
    def own_total(self) -> int:
        return sum(y.own for y in self.years.values())

    def requested(self) -> dict[int, int]:
        return {year: y.grant for year, y in self.years.items()}


def build(terms: CallTerms, typed: Mapping[int, tuple[dict[str, int], int, int]]) -> Plan:
    """The plan from what the carrier typed per year (expenses by heading, own, third-party)."""
    years = {}
    for year, (expenses, own, third) in sorted(typed.items()):
        years[year] = YearPlan(year, dict(expenses), own, third,
                               grant_for(terms, sum(expenses.values()), own, third))
    return Plan(years)


def _invalid(de: str, en: str) -> InvalidInput:
    return InvalidInput(de, en, field=FIELD)


def _euros(value: object, year: int, de: str, en: str) -> int:
    try:
        return budget.parse_euros(value, f"Finanzierungsplan {year}, {de}",
                                  f"Finance plan {year}, {en}")
    except WorkflowError as error:
        raise _invalid(error.de, error.en) from None


def parse(raw: object, heads: Iterable[Heading],
          budget_years: Iterable[int]) -> dict[int, tuple[dict[str, int], int, int]]:
    """What the carrier typed, checked: {"2021": {"expenses": {code: euros}, "own": euros,
    "third_party": euros}}; cents per heading, own and third-party money per budget year."""
    heads = {h.code: h for h in heads}
    allowed = set(budget_years)
    if not isinstance(raw, Mapping):
        raise _invalid("Der Finanzierungsplan muss je Haushaltsjahr angegeben werden.",
                       "Give the finance plan per budget year.")
    if len(raw) > MAX_PLAN_YEARS:
        raise _invalid(f"Höchstens {MAX_PLAN_YEARS} Haushaltsjahre.",
                       f"At most {MAX_PLAN_YEARS} budget years.")
    typed = {}
    for key, lines in raw.items():
        year = int(key) if str(key).isdigit() and len(str(key)) == 4 else None
        if year is None:
            raise _invalid(f"„{key}“ ist kein Haushaltsjahr.", f"'{key}' is not a budget year.")
        if year not in allowed:
            raise _invalid(
                f"{year} ist kein Haushaltsjahr dieses Aufrufs "
                f"({', '.join(str(y) for y in sorted(allowed))}).",
                f"{year} is not a budget year of this call.")
        if not isinstance(lines, Mapping):
            raise _invalid(f"Finanzierungsplan {year}: Ausgaben und Finanzierung angeben.",
                           f"Finance plan {year}: give expenses and financing.")
        unknown = set(lines) - {"expenses", *CARRIER_FINANCING}
        if unknown:
            grant = FinancingLine.grant in unknown
            raise _invalid(
                f"Finanzierungsplan {year}: Die beantragte Zuwendung ergibt sich aus dem Plan "
                "und wird nicht angegeben." if grant else
                f"Finanzierungsplan {year}: unbekannte Zeilen {', '.join(sorted(unknown))}.",
                f"Finance plan {year}: the requested grant follows from the plan and is not "
                "given." if grant else
                f"Finance plan {year}: unknown lines {', '.join(sorted(unknown))}.")
        expenses_raw = lines.get("expenses") or {}
        if not isinstance(expenses_raw, Mapping):
            raise _invalid(f"Finanzierungsplan {year}: Ausgaben je Ausgabenposition angeben.",
                           f"Finance plan {year}: give expenses per cost heading.")
        strange = set(expenses_raw) - set(heads)
        if strange:
            raise _invalid(
                f"Finanzierungsplan {year}: unbekannte Ausgabenposition "
                f"„{sorted(strange)[0]}“ (möglich: {', '.join(heads)}).",
                f"Finance plan {year}: unknown cost heading '{sorted(strange)[0]}' "
                f"(possible: {', '.join(heads)}).")
        expenses = {code: _euros(expenses_raw.get(code) or 0, year, h.de, h.en)
                    for code, h in heads.items()}
        own, third = (_euros(lines.get(line) or 0, year, FINANCING_LABELS[line].de,
                             FINANCING_LABELS[line].en) for line in CARRIER_FINANCING)
        if sum(expenses.values()) > budget.MAX_CENTS:
            raise _invalid(f"Finanzierungsplan {year}: Die Ausgaben sind zu groß.",
                           f"Finance plan {year}: the expenses are too large.")
        typed[year] = (expenses, own, third)
    return typed


def from_lines(terms: CallTerms, heads: Iterable[Heading],
               lines: Iterable[tuple[int, str, str, int]]) -> Plan:
    """The plan from its stored lines (year, kind, heading, cents); the grant is recomputed."""
    codes = [h.code for h in heads]
    typed: dict[int, tuple[dict[str, int], int, int]] = {}
    for year, kind, heading, cents in lines:
        expenses, own, third = typed.get(year) or ({c: 0 for c in codes}, 0, 0)
        if kind == EXPENSE:
            expenses[heading] = cents
        elif kind == FinancingLine.own:
            own = cents
        elif kind == FinancingLine.third_party:
            third = cents
        typed[year] = (expenses, own, third)
    return build(terms, typed)


def load(session: Session, app_id: int, terms: CallTerms, heads: Iterable[Heading]) -> Plan | None:
    """A draft's stored plan, or None when it has none."""
    rows = session.exec(
        select(FinancePlanLine).where(FinancePlanLine.application_id == app_id)
        .order_by(FinancePlanLine.year, FinancePlanLine.id)
    ).all()
    if not rows:
        return None
    return from_lines(terms, heads, ((r.year, r.kind, r.heading, r.cents) for r in rows))


def has_plan(session: Session, app_id: int) -> bool:
    return session.exec(
        select(FinancePlanLine.id).where(FinancePlanLine.application_id == app_id).limit(1)
    ).first() is not None


def save(session: Session, app_id: int, plan: Plan) -> None:
    """Replace the draft's plan and set its requested amounts from the grant lines."""
    session.exec(delete(FinancePlanLine).where(FinancePlanLine.application_id == app_id))
    for year, y in plan.years.items():
        for code, cents in y.expenses.items():
            session.add(FinancePlanLine(application_id=app_id, year=year, kind=EXPENSE,
                                        heading=code, cents=cents))
        for line, cents in ((FinancingLine.own, y.own), (FinancingLine.third_party, y.third_party),
                            (FinancingLine.grant, y.grant)):
            session.add(FinancePlanLine(application_id=app_id, year=year, kind=line.value,
                                        cents=cents))
    rows = {r.year: r for r in session.exec(
        select(ApplicationYear).where(ApplicationYear.application_id == app_id)
        .execution_options(populate_existing=True))}
    for year, cents in plan.requested().items():
        row = rows.get(year) or ApplicationYear(application_id=app_id, year=year)
        row.requested_cents = cents
        session.add(row)
    for year, row in rows.items():
        if year not in plan.years:
            session.delete(row)
    session.flush()


def problems(plan: Plan | None, period_years: Iterable[int],
             language: str = "de") -> list[tuple[int | None, str]]:
    """(year, reason) for every budget year of the period whose plan is missing or does not
    balance, and every planned year outside the period; empty when the plan may be submitted."""
    period = sorted(set(period_years))
    years = plan.years if plan else {}
    found: list[tuple[int | None, str]] = []
    en = language == "en"
    for year in period:
        y = years.get(year)
        if y is None or y.total_expenses <= 0:
            found.append((year, f"{year}: no expenses planned" if en
                          else f"{year}: keine Ausgaben geplant"))
        elif y.difference:
            found.append((year, (
                f"{year}: expenses {money(y.total_expenses, 'en')} ≠ financing "
                f"{money(y.total_financing, 'en')} (difference {money(abs(y.difference), 'en')})"
            ) if en else (
                f"{year}: Ausgaben {money(y.total_expenses)} ≠ Finanzierung "
                f"{money(y.total_financing)} (Differenz {money(abs(y.difference))})")))
    for year in sorted(set(years) - set(period)):
        if years[year].total_expenses:
            found.append((year, f"{year}: outside the project period" if en
                          else f"{year}: liegt außerhalb des Projektzeitraums"))
    return found


def financing_columns(spec: Mapping[str, Any] | None) -> dict[str, Any]:
    """A call's Finanzierungsart from its configuration ({"kind": "share", "share_percent":
    "80", "max": "150000.00"}) as Call columns; refuses a kind without its setting."""
    spec = spec or {}
    try:
        kind = FinancingKind(spec.get("kind") or DEFAULT_FINANCING)
    except ValueError:
        raise InvalidInput(
            f"Unbekannte Finanzierungsart „{spec.get('kind')}“ "
            f"(möglich: {', '.join(k.value for k in FinancingKind)}).",
            f"Unknown kind of financing '{spec.get('kind')}'.", field="financing") from None
    columns: dict[str, Any] = {"financing_kind": kind.value, "grant_share_bp": None,
                               "fixed_grant_cents": None, "max_grant_cents": None}
    if spec.get("max") not in (None, ""):
        columns["max_grant_cents"] = budget.parse_euros(spec["max"], "Höchstbetrag",
                                                        "Maximum grant")
    if FINANCING[kind].needs_share:
        percent = budget.parse_euros(spec.get("share_percent") or 0, "Anteil", "Share")
        if not 0 < percent <= 100_00:
            raise InvalidInput("Der Anteil muss über 0 und höchstens 100 Prozent betragen.",
                               "The share must be above 0 and at most 100 percent.",
                               field="financing")
        columns["grant_share_bp"] = percent
    if FINANCING[kind].needs_fixed:
        fixed = budget.parse_euros(spec.get("fixed") or 0, "Festbetrag", "Fixed sum")
        if fixed <= 0:
            raise InvalidInput("Bitte den Festbetrag je Haushaltsjahr angeben.",
                               "Give the fixed sum per budget year.", field="financing")
        columns["fixed_grant_cents"] = fixed
    return columns
