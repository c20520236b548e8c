"""The actions staff may take on a case, with their input forms generated from the transition
table: each guard that checks input, each deadline a transition opens for staff to set and each
effect that takes a choice becomes a field. A new row in `states/` shows up on the case page
without template work; what the engine refuses is shown with the engine's reason.

The form's field names are `<trigger>__<input>`, so that several action forms share one page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlmodel import Session
from starlette.datastructures import FormData

from states import STAFF_ADJUSTABLE, TRANSITIONS_BY_TRIGGER, DeadlineKind, Effect, Guard, Role
from states.lifecycle import Transition
from workflow import engine
from workflow.errors import InvalidInput, WorkflowError, WrongState
from workflow.models import Application
from workflow.rows import Actor


def _msg(text: str) -> str:
    """Marks a German msgid for the catalog; translated when shown."""
    return text


@dataclass(frozen=True)
class InputKind:
    """One kind of input a transition may need: the form control and its label (msgid)."""

    name: str  # the engine's payload key ("reason" is the firing's reason)
    control: str  # textarea | money_years | money | date | lines | checkbox
    label: str
    hint: str | None = None
    required: bool = True


REASON = InputKind("reason", "textarea", _msg("Begründung"),
                   _msg("Wird im Verlauf gespeichert; bei Nachforderungen und Ablehnungen liest "
                        "sie der Träger."))
# Guards that read the firing's input -> the field they read.
GUARD_INPUTS: dict[Guard, InputKind] = {
    Guard.reason_given: REASON,
    Guard.amounts_given: InputKind("amounts", "money_years",
                                   _msg("Vorgeschlagener Betrag je Haushaltsjahr")),
    Guard.spending_given: InputKind("spending", "money_years",
                                    _msg("Tatsächliche Ausgaben je Haushaltsjahr")),
    Guard.repayment_given: InputKind("repayment", "money", _msg("Rückforderung in Euro")),
}
# A transition that opens a document request asks for the list of documents.
DOCUMENTS = InputKind("documents", "lines", _msg("Nachgeforderte Unterlagen"),
                      _msg("Eine Unterlage je Zeile, z. B. Satzung"), required=False)
DEADLINE = InputKind("deadline", "date", _msg("Frist"),
                     _msg("Leer lassen für die übliche Frist des Programms."), required=False)
# Effects that take a choice.
EFFECT_INPUTS: dict[Effect, InputKind] = {
    Effect.record_waiver_of_appeal: InputKind(
        "waiver_of_appeal", "checkbox",
        _msg("Der Träger hat auf Rechtsbehelfe verzichtet (Rechtsbehelfsverzicht)"),
        required=False),
}


def inputs_of(spec: Transition) -> list[InputKind]:
    """The inputs a transition takes, in the order of the form."""
    found = [GUARD_INPUTS[g] for g in spec.guards if g in GUARD_INPUTS]
    if DeadlineKind.document_request in spec.opens:
        found.append(DOCUMENTS)
    if any(kind in STAFF_ADJUSTABLE for kind in spec.opens):
        found.append(DEADLINE)
    found += [EFFECT_INPUTS[e] for e in spec.effects if e in EFFECT_INPUTS]
    return list(dict.fromkeys(found))


def field_name(trigger: str, name: str, year: int | None = None) -> str:
    return f"{trigger}__{name}" + (f"__{year}" if year is not None else "")


@dataclass
class ActionForm:
    """One action on the page: possible now (a form), or not yet (the engine's reason)."""

    trigger: str
    label: str
    inputs: list[InputKind]
    refusal: str | None = None
    errors: dict[str, str] = field(default_factory=dict)


def _shown(refusal: WorkflowError | None, actor: Actor) -> bool:
    """A refusal worth showing: not 'wrong state' and not 'not your role' (an action that does
    not exist for this user now); four-eyes and other guards are shown with their reason."""
    if refusal is None:
        return True
    if isinstance(refusal, WrongState):
        return False
    return not (refusal.status == 403 and refusal.type == "not-permitted")


def action_forms(session: Session, app: Application, actor: Actor, lang: str,
                 skip: frozenset[str] = frozenset()) -> list[ActionForm]:
    """The staff actions on `app` now, as the engine says, each with its inputs."""
    out = []
    for trigger, refusal in engine.available_triggers(session, app.id, actor).items():
        spec = TRANSITIONS_BY_TRIGGER[trigger]
        if trigger in skip or Role.carrier in spec.roles or not _shown(refusal, actor):
            continue
        out.append(ActionForm(trigger, spec.label.in_language(lang), inputs_of(spec),
                              None if refusal is None else refusal.message(lang)))
    return out


def payload_from(form: FormData, spec: Transition) -> tuple[str | None, dict[str, Any]]:
    """The firing's reason and payload from the posted action form."""
    reason: str | None = None
    payload: dict[str, Any] = {}
    for kind in inputs_of(spec):
        key = field_name(spec.trigger, kind.name)
        if kind.control == "money_years":
            prefix = key + "__"
            years = {name[len(prefix):]: str(value).strip() for name, value in form.items()
                     if name.startswith(prefix) and isinstance(value, str) and value.strip()}
            if years:
                payload[kind.name] = years
            continue
        raw = form.get(key)
        text = raw.strip() if isinstance(raw, str) else ""
        if kind is REASON:
            reason = text or None
        elif kind.control == "lines":
            lines = [line.strip() for line in text.splitlines() if line.strip()]
            if lines:
                payload[kind.name] = lines
        elif kind.control == "checkbox":
            if text:
                payload[kind.name] = True
        elif kind.control == "date":
            if text:
                try:
                    date.fromisoformat(text)
                except ValueError:
                    raise InvalidInput(
                        "Bitte die Frist als Datum angeben (TT.MM.JJJJ).",
                        "Give the deadline as a date.", field=kind.name) from None
                payload[kind.name] = text
        elif text:
            payload[kind.name] = text
    return reason, payload


def errors_for(trigger: str, error: WorkflowError, lang: str,
               spec: Transition) -> dict[str, str]:
    """The refusal next to the field of the action form it concerns (else on the form)."""
    name = str(error.extra.get("field") or "").split(".")[0]
    names = {kind.name for kind in inputs_of(spec)}
    key = field_name(trigger, name) if name in names else field_name(trigger, "form")
    return {key: error.message(lang)}
