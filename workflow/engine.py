"""The one service that changes an application's state: `fire(session, app, trigger, actor)`.

In the caller's transaction it checks role, state and every guard, applies the effects, writes the
history row, opens and closes deadlines and writes outbox rows. It flushes but never commits; the
caller's unit of work commits once or rolls back everything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, func, insert, update
from sqlmodel import Session, select
from transitions import Machine

from notifications.outbox import enqueue
from states import (
    DEADLINE_LABELS,
    FINAL_STATES,
    INITIAL_STATE,
    STATE_LABELS,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    DeadlineKind,
    Effect,
    Guard,
    Role,
    State,
    Transition,
)
from states.lifecycle import FUNDING_STOP_EMAIL, FUNDING_STOP_LIFTED_EMAIL
from workflow import budget, deadlines
from workflow.db import assign, connection, sync_loaded, view
from workflow.errors import (
    CallWindowClosed,
    FourEyesViolation,
    FundingStopInForce,
    GuardFailed,
    Incomplete,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    NotPermitted,
    StaleVersion,
    UnknownTrigger,
    WorkflowError,
    WrongState,
)
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    Deadline,
    Module,
    Organisation,
    Programme,
    TransitionRecord,
    User,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


# Built once, from the table: the structure every fire is checked against.
MACHINE = Machine(
    model=None,
    states=[s.value for s in State],
    transitions=[
        {
            "trigger": t.trigger,
            "source": [s.value for s in t.sources],
            "dest": t.dest.value if t.dest else None,
        }
        for t in TRANSITIONS
    ],
    initial=INITIAL_STATE.value,
    auto_transitions=False,
)


@dataclass(frozen=True)
class Actor:
    """Who fires a trigger: a user with a role, or the engine itself."""

    id: int | None
    role: Role
    organisation_id: int | None = None
    name: str = "System"

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, Role(user.role), user.organisation_id, user.name)


SYSTEM = Actor(None, Role.system)


@dataclass
class Loaded:
    """What one firing reads up front, with one statement (see `_load`): plain rows, except the
    application, which is the caller's ORM instance when the caller passed one."""

    app: Any
    call: SimpleNamespace
    programme: SimpleNamespace
    carrier: SimpleNamespace | None  # the carrier contact who created the application
    officer: SimpleNamespace | None  # the case officer, if there is one
    years: dict[int, SimpleNamespace]  # the application's budget years
    deadlines: list[SimpleNamespace]  # its deadlines, earliest first


@dataclass
class Context:
    """Everything a guard or effect needs for one firing."""

    session: Session
    app: Any
    call: Any
    programme: Any
    spec: Transition
    actor: Actor
    now: datetime
    reason: str | None
    payload: dict[str, Any]
    loaded: Loaded
    changes: dict[str, Any] = field(default_factory=dict)
    record_payload: dict[str, Any] = field(default_factory=dict)
    years: dict[int, Any] = field(default_factory=dict)  # as read by _load; effects change them
    deadlines: list[SimpleNamespace] = field(default_factory=list)  # as read by _load, kept current
    lines: list[SimpleNamespace] | None = None  # the call's budget lines after a money effect


# ---------------------------------------------------------------- loading and visibility


def visible(actor: Actor, app: Application) -> bool:
    """Carriers see only their own organisation's applications; every other role sees all."""
    return actor.role != Role.carrier or app.organisation_id == actor.organisation_id


# Prebuilt Core statements of the hot path: a firing reads with about a quarter of the CPU of ORM
# queries (bench/engine.py); workflow.db.sync_loaded keeps already loaded ORM instances current.
_A, _C, _P, _U = Application.__table__, Call.__table__, Programme.__table__, User.__table__
_Y, _TR = ApplicationYear.__table__, TransitionRecord.__table__
_CARRIER, _OFFICER = _U.alias("carrier_user"), _U.alias("officer_user")
_USER_COLUMNS = ("id", "email", "name", "language", "disabled")
_GROUPS = (
    ("app", [(c.name, c) for c in _A.c]),
    ("call", [(c.name, c.label(f"call_{c.name}")) for c in _C.c]),
    ("programme", [(c.name, c.label(f"programme_{c.name}")) for c in _P.c]),
    ("carrier", [(n, _CARRIER.c[n].label(f"carrier_{n}")) for n in _USER_COLUMNS]),
    ("officer", [(n, _OFFICER.c[n].label(f"officer_{n}")) for n in _USER_COLUMNS]),
)


_D = Deadline.__table__
# The application's years and deadlines come with the same statement, as a JSON array each.
_YEAR_FIELDS = ("id", "year", "requested_cents", "approved_cents", "spent_cents")
_DEADLINE_FIELDS = ("id", "kind", "period", "due_date", "status")


def _json_rows(dialect: str, table: Any, fields: tuple[str, ...]) -> Any:
    """(SELECT a JSON array of [field, …] per row of `table` belonging to the application)."""
    columns = [table.c[name] for name in fields]
    if dialect == "postgresql":
        rows = func.json_agg(func.json_build_array(*columns))
    else:
        rows = func.json_group_array(func.json_array(*columns))
    return (
        select(rows).where(table.c.application_id == _A.c.id).scalar_subquery().label(table.name)
    )


@cache
def _context_statement(dialect: str, by_reference: bool, lock: bool) -> Any:
    query = select(
        *(column for _, columns in _GROUPS for _, column in columns),
        _json_rows(dialect, _Y, _YEAR_FIELDS),
        _json_rows(dialect, _D, _DEADLINE_FIELDS),
    ).select_from(
        _A.join(_C, _C.c.id == _A.c.call_id)
        .join(_P, _P.c.id == _C.c.programme_id)
        .outerjoin(_CARRIER, _CARRIER.c.id == _A.c.created_by_id)
        .outerjoin(_OFFICER, _OFFICER.c.id == _A.c.case_officer_id)
    ).where((_A.c.reference if by_reference else _A.c.id) == bindparam("key"))
    # Money changes lock the call row (PostgreSQL; SQLite holds the write lock since BEGIN).
    return query.with_for_update(of=_C) if lock else query


def _json_list(value: Any) -> list[list[Any]]:
    """A JSON array from the driver: parsed already (psycopg) or text (SQLite); NULL is []."""
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else value


_SLICES = []
_offset = 0
for _group, _columns in _GROUPS:
    _SLICES.append((_group, [name for name, _ in _columns], _offset))
    _offset += len(_columns)
_YEARS = select(_Y).where(_Y.c.application_id == bindparam("app")).order_by(_Y.c.year)
_SET_YEAR = {
    name: update(_Y).where(_Y.c.id == bindparam("_id")).values({name: bindparam("value")})
    for name in ("approved_cents", "spent_cents")
}
_USER = select(*(_U.c[n] for n in _USER_COLUMNS)).where(_U.c.id == bindparam("id"))
_REVIEWERS = select(_TR.c.actor_id).where(
    _TR.c.application_id == bindparam("app"), _TR.c.trigger.in_(("recommend", "start_review"))
)
_INSERT_RECORD = insert(_TR).returning(_TR.c.id)
_WAITING = (
    select(_A.c.id)
    .where(_A.c.call_id == bindparam("call"), _A.c.state == State.waitlisted.value)
    .limit(1)
)


@cache
def _update_statement(names: tuple[str, ...]) -> Any:
    """UPDATE application SET … WHERE id = :_id AND version = :_seen, for these columns."""
    return (
        update(_A)
        .where(_A.c.id == bindparam("_id"), _A.c.version == bindparam("_seen"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )


def _load(
    session: Session, app: Application | int | str, actor: Actor | None, lock: bool = False
) -> Loaded:
    """The application (the caller's instance, if given), its call and programme, the carrier
    contact and the case officer, in one statement; 'not found' if the actor may not see it."""
    if isinstance(app, Application):
        key, by_reference = app.id, False
    elif isinstance(app, int) or (isinstance(app, str) and app.isdigit()):
        key, by_reference = int(app), False
    else:
        key, by_reference = app, True
    conn = connection(session)
    statement = _context_statement(conn.dialect.name, by_reference, lock)
    row = conn.execute(statement, {"key": key}).first()
    if row is None:
        raise NotFound(f"Antrag {key} wurde nicht gefunden.", f"Application {key} was not found.")
    parts = {
        group: SimpleNamespace(**dict(zip(names, row[offset : offset + len(names)], strict=True)))
        for group, names, offset in _SLICES
    }
    years = [
        SimpleNamespace(**dict(zip(_YEAR_FIELDS, r, strict=True))) for r in _json_list(row[-2])
    ]
    found = []
    for r in _json_list(row[-1]):
        d = SimpleNamespace(**dict(zip(_DEADLINE_FIELDS, r, strict=True)))
        d.due_date = date.fromisoformat(d.due_date)
        found.append(d)
    loaded = Loaded(
        app if isinstance(app, Application) else parts["app"],
        parts["call"],
        parts["programme"],
        parts["carrier"] if parts["carrier"].id is not None else None,
        parts["officer"] if parts["officer"].id is not None else None,
        {y.year: y for y in sorted(years, key=lambda y: y.year)},
        sorted(found, key=lambda d: (d.due_date, d.id)),
    )
    if actor is not None and not visible(actor, loaded.app):
        raise NotFound(f"Antrag {key} wurde nicht gefunden.", f"Application {key} was not found.")
    return loaded


def load_application(session: Session, key: int | str, actor: Actor | None = None) -> Application:
    """An application by id or reference; one the actor may not see is 'not found'."""
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        app = session.get(Application, int(key), populate_existing=True)
    else:
        app = session.exec(
            select(Application)
            .where(Application.reference == key)
            .execution_options(populate_existing=True)
        ).first()
    if app is None or (actor is not None and not visible(actor, app)):
        raise NotFound(f"Antrag {key} wurde nicht gefunden.", f"Application {key} was not found.")
    return app


# ---------------------------------------------------------------- payload parsing


def _amounts(payload: dict[str, Any], key: str, label: str) -> dict[int, int] | None:
    raw = payload.get(key)
    if raw is None:
        return None
    if not isinstance(raw, dict) or not raw:
        raise InvalidInput(
            f"{label}: bitte Beträge je Haushaltsjahr angeben.",
            f"{label}: give amounts per budget year.",
            field=key,
        )
    out = {}
    for year, value in raw.items():
        try:
            y = int(year)
        except (TypeError, ValueError):
            raise InvalidInput(
                f"{label}: „{year}“ ist kein Haushaltsjahr.",
                f"{label}: '{year}' is not a budget year.",
                field=key,
            ) from None
        out[y] = budget.parse_euros(value, f"{label} {y}")
    return out


def _date(value: Any, label: str, key: str) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput(
            f"{label}: „{value}“ ist kein Datum (JJJJ-MM-TT).",
            f"{label}: '{value}' is not a date (YYYY-MM-DD).",
            field=key,
        ) from None


def _years(session: Session, app: Application) -> dict[int, ApplicationYear]:
    return {
        r.year: r
        for r in session.exec(
            select(ApplicationYear)
            .where(ApplicationYear.application_id == app.id)
            .execution_options(populate_existing=True)
        )
    }


def years_of(session: Session, application_id: int) -> dict[int, SimpleNamespace]:
    """An application's budget years (plain rows), with one Core statement."""
    rows = connection(session).execute(_YEARS, {"app": application_id})
    return {row.year: view(row) for row in rows}


def _set_years(ctx: Context, name: str, values: dict[int, int]) -> None:
    """Write one money column of the application's years (`values` per year)."""
    rows = ctx.years
    params = [{"_id": rows[y].id, "value": v} for y, v in values.items()]
    if params:
        connection(ctx.session).execute(_SET_YEAR[name], params)
    for year, value in values.items():
        assign(rows[year], {name: value})
        sync_loaded(ctx.session, ApplicationYear, rows[year].id, {name: value})


# ---------------------------------------------------------------- guards


def _own_organisation(ctx: Context) -> None:
    if ctx.actor.role == Role.carrier and ctx.actor.organisation_id != ctx.app.organisation_id:
        raise NotFound("Antrag wurde nicht gefunden.", "Application not found.")


def _call_window_open(ctx: Context) -> None:
    opens, closes = ctx.call.opens_at, ctx.call.closes_at
    opens = opens if opens.tzinfo else opens.replace(tzinfo=UTC)
    closes = closes if closes.tzinfo else closes.replace(tzinfo=UTC)
    if ctx.now < opens:
        raise CallWindowClosed(
            f"Der Förderaufruf ist noch nicht geöffnet; Anträge ab {_local(opens)}.",
            f"The call is not open yet; applications from {_local(opens)}.",
        )
    if ctx.now > closes:
        raise CallWindowClosed(
            f"Die Einreichungsfrist ist am {_local(closes)} abgelaufen. "
            "Der Entwurf bleibt erhalten.",
            f"The submission window closed on {_local(closes)}. The draft is kept.",
        )


def _no_funding_stop(ctx: Context) -> None:
    if ctx.call.stop_kind:
        since = _local(ctx.call.stop_since) if ctx.call.stop_since else "?"
        raise FundingStopInForce(
            f"Seit {since} gilt ein Fördermittelstopp: Die Mittel dieses Aufrufs sind vollständig "
            "gebunden, neue Anträge können nicht eingereicht werden. Ihr Entwurf bleibt erhalten.",
            f"A funding stop has been in force since {since}: the call's money is fully committed "
            "and no new applications can be submitted. Your draft is kept.",
            since=ctx.call.stop_since.isoformat() if ctx.call.stop_since else None,
        )


def missing_fields(
    session: Session, app: Application, call: Call, years: dict[int, ApplicationYear] | None = None
) -> list[tuple[str, str, str]]:
    """(field, German, English) for every required field that is empty or inconsistent."""
    missing = []
    for name, de, en in (
        ("title", "Projekttitel", "project title"),
        ("summary", "Kurzbeschreibung", "summary"),
        ("municipality", "Kommune", "municipality"),
        ("quartier", "Quartier", "neighbourhood"),
        ("project_start", "Projektbeginn", "project start"),
        ("project_end", "Projektende", "project end"),
    ):
        value = getattr(app, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append((name, de, en))
    years = years_of(session, app.id) if years is None else years
    requested = {y: r.requested_cents for y, r in years.items()}
    if sum(requested.values()) <= 0:
        missing.append(
            ("amounts", "beantragte Beträge je Haushaltsjahr", "requested amounts per budget year")
        )
    return missing


def _required_fields_complete(ctx: Context) -> None:
    missing = missing_fields(ctx.session, ctx.app, ctx.call, ctx.years)
    if missing:
        raise Incomplete(
            "Der Antrag ist unvollständig. Es fehlen: " + ", ".join(m[1] for m in missing) + ".",
            "The application is incomplete. Missing: " + ", ".join(m[2] for m in missing) + ".",
            fields=[m[0] for m in missing],
        )


def _project_start_not_past(ctx: Context) -> None:
    start = ctx.app.project_start
    if start and start < deadlines.local_date(ctx.now) and not ctx.app.early_start_granted:
        raise GuardFailed(
            f"Der Projektbeginn ({start:%d.%m.%Y}) liegt in der Vergangenheit und ein vorzeitiger "
            "Maßnahmebeginn wurde nicht genehmigt.",
            f"The project start ({start.isoformat()}) is in the past and no early start was "
            "granted.",
            field="project_start",
        )


def _reason_given(ctx: Context) -> None:
    if not (ctx.reason and ctx.reason.strip()):
        raise InvalidInput(
            f"Für „{ctx.spec.label.de}“ ist eine Begründung erforderlich.",
            f"'{ctx.spec.label.en}' needs a reason.",
            field="reason",
        )


def _amounts_given(ctx: Context) -> None:
    amounts = _amounts(ctx.payload, "amounts", "Bewilligungsbetrag")
    if amounts is None:
        raise InvalidInput(
            "Bitte den vorgeschlagenen Betrag je Haushaltsjahr angeben.",
            "Give the recommended amount per budget year.",
            field="amounts",
        )
    requested = {y: r.requested_cents for y, r in ctx.years.items()}
    for year, cents in amounts.items():
        if year not in requested:
            raise InvalidInput(
                f"Für {year} wurde nichts beantragt.",
                f"Nothing was requested for {year}.",
                field="amounts",
            )
        if cents > requested[year]:
            raise InvalidInput(
                f"{year}: Der Betrag ({budget.format_euros(cents)}) übersteigt den beantragten "
                f"Betrag ({budget.format_euros(requested[year])}).",
                f"{year}: the amount exceeds the requested amount.",
                field="amounts",
            )
    total = sum(amounts.values())
    if total <= 0 or total < ctx.call.min_grant_cents:
        raise InvalidInput(
            "Die Gesamtsumme muss mindestens "
            f"{budget.format_euros(max(ctx.call.min_grant_cents, 1))}"
            " betragen.",
            "The total is below the call's minimum grant.",
            field="amounts",
        )
    ctx.record_payload["amounts_cents"] = {str(y): c for y, c in sorted(amounts.items())}


def _spending_given(ctx: Context) -> None:
    spending = _amounts(ctx.payload, "spending", "Ausgaben")
    approved = {y: r.approved_cents or 0 for y, r in ctx.years.items() if r.approved_cents}
    if spending is None or set(spending) != set(approved):
        raise InvalidInput(
            "Bitte die tatsächlichen Ausgaben für jedes bewilligte Haushaltsjahr angeben ("
            + ", ".join(str(y) for y in sorted(approved))
            + ").",
            "Give the actual spending for every approved budget year ("
            + ", ".join(str(y) for y in sorted(approved))
            + ").",
            field="spending",
        )
    for year, cents in spending.items():
        if cents > approved[year]:
            raise InvalidInput(
                f"{year}: Die Ausgaben übersteigen den bewilligten Betrag "
                f"({budget.format_euros(approved[year])}).",
                f"{year}: spending exceeds the approved amount.",
                field="spending",
            )
    ctx.record_payload["spending_cents"] = {str(y): c for y, c in sorted(spending.items())}


def _four_eyes(ctx: Context) -> None:
    reviewers = {ctx.app.case_officer_id}
    reviewers |= set(
        connection(ctx.session).execute(_REVIEWERS, {"app": ctx.app.id}).scalars().all()
    )
    if ctx.actor.id in reviewers:
        raise FourEyesViolation(
            "Vier-Augen-Prinzip: Wer einen Antrag geprüft hat, darf ihn nicht selbst bewilligen.",
            "Four-eyes principle: whoever reviewed an application may not approve it.",
        )


def _money_available(ctx: Context) -> None:
    # The money itself is checked, and committed atomically, by the commit_budget effect.
    if ctx.call.stop_kind == "declared":
        raise FundingStopInForce(
            "Für diesen Aufruf gilt ein erklärter Fördermittelstopp; "
            "es kann nichts bewilligt werden.",
            "A funding stop has been declared for this call; nothing can be approved.",
        )


def _approval_notice_exists(ctx: Context) -> None:
    if ctx.app.approved_at is None:
        raise GuardFailed("Es liegt kein Zuwendungsbescheid vor.", "There is no grant notice.")


def _hearing_done(ctx: Context) -> None:
    hearing = next(
        (d for d in ctx.deadlines if d.kind == DeadlineKind.hearing_reply), None
    )
    if hearing and hearing.status == "open" and deadlines.local_date(ctx.now) <= hearing.due_date:
        raise GuardFailed(
            f"Die Anhörung läuft noch: Der Träger kann bis {hearing.due_date:%d.%m.%Y} Stellung "
            "nehmen.",
            f"The hearing is still open until {hearing.due_date.isoformat()}.",
        )


def _repayment_given(ctx: Context) -> None:
    if "repayment" not in ctx.payload:
        raise InvalidInput(
            "Bitte den Rückforderungsbetrag angeben (0 wenn keiner).",
            "Give the repayment claim (0 if none).",
            field="repayment",
        )
    cents = budget.parse_euros(ctx.payload["repayment"], "Rückforderung")
    approved = sum(r.approved_cents or 0 for r in ctx.years.values())
    if cents > approved:
        raise InvalidInput(
            "Die Rückforderung übersteigt die bewilligte Summe.",
            "The repayment claim exceeds the approved total.",
            field="repayment",
        )
    ctx.record_payload["repayment_cents"] = cents


GUARDS = {
    Guard.own_organisation: _own_organisation,
    Guard.call_window_open: _call_window_open,
    Guard.no_funding_stop: _no_funding_stop,
    Guard.required_fields_complete: _required_fields_complete,
    Guard.project_start_not_past: _project_start_not_past,
    Guard.reason_given: _reason_given,
    Guard.amounts_given: _amounts_given,
    Guard.spending_given: _spending_given,
    Guard.four_eyes: _four_eyes,
    Guard.money_available: _money_available,
    Guard.approval_notice_exists: _approval_notice_exists,
    Guard.hearing_done: _hearing_done,
    Guard.repayment_given: _repayment_given,
}
assert set(GUARDS) == set(Guard), "every guard in the table needs an implementation"


# ---------------------------------------------------------------- effects


def _approved_amounts(ctx: Context) -> dict[int, int]:
    return {y: r.approved_cents for y, r in ctx.years.items() if r.approved_cents}


def _effect(ctx: Context, effect: Effect) -> None:
    s, app = ctx.session, ctx.app
    if effect == Effect.become_case_officer:
        ctx.changes["case_officer_id"] = ctx.actor.id
    elif effect == Effect.record_assessment:
        ctx.changes["assessment"] = ctx.reason
        amounts = ctx.record_payload["amounts_cents"]
        _set_years(ctx, "approved_cents", {y: int(amounts.get(str(y), 0)) for y in ctx.years})
    elif effect == Effect.mark_received:
        ctx.changes["received_at"] = ctx.now
    elif effect == Effect.mark_waitlisted:
        ctx.changes["waitlisted_at"] = ctx.now
    elif effect == Effect.commit_budget:
        ctx.lines = budget.commit(s, app, _approved_amounts(ctx), ctx.now, ctx.actor.id)
        ctx.changes.update(approved_at=ctx.now, approved_by_id=ctx.actor.id)
        ctx.record_payload["committed_cents"] = {
            str(y): c for y, c in _approved_amounts(ctx).items()
        }
    elif effect == Effect.release_budget:
        ctx.lines = budget.budget_lines(s, app.call_id)
        released = budget.release(
            s, app, ctx.now, ctx.actor.id, f"{ctx.spec.label.de} {app.reference}", lines=ctx.lines
        )
        if released:
            ctx.record_payload["released_cents"] = released
    elif effect == Effect.release_underspend:
        under = {
            y: r.approved_cents - (r.spent_cents or 0)
            for y, r in ctx.years.items()
            if r.approved_cents and r.approved_cents > (r.spent_cents or 0)
        }
        ctx.lines = budget.budget_lines(s, app.call_id)
        released = budget.release(
            s, app, ctx.now, ctx.actor.id, f"Minderausgabe {app.reference}", per_year=under,
            lines=ctx.lines,
        )
        ctx.record_payload["released_cents"] = released
    elif effect == Effect.record_spending:
        spending = ctx.record_payload["spending_cents"]
        _set_years(ctx, "spent_cents",
                   {y: int(spending[str(y)]) for y in ctx.years if str(y) in spending})
    elif effect == Effect.record_repayment:
        ctx.changes["repayment_claim_cents"] = ctx.record_payload["repayment_cents"]


MONEY_RETURNING = {Effect.release_budget, Effect.release_underspend}


# ---------------------------------------------------------------- the entry point


def check(
    session: Session,
    app: Application,
    trigger: str,
    actor: Actor,
    now: datetime | None = None,
    loaded: Loaded | None = None,
) -> WorkflowError | None:
    """Why `actor` may not fire `trigger` now (role, state, guards without payload), or None."""
    spec = TRANSITIONS_BY_TRIGGER.get(trigger)
    if spec is None:
        return UnknownTrigger(f"Unbekannte Aktion „{trigger}“.", f"Unknown trigger '{trigger}'.")
    try:
        _check_role_and_state(spec, app, actor)
        loaded = loaded or _load(session, app, None)
        ctx = _context(session, loaded, spec, actor, now or utcnow(), "-", {})
        for guard in spec.guards:
            if guard not in (
                Guard.reason_given,
                Guard.amounts_given,
                Guard.spending_given,
                Guard.repayment_given,
            ):
                GUARDS[guard](ctx)
    except WorkflowError as refusal:
        return refusal
    return None


def _check_role_and_state(spec: Transition, app: Any, actor: Actor) -> None:
    if actor.role not in spec.roles:
        allowed = ", ".join(sorted(r.value for r in spec.roles))
        raise NotPermitted(
            f"„{spec.label.de}“ ist der Rolle {actor.role.value} nicht erlaubt "
            f"(erlaubt: {allowed}).",
            f"'{spec.label.en}' is not allowed for role {actor.role.value} (allowed: {allowed}).",
        )
    if not MACHINE.get_transitions(trigger=spec.trigger, source=app.state):
        label = STATE_LABELS[State(app.state)]
        raise WrongState(
            f"„{spec.label.de}“ ist im Status „{label.de}“ nicht möglich.",
            f"'{spec.label.en}' is not possible in state '{label.en}'.",
            state=app.state,
        )


def _context(
    session: Session,
    loaded: Loaded,
    spec: Transition,
    actor: Actor,
    now: datetime,
    reason: str | None,
    payload: dict[str, Any],
) -> Context:
    app, call, programme = loaded.app, loaded.call, loaded.programme
    ctx = Context(session, app, call, programme, spec, actor, now, reason, payload, loaded)
    ctx.years, ctx.deadlines = loaded.years, loaded.deadlines
    return ctx


def fire(
    session: Session,
    app: Application | int | str,
    trigger: str,
    actor: Actor,
    *,
    reason: str | None = None,
    payload: dict[str, Any] | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> TransitionRecord:
    """Fire `trigger` on one application for one actor, inside the caller's transaction.

    Returns the history row. Raises a WorkflowError with the reason on any refusal; the caller
    must then roll back (the unit of work does), so nothing is written.
    """
    spec = TRANSITIONS_BY_TRIGGER.get(trigger)
    if spec is None:
        raise UnknownTrigger(f"Unbekannte Aktion „{trigger}“.", f"Unknown trigger '{trigger}'.")
    money = Effect.commit_budget in spec.effects or bool(MONEY_RETURNING & set(spec.effects))
    loaded = _load(session, app, actor, lock=money)
    return _fire(
        session, loaded, spec, actor, reason, dict(payload or {}), expected_version, now or utcnow()
    )


def _fire(
    session: Session,
    loaded: Loaded,
    spec: Transition,
    actor: Actor,
    reason: str | None,
    payload: dict[str, Any],
    expected_version: int | None,
    now: datetime,
) -> TransitionRecord:
    app = loaded.app
    if expected_version is not None and app.version != expected_version:
        raise StaleVersion(
            f"Der Antrag wurde inzwischen geändert (Version {app.version}, erwartet "
            f"{expected_version}). Bitte neu laden.",
            f"The application has changed (version {app.version}, expected {expected_version}). "
            "Please reload.",
            current_version=app.version,
        )
    _check_role_and_state(spec, app, actor)
    ctx = _context(session, loaded, spec, actor, now, reason, payload)
    for guard in spec.guards:
        GUARDS[guard](ctx)

    source = State(app.state)
    dest = spec.dest_from(source)
    # A carrier's answer that meets a deadline after its due date is marked late.
    if actor.role == Role.carrier and spec.closes:
        if deadlines.is_late(ctx.deadlines, spec.closes, now):
            ctx.record_payload["late"] = True
    if "documents" in payload:
        ctx.record_payload["documents"] = [str(d) for d in payload["documents"]]
    try:
        for effect in spec.effects:
            _effect(ctx, effect)
    except InsufficientFunds as refusal:
        if spec.fallback and ctx.call.policy == "waitlist":
            return _fire(
                session,
                loaded,
                TRANSITIONS_BY_TRIGGER[spec.fallback],
                SYSTEM,
                refusal.de,
                {"refused_trigger": spec.trigger, "refused_by": actor.id},
                None,
                now,
            )
        raise

    # The due dates this transition opens (validated before anything is written).
    explicit = _date(payload["deadline"], "Frist", "deadline") if payload.get("deadline") else None
    if explicit is not None and explicit <= deadlines.local_date(now):
        raise InvalidInput(
            "Die Frist muss in der Zukunft liegen.",
            "The deadline must lie in the future.",
            field="deadline",
        )
    config = ctx.programme.config or {}
    planned = [
        (kind, deadlines.due_dates(kind, app, now, config,
                                   explicit if kind in ADJUSTABLE else None))
        for kind in spec.opens
    ]
    if any(dues for _, dues in planned):
        ctx.record_payload["deadlines"] = {
            f"{kind}{':' + period if period else ''}": due.isoformat()
            for kind, dues in planned
            for period, due in dues
        }

    # The state and version change only here, and only if nobody changed the row meanwhile.
    values = {"state": dest.value, "version": app.version + 1, "updated_at": now, **ctx.changes}
    conn = connection(session)
    result = conn.execute(
        _update_statement(tuple(values)),
        {"_id": app.id, "_seen": app.version, **{f"v_{k}": v for k, v in values.items()}},
    )
    if result.rowcount != 1:
        raise StaleVersion(
            "Der Antrag wurde gleichzeitig geändert. Bitte neu laden.",
            "The application was changed at the same time. Please reload.",
        )
    assign(app, values)
    if not isinstance(app, Application):
        sync_loaded(session, Application, app.id, values)

    row = {
        "application_id": app.id,
        "trigger": spec.trigger,
        "from_state": source.value,
        "to_state": dest.value,
        "actor_id": actor.id,
        "actor_role": actor.role.value,
        "at": now,
        "reason": reason,
        "late": bool(ctx.record_payload.get("late")),
        "payload": ctx.record_payload,
    }
    # The row is written; the returned object only reports it (model_construct: no validation).
    record = TransitionRecord.model_construct(
        id=conn.execute(_INSERT_RECORD, row).scalar_one(), **row
    )

    if spec.closes:
        deadlines.close_deadlines(session, app, spec.closes, now, existing=ctx.deadlines)
    opened = deadlines.open_deadlines(
        session, app, planned, now, record.id, existing=ctx.deadlines
    ) if planned else []
    if dest in FINAL_STATES:
        deadlines.close_deadlines(
            session, app, None, now, status="cancelled", existing=ctx.deadlines
        )

    if spec.email:
        _email_carrier(session, ctx, spec.email, record, opened)
    if ctx.lines is not None or MONEY_RETURNING & set(spec.effects):
        _after_firing_money(session, ctx, now, bool(MONEY_RETURNING & set(spec.effects)))
    return record


# Deadline kinds whose due date staff may set explicitly (`payload["deadline"]`).
ADJUSTABLE = frozenset(DeadlineKind) - {DeadlineKind.interim_report, DeadlineKind.final_report}


def _after_firing_money(session: Session, ctx: Context, now: datetime, returned: bool) -> None:
    """After money was taken or returned: re-evaluate the stop and the waiting list, but only
    when something can change (the call was read under its lock, the lines after the change)."""
    call = ctx.call
    if call.stop_kind == "declared":
        return
    lines = ctx.lines if ctx.lines is not None else budget.budget_lines(session, call.id)
    if not call.stop_kind and not budget.automatic_stop_due(session, call, lines):
        if not returned:
            return  # money was only taken: nobody waiting fits now who did not fit before
        if connection(session).execute(_WAITING, {"call": call.id}).first() is None:
            return  # nobody is waiting
    after_money_change(session, call, now, money_returned=returned)


# ---------------------------------------------------------------- creation and editing

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
    unknown = set(fields) - set(EDITABLE_FIELDS) - {"amounts"}
    if unknown:
        raise InvalidInput(
            f"Unbekannte Felder: {', '.join(sorted(unknown))}.",
            f"Unknown fields: {', '.join(sorted(unknown))}.",
            field=sorted(unknown)[0],
        )
    for name, value in fields.items():
        if name in ("project_start", "project_end"):
            clean[name] = None if value in (None, "") else _date(value, name, name)
        elif name == "own_contribution":
            clean["own_contribution_cents"] = budget.parse_euros(value, "Eigenanteil")
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
        elif name != "amounts":
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
            f"Projekte können frühestens am {call.earliest_project_start:%d.%m.%Y} beginnen.",
            f"Projects start on {call.earliest_project_start.isoformat()} at the earliest.",
            field="project_start",
        )
    if start and end:
        if end <= start:
            raise InvalidInput(
                "Das Projektende muss nach dem Projektbeginn liegen.",
                "The project end must be after its start.",
                field="project_end",
            )
        months = (
            (end.year - start.year) * 12
            + end.month
            - start.month
            + (1 if end.day >= start.day - 1 else 0)
        )
        if call.min_project_months and months < call.min_project_months:
            raise InvalidInput(
                f"Die Projektlaufzeit muss mindestens {call.min_project_months} Monate betragen.",
                f"Projects must run at least {call.min_project_months} months.",
                field="project_end",
            )


def _set_amounts(session: Session, app: Application, call: Call, raw: Any) -> None:
    amounts = _amounts({"amounts": raw}, "amounts", "Beantragter Betrag") or {}
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


def create_application(
    session: Session,
    actor: Actor,
    call: Call | str | int,
    fields: dict[str, Any],
    now: datetime | None = None,
) -> Application:
    """A new draft for the actor's organisation, with its reference number and a history row."""
    now = now or utcnow()
    if actor.role != Role.carrier or actor.organisation_id is None:
        raise NotPermitted(
            "Nur Träger können Anträge anlegen.", "Only carriers create applications."
        )
    if not isinstance(call, Call):
        found = session.exec(
            select(Call).where(
                (Call.code == str(call)) | (Call.id == (int(call) if str(call).isdigit() else -1))
            )
        ).first()
        if found is None:
            raise NotFound(f"Förderaufruf {call} wurde nicht gefunden.", f"Call {call} not found.")
        call = found
    if "module_code" not in fields:
        raise InvalidInput("Bitte einen Baustein wählen.", "Choose a module.", field="module_code")
    clean = _validate_fields(session, call, fields)
    _check_period(call, clean.get("project_start"), clean.get("project_end"))
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
    if "amounts" in fields:
        _set_amounts(session, app, call, fields["amounts"])
    session.add(
        TransitionRecord(
            application_id=app.id,
            trigger="create",
            from_state=None,
            to_state=State.draft.value,
            actor_id=actor.id,
            actor_role=actor.role.value,
            at=now,
            payload={},
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
    if actor.role != Role.carrier:
        raise NotPermitted(
            "Nur der Träger kann seinen Entwurf bearbeiten.", "Only the carrier can edit its draft."
        )
    if app.state != State.draft:
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
    if "amounts" in fields:
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


# ---------------------------------------------------------------- funding stop and waiting list


def declare_funding_stop(
    session: Session, call: Call, reason: str, actor: Actor, now: datetime | None = None
) -> Call:
    """An admin declares a stop (with a reason); carriers with drafts are told once."""
    now = now or utcnow()
    if actor.role != Role.admin:
        raise NotPermitted(
            "Nur die Programmverwaltung kann einen Fördermittelstopp erklären.",
            "Only programme administration can declare a funding stop.",
        )
    if not reason or not reason.strip():
        raise InvalidInput(
            "Bitte einen Grund für den Fördermittelstopp angeben.",
            "Give a reason for the funding stop.",
            field="reason",
        )
    call = budget.lock_call(session, call.id)
    _set_stop(session, call, "declared", reason.strip(), now)
    return call


def lift_funding_stop(
    session: Session, call: Call, actor: Actor, now: datetime | None = None
) -> Call:
    """An admin lifts a stop; if money is still short the automatic stop stays in force."""
    now = now or utcnow()
    if actor.role != Role.admin:
        raise NotPermitted(
            "Nur die Programmverwaltung kann einen Fördermittelstopp aufheben.",
            "Only programme administration can lift a funding stop.",
        )
    call = budget.lock_call(session, call.id)
    if not call.stop_kind:
        raise WrongState(
            "Für diesen Aufruf gilt kein Fördermittelstopp.",
            "No funding stop is in force for this call.",
        )
    since = call.stop_since
    call.stop_kind = call.stop_since = call.stop_reason = None
    session.add(call)
    session.flush()
    after_money_change(session, call, now)
    if not call.stop_kind:
        _notify_stop_lifted(session, call, since or now)
    return call


def change_budget(
    session: Session,
    call: Call,
    year: int,
    source: str,
    delta_cents: int,
    actor: Actor,
    note: str,
    now: datetime | None = None,
) -> None:
    """Increase or cut one budget line; re-evaluates the stop and the waiting list."""
    now = now or utcnow()
    if actor.role != Role.admin:
        raise NotPermitted(
            "Nur die Programmverwaltung ändert Budgets.",
            "Only programme administration changes budgets.",
        )
    call = budget.lock_call(session, call.id)
    line = next(
        (
            ln
            for ln in budget.budget_lines(session, call.id)
            if ln.year == year and ln.source == source
        ),
        None,
    )
    if line is None:
        raise NotFound(f"Keine Budgetzeile {year}/{source}.", f"No budget line {year}/{source}.")
    budget.change_budget(session, line, delta_cents, now, actor.id, note)
    session.flush()
    after_money_change(session, call, now)


def _set_stop(session: Session, call: Call, kind: str, reason: str, now: datetime) -> None:
    already = bool(call.stop_kind)
    call.stop_kind, call.stop_reason = kind, reason
    if not already:
        call.stop_since = now
    session.add(call)
    session.flush()
    if not already:
        _notify_drafts_of_stop(session, call)


def _tell_carriers(
    session: Session,
    call: Call,
    states: tuple[State, ...],
    template: str,
    since: datetime,
    extra: dict[str, Any],
) -> None:
    """One email per carrier contact with an application of the call in `states` (deduplicated
    per call, moment and user, so each carrier hears of one stop or lift exactly once)."""
    programme = session.get(Programme, call.programme_id)
    apps = session.exec(
        select(Application)
        .where(Application.call_id == call.id, Application.state.in_([s.value for s in states]))
        .order_by(Application.id)
    ).all()
    told: set[int] = set()
    for app in apps:
        user = session.get(User, app.created_by_id)
        if user is None or user.disabled or user.id in told:
            continue
        told.add(user.id)
        enqueue(
            session,
            template=template,
            recipient=user.email,
            language=user.language,
            application_id=app.id,
            dedupe_key=f"{template}:{call.id}:{since.isoformat()}:{user.id}",
            context={**_base_context(programme, app, user), "call_title": call.title, **extra},
        )


def _notify_drafts_of_stop(session: Session, call: Call) -> None:
    _tell_carriers(
        session,
        call,
        (State.draft,),
        FUNDING_STOP_EMAIL,
        call.stop_since,
        {"stop_since": call.stop_since.isoformat(), "stop_reason": call.stop_reason or ""},
    )


def after_money_change(
    session: Session, call: Call, now: datetime, money_returned: bool = True
) -> None:
    """Re-evaluate the automatic stop; offer waitlisted applications again when money returned."""
    call = session.get(Call, call.id, populate_existing=True)
    if call.stop_kind == "declared":
        return
    if budget.automatic_stop_due(session, call):
        if not call.stop_kind:
            _set_stop(
                session,
                call,
                "automatic",
                "Die Mittel aller Haushaltsjahre sind vollständig gebunden.",
                now,
            )
        return
    if not money_returned and not call.stop_kind:
        return  # money was only taken: nobody waiting fits now who did not fit before
    lifted_since = None
    if call.stop_kind == "automatic":
        lifted_since = call.stop_since or now
        call.stop_kind = call.stop_since = call.stop_reason = None
        session.add(call)
        session.flush()
    _reoffer_waitlisted(session, call, now)
    if lifted_since is not None:
        _notify_stop_lifted(session, call, lifted_since)


def _notify_stop_lifted(session: Session, call: Call, since: datetime) -> None:
    """Carriers still waiting (waiting list) or holding a draft hear once that the stop lifted."""
    _tell_carriers(
        session, call, (State.waitlisted, State.draft), FUNDING_STOP_LIFTED_EMAIL, since, {}
    )


def _reoffer_waitlisted(session: Session, call: Call, now: datetime) -> None:
    """Offer waitlisted applications again in order of receipt, as far as the money reaches."""
    waiting = session.exec(
        select(Application)
        .where(Application.call_id == call.id, Application.state == State.waitlisted.value)
        .order_by(Application.received_at, Application.id)
    ).all()
    available = {y: s.available_cents for y, s in budget.years(session, call.id).items()}
    # Applications already offered again (back in `recommended`) have first claim on the money.
    offered = session.exec(
        select(Application).where(
            Application.call_id == call.id,
            Application.state == State.recommended.value,
            Application.waitlisted_at.is_not(None),
        )
    ).all()
    for app in offered:
        for y, r in years_of(session, app.id).items():
            available[y] = available.get(y, 0) - (r.approved_cents or 0)
    for app in waiting:
        wanted = {y: r.approved_cents or 0 for y, r in years_of(session, app.id).items()}
        if any(c > available.get(y, 0) for y, c in wanted.items()):
            break  # strict order of receipt: nobody overtakes the first who does not fit
        for y, c in wanted.items():
            available[y] -= c
        fire(
            session,
            app,
            "reoffer",
            SYSTEM,
            now=now,
            reason="Es sind wieder Fördermittel verfügbar.",
        )


# ---------------------------------------------------------------- emails


def _local(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(deadlines.BERLIN).strftime("%d.%m.%Y %H:%M")


def _base_context(programme: Programme, app: Application, user: User) -> dict[str, Any]:
    return {
        "programme_name": programme.name,
        "programme_code": programme.code,
        "contact_name": programme.contact_name,
        "contact_email": programme.contact_email,
        "reference": app.reference,
        "title": app.title,
        "recipient_name": user.name,
        "state": app.state,
        "state_label": STATE_LABELS[State(app.state)].in_language(user.language),
    }


def _email_carrier(
    session: Session, ctx: Context, template: str, record: TransitionRecord, opened: list[Any]
) -> None:
    officer = ctx.loaded.officer  # as loaded: stale if this firing made someone else officer
    email_carrier(
        session, ctx.app, ctx.programme, template, record, opened, ctx.now,
        years=ctx.years,
        carrier=ctx.loaded.carrier,
        officer=officer if officer and officer.id == ctx.app.case_officer_id else None,
        deadlines_of_app=ctx.deadlines,
    )


def _user(session: Session, user_id: int | None) -> SimpleNamespace | None:
    row = connection(session).execute(_USER, {"id": user_id}).first() if user_id else None
    return view(row) if row else None


def email_carrier(
    session: Session,
    app: Any,
    programme: Any,
    template: str,
    record: TransitionRecord,
    opened: list[Any],
    now: datetime,
    years: dict[int, Any] | None = None,
    carrier: Any = None,
    officer: Any = None,
    deadlines_of_app: list[Any] | None = None,
) -> None:
    """Queue `template` for the application's carrier contact, about the change in `record`.

    `carrier`, `officer`, `years` and `deadlines_of_app` are read here unless given."""
    user = carrier or _user(session, app.created_by_id)
    if user is None or user.disabled:
        return
    years = years if years is not None else years_of(session, app.id)
    case_officer = officer or _user(session, app.case_officer_id)
    if not opened:
        every = (
            deadlines_of_app
            if deadlines_of_app is not None
            else deadlines.of_application(session, app.id)
        )
        opened = sorted((d for d in every if d.status == "open"), key=lambda d: d.due_date)
    context = {
        **_base_context(programme, app, user),
        "trigger": record.trigger,
        "reason": record.reason or "",
        "at": record.at.isoformat(),
        "case_officer_name": case_officer.name if case_officer else programme.contact_name,
        "case_officer_email": case_officer.email if case_officer else programme.contact_email,
        "documents": record.payload.get("documents", []),
        "years": [
            {
                "year": y,
                "requested": budget.format_euros(r.requested_cents),
                "approved": budget.format_euros(r.approved_cents or 0),
                "spent": budget.format_euros(r.spent_cents or 0),
            }
            for y, r in sorted(years.items())
        ],
        "approved_total": budget.format_euros(sum(r.approved_cents or 0 for r in years.values())),
        "released": budget.format_euros(int(record.payload.get("released_cents", 0))),
        "repayment": budget.format_euros(int(record.payload.get("repayment_cents", 0))),
        "deadlines": [
            {
                "kind": d.kind,
                "period": d.period,
                "due_date": d.due_date.isoformat(),
                "label": DEADLINE_LABELS[DeadlineKind(d.kind)].in_language(user.language),
            }
            for d in opened
        ],
        "late": record.late,
    }
    enqueue(
        session,
        template=template,
        recipient=user.email,
        language=user.language,
        context=context,
        application_id=app.id,
        now=now,
    )


def history(session: Session, app: Application) -> list[TransitionRecord]:
    return list(
        session.exec(
            select(TransitionRecord)
            .where(TransitionRecord.application_id == app.id)
            .order_by(TransitionRecord.id)
        )
    )


def available_triggers(
    session: Session, app: Application, actor: Actor, now: datetime | None = None
) -> dict[str, WorkflowError | None]:
    """Every trigger of the table: None if the actor may fire it now, else the refusal."""
    loaded = _load(session, app, None)
    return {
        t.trigger: check(session, app, t.trigger, actor, now, loaded)
        for t in TRANSITIONS
        if Role.system not in t.roles or len(t.roles) > 1
    }


__all__ = [
    "Actor",
    "SYSTEM",
    "fire",
    "check",
    "create_application",
    "edit_draft",
    "declare_funding_stop",
    "lift_funding_stop",
    "change_budget",
    "after_money_change",
    "history",
    "available_triggers",
    "load_application",
    "visible",
    "MACHINE",
]
