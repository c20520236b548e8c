"""The structured assessment (Prüfvermerk, issue 15): the call's criteria, each with a rating on
the call's scale and a note, a summary and the recommended amounts per budget year. Recorded
by staff while the case is in review, versioned (every save a new row, the newest counts),
required complete for `recommend` where the call configures criteria; read by staff and
admins, never by the carrier or the observer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.engine import Connection
from sqlmodel import Session

from states import STATE_LABELS, State
from states.labels import Label
from states.staff import (
    ASSESSMENT_READERS,
    DEFAULT_CRITERIA,
    RATING_SCALE,
    STAFF_ACTIONS,
    StaffActionName,
)
from workflow import inputs
from workflow.applications import find_call, load_application, years_of
from workflow.errors import InvalidInput, NotFound, NotPermitted, StaleVersion, WrongState
from workflow.models import Assessment, Call, TransitionRecord
from workflow.rows import Actor

RECORD = STAFF_ACTIONS[StaffActionName.record_assessment]
_AS = Assessment.__table__.c  # type: ignore[attr-defined]
_CALL = Call.__table__.c  # type: ignore[attr-defined]
NOTE_MAX = 4000
SUMMARY_MAX = 20000


@dataclass(frozen=True)
class CriterionConfig:
    code: str
    label: Label


@dataclass(frozen=True)
class ScaleStep:
    code: str
    value: int
    label: Label


def default_criteria_config() -> list[dict[str, str]]:
    """The ZiQ criteria as a call stores them."""
    return [{"code": c.code, "de": c.label.de, "en": c.label.en} for c in DEFAULT_CRITERIA]


def default_scale_config() -> list[dict[str, Any]]:
    return [{"code": r.code, "value": r.value, "de": r.label.de, "en": r.label.en}
            for r in RATING_SCALE]


def criteria_of(call: Call) -> list[CriterionConfig]:
    """The call's criteria; a call that configures none uses the ZiQ defaults, and then the
    Prüfvermerk may be written but is not required for `recommend`."""
    return [CriterionConfig(c["code"], Label(c["de"], c.get("en") or c["de"]))
            for c in call.assessment_criteria or default_criteria_config()]


def required(call: Call) -> bool:
    """Whether `recommend` needs a complete Prüfvermerk: the call configures criteria."""
    return bool(call.assessment_criteria)


def scale_of(call: Call) -> list[ScaleStep]:
    steps = call.assessment_scale or default_scale_config()
    return [ScaleStep(s["code"], int(s["value"]), Label(s["de"], s.get("en") or s["de"]))
            for s in steps]


def may_read(actor: Actor) -> None:
    if actor.role not in ASSESSMENT_READERS:
        raise NotPermitted(
            "Der Prüfvermerk ist ein interner Vermerk der Bewilligungsbehörde.",
            "The assessment is an internal note of the granting authority.")


def latest(session: Session, application_id: int) -> Assessment | None:
    return session.exec(  # type: ignore[call-overload]
        select(Assessment).where(Assessment.application_id == application_id)
        .order_by(Assessment.version.desc()).limit(1)).scalars().first()


def versions(session: Session, application_id: int) -> list[Assessment]:
    return list(session.execute(
        select(Assessment).where(Assessment.application_id == application_id)
        .order_by(Assessment.version)).scalars())


def _parse_ratings(raw: Any, criteria: list[CriterionConfig],
                   scale: list[ScaleStep]) -> dict[str, dict[str, Any]]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidInput("ratings: je Kriterium ein Objekt mit rating und note.",
                           "ratings: one object with rating and note per criterion.",
                           field="ratings")
    known = {c.code for c in criteria}
    codes = {s.code for s in scale}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise InvalidInput(
            f"Unbekanntes Prüfkriterium: {', '.join(unknown)}. Kriterien dieses Aufrufs: "
            f"{', '.join(sorted(known))}.",
            f"Unknown criterion: {', '.join(unknown)}. This call's criteria: "
            f"{', '.join(sorted(known))}.", field=f"ratings.{unknown[0]}")
    parsed: dict[str, dict[str, Any]] = {}
    for criterion in criteria:
        entry = raw.get(criterion.code) or {}
        if not isinstance(entry, dict):
            raise InvalidInput(f"{criterion.label.de}: bitte rating und note angeben.",
                               f"{criterion.label.en}: give rating and note.",
                               field=f"ratings.{criterion.code}")
        rating = entry.get("rating")
        note = entry.get("note") or ""
        if rating is not None and rating not in codes:
            raise InvalidInput(
                f"{criterion.label.de}: „{rating}“ ist keine Bewertung der Skala "
                f"({', '.join(s.code for s in scale)}).",
                f"{criterion.label.en}: '{rating}' is not on the scale "
                f"({', '.join(s.code for s in scale)}).", field=f"ratings.{criterion.code}")
        if not isinstance(note, str) or len(note) > NOTE_MAX:
            raise InvalidInput(f"{criterion.label.de}: Notiz höchstens {NOTE_MAX} Zeichen.",
                               f"{criterion.label.en}: note at most {NOTE_MAX} characters.",
                               field=f"ratings.{criterion.code}.note")
        parsed[criterion.code] = {"rating": rating, "note": note.strip()}
    return parsed


def missing_parts(ratings: dict[str, Any], summary: str, amounts: dict[str, Any],
                  criteria: list[CriterionConfig], years: list[int]) -> list[Label]:
    """What a Prüfvermerk still lacks to be complete, in the order of the form."""
    missing = [c.label for c in criteria if not (ratings.get(c.code) or {}).get("rating")]
    if not summary.strip():
        missing.append(Label("Zusammenfassung", "summary"))
    for year in years:
        if str(year) not in amounts:
            missing.append(Label(f"empfohlener Betrag {year}", f"recommended amount {year}"))
    return missing


def record_assessment(session: Session, reference: int | str, actor: Actor, *,
                      ratings: Any, summary: str | None, amounts: Any,
                      expected_version: int | None = None,
                      now: datetime | None = None) -> Assessment:
    """Save a new version of the application's Prüfvermerk (complete or a draft of it)."""
    now = now or datetime.now(UTC)
    if not RECORD.allows(actor.role):
        raise NotPermitted(
            f"„{RECORD.label.de}“ ist nur der Sachbearbeitung und den Zeichnungsbefugten "
            "erlaubt.", f"'{RECORD.label.en}' is only allowed for reviewers and approvers.")
    app = load_application(session, reference, actor)
    if app.state not in {s.value for s in RECORD.in_states}:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(
            f"Der Prüfvermerk wird während der Prüfung erfasst (Status: {label.de}).",
            f"The assessment is recorded during the review (state: {label.en}).",
            state=app.state)
    call = session.get(Call, app.call_id)
    criteria = criteria_of(call)
    parsed = _parse_ratings(ratings, criteria, scale_of(call))
    summary = (summary or "").strip()
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput(f"Zusammenfassung: höchstens {SUMMARY_MAX} Zeichen.",
                           f"Summary: at most {SUMMARY_MAX} characters.", field="summary")
    cents = inputs.amounts_per_year({"amounts": amounts}, "amounts", "Empfohlener Betrag",
                                    "Recommended amount") if amounts else {}
    requested = {y: row.requested_cents for y, row in years_of(session, app.id).items()}
    for year, value in (cents or {}).items():
        if year not in requested:
            raise InvalidInput(f"Für {year} wurde nichts beantragt.",
                               f"Nothing was requested for {year}.", field=f"amounts.{year}")
        if value > requested[year]:
            raise InvalidInput(f"{year}: Der empfohlene Betrag übersteigt den beantragten.",
                               f"{year}: the recommended amount exceeds the requested one.",
                               field=f"amounts.{year}")
    stored_amounts = {str(y): c for y, c in sorted((cents or {}).items())}
    current = latest(session, app.id)
    version = (current.version if current else 0) + 1
    if expected_version is not None and (current.version if current else 0) != expected_version:
        raise StaleVersion(
            f"Der Prüfvermerk wurde inzwischen geändert (Version "
            f"{current.version if current else 0}, erwartet {expected_version}).",
            f"The assessment has changed (version {current.version if current else 0}, "
            f"expected {expected_version}).",
            current_version=current.version if current else 0)
    complete = not missing_parts(parsed, summary, stored_amounts, criteria, sorted(requested))
    row = Assessment(application_id=app.id, version=version, author_id=actor.id, at=now,
                     ratings=parsed, summary=summary, amounts_cents=stored_amounts,
                     complete=complete)
    session.add(row)
    # Writing the Prüfvermerk is review work: the history shows it, the four-eyes rule reads it.
    session.add(TransitionRecord(
        application_id=app.id, trigger=RECORD.history_trigger or RECORD.name,
        from_state=app.state, to_state=app.state, actor_id=actor.id,
        actor_role=actor.role.value, at=now, payload={"assessment_version": version,
                                                      "complete": complete}))
    session.flush()
    return row


def assessment_of(session: Session, reference: int | str,
                  actor: Actor) -> tuple[Any, Call, Assessment | None, int]:
    """The application, its call, its newest Prüfvermerk and the number of versions; staff
    and admins only."""
    may_read(actor)
    app = load_application(session, reference, actor)
    if app.state == State.draft.value:
        raise NotFound(f"Antrag {reference} wurde nicht gefunden.",
                       f"Application {reference} was not found.")
    count = session.execute(select(func.count()).where(_AS.application_id == app.id)).scalar()
    return app, session.get(Call, app.call_id), latest(session, app.id), int(count or 0)


def set_criteria(session: Session, code: str, criteria: list[dict[str, str]] | None) -> Call:
    """Give a call its criteria (None or []: no structured assessment). Each has a code, a
    German label and optionally an English one; a code appears once."""
    call = find_call(session, code)
    checked = []
    for number, criterion in enumerate(criteria or [], start=1):
        key = str(criterion.get("code") or "").strip()
        de = " ".join(str(criterion.get("de") or "").split())
        en = " ".join(str(criterion.get("en") or "").split())
        if not key or not de:
            raise InvalidInput(f"Kriterium {number}: Bitte Schlüssel und deutsche Bezeichnung "
                               "angeben.", f"Criterion {number}: give a code and a German "
                               "label.", field=f"criteria.{number - 1}")
        if any(c["code"] == key for c in checked):
            raise InvalidInput(f"Der Schlüssel „{key}“ kommt zweimal vor.",
                               f"The code '{key}' appears twice.",
                               field=f"criteria.{number - 1}.code")
        checked.append({"code": key, "de": de, "en": en or de})
    call.assessment_criteria = checked or None
    session.add(call)
    session.flush()
    return call


def incomplete_reason(conn: Connection, app_id: int, call_id: int) -> list[Label] | None:
    """For the guard of `recommend`: what the newest Prüfvermerk lacks (None: the call needs
    none, or it is complete). One statement."""
    newest = (select(_AS.ratings, _AS.summary, _AS.amounts_cents, _AS.complete)
              .where(_AS.application_id == app_id)
              .order_by(_AS.version.desc()).limit(1).subquery())
    row = conn.execute(
        select(_CALL.assessment_criteria, newest.c.ratings, newest.c.summary,
               newest.c.amounts_cents, newest.c.complete)
        .select_from(Call.__table__.outerjoin(newest, true()))  # type: ignore[attr-defined]
        .where(_CALL.id == call_id)).first()
    if row is None or not row.assessment_criteria:
        return None
    if row.complete:
        return None
    criteria = [CriterionConfig(c["code"], Label(c["de"], c.get("en") or c["de"]))
                for c in row.assessment_criteria]
    if row.ratings is None:
        return [Label("Prüfvermerk", "assessment")]
    return missing_parts(row.ratings, row.summary or "", row.amounts_cents or {}, criteria,
                         []) or [Label("empfohlene Beträge je Haushaltsjahr",
                                       "recommended amounts per budget year")]
