"""The cost headings of a programme's Kosten- und Finanzierungsplan (issue 15, programme
administration): set by an admin, audited, kept in `Programme.config["finance_plan"]`.

A heading that a submitted plan already uses cannot be removed (the plan, the approval and the
Verwendungsnachweis are read by it); its labels may change. Headings are German and English
labels under a stable code.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from states import ActionName, State
from workflow.calls_admin import _allowed, _programme, record_change
from workflow.errors import Conflict, InvalidInput
from workflow.finance_plan import EXPENSE, Heading, headings
from workflow.models import Application, Call, FinancePlanLine, Programme
from workflow.rows import Actor

CODE = re.compile(r"[a-z][a-z0-9_]{0,29}")
MAX_HEADINGS = 30
MAX_LABEL = 120


def _label(value: Any, position: int, field: str, de: str, en: str, required: bool) -> str:
    text = " ".join(str(value or "").split())
    if not text and required:
        raise InvalidInput(f"Kostenposition {position + 1}: Bitte {de} angeben.",
                           f"Cost heading {position + 1}: please give {en}.",
                           field=f"headings.{position}.{field}")
    if len(text) > MAX_LABEL:
        raise InvalidInput(
            f"Kostenposition {position + 1}: {de} ist länger als {MAX_LABEL} Zeichen.",
            f"Cost heading {position + 1}: {en} is longer than {MAX_LABEL} characters.",
            field=f"headings.{position}.{field}")
    return text


def parse(raw: list[dict[str, Any]]) -> tuple[Heading, ...]:
    """The headings as given (code, de, en), checked; refusals name the row."""
    if len(raw) > MAX_HEADINGS:
        raise InvalidInput(f"Höchstens {MAX_HEADINGS} Kostenpositionen.",
                           f"At most {MAX_HEADINGS} cost headings.", field="headings")
    found: list[Heading] = []
    for position, item in enumerate(raw):
        code = str(item.get("code") or "").strip()
        if not CODE.fullmatch(code):
            raise InvalidInput(
                f"Kostenposition {position + 1}: „{code[:40]}“ ist kein gültiges Kürzel "
                "(Kleinbuchstaben, Ziffern und _, beginnend mit einem Buchstaben, höchstens 30 "
                "Zeichen).",
                f"Cost heading {position + 1}: '{code[:40]}' is not a valid code (lower-case "
                "letters, digits and _, starting with a letter, at most 30 characters).",
                field=f"headings.{position}.code")
        if any(h.code == code for h in found):
            raise InvalidInput(f"Das Kürzel „{code}“ ist mehrfach vergeben.",
                               f"The code '{code}' is used more than once.",
                               field=f"headings.{position}.code")
        de = _label(item.get("de"), position, "de", "die deutsche Bezeichnung",
                    "the German label", True)
        en = _label(item.get("en"), position, "en", "die englische Bezeichnung",
                    "the English label", False) or de
        found.append(Heading(code, de, en))
    return tuple(found)


def _in_use(session: Session, programme_id: int, codes: set[str]) -> dict[str, int]:
    """How many submitted applications of the programme plan an amount under each of `codes`
    (a heading left at 0,00 € is not used)."""
    if not codes:
        return {}
    rows = session.exec(
        select(FinancePlanLine.heading, func.count(func.distinct(Application.id)))
        .join(Application, Application.id == FinancePlanLine.application_id)
        .join(Call, Call.id == Application.call_id)
        .where(Call.programme_id == programme_id, FinancePlanLine.kind == EXPENSE,
               FinancePlanLine.heading.in_(sorted(codes)), FinancePlanLine.cents != 0,
               Application.state != State.draft.value)
        .group_by(FinancePlanLine.heading)).all()
    return {str(code): int(count) for code, count in rows}


def set_expense_headings(session: Session, actor: Actor, programme_code: str,
                         raw: list[dict[str, Any]], *, now: datetime | None = None,
                         ) -> Programme:
    """Replace the programme's cost headings (admin; audited). Drafts keep their amounts under
    a removed heading until the carrier saves the plan again; a heading a submitted plan uses
    stays."""
    now = now or datetime.now(UTC)
    _allowed(ActionName.set_expense_headings, actor)
    programme = _programme(session, programme_code)
    new = parse(raw)
    config = dict(programme.config or {})
    before = headings(config)
    removed = {h.code for h in before} - {h.code for h in new}
    used = _in_use(session, programme.id, removed)
    if used:
        listed = ", ".join(f"„{next(h.de for h in before if h.code == c)}“ ({n})"
                           for c, n in sorted(used.items()))
        listed_en = ", ".join(f"'{next(h.en for h in before if h.code == c)}' ({n})"
                              for c, n in sorted(used.items()))
        raise Conflict(
            f"Diese Kostenpositionen stehen in eingereichten Finanzplänen und bleiben: {listed}. "
            "Ihre Bezeichnung kann geändert werden.",
            f"These cost headings are in submitted finance plans and stay: {listed_en}. "
            "Their labels can be changed.", field="headings", in_use=sorted(used))
    plan = dict(config.get("finance_plan") or {})
    plan["expense_headings"] = [{"code": h.code, "de": h.de, "en": h.en} for h in new]
    config["finance_plan"] = plan
    programme.config = config  # a new dict: the JSON column is written
    session.add(programme)
    session.flush()
    record_change(session, actor, ActionName.set_expense_headings, "programme", programme.code,
                  {"expense_headings": [{"code": h.code, "de": h.de, "en": h.en} for h in before]},
                  {"expense_headings": plan["expense_headings"]}, now)
    return programme
