"""Programme administration of programmes, modules and calls: create, edit a call before any
application of it was submitted, close a call early. Every change writes an audit record (who,
when, before and after) in the caller's transaction; a refusal writes nothing."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from notifications.formatting import BERLIN, moment
from states import ACTIONS, FINANCING, ActionName, FinancingKind, Policy, State
from workflow import budget, engine, funding_stop
from workflow.errors import Conflict, InvalidInput, NotFound, NotPermitted, WrongState
from workflow.models import AdminAudit, Application, BudgetLine, Call, Module, Programme
from workflow.presenters import euros
from workflow.queries import Page
from workflow.rows import Actor

PROGRAMME_CODE = re.compile(r"[A-Za-z][A-Za-z0-9]{0,19}")  # the prefix of reference numbers
MODULE_CODE = re.compile(r"[A-Za-z0-9]{1,10}")
CALL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,49}")  # part of URLs
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_MONTHS = 120
MAX_TEXT = 2000
MAX_CONFIG = 20_000  # characters of the programme's configuration as JSON
CALL_FIELDS = ("code", "title", "opens_at", "closes_at", "policy", "min_grant",
               "earliest_project_start", "min_project_months", "budget", "financing_kind",
               "grant_share_percent", "fixed_grant", "max_grant", "assessment_criteria")
CRITERION_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_CRITERIA = 20


# ------------------------------------------------------------------ input


def _allowed(action: ActionName, actor: Actor) -> None:
    if not ACTIONS[action].allows(actor.role):
        label = ACTIONS[action].label
        raise NotPermitted(f"Nur die Programmverwaltung darf das ({label.de}).",
                           f"Only programme administration may do this ({label.en}).")


def _code(value: Any, pattern: re.Pattern[str], field: str, de: str, en: str) -> str:
    text = str(value or "").strip()
    if not pattern.fullmatch(text):
        raise InvalidInput(f"{de}: „{text[:60]}“ ist kein gültiges Kürzel ({_rule(pattern)}).",
                           f"{en}: '{text[:60]}' is not a valid code ({_rule(pattern, 'en')}).",
                           field=field)
    return text


def _rule(pattern: re.Pattern[str], lang: str = "de") -> str:
    if pattern is PROGRAMME_CODE:
        return ("Buchstabe, dann bis zu 19 Buchstaben oder Ziffern" if lang == "de"
                else "a letter, then up to 19 letters or digits")
    if pattern is MODULE_CODE:
        return "1 bis 10 Buchstaben oder Ziffern" if lang == "de" else "1 to 10 letters or digits"
    return ("bis zu 50 Buchstaben, Ziffern, Punkte, Binde- oder Unterstriche" if lang == "de"
            else "up to 50 letters, digits, dots, hyphens or underscores")


def _text(value: Any, field: str, de: str, en: str, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(f"{de}: Bitte angeben.", f"{en}: required.", field=field)
    if len(text) > MAX_TEXT:
        raise InvalidInput(f"{de}: höchstens {MAX_TEXT} Zeichen.",
                           f"{en}: at most {MAX_TEXT} characters.", field=field)
    return text


def _moment(value: Any, field: str, de: str, en: str) -> datetime:
    """A moment; without a zone it is Berlin time (the programme's time zone)."""
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput(
                f"{de}: „{str(value)[:40]}“ ist kein Zeitpunkt nach ISO 8601 "
                "(z. B. 2026-03-01T00:00+01:00).",
                f"{en}: '{str(value)[:40]}' is not an ISO 8601 time "
                "(e.g. 2026-03-01T00:00+01:00).", field=field) from None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=BERLIN)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise InvalidInput(f"{de}: das Jahr muss zwischen {FIRST_YEAR} und {LAST_YEAR} liegen.",
                           f"{en}: the year must lie between {FIRST_YEAR} and {LAST_YEAR}.",
                           field=field)
    return parsed.astimezone(UTC)


def _day(value: Any, field: str, de: str, en: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = date.fromisoformat(str(value).strip())
        except ValueError:
            raise InvalidInput(f"{de}: Datum JJJJ-MM-TT erwartet (nicht „{str(value)[:40]}“).",
                               f"{en}: date YYYY-MM-DD expected (not '{str(value)[:40]}').",
                               field=field) from None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise InvalidInput(f"{de}: das Jahr muss zwischen {FIRST_YEAR} und {LAST_YEAR} liegen.",
                           f"{en}: the year must lie between {FIRST_YEAR} and {LAST_YEAR}.",
                           field=field)
    return parsed


def _whole(value: Any, field: str, de: str, en: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(f"{de}: eine ganze Zahl angeben.", f"{en}: give a whole number.",
                           field=field)
    text = str(value).strip()
    if not re.fullmatch(r"-?[0-9]{1,6}", text) or not low <= int(text) <= high:
        raise InvalidInput(f"{de}: eine ganze Zahl von {low} bis {high} angeben.",
                           f"{en}: give a whole number from {low} to {high}.", field=field)
    return int(text)


def _policy(value: Any) -> str:
    text = str(getattr(value, "value", value) or "").strip()
    if text not in {p.value for p in Policy}:
        options = ", ".join(p.value for p in Policy)
        raise InvalidInput(f"Verfahren ohne Mittel: „{text[:40]}“ ist unbekannt (möglich: "
                           f"{options}).", f"Policy: '{text[:40]}' is unknown (possible: "
                           f"{options}).", field="policy")
    return text


def _budget(value: Any) -> list[dict[str, Any]]:
    """Budget lines: year, source, amount (euros), priority (default: order within the year)."""
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput("Budget: mindestens eine Zeile (Jahr, Quelle, Betrag) angeben.",
                           "Budget: give at least one line (year, source, amount).",
                           field="budget")
    lines, seen, per_year = [], set(), {}
    for raw in value:
        item = raw if isinstance(raw, dict) else {}
        year = _whole(item.get("year"), "budget", "Budget: Haushaltsjahr", "Budget: budget year",
                      FIRST_YEAR, LAST_YEAR)
        source = _text(item.get("source"), "budget", "Budget: Mittelquelle", "Budget: source")
        if (year, source) in seen:
            raise InvalidInput(f"Budget: {year}/{source} ist doppelt angegeben.",
                               f"Budget: {year}/{source} is given twice.", field="budget")
        seen.add((year, source))
        cents = budget.parse_euros(item.get("amount"), f"Budget {year}/{source}")
        priority = item.get("priority")
        priority = per_year.get(year, 0) if priority is None else _whole(
            priority, "budget", "Budget: Priorität", "Budget: priority", 0, 99)
        per_year[year] = per_year.get(year, 0) + 1
        lines.append({"year": year, "source": source, "cents": cents, "priority": priority})
    return lines


def _config(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise InvalidInput("Konfiguration: kein gültiges JSON.",
                               "Configuration: not valid JSON.", field="config") from None
    if not isinstance(value, dict):
        raise InvalidInput("Konfiguration: ein JSON-Objekt angeben.",
                           "Configuration: give a JSON object.", field="config")
    if len(json.dumps(value)) > MAX_CONFIG:
        raise InvalidInput(f"Konfiguration: höchstens {MAX_CONFIG} Zeichen.",
                           f"Configuration: at most {MAX_CONFIG} characters.", field="config")
    return value


def _financing_kind(value: Any) -> str:
    text = str(getattr(value, "value", value) or "").strip()
    if text not in {k.value for k in FinancingKind}:
        options = ", ".join(f.label.de for f in FINANCING.values())
        raise InvalidInput(f"Finanzierungsart: „{text[:40]}“ ist unbekannt (möglich: {options}).",
                           f"Financing: '{text[:40]}' is unknown.", field="financing_kind")
    return text


def _share(value: Any) -> int | None:
    """The share of eligible expenses (Anteilfinanzierung) in percent, kept in basis points."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip().replace(",", ".")
    if not re.fullmatch(r"[0-9]{1,3}(?:\.[0-9]{1,2})?", text) or \
            not 0 < _basis_points(text) <= 10000:
        raise InvalidInput("Anteil: eine Zahl über 0 bis 100 (Prozent, höchstens zwei "
                           "Nachkommastellen) angeben.", "Share: give a number above 0 up to "
                           "100 (percent, at most two decimals).", field="grant_share_percent")
    return _basis_points(text)


def _basis_points(text: str) -> int:
    """'62.5' percent as basis points (6250), without a float."""
    whole, _, part = text.partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


def _optional_euros(value: Any, de: str, en: str, field: str) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        return budget.parse_euros(value, de, en)
    except InvalidInput as error:
        error.extra["field"] = field
        raise


def percent(basis_points: int) -> str:
    """6250 basis points as "62.5" (the share as the form shows it)."""
    return str((Decimal(basis_points) / 100).normalize())


def _slug(label: str) -> str:
    text = label.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    return re.sub(r"[^a-z0-9]+", "_", text).strip("_")[:40] or "kriterium"


def _criteria(value: Any) -> list[dict[str, str]] | None:
    """The Prüfvermerk's criteria: [{code, de, en}], or lines of text ("Quartiersbezug" or
    "Quartiersbezug | Neighbourhood focus"); empty: no structured assessment."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        value = [line for line in value.splitlines() if line.strip()]
    if not isinstance(value, list | tuple):
        raise InvalidInput("Prüfkriterien: eine Liste angeben.", "Criteria: give a list.",
                           field="assessment_criteria")
    if len(value) > MAX_CRITERIA:
        raise InvalidInput(f"Prüfkriterien: höchstens {MAX_CRITERIA}.",
                           f"Criteria: at most {MAX_CRITERIA}.", field="assessment_criteria")
    criteria: list[dict[str, str]] = []
    for raw in value:
        if isinstance(raw, dict):
            de = str(raw.get("de") or "").strip()
            en = str(raw.get("en") or "").strip() or de
            code = str(raw.get("code") or "").strip() or _slug(de)
        else:
            de, _, en = (part.strip() for part in str(raw).partition("|"))
            en, code = en or de, _slug(de)
        if not de or len(de) > 200 or len(en) > 200:
            raise InvalidInput("Prüfkriterien: jedes Kriterium braucht eine Bezeichnung "
                               "(höchstens 200 Zeichen).", "Criteria: each criterion needs a "
                               "label (at most 200 characters).", field="assessment_criteria")
        if not CRITERION_CODE.fullmatch(code):
            raise InvalidInput(f"Prüfkriterien: „{code[:40]}“ ist kein gültiges Kürzel.",
                               f"Criteria: '{code[:40]}' is not a valid code.",
                               field="assessment_criteria")
        if any(c["code"] == code for c in criteria):
            raise InvalidInput(f"Prüfkriterien: „{de}“ ist doppelt angegeben.",
                               f"Criteria: '{en}' is given twice.", field="assessment_criteria")
        criteria.append({"code": code, "de": de, "en": en})
    return criteria


def _check_financing(kind: str, share_bp: int | None, fixed_cents: int | None) -> None:
    """The Finanzierungsart's own setting must be given (the share, the fixed sum)."""
    financing = FINANCING[FinancingKind(kind)]
    if financing.needs_share and not share_bp:
        raise InvalidInput(f"{financing.label.de}: bitte den Anteil der zuwendungsfähigen "
                           "Ausgaben in Prozent angeben.", f"{financing.label.en}: give the "
                           "share of eligible expenses in percent.", field="grant_share_percent")
    if financing.needs_fixed and not fixed_cents:
        raise InvalidInput(f"{financing.label.de}: bitte den Festbetrag je Haushaltsjahr "
                           "angeben.", f"{financing.label.en}: give the fixed sum per budget "
                           "year.", field="fixed_grant")


def _check_window(opens: datetime, closes: datetime) -> None:
    if opens >= closes:
        raise InvalidInput(
            f"Das Einreichungsfenster muss sich öffnen, bevor es schließt (Beginn "
            f"{moment(opens, 'de')}, Ende {moment(closes, 'de')}).",
            f"The submission window must open before it closes (opens {moment(opens, 'en')}, "
            f"closes {moment(closes, 'en')}).", field="closes_at")


# ------------------------------------------------------------------ lookups and snapshots


def _programme(session: Session, code: str) -> Programme:
    found = session.exec(select(Programme).where(Programme.code == code)).first()
    if found is None:
        raise NotFound(f"Förderprogramm {code} wurde nicht gefunden.",
                       f"Programme {code} was not found.", field="programme")
    return found


def _call(session: Session, code: str) -> Call:
    found = session.exec(select(Call).where(Call.code == code)).first()
    if found is None:
        raise NotFound(f"Förderaufruf {code} wurde nicht gefunden.", f"Call {code} was not found.")
    return budget.lock_call(session, found.id)


def _modules(session: Session, programme_id: int) -> list[Module]:
    return list(session.exec(select(Module).where(Module.programme_id == programme_id)
                             .order_by(Module.code)))


def programme_snapshot(session: Session, programme: Programme) -> dict[str, Any]:
    """ProgrammeOut: the programme with its modules and the codes of its calls."""
    calls = session.exec(select(Call.code).where(Call.programme_id == programme.id)
                         .order_by(Call.id)).all()
    return {"code": programme.code, "name": programme.name, "purpose": programme.purpose,
            "contact_name": programme.contact_name, "contact_email": programme.contact_email,
            "config": programme.config or {},
            "modules": [{"code": m.code, "name": m.name}
                        for m in _modules(session, programme.id)],
            "calls": list(calls)}


def _iso(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.isoformat()


def call_snapshot(session: Session, call: Call) -> dict[str, Any]:
    """Everything programme administration sets on a call, JSON-ready (for the audit)."""
    return {"code": call.code, "title": call.title, "opens_at": _iso(call.opens_at),
            "closes_at": _iso(call.closes_at), "policy": call.policy,
            "min_grant": euros(call.min_grant_cents),
            "earliest_project_start": _iso(call.earliest_project_start),
            "min_project_months": call.min_project_months,
            "financing_kind": call.financing_kind,
            "grant_share_percent": (None if call.grant_share_bp is None
                                    else percent(call.grant_share_bp)),
            "fixed_grant": None if call.fixed_grant_cents is None else euros(
                call.fixed_grant_cents),
            "max_grant": None if call.max_grant_cents is None else euros(call.max_grant_cents),
            "assessment_criteria": call.assessment_criteria,
            "budget": [{"year": ln.year, "source": ln.source, "priority": ln.priority,
                        "amount": euros(ln.budget_cents)}
                       for ln in budget.budget_lines(session, call.id)]}


def record_change(session: Session, actor: Actor, action: ActionName, kind: str, subject: str,
                  before: dict[str, Any] | None, after: dict[str, Any] | None, now: datetime,
                  reason: str | None = None) -> None:
    """One audit record of a change by programme administration, in the caller's transaction."""
    session.add(AdminAudit(at=now, actor_id=actor.id, actor_name=actor.name, action=action.value,
                           subject_kind=kind, subject=subject, before=before, after=after,
                           reason=reason))
    session.flush()


# ------------------------------------------------------------------ programmes and modules


def create_programme(session: Session, actor: Actor, fields: dict[str, Any],
                     now: datetime | None = None) -> Programme:
    """A new programme (code, name, purpose, contact, configuration) with its first modules."""
    now = now or datetime.now(UTC)
    _allowed(ActionName.create_programme, actor)
    code = _code(fields.get("code"), PROGRAMME_CODE, "code", "Programmkürzel", "Programme code")
    programme = Programme(
        code=code, name=_text(fields.get("name"), "name", "Name", "Name"),
        purpose=_text(fields.get("purpose"), "purpose", "Zweck", "Purpose", required=False),
        contact_name=_text(fields.get("contact_name"), "contact_name", "Ansprechperson",
                           "Contact", required=False),
        contact_email=_text(fields.get("contact_email"), "contact_email", "Kontakt-E-Mail",
                            "Contact email", required=False),
        config=_config(fields.get("config")))
    modules = [(_code(m.get("code"), MODULE_CODE, "modules", "Baustein", "Module"),
                _text(m.get("name"), "modules", "Name des Bausteins", "Module name"))
               for m in fields.get("modules") or []]
    if len({c for c, _ in modules}) != len(modules):
        raise InvalidInput("Bausteine: ein Kürzel ist doppelt angegeben.",
                           "Modules: a code is given twice.", field="modules")
    if session.exec(select(Programme.id).where(Programme.code == code)).first() is not None:
        raise Conflict(f"Ein Förderprogramm mit dem Kürzel {code} gibt es bereits.",
                       f"A programme with the code {code} already exists.", field="code")
    session.add(programme)
    session.flush()
    for module_code, name in modules:
        session.add(Module(programme_id=programme.id, code=module_code, name=name))
    session.flush()
    record_change(session, actor, ActionName.create_programme, "programme", code, None,
                  programme_snapshot(session, programme), now)
    return programme


def add_module(session: Session, actor: Actor, programme_code: str, fields: dict[str, Any],
               now: datetime | None = None) -> Module:
    now = now or datetime.now(UTC)
    _allowed(ActionName.add_module, actor)
    programme = _programme(session, programme_code)
    code = _code(fields.get("code"), MODULE_CODE, "code", "Baustein", "Module")
    name = _text(fields.get("name"), "name", "Name des Bausteins", "Module name")
    if any(m.code == code for m in _modules(session, programme.id)):
        raise Conflict(f"Den Baustein {code} gibt es in {programme.code} bereits.",
                       f"Module {code} already exists in {programme.code}.", field="code")
    module = Module(programme_id=programme.id, code=code, name=name)
    session.add(module)
    session.flush()
    record_change(session, actor, ActionName.add_module, "module", f"{programme.code}/{code}",
                  None, {"code": code, "name": name}, now)
    return module


def rename_module(session: Session, actor: Actor, programme_code: str, module_code: str,
                  name: str, now: datetime | None = None) -> Module:
    now = now or datetime.now(UTC)
    _allowed(ActionName.rename_module, actor)
    programme = _programme(session, programme_code)
    modules = _modules(session, programme.id)
    module = next((m for m in modules if m.code == module_code), None)
    if module is None:
        known = ", ".join(m.code for m in modules) or "–"
        raise NotFound(f"Unbekannter Baustein „{module_code[:20]}“ in {programme.code} "
                       f"(vorhanden: {known}).", f"Unknown module '{module_code[:20]}' in "
                       f"{programme.code} (existing: {known}).", field="module")
    new_name = _text(name, "name", "Name des Bausteins", "Module name")
    before = {"code": module.code, "name": module.name}
    module.name = new_name
    session.add(module)
    session.flush()
    record_change(session, actor, ActionName.rename_module, "module",
                  f"{programme.code}/{module.code}", before,
                  {"code": module.code, "name": new_name}, now)
    return module


def programmes(session: Session) -> list[Programme]:
    return list(session.exec(select(Programme).order_by(Programme.id)))


# ------------------------------------------------------------------ calls


def _call_values(fields: dict[str, Any]) -> dict[str, Any]:
    """The given call fields, parsed and checked one by one (the window as a pair later)."""
    parsers = {
        "code": lambda v: _code(v, CALL_CODE, "code", "Aufrufkürzel", "Call code"),
        "title": lambda v: _text(v, "title", "Titel", "Title"),
        "opens_at": lambda v: _moment(v, "opens_at", "Beginn", "Opens at"),
        "closes_at": lambda v: _moment(v, "closes_at", "Ende", "Closes at"),
        "policy": _policy,
        "min_grant": lambda v: budget.parse_euros(v, "Mindestzuwendung", "Minimum grant"),
        "earliest_project_start": lambda v: _day(v, "earliest_project_start",
                                                 "Frühester Projektbeginn",
                                                 "Earliest project start"),
        "min_project_months": lambda v: _whole(v, "min_project_months", "Mindestlaufzeit",
                                               "Minimum project months", 0, MAX_MONTHS),
        "budget": _budget,
        "financing_kind": _financing_kind,
        "grant_share_percent": _share,
        "fixed_grant": lambda v: _optional_euros(v, "Festbetrag je Haushaltsjahr",
                                                 "Fixed sum per budget year", "fixed_grant"),
        "max_grant": lambda v: _optional_euros(v, "Höchstbetrag je Haushaltsjahr",
                                               "Maximum grant per budget year", "max_grant"),
        "assessment_criteria": _criteria,
    }
    unknown = set(fields) - set(parsers)
    if unknown:
        name = sorted(unknown)[0]
        raise InvalidInput(f"Unbekanntes Feld „{name[:40]}“.", f"Unknown field '{name[:40]}'.",
                           field=name[:40])
    return {name: parsers[name](value) for name, value in fields.items()}


def _code_free(session: Session, code: str) -> None:
    if session.exec(select(Call.id).where(Call.code == code)).first() is not None:
        raise Conflict(f"Einen Förderaufruf mit dem Kürzel {code} gibt es bereits.",
                       f"A call with the code {code} already exists.", field="code")


def _apply_budget(session: Session, call: Call, lines: list[dict[str, Any]], actor: Actor,
                  now: datetime, note: str) -> bool:
    """Set the given lines (year/source) to their amounts and priorities; every change of an
    amount is a ledger entry. Lines not given stay as they are. True if any amount changed."""
    existing = {(ln.year, ln.source): ln for ln in session.exec(
        select(BudgetLine).where(BudgetLine.call_id == call.id))}
    moved = False
    for item in lines:
        line = existing.get((item["year"], item["source"]))
        if line is None:
            line = BudgetLine(call_id=call.id, year=item["year"], source=item["source"],
                              priority=item["priority"], budget_cents=0, committed_cents=0)
            session.add(line)
            session.flush()
        elif line.priority != item["priority"]:
            line.priority = item["priority"]
            session.add(line)
            session.flush()
        delta = item["cents"] - line.budget_cents
        if delta:
            budget.change_budget(session, line, delta, now, actor.id, note)
            moved = True
    return moved


def _after_money_change(session: Session, call: Call, now: datetime) -> None:
    """The minimum grant or the budget changed: set or lift the automatic stop."""
    programme = session.get(Programme, call.programme_id)
    outcome = funding_stop.reevaluate(session, call, programme, now)
    engine.offer_again(session, call, programme, outcome, now)


def create_call(session: Session, actor: Actor, programme_code: str, fields: dict[str, Any],
                now: datetime | None = None) -> Call:
    """A new call of a programme with its window, policy, rules and budget per year and source."""
    now = now or datetime.now(UTC)
    _allowed(ActionName.create_call, actor)
    missing = [name for name in ("code", "title", "opens_at", "closes_at", "budget")
               if fields.get(name) in (None, "", [])]
    if missing:
        raise InvalidInput(f"Bitte angeben: {', '.join(missing)}.",
                           f"Required: {', '.join(missing)}.", field=missing[0])
    programme = _programme(session, programme_code)
    values = _call_values(fields)
    _check_window(values["opens_at"], values["closes_at"])
    _code_free(session, values["code"])
    call = Call(programme_id=programme.id, code=values["code"], title=values["title"],
                opens_at=values["opens_at"], closes_at=values["closes_at"],
                policy=values.get("policy", Policy.waitlist.value),
                min_grant_cents=values.get("min_grant", 0),
                earliest_project_start=values.get("earliest_project_start"),
                min_project_months=values.get("min_project_months", 0),
                financing_kind=values.get("financing_kind", FinancingKind.shortfall.value),
                grant_share_bp=values.get("grant_share_percent"),
                fixed_grant_cents=values.get("fixed_grant"),
                max_grant_cents=values.get("max_grant"),
                assessment_criteria=values.get("assessment_criteria"))
    _check_financing(call.financing_kind, call.grant_share_bp, call.fixed_grant_cents)
    session.add(call)
    session.flush()
    call = budget.lock_call(session, call.id)
    _apply_budget(session, call, values["budget"], actor, now, "Haushaltsansatz")
    _after_money_change(session, call, now)
    record_change(session, actor, ActionName.create_call, "call", call.code, None,
                  call_snapshot(session, call), now)
    return call


def submitted_count(session: Session, call_id: int) -> int:
    """Applications of the call that have left the draft (were submitted at some point)."""
    return session.exec(select(func.count()).select_from(Application).where(
        Application.call_id == call_id,
        (Application.state != State.draft.value) | Application.received_at.is_not(None),
    )).one()


def edit_call(session: Session, actor: Actor, code: str, fields: dict[str, Any],
              now: datetime | None = None) -> Call:
    """Change any of the call's fields while none of its applications has been submitted."""
    now = now or datetime.now(UTC)
    _allowed(ActionName.edit_call, actor)
    if not fields:
        raise InvalidInput("Keine Änderung angegeben.", "No change given.")
    call = _call(session, code)
    submitted = submitted_count(session, call.id)
    if submitted:
        raise WrongState(
            f"Der Förderaufruf {call.code} kann nicht mehr bearbeitet werden: {submitted} "
            f"Antrag/Anträge wurde(n) bereits eingereicht. Budgets ändern Sie über die "
            "Budgetänderung (mit Eintrag im Hauptbuch), vorzeitig schließen über "
            "„Förderaufruf schließen“.",
            f"Call {call.code} can no longer be edited: {submitted} application(s) have been "
            "submitted. Change budgets through a budget change (ledgered), close it early "
            "through 'close call'.", submitted=submitted)
    values = _call_values(fields)
    _check_window(values.get("opens_at", call.opens_at), values.get("closes_at", call.closes_at))
    if values.get("code", call.code) != call.code:
        _code_free(session, values["code"])
    before = call_snapshot(session, call)
    columns = {"code": "code", "title": "title", "opens_at": "opens_at",
               "closes_at": "closes_at", "policy": "policy", "min_grant": "min_grant_cents",
               "earliest_project_start": "earliest_project_start",
               "min_project_months": "min_project_months", "financing_kind": "financing_kind",
               "grant_share_percent": "grant_share_bp", "fixed_grant": "fixed_grant_cents",
               "max_grant": "max_grant_cents", "assessment_criteria": "assessment_criteria"}
    for name, column in columns.items():
        if name in values:
            setattr(call, column, values[name])
    _check_financing(call.financing_kind, call.grant_share_bp, call.fixed_grant_cents)
    session.add(call)
    session.flush()
    moved = _apply_budget(session, call, values.get("budget", []), actor, now,
                          "Förderaufruf bearbeitet")
    if moved or "min_grant" in values:
        _after_money_change(session, call, now)
    after = call_snapshot(session, call)
    changed = [k for k in after if after[k] != before[k]]
    if changed:
        record_change(session, actor, ActionName.edit_call, "call", call.code,
                      {k: before[k] for k in changed}, {k: after[k] for k in changed}, now)
    return call


def close_call(session: Session, actor: Actor, code: str, reason: str,
               now: datetime | None = None) -> Call:
    """Close an open call now, with a reason; applications not submitted by now are too late."""
    now = now or datetime.now(UTC)
    _allowed(ActionName.close_call, actor)
    reason = _text(reason, "reason", "Begründung", "Reason")
    call = _call(session, code)
    opens = call.opens_at if call.opens_at.tzinfo else call.opens_at.replace(tzinfo=UTC)
    closes = call.closes_at if call.closes_at.tzinfo else call.closes_at.replace(tzinfo=UTC)
    if closes <= now:
        raise WrongState(f"Der Förderaufruf {call.code} ist bereits seit "
                         f"{moment(closes, 'de')} geschlossen.",
                         f"Call {call.code} has been closed since {moment(closes, 'en')}.")
    if opens > now:
        raise WrongState(f"Der Förderaufruf {call.code} ist noch nicht geöffnet (ab "
                         f"{moment(opens, 'de')}); bitte stattdessen das Einreichungsfenster "
                         "bearbeiten.", f"Call {call.code} is not open yet (from "
                         f"{moment(opens, 'en')}); edit its submission window instead.")
    before = {"closes_at": _iso(closes)}
    call.closes_at = now
    session.add(call)
    session.flush()
    record_change(session, actor, ActionName.close_call, "call", call.code, before,
                  {"closes_at": _iso(now)}, now, reason)
    return call


# ------------------------------------------------------------------ the audit


def audit_page(session: Session, actor: Actor, limit: int = 100, offset: int = 0,
               subject: str | None = None) -> Page[AdminAudit]:
    """The audit records, newest first (of one subject and the modules of a programme, if given)."""
    _allowed(ActionName.read_admin_audit, actor)
    query = select(AdminAudit)
    counted = select(func.count()).select_from(AdminAudit)
    if subject:
        match = (AdminAudit.subject == subject) | AdminAudit.subject.startswith(
            f"{subject}/", autoescape=True)
        query, counted = query.where(match), counted.where(match)
    rows = list(session.exec(query.order_by(AdminAudit.id.desc()).offset(offset).limit(limit)))
    return Page(rows, session.exec(counted).one(), limit, offset)


_ACTION_NAMES = frozenset(a.value for a in ActionName)


def audit_out(record: AdminAudit, lang: str = "de") -> dict[str, Any]:
    action = ACTIONS.get(ActionName(record.action)) if record.action in _ACTION_NAMES else None
    return {"id": record.id, "at": record.at, "actor_id": record.actor_id,
            "actor_name": record.actor_name, "action": record.action,
            "action_label": action.label.in_language(lang) if action else record.action,
            "subject_kind": record.subject_kind, "subject": record.subject,
            "before": record.before, "after": record.after, "reason": record.reason}
