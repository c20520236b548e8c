"""The Verwendungsnachweis (issue 16): the Sachbericht, the zahlenmäßiger Nachweis by the cost
headings of the approved plan (actual expenses, financing received) and the Belegliste, per
budget year. The carrier keeps a draft until `submit_final_report`; a request for changes
opens the next version. Staff's check (workflow.final_report_check) fixes the final grant."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, delete, select

from notifications.formatting import money
from states import (
    ACTIONS,
    EXPENSE,
    STATE_LABELS,
    ActionName,
    FinalReportStatus,
    FinancingLine,
    Role,
    State,
)
from workflow import finance_plan, inputs
from workflow.applications import load_application
from workflow.budget import parse_euros
from workflow.errors import InvalidInput, NotPermitted, WorkflowError, WrongState
from workflow.finance_plan import CallTerms, Heading
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    FinalReport,
    FinalReportEntry,
    FinalReportLine,
    FinancePlanLine,
    Programme,
)
from workflow.rows import Actor

EDIT = ACTIONS[ActionName.edit_final_report]
SACHBERICHT_MIN = 200  # characters: a Sachbericht says what was done and with which result
SACHBERICHT_MAX = 50_000
MAX_ENTRIES = 5_000
TEXT_MAX = 500
# A programme without cost headings reports its expenses on one line.
TOTAL_HEADING = Heading("gesamt", "Ausgaben insgesamt", "Total expenses")
RECEIVED = (FinancingLine.own, FinancingLine.third_party, FinancingLine.grant)
RECEIVED_KEYS = {FinancingLine.own: "own", FinancingLine.third_party: "third_party",
                 FinancingLine.grant: "grant"}


@dataclass(frozen=True, slots=True)
class Beleg:
    """One payment of the Belegliste."""

    year: int
    heading: str
    paid_on: date
    party: str
    purpose: str
    amount_cents: int
    number: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "heading": self.heading, "date": self.paid_on.isoformat(),
                "party": self.party, "purpose": self.purpose,
                "amount_cents": self.amount_cents, "number": self.number}


@dataclass(frozen=True, slots=True)
class YearActuals:
    """The zahlenmäßiger Nachweis of one budget year: actual expenses by heading (cents) and
    the financing actually received."""

    expenses: dict[str, int] = field(default_factory=dict)
    own: int = 0
    third_party: int = 0
    grant: int = 0

    @property
    def total_expenses(self) -> int:
        return sum(self.expenses.values())

    @property
    def total_financing(self) -> int:
        return self.own + self.third_party + self.grant


@dataclass(frozen=True, slots=True)
class Content:
    """What a Verwendungsnachweis says."""

    sachbericht: str = ""
    years: dict[int, YearActuals] = field(default_factory=dict)
    belege: tuple[Beleg, ...] = ()

    def spending(self) -> dict[int, int]:
        """The actual expenses per year (ApplicationYear.spent_cents)."""
        return {year: y.total_expenses for year, y in sorted(self.years.items())}


@dataclass(frozen=True, slots=True)
class Frame:
    """What a report is checked against: the approved amount per year and the headings of the
    approved plan with their planned cents per year."""

    approved: dict[int, int]
    headings: tuple[Heading, ...]
    planned: dict[int, dict[str, int]]
    project_start: date | None = None
    project_end: date | None = None

    def heading_codes(self) -> dict[str, Heading]:
        return {h.code: h for h in self.headings}

    def resolve(self, text: str) -> str | None:
        """A heading's code from its code or its German or English label."""
        key = " ".join(text.split()).casefold()
        for h in self.headings:
            if key in (h.code.casefold(), h.de.casefold(), h.en.casefold()):
                return h.code
        return None


# --- parsing what was typed -----------------------------------------------------------------


def _euros(value: object, where: str, de: str, en: str) -> int:
    try:
        return parse_euros(value if value not in (None, "") else 0, de, en)
    except WorkflowError as error:
        raise InvalidInput(error.de, error.en, field=where) from None


def _text(value: object, where: str, de: str, en: str, limit: int = TEXT_MAX) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{de}: bitte als Text angeben.", f"{en}: give it as text.",
                           field=where)
    text = " ".join(value.split())
    if len(text) > limit:
        raise InvalidInput(f"{de}: höchstens {limit} Zeichen.", f"{en}: at most {limit} "
                           "characters.", field=where)
    return text


def _year(value: object, where: str) -> int:
    text = str(value).strip() if isinstance(value, int | str) else ""
    if not (text.isdigit() and len(text) == 4):
        raise InvalidInput(f"„{str(value)[:20]}“ ist kein Haushaltsjahr.",
                           f"'{str(value)[:20]}' is not a budget year.", field=where)
    return int(text)


def parse_beleg(raw: object, where: str) -> Beleg:
    """One Belegliste entry as the API takes it: year, heading, date (ISO), party, purpose,
    amount (euros), optional number."""
    if not isinstance(raw, Mapping):
        raise InvalidInput("Beleg: bitte Jahr, Kostenposition, Datum, Empfänger, Zweck und "
                           "Betrag angeben.", "Receipt: give year, heading, date, payee, "
                           "purpose and amount.", field=where)
    year = _year(raw.get("year"), f"{where}.year")
    heading = _text(raw.get("heading"), f"{where}.heading", "Kostenposition", "Heading")
    paid_on = inputs.parse_date(raw.get("date"), "Belegdatum", f"{where}.date", "Receipt date")
    party = _text(raw.get("party"), f"{where}.party", "Empfänger/Einzahler", "Payee/payer")
    purpose = _text(raw.get("purpose"), f"{where}.purpose", "Zweck", "Purpose")
    amount = _euros(raw.get("amount"), f"{where}.amount", "Betrag", "Amount")
    number = _text(raw.get("number"), f"{where}.number", "Belegnummer", "Receipt number", 60)
    if not party or not purpose:
        missing = "Empfänger/Einzahler" if not party else "Zweck"
        raise InvalidInput(f"Beleg: {missing} fehlt.", f"Receipt: {missing} is missing.",
                           field=f"{where}.{'party' if not party else 'purpose'}")
    if amount <= 0:
        raise InvalidInput("Beleg: Der Betrag muss größer als 0 sein.",
                           "Receipt: the amount must be above 0.", field=f"{where}.amount")
    return Beleg(year, heading, paid_on, party, purpose, amount, number)


def parse_content(raw: Mapping[str, Any]) -> Content:
    """The report as the API takes it: {"sachbericht": text, "nachweis": {"2021": {"expenses":
    {heading: euros}, "own": euros, "third_party": euros, "grant": euros}}, "belege": [...]}.
    Shapes and amounts are checked here; completeness against the approved plan by `problems`."""
    sachbericht = raw.get("sachbericht") or ""
    if not isinstance(sachbericht, str) or len(sachbericht) > SACHBERICHT_MAX:
        raise InvalidInput(f"Sachbericht: Text mit höchstens {SACHBERICHT_MAX} Zeichen.",
                           f"Narrative report: text of at most {SACHBERICHT_MAX} characters.",
                           field="sachbericht")
    nachweis = raw.get("nachweis") or {}
    if not isinstance(nachweis, Mapping) or len(nachweis) > finance_plan.MAX_PLAN_YEARS:
        raise InvalidInput("Zahlenmäßiger Nachweis: bitte je Haushaltsjahr angeben.",
                           "Statement of figures: give it per budget year.", field="nachweis")
    years: dict[int, YearActuals] = {}
    for key, lines in nachweis.items():
        year = _year(key, "nachweis")
        where = f"nachweis.{year}"
        if not isinstance(lines, Mapping):
            raise InvalidInput(f"Nachweis {year}: Ausgaben und Finanzierung angeben.",
                               f"Statement {year}: give expenses and financing.", field=where)
        unknown = set(lines) - {"expenses", *RECEIVED_KEYS.values()}
        if unknown:
            raise InvalidInput(f"Nachweis {year}: unbekannte Zeilen {', '.join(sorted(unknown))}.",
                               f"Statement {year}: unknown lines {', '.join(sorted(unknown))}.",
                               field=where)
        expenses_raw = lines.get("expenses") or {}
        if not isinstance(expenses_raw, Mapping):
            raise InvalidInput(f"Nachweis {year}: Ausgaben je Kostenposition angeben.",
                               f"Statement {year}: give expenses per heading.",
                               field=f"{where}.expenses")
        expenses = {str(code): _euros(v, f"{where}.expenses.{code}",
                                      f"Nachweis {year}, {code}", f"Statement {year}, {code}")
                    for code, v in expenses_raw.items()}
        received = {k: _euros(lines.get(k), f"{where}.{k}", f"Nachweis {year}, "
                              f"{finance_label(line).de}", f"Statement {year}, "
                              f"{finance_label(line).en}") for line, k in RECEIVED_KEYS.items()}
        years[year] = YearActuals(expenses, received["own"], received["third_party"],
                                  received["grant"])
    belege_raw = raw.get("belege") or []
    if not isinstance(belege_raw, list) or len(belege_raw) > MAX_ENTRIES:
        raise InvalidInput(f"Belegliste: eine Liste mit höchstens {MAX_ENTRIES} Belegen.",
                           f"List of receipts: a list of at most {MAX_ENTRIES} entries.",
                           field="belege")
    belege = tuple(parse_beleg(b, f"belege.{i}") for i, b in enumerate(belege_raw))
    return Content(sachbericht.strip(), years, belege)


def finance_label(line: FinancingLine) -> Any:
    from states import FINANCING_LABELS
    from states.labels import Label
    if line is FinancingLine.grant:
        return Label("Erhaltene Zuwendung", "Grant received")
    return FINANCING_LABELS[line]


# --- checking it against the approved plan ----------------------------------------------------


def problems(content: Content, frame: Frame) -> list[tuple[str, str, str]]:
    """(field, German reason, English reason) for everything that keeps the report from being
    submitted; empty when it may be."""
    found: list[tuple[str, str, str]] = []
    length = len(content.sachbericht)
    if length < SACHBERICHT_MIN:
        found.append(("sachbericht",
                      f"Der Sachbericht ist zu kurz ({length} von mindestens {SACHBERICHT_MIN} "
                      "Zeichen): Was wurde mit welchem Ergebnis getan?",
                      f"The narrative report is too short ({length} of at least "
                      f"{SACHBERICHT_MIN} characters): what was done, with which result?"))
    codes = frame.heading_codes()
    for year in sorted(frame.approved):
        # A year is stated (0,00 € where nothing was spent in it), and the whole report shows
        # some spending: a Nachweis of nothing at all is no Verwendungsnachweis.
        if content.years.get(year) is None:
            found.append((f"nachweis.{year}",
                          f"Nachweis {year}: Bitte die tatsächlichen Ausgaben angeben.",
                          f"Statement {year}: give the actual expenses."))
    given = [content.years[y] for y in frame.approved if content.years.get(y) is not None]
    if given and all(actual.total_expenses <= 0 for actual in given):
        found.append(("nachweis", "Der Nachweis weist keine Ausgaben aus; bitte die "
                                  "tatsächlichen Ausgaben je Haushaltsjahr angeben.",
                      "The statement shows no expenses; give the actual expenses of each "
                      "budget year."))
    for year in sorted(set(content.years) - set(frame.approved)):
        found.append((f"nachweis.{year}", f"Für {year} wurde nichts bewilligt.",
                      f"Nothing was approved for {year}."))
    for year, actual in sorted(content.years.items()):
        for code in sorted(set(actual.expenses) - set(codes)):
            found.append((f"nachweis.{year}.expenses.{code}",
                          f"Nachweis {year}: „{code}“ ist keine Kostenposition des bewilligten "
                          f"Finanzplans (möglich: {', '.join(codes)}).",
                          f"Statement {year}: '{code}' is not a heading of the approved plan "
                          f"(possible: {', '.join(codes)})."))
    sums: dict[tuple[int, str], int] = defaultdict(int)
    for number, beleg in enumerate(content.belege, start=1):
        where = f"belege.{number - 1}"
        if beleg.heading not in codes:
            found.append((f"{where}.heading",
                          f"Beleg {number}: „{beleg.heading}“ ist keine Kostenposition des "
                          "bewilligten Finanzplans.",
                          f"Receipt {number}: '{beleg.heading}' is not a heading of the "
                          "approved plan."))
        if beleg.year not in frame.approved:
            found.append((f"{where}.year", f"Beleg {number}: Für {beleg.year} wurde nichts "
                          "bewilligt.", f"Receipt {number}: nothing was approved for "
                          f"{beleg.year}."))
        if beleg.paid_on.year != beleg.year:
            found.append((f"{where}.date",
                          f"Beleg {number}: Das Datum {beleg.paid_on:%d.%m.%Y} liegt nicht im "
                          f"Haushaltsjahr {beleg.year}.",
                          f"Receipt {number}: the date {beleg.paid_on.isoformat()} is not in "
                          f"the budget year {beleg.year}."))
        sums[(beleg.year, beleg.heading)] += beleg.amount_cents
    for year, actual in sorted(content.years.items()):
        for code in sorted(set(actual.expenses) | {h for y, h in sums if y == year}):
            stated, listed = actual.expenses.get(code, 0), sums.get((year, code), 0)
            if stated != listed and code in codes:
                label = codes[code]
                found.append((f"nachweis.{year}.expenses.{code}",
                              f"{year}, {label.de}: Die Belegliste ergibt {money(listed)}, der "
                              f"Nachweis nennt {money(stated)}.",
                              f"{year}, {label.en}: the receipts add up to "
                              f"{money(listed, 'en')}, the statement says {money(stated, 'en')}."))
    return found


def refuse_problems(found: list[tuple[str, str, str]]) -> None:
    if found:
        raise InvalidInput(
            "Der Verwendungsnachweis ist noch nicht vollständig: "
            + " ".join(de for _, de, _ in found),
            "The final report is not complete yet: " + " ".join(en for _, _, en in found),
            field=found[0][0], problems=[{"field": f, "de": de, "en": en}
                                         for f, de, en in found])


def frame_of(session: Session, app: Application) -> Frame:
    """The approved years and the approved plan's headings of an application."""
    years = session.exec(select(ApplicationYear).where(
        ApplicationYear.application_id == app.id)).all()
    approved = {y.year: y.approved_cents for y in years if y.approved_cents}
    call = session.get(Call, app.call_id)
    programme = session.get(Programme, call.programme_id)
    configured = {h.code: h for h in finance_plan.headings(programme.config)}
    lines = session.exec(select(FinancePlanLine).where(
        FinancePlanLine.application_id == app.id, FinancePlanLine.kind == EXPENSE)).all()
    planned: dict[int, dict[str, int]] = defaultdict(dict)
    for line in lines:
        planned[line.year][line.heading] = line.cents
    codes = list(dict.fromkeys(line.heading for line in lines)) or list(configured)
    heads = tuple(configured.get(c) or Heading(c, c, c) for c in codes) or (TOTAL_HEADING,)
    return Frame(approved, heads, dict(planned), app.project_start, app.project_end)


# --- the stored report ------------------------------------------------------------------------


def versions(session: Session, app_id: int) -> list[FinalReport]:
    return list(session.exec(select(FinalReport).where(FinalReport.application_id == app_id)
                             .order_by(FinalReport.version)))


def newest(session: Session, app_id: int) -> FinalReport | None:
    found = versions(session, app_id)
    return found[-1] if found else None


def newest_submitted(session: Session, app_id: int) -> FinalReport | None:
    found = [r for r in versions(session, app_id) if r.submitted_at is not None]
    return found[-1] if found else None


def content_of(session: Session, report: FinalReport) -> Content:
    years: dict[int, dict[str, Any]] = defaultdict(lambda: {"expenses": {}})
    for line in session.exec(select(FinalReportLine).where(
            FinalReportLine.report_id == report.id).order_by(FinalReportLine.id)):
        if line.kind == EXPENSE:
            years[line.year]["expenses"][line.heading] = line.cents
        else:
            years[line.year][RECEIVED_KEYS[FinancingLine(line.kind)]] = line.cents
    belege = tuple(Beleg(e.year, e.heading, e.paid_on, e.party, e.purpose, e.amount_cents,
                         e.number) for e in session.exec(
        select(FinalReportEntry).where(FinalReportEntry.report_id == report.id)
        .order_by(FinalReportEntry.position)))
    return Content(report.sachbericht, {y: YearActuals(**v) for y, v in sorted(years.items())},
                   belege)


def _write_content(session: Session, report: FinalReport, content: Content,
                   now: datetime) -> None:
    session.exec(delete(FinalReportLine).where(FinalReportLine.report_id == report.id))
    session.exec(delete(FinalReportEntry).where(FinalReportEntry.report_id == report.id))
    report.sachbericht = content.sachbericht
    report.updated_at = now
    session.add(report)
    for year, actual in content.years.items():
        for code, cents in actual.expenses.items():
            session.add(FinalReportLine(report_id=report.id, year=year, kind=EXPENSE,
                                        heading=code, cents=cents))
        for line, key in RECEIVED_KEYS.items():
            session.add(FinalReportLine(report_id=report.id, year=year, kind=line.value,
                                        cents=getattr(actual, key)))
    for position, b in enumerate(content.belege, start=1):
        session.add(FinalReportEntry(report_id=report.id, position=position, year=b.year,
                                     heading=b.heading, paid_on=b.paid_on, party=b.party,
                                     purpose=b.purpose, amount_cents=b.amount_cents,
                                     number=b.number))
    session.flush()


def _draft(session: Session, app: Application, now: datetime) -> FinalReport:
    """The version the carrier edits: the open draft, or a new one (copying the last
    submitted version after a request for changes)."""
    current = newest(session, app.id)
    if current is not None and current.submitted_at is None:
        return current
    report = FinalReport(application_id=app.id, version=(current.version + 1) if current else 1,
                         created_at=now, updated_at=now)
    session.add(report)
    session.flush()
    if current is not None:
        _write_content(session, report, content_of(session, current), now)
    return report


def editable(session: Session, reference: int | str | Application, actor: Actor) -> Application:
    """The application whose report the carrier may edit now; refuses others with the reason."""
    if not EDIT.allows(actor.role):
        raise NotPermitted("Den Verwendungsnachweis bearbeitet der Träger.",
                           "The carrier edits the final report.")
    app = reference if isinstance(reference, Application) else load_application(
        session, reference, actor)
    if app.state not in {s.value for s in EDIT.in_states}:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(
            "Der Verwendungsnachweis kann nur während der Durchführung oder einer "
            f"Nachbesserung bearbeitet werden (Status: {label.de}).",
            "The final report can only be edited while the project runs or changes were "
            f"requested (state: {label.en}).", state=app.state)
    return app


def save_draft(session: Session, reference: int | str, actor: Actor, raw: Mapping[str, Any],
               *, now: datetime | None = None) -> FinalReport:
    """Keep what the carrier typed as the draft of the next version (incomplete is fine)."""
    now = now or datetime.now(UTC)
    app = editable(session, reference, actor)
    content = parse_content(raw)
    report = _draft(session, app, now)
    _write_content(session, report, content, now)
    return report


def file_belege(session: Session, reference: int | str, actor: Actor,
                belege: list[Beleg], *, now: datetime | None = None) -> FinalReport:
    """Put imported entries into the draft's Belegliste (replacing it) and set the Nachweis'
    expenses from their sums per year and heading."""
    now = now or datetime.now(UTC)
    app = editable(session, reference, actor)
    report = _draft(session, app, now)
    current = content_of(session, report)
    sums: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for b in belege:
        sums[b.year][b.heading] += b.amount_cents
    years = dict(current.years)
    for year, by_heading in sums.items():
        old = years.get(year) or YearActuals()
        years[year] = YearActuals(dict(by_heading), old.own, old.third_party, old.grant)
    _write_content(session, report, Content(current.sachbericht, years, tuple(belege)), now)
    return report


def submit(session: Session, app_id: int, actor: Actor, content: Content,
           now: datetime) -> FinalReport:
    """For the effect of `submit_final_report`: store the content as the submitted version."""
    app = session.get(Application, app_id)
    report = _draft(session, app, now)
    _write_content(session, report, content, now)
    report.submitted_at, report.submitted_by_id = now, actor.id
    session.add(report)
    session.flush()
    return report


def submitted_content(session: Session, app: Application, payload: Mapping[str, Any]) -> Content:
    """For the guard of `submit_final_report`: the report the firing submits (given in the
    payload, else the carrier's draft), checked against the approved plan."""
    if any(k in payload for k in ("sachbericht", "nachweis", "belege")):
        content = parse_content(payload)
    else:
        report = newest(session, app.id)
        if report is None or report.submitted_at is not None:
            raise InvalidInput(
                "Bitte zuerst den Verwendungsnachweis ausfüllen: Sachbericht, "
                "zahlenmäßiger Nachweis und Belegliste.",
                "Fill in the final report first: narrative report, statement of figures and "
                "list of receipts.", field="sachbericht")
        content = content_of(session, report)
    refuse_problems(problems(content, frame_of(session, app)))
    return content


def may_read(actor: Actor) -> None:
    if actor.role == Role.observer:
        raise NotPermitted("Verwendungsnachweise sehen der Träger und die Bewilligungsbehörde.",
                           "Final reports are seen by the carrier and the authority.")


def terms_of(session: Session, app: Application) -> CallTerms:
    return session.get(Call, app.call_id)


# --- reading it -------------------------------------------------------------------------------


def _out(cents: int | None) -> str | None:
    from workflow.presenters import euros
    return euros(cents)


def view(session: Session, reference: int | str, actor: Actor,
         language: str = "de") -> dict[str, Any]:
    """The newest Verwendungsnachweis beside the approved plan (planned, actual, difference per
    heading and year), its Belegliste and the newest check. The carrier sees its own reports
    and the final grant; staff also see the check's ratings and the grant the Finanzierungsart
    gives for the figures as they stand. Euros as strings."""
    from workflow import final_report_check  # the check reads this module

    may_read(actor)
    app = load_application(session, reference, actor)
    frame = frame_of(session, app)
    report = newest(session, app.id)
    content = content_of(session, report) if report else Content()
    staff = actor.role != Role.carrier
    computed = final_report_check.final_grant(terms_of(session, app), frame.approved,
                                              content.years)
    years = []
    for year in sorted(set(frame.approved) | set(content.years)):
        actual = content.years.get(year) or YearActuals()
        planned = frame.planned.get(year, {})
        headings = [{"code": h.code, "label": h.label(language),
                     "planned": _out(planned.get(h.code, 0)),
                     "actual": _out(actual.expenses.get(h.code, 0)),
                     "difference": _out(actual.expenses.get(h.code, 0)
                                          - planned.get(h.code, 0))}
                    for h in frame.headings]
        years.append({"year": year, "approved": _out(frame.approved.get(year)),
                      "headings": headings, "expenses": _out(actual.total_expenses),
                      "own": _out(actual.own), "third_party": _out(actual.third_party),
                      "grant": _out(actual.grant),
                      "computed_grant": _out(computed.get(year)) if staff else None})
    check = final_report_check.latest_check(session, app.id)
    check_out = None
    if check is not None:
        check_out = {"report_version": next((r.version for r in versions(session, app.id)
                                             if r.id == check.report_id), None),
                     "at": check.at.isoformat(),
                     "final_grant": {y: _out(g["final"]) for y, g in check.grants.items()},
                     "reductions": {y: g["reason"] for y, g in check.grants.items()
                                    if g["reason"]}}
        if staff:
            check_out.update(ratings=check.ratings, summary=check.summary,
                             computed_grant={y: _out(g["computed"])
                                             for y, g in check.grants.items()})
    return {
        "reference": app.reference, "state": app.state,
        "version": report.version if report else None,
        "status": (FinalReportStatus.none if report is None else
                   FinalReportStatus.submitted if report.submitted_at
                   else FinalReportStatus.draft).value,
        "submitted_at": report.submitted_at.isoformat() if report and report.submitted_at
        else None,
        "sachbericht": content.sachbericht,
        "headings": [{"code": h.code, "label": h.label(language)} for h in frame.headings],
        "years": years,
        "belege": [{**b.as_dict(), "amount": _out(b.amount_cents)} for b in content.belege],
        "problems": [{"field": f, "detail": en if language == "en" else de}
                     for f, de, en in problems(content, frame)] if report else [],
        "check": check_out,
    }
