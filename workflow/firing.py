"""One firing as a unit of work: what it read, what its guards and effects decided to write, and
`apply`, which writes all of it in a fixed order.

Guards read a `Firing` and raise a refusal; effects only record intended writes on it. `apply`
then executes them: money first (the one write that may be refused for lack of funds, so a
refusal leaves nothing written), then the application's years, the application row (checked
against the version the firing read), the history row and the deadlines. Every ORM object the
session already holds is kept current from here (`repository.sync`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session

from states import (
    FINAL_PAYMENT_PURPOSE,
    FINAL_STATES,
    STAFF_ADJUSTABLE,
    DeadlineKind,
    DeadlineStatus,
    FundsCallStatus,
    Money,
    State,
    Transition,
)
from workflow import budget, claims, deadlines, documents, repository
from workflow.claims import ClaimPlan
from workflow.errors import Conflict, StaleVersion
from workflow.models import Application, ApplicationYear, TransitionRecord
from workflow.payment_tables import FundsCall
from workflow.repository import connection
from workflow.rows import (
    Actor,
    ApplicationRow,
    BudgetLineRow,
    CallRow,
    DeadlineRow,
    Loaded,
    Payload,
    ProgrammeRow,
    YearRow,
)


@dataclass(frozen=True, slots=True)
class MoneyChange:
    """The money a firing moves: commit or release, per budget year (None: all it holds)."""

    direction: Money
    per_year: dict[int, int] | None
    note: str


@dataclass(slots=True)
class ParsedInput:
    """What the input guards parsed from the payload, for the effects (cents per budget year)."""

    amounts: dict[int, int] | None = None  # recommended amounts
    spending: dict[int, int] | None = None  # actual spending (final report)
    repayment_cents: int | None = None  # repayment claim (revocation)
    document_ids: list[int] | None = None  # uploads the transition carries (issue 13)
    final_report: object = None  # the submitted report (workflow.final_report.Content)


@dataclass
class Firing:
    """Everything one firing read, and the writes its guards and effects recorded."""

    session: Session
    loaded: Loaded
    spec: Transition
    actor: Actor
    now: datetime
    reason: str | None
    payload: Payload
    # Recorded by guards and effects; written by `apply`.
    parsed: ParsedInput = field(default_factory=ParsedInput)
    changes: dict[str, object] = field(default_factory=dict)  # application columns
    record_payload: Payload = field(default_factory=dict)  # the history row's payload
    year_values: dict[str, dict[int, int]] = field(default_factory=dict)  # column: {year: cents}
    money: MoneyChange | None = None
    planned: deadlines.Planned = field(default_factory=list)  # deadlines to open
    # The finance plan's lines (year, kind, heading, cents), once a guard has read them.
    plan_lines: list[tuple[int, str, str, int]] | None = None
    claim: ClaimPlan | None = None  # the repayment claim a revocation makes (workflow.claims)
    # The Schlusszahlung the closure of a settled case opens: {year: cents} (workflow.claims).
    final_payments: dict[int, int] = field(default_factory=dict)
    source: State = field(init=False)  # the state the firing started from
    # Filled by `apply`.
    lines: list[BudgetLineRow] | None = None  # the call's budget lines after the money change
    record: TransitionRecord | None = None  # the history row, once written
    opened: list[DeadlineRow] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.source = State(self.loaded.app.state)

    @property
    def app(self) -> ApplicationRow:
        return self.loaded.app

    @property
    def call(self) -> CallRow:
        return self.loaded.call

    @property
    def programme(self) -> ProgrammeRow:
        return self.loaded.programme

    @property
    def years(self) -> dict[int, YearRow]:
        return self.loaded.years

    @property
    def deadlines(self) -> list[DeadlineRow]:
        return self.loaded.deadlines

    def deadline(self, kind: DeadlineKind) -> DeadlineRow | None:
        return next((d for d in self.deadlines if d.kind == kind), None)


def apply(firing: Firing) -> TransitionRecord:
    """Write what the firing recorded, in a fixed order; returns the history row."""
    _apply_money(firing)
    _apply_years(firing)
    _apply_state(firing)
    record = firing.record = _insert_record(firing)
    _apply_deadlines(firing, record.id)
    if firing.parsed.document_ids:
        documents.attach(firing.session, firing.parsed.document_ids, record.id)
    if firing.claim is not None:
        claims.insert(firing.session, firing.app.id, record.id, firing.claim, firing.now)
    if firing.final_payments:
        _open_final_payments(firing)
    return record


def _open_final_payments(firing: Firing) -> None:
    """The final grant not yet paid becomes a call of funds of its own (Schlusszahlung), for
    staff to certify and a second person to order like any other."""
    conn, today = connection(firing.session), deadlines.local_date(firing.now)
    for year, cents in sorted(firing.final_payments.items()):
        if repository.add_called(conn, firing.app.id, year, cents) is None:
            raise Conflict(
                f"Die Schlusszahlung für {year} überstiege die gebundenen Mittel.",
                f"The final payment for {year} would exceed the committed money.")
        firing.session.add(FundsCall(
            application_id=firing.app.id, year=year, amount_cents=cents,
            purpose=FINAL_PAYMENT_PURPOSE, needed_by=today,
            status=FundsCallStatus.requested.value, requested_at=firing.now,
            requested_by_id=firing.actor.id))
    firing.session.flush()


def _apply_money(firing: Firing) -> None:
    change = firing.money
    if change is None:
        return
    session, app = firing.session, firing.app
    if change.direction == Money.commit:
        firing.lines = budget.commit(session, app, change.per_year or {}, firing.now,
                                     firing.actor.id)
        return
    firing.lines = budget.budget_lines(session, app.call_id)
    released = budget.release(session, app, firing.now, firing.actor.id, change.note,
                              per_year=change.per_year, lines=firing.lines)
    if released or change.per_year is not None:
        firing.record_payload["released_cents"] = released


def _apply_years(firing: Firing) -> None:
    conn = connection(firing.session)
    for name, per_year in firing.year_values.items():
        rows = {firing.years[y].id: cents for y, cents in per_year.items()}
        repository.set_year_column(conn, name, rows)
        for year, cents in per_year.items():
            setattr(firing.years[year], name, cents)
            repository.sync(firing.session, ApplicationYear, firing.years[year].id, {name: cents})


def _apply_state(firing: Firing) -> None:
    """The state and version change only here, and only if nobody changed the row meanwhile."""
    app = firing.app
    dest = firing.spec.dest_from(firing.source)
    values = {"state": dest.value, "version": app.version + 1, "updated_at": firing.now,
              **firing.changes}
    conn = connection(firing.session)
    if not repository.update_application(conn, app.id, app.version, values):
        raise StaleVersion(
            "Der Antrag wurde gleichzeitig geändert. Bitte neu laden.",
            "The application was changed at the same time. Please reload.",
            current_version=repository.current_version(conn, app.id),
        )
    for name, value in values.items():
        setattr(app, name, value)
    repository.sync(firing.session, Application, app.id, values)


def _insert_record(firing: Firing) -> TransitionRecord:
    payload = firing.record_payload
    row = {
        "application_id": firing.app.id,
        "trigger": firing.spec.trigger,
        "from_state": firing.source.value,
        "to_state": firing.app.state,
        "actor_id": firing.actor.id,
        "actor_role": firing.actor.role.value,
        "at": firing.now,
        "reason": firing.reason,
        "late": bool(payload.get("late")),
        "payload": payload,
    }
    record_id = repository.insert_record(connection(firing.session), row)
    # The row is written; the returned object only reports it (model_construct: no validation).
    return TransitionRecord.model_construct(id=record_id, **row)


def _apply_deadlines(firing: Firing, record_id: int) -> None:
    session, app, spec, now = firing.session, firing.app, firing.spec, firing.now
    existing = firing.deadlines
    if spec.closes:
        deadlines.close_deadlines(session, app, spec.closes, now, existing=existing)
    if firing.planned:
        firing.opened = deadlines.open_deadlines(session, app, firing.planned, now,
                                                 record_id, existing=existing)
    if State(app.state) in FINAL_STATES:
        deadlines.close_deadlines(session, app, None, now, status=DeadlineStatus.cancelled,
                                  existing=existing)


def due_dates_planned(firing: Firing, explicit: date | None) -> deadlines.Planned:
    """The due dates of the deadlines the transition opens (`explicit` where staff may set it)."""
    config = firing.programme.config or {}
    return [
        (kind, deadlines.due_dates(kind, firing.app, firing.now, config,
                                   explicit if kind in STAFF_ADJUSTABLE else None))
        for kind in firing.spec.opens
    ]
