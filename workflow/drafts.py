"""Drafts: a carrier creates an application and edits it until it is submitted."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from notifications import formatting
from states import ACTIONS, INITIAL_STATE, STATE_LABELS, ActionName, State
from workflow import budget, deadlines, finance_plan
from workflow.applications import load_application
from workflow.errors import InvalidInput, NotFound, NotPermitted, StaleVersion, WrongState
from workflow.inputs import amounts_per_year, is_number, parse_date
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    Module,
    Organisation,
    Programme,
    TransitionRecord,
)
from workflow.rows import Actor, visible

CREATE, EDIT = ACTIONS[ActionName.create_draft], ACTIONS[ActionName.edit_draft]
_DATE_LABELS = {"project_start": ("Projektbeginn", "Project start"),
                "project_end": ("Projektende", "Project end")}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _years(session: Session, app: Application) -> dict[int, ApplicationYear]:
    return {
        r.year: r
        for r in session.exec(
            select(ApplicationYear)
            .where(ApplicationYear.application_id == app.id)
            .execution_options(populate_existing=True)
        )
    }


EDITABLE_FIELDS = (
    "module_code",
    "municipality",
    "quartier",
    "title",
    "summary",
    "project_start",
    "project_end",
    "own_contribution",
)


def _validate_fields(session: Session, call: Call, fields: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    unknown = set(fields) - set(EDITABLE_FIELDS) - {"amounts", finance_plan.FIELD}
    if unknown:
        raise InvalidInput(
            f"Unbekannte Felder: {', '.join(sorted(unknown))}.",
            f"Unknown fields: {', '.join(sorted(unknown))}.",
            field=sorted(unknown)[0],
        )
    for name, value in fields.items():
        if name in ("project_start", "project_end"):
            de, en = _DATE_LABELS[name]
            clean[name] = None if value in (None, "") else parse_date(value, de, name, en)
        elif name == "own_contribution":
            clean["own_contribution_cents"] = budget.parse_euros(value, "Eigenanteil",
                                                                    "Own contribution")
        elif name == "module_code":
            codes = set(
                session.exec(
                    select(Module.code).where(Module.programme_id == call.programme_id)
                ).all()
            )
            if value not in codes:
                raise InvalidInput(
                    f"Unbekannter Baustein „{value}“ (möglich: {', '.join(sorted(codes))}).",
                    f"Unknown module '{value}' (possible: {', '.join(sorted(codes))}).",
                    field="module_code",
                )
            clean[name] = value
        elif name not in ("amounts", finance_plan.FIELD):
            if value is not None and not isinstance(value, str):
                raise InvalidInput(f"{name}: Text erwartet.", f"{name}: text expected.", field=name)
            if value and len(value) > 5000:
                raise InvalidInput(
                    f"{name}: höchstens 5000 Zeichen.",
                    f"{name}: at most 5000 characters.",
                    field=name,
                )
            clean[name] = (value or "").strip()
    return clean


def _check_period(call: Call, start: date | None, end: date | None) -> None:
    if start and call.earliest_project_start and start < call.earliest_project_start:
        raise InvalidInput(
            f"Projekte können frühestens am {formatting.day(call.earliest_project_start)} "
            "beginnen.",
            f"Projects start on {formatting.day(call.earliest_project_start, 'en')} at the "
            "earliest.",
            field="project_start",
        )
    if start and end:
        if end <= start:
            raise InvalidInput(
                "Das Projektende muss nach dem Projektbeginn liegen.",
                "The project end must be after its start.",
                field="project_end",
            )
        # The project runs from its first to its last day: N months are full when the day after
        # its end is at least N calendar months after its start (a started month is no month).
        months = call.min_project_months
        if months and end + timedelta(days=1) < deadlines.add_months(start, months):
            raise InvalidInput(
                f"Die Projektlaufzeit muss mindestens {call.min_project_months} Monate betragen.",
                f"Projects must run at least {call.min_project_months} months.",
                field="project_end",
            )


def _set_amounts(session: Session, app: Application, call: Call, raw: Any) -> None:
    amounts = amounts_per_year({"amounts": raw}, "amounts", "Beantragter Betrag",
                               "Requested amount") or {}
    call_years = set(budget.years(session, call.id))
    for year in amounts:
        if year not in call_years:
            raise InvalidInput(
                f"{year} ist kein Haushaltsjahr dieses Aufrufs "
                f"({', '.join(str(y) for y in sorted(call_years))}).",
                f"{year} is not a budget year of this call.",
                field="amounts",
            )
    rows = _years(session, app)
    for year, cents in amounts.items():
        row = rows.get(year) or ApplicationYear(application_id=app.id, year=year)
        row.requested_cents = cents
        session.add(row)
    for year, row in rows.items():
        if year not in amounts:
            session.delete(row)


def _plan(session: Session, call: Call, fields: dict[str, Any],
          has_plan: bool) -> finance_plan.Plan | None:
    """The plan the fields give, checked; refuses amounts and own contribution beside a plan
    (they follow from it) and a plan for a programme without cost headings."""
    given = fields.get(finance_plan.FIELD) is not None
    if not (given or has_plan):
        return None
    beside = [name for name in ("amounts", "own_contribution") if name in fields]
    if beside:
        raise InvalidInput(
            "Der Antrag hat einen Kosten- und Finanzierungsplan: Die beantragten Beträge und der "
            "Eigenanteil ergeben sich aus ihm und werden nicht einzeln angegeben.",
            "The application has a cost and financing plan: the requested amounts and the own "
            "contribution follow from it and are not given on their own.",
            field=beside[0],
        )
    if not given:
        return None
    programme = session.get(Programme, call.programme_id)
    heads = finance_plan.headings(programme.config if programme else None)
    if not heads:
        raise InvalidInput(
            "Dieses Programm hat keine Ausgabenpositionen; bitte die Beträge je Haushaltsjahr "
            "angeben.",
            "This programme has no cost headings; give the amounts per budget year.",
            field=finance_plan.FIELD,
        )
    typed = finance_plan.parse(fields[finance_plan.FIELD], heads,
                               budget.years(session, call.id))
    return finance_plan.build(call, typed)


def create_application(
    session: Session,
    actor: Actor,
    call: Call | str | int,
    fields: dict[str, Any],
    now: datetime | None = None,
    operator: str | None = None,
) -> Application:
    """A new draft for the actor's organisation, with its reference number and a history row
    (naming the `operator` who acted for the actor, if one did)."""
    now = now or utcnow()
    if not CREATE.allows(actor.role) or actor.organisation_id is None:
        raise NotPermitted(
            "Nur Träger können Anträge anlegen.", "Only carriers create applications."
        )
    if not isinstance(call, Call):
        found = session.exec(
            select(Call).where(
                (Call.code == str(call)) | (Call.id == (int(call) if is_number(str(call)) else -1))
            )
        ).first()
        if found is None:
            raise NotFound(f"Förderaufruf {call} wurde nicht gefunden.", f"Call {call} not found.")
        call = found
    if "module_code" not in fields:
        raise InvalidInput("Bitte einen Baustein wählen.", "Choose a module.", field="module_code")
    clean = _validate_fields(session, call, fields)
    _check_period(call, clean.get("project_start"), clean.get("project_end"))
    plan = _plan(session, call, fields, has_plan=False)
    if plan is not None:
        clean["own_contribution_cents"] = plan.own_total
    org = session.get(Organisation, actor.organisation_id)
    clean.setdefault("municipality", org.municipality if org else "")
    app = Application(
        call_id=call.id,
        organisation_id=actor.organisation_id,
        created_by_id=actor.id,
        created_at=now,
        updated_at=now,
        **clean,
    )
    session.add(app)
    session.flush()
    programme = session.get(Programme, call.programme_id)
    app.reference = f"{programme.code}-{deadlines.local_date(now).year}-{app.id:04d}"
    if plan is not None:
        finance_plan.save(session, app.id, plan)
    elif "amounts" in fields:
        _set_amounts(session, app, call, fields["amounts"])
    session.add(
        TransitionRecord(
            application_id=app.id,
            trigger=CREATE.history_trigger,
            from_state=None,
            to_state=INITIAL_STATE.value,
            actor_id=actor.id,
            actor_role=actor.role.value,
            at=now,
            payload={"operator": operator} if operator else {},
        )
    )
    session.flush()
    return app


def edit_draft(
    session: Session,
    app: Application,
    actor: Actor,
    fields: dict[str, Any],
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Application:
    """Change a draft's editable fields; bumps the version like any change."""
    now = now or utcnow()
    if not visible(actor, app):
        raise NotFound("Antrag wurde nicht gefunden.", "Application not found.")
    if not EDIT.allows(actor.role):
        raise NotPermitted(
            "Nur der Träger kann seinen Entwurf bearbeiten.", "Only the carrier can edit its draft."
        )
    if app.state not in EDIT.in_states:
        raise WrongState(
            f"Nur Entwürfe können bearbeitet werden (Status: {STATE_LABELS[State(app.state)].de}).",
            "Only drafts can be edited.",
            state=app.state,
        )
    if expected_version is not None and app.version != expected_version:
        raise StaleVersion(
            "Der Antrag wurde inzwischen geändert. Bitte neu laden.",
            "The application has changed. Please reload.",
            current_version=app.version,
        )
    call = session.get(Call, app.call_id)
    clean = _validate_fields(session, call, fields)
    _check_period(
        call,
        clean.get("project_start", app.project_start),
        clean.get("project_end", app.project_end),
    )
    plan = _plan(session, call, fields, finance_plan.has_plan(session, app.id))
    if plan is not None:
        finance_plan.save(session, app.id, plan)
        clean["own_contribution_cents"] = plan.own_total
    elif "amounts" in fields:
        _set_amounts(session, app, call, fields["amounts"])
    result = session.execute(
        update(Application)
        .where(Application.id == app.id, Application.version == app.version)
        .values(version=app.version + 1, updated_at=now, **clean)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        raise StaleVersion(
            "Der Antrag wurde gleichzeitig geändert. Bitte neu laden.",
            "The application was changed at the same time. Please reload.",
        )
    session.flush()
    return load_application(session, app.id)
