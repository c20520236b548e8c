"""Reminder steps of deadlines and the reminder pass (cron `quartier remind`, or the worker).

Each open deadline runs through its steps (defaults: 28 and 7 days before, on the due date, a formal
reminder — Mahnung — 7 days overdue with a 14-day grace period, then escalation to the case officer
when the grace period has ended). A pass sends, per deadline, only the newest step that is due and
records older unsent ones as skipped, so a scheduler that was down does not send a burst of stale
reminders. A step whose premise is an earlier step is not due before that premise holds: the
escalation follows a Mahnung that went out and whose grace period has ended, so a catch-up after
a long outage sends the Mahnung (its grace period counted from that day), never an escalation
claiming a Nachfrist that was never set. A deadline kind configured without Mahnung
(`"mahnung": false`, ZiQ's hearing reply) sets no grace period; its escalation follows the due
date. Every step is claimed by inserting its `ReminderSent` row first (unique per deadline,
due date and step), so several passes at once send each step exactly once. A deadline that is met
or cancelled is no longer open, so its remaining steps never fire.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, case, insert, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from notifications.outbox import enqueue
from states import (
    BEFORE_STEP_PREFIX,
    DEADLINE_LABELS,
    DEFAULT_KIND_REMINDERS,
    DEFAULT_REMINDERS,
    ESCALATION_EMAIL,
    REMINDER_EMAIL,
    REMINDER_TRIGGER_PREFIX,
    STEP_LABELS,
    DeadlineKind,
    DeadlineStatus,
    ReminderStatus,
    ReminderStep,
    Role,
)
from workflow import notices
from workflow.db import is_postgres, unit_of_work
from workflow.deadlines import local_date, next_working_day
from workflow.links import with_link
from workflow.models import Application, Call, Deadline, Programme, TransitionRecord, User
from workflow.reminder_tables import ReminderSent
from workflow.repository import connection

NO_MORE_STEPS = date(9999, 12, 31)
ESCALATION = ReminderStep.escalation
OVERDUE = ReminderStep.overdue


def reminder_rule(config: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    """The reminder rule of one deadline kind: code defaults (general, then of the kind), then the
    programme's default and the programme's rule for the kind."""
    overrides = (config or {}).get("reminders", {}) or {}
    return {**DEFAULT_REMINDERS, **DEFAULT_KIND_REMINDERS.get(kind, {}),
            **overrides.get("default", {}), **overrides.get(kind, {})}


def has_mahnung(rule: dict[str, Any]) -> bool:
    """Whether deadlines under `rule` get a formal reminder (Mahnung) and so a grace period."""
    return bool(rule.get("mahnung", True)) and rule["overdue_after_days"] is not None


@dataclass(frozen=True)
class Step:
    """One planned reminder step of a deadline."""

    name: str
    on: date  # the day (Europe/Berlin) the step becomes due
    grace_until: date | None = None  # set by the formal reminder
    after: str | None = None  # the earlier step that must be recorded before this one is due

    @property
    def to_case_officer(self) -> bool:
        return self.name == ESCALATION


def grace_end(sent_on: date, rule: dict[str, Any]) -> date:
    """Last day of the grace period a formal reminder sent on `sent_on` sets (a working day)."""
    return next_working_day(sent_on + timedelta(days=int(rule["grace_days"])))


def plan_steps(due: date, opened_on: date, rule: dict[str, Any],
               mahnung_grace_until: date | None = None) -> list[Step]:
    """The steps of a deadline in order. Steps that would fall before the deadline was opened do
    not apply (a 14-day document request gets no 28-day reminder). `mahnung_grace_until` is the
    grace period an already sent formal reminder set; escalation follows the day after it ends.

    Until a Mahnung has gone out, the escalation's day is an estimate (the day after the grace
    period a Mahnung sent on its own day would set) and the escalation waits for the Mahnung
    (`after`). Without Mahnung in the rule the escalation follows the day after the due date and
    names no grace period.
    """
    steps = [Step(f"{BEFORE_STEP_PREFIX}{n}", due - timedelta(days=int(n)))
             for n in sorted({int(n) for n in rule["before_days"]}, reverse=True) if int(n) > 0]
    if rule["on_due"]:
        steps.append(Step(ReminderStep.due, due))
    mahnung = has_mahnung(rule)
    if mahnung:
        overdue_on = due + timedelta(days=int(rule["overdue_after_days"]))
        steps.append(Step(OVERDUE, overdue_on,
                          mahnung_grace_until or grace_end(overdue_on, rule)))
    if rule["escalate"]:
        if not mahnung:
            steps.append(Step(ESCALATION, due + timedelta(days=1)))
        elif mahnung_grace_until is not None:
            steps.append(Step(ESCALATION, mahnung_grace_until + timedelta(days=1),
                              mahnung_grace_until, after=OVERDUE))
        else:
            steps.append(Step(ESCALATION, grace_end(overdue_on, rule) + timedelta(days=1),
                              after=OVERDUE))
    kept = [s for s in steps if s.on >= opened_on]
    names = {s.name for s in kept}
    # A premise that fell before the deadline was opened does not apply either.
    return [replace(s, after=None) if s.after and s.after not in names else s for s in kept]


@dataclass(frozen=True)
class Decision:
    send: Step | None
    skip: tuple[Step, ...]
    next_on: date  # when the deadline needs the pass again (NO_MORE_STEPS: never)


def decide(steps: list[Step], recorded: set[str], today: date) -> Decision:
    """What a pass does today: send the newest due step not yet recorded, skip older ones.

    Steps older than a recorded one never fire any more (they were sent, skipped or overtaken).
    A step whose premise (`after`) is not recorded yet is not due, however late it is.
    """
    done = max((i for i, s in enumerate(steps) if s.name in recorded), default=-1)
    due_now = [s for i, s in enumerate(steps)
               if i > done and s.on <= today and (s.after is None or s.after in recorded)]
    send = due_now[-1] if due_now else None
    handled = steps.index(send) if send else done
    later = steps[handled + 1:]
    return Decision(send, tuple(due_now[:-1]), later[0].on if later else NO_MORE_STEPS)


@dataclass
class PassSummary:
    """What one reminder pass did."""

    today: date
    deadlines: int = 0
    sent: Counter = field(default_factory=Counter)
    skipped: int = 0
    without_recipient: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "deadlines": self.deadlines,
                "sent": dict(sorted(self.sent.items())), "sent_total": sum(self.sent.values()),
                "skipped": self.skipped, "without_recipient": self.without_recipient}


def due_deadline_ids(session: Session, today: date) -> list[int]:
    """Open deadlines the pass must look at: a step is due, or the steps need planning.

    Two range lookups on the (status, next_reminder_on) index; rows not due are never touched.
    """
    due = session.exec(select(Deadline.id).where(
        Deadline.status == DeadlineStatus.open, Deadline.next_reminder_on <= today)).all()
    unplanned = session.exec(select(Deadline.id).where(
        Deadline.status == DeadlineStatus.open, Deadline.next_reminder_on.is_(None))).all()
    return sorted(set(due) | set(unplanned))


def run_reminder_pass(engine: Engine, now: datetime | None = None,
                      batch_size: int = 250) -> PassSummary:
    """One idempotent pass over the due deadlines, one transaction per batch.

    Safe to run in several processes at once: on PostgreSQL each batch locks its deadline rows
    with SKIP LOCKED (other passes take other rows), and on every database each step is claimed
    by its unique `ReminderSent` row before its email is written.
    """
    now = now or datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    today = local_date(now)
    summary = PassSummary(today)
    with Session(engine) as session:
        ids = due_deadline_ids(session, today)
    for start in range(0, len(ids), batch_size):
        with unit_of_work(engine) as session:
            remind(session, ids[start:start + batch_size], now, summary)
    return summary


def remind(session: Session, deadline_ids: list[int], now: datetime,
           summary: PassSummary | None = None) -> PassSummary:
    """Send the due steps of these deadlines inside the caller's transaction."""
    today = local_date(now)
    summary = summary or PassSummary(today)
    query = select(Deadline).where(
        Deadline.id.in_(deadline_ids), Deadline.status == DeadlineStatus.open,
        or_(Deadline.next_reminder_on.is_(None), Deadline.next_reminder_on <= today),
    ).order_by(Deadline.id)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    deadlines = list(session.exec(query))
    if not deadlines:
        return summary
    apps = {a.id: a for a in session.exec(select(Application).where(
        Application.id.in_({d.application_id for d in deadlines})))}
    user_ids = {a.created_by_id for a in apps.values()} | {
        a.case_officer_id for a in apps.values() if a.case_officer_id}
    users = {u.id: u for u in session.exec(select(User).where(User.id.in_(user_ids)))}
    programmes = _programmes(session, {a.call_id for a in apps.values()})
    recorded: dict[tuple[int, date], dict[str, ReminderSent]] = {}
    for row in session.exec(select(ReminderSent).where(
            ReminderSent.deadline_id.in_([d.id for d in deadlines]))):
        recorded.setdefault((row.deadline_id, row.due_date), {})[row.step] = row
    plans: list[_Plan] = []
    skipped: list[dict[str, Any]] = []
    next_days: dict[date, list[int]] = {}
    for deadline in deadlines:
        app = apps[deadline.application_id]
        plan, next_on = _plan(deadline, app, programmes[app.call_id], users,
                              recorded.get((deadline.id, deadline.due_date), {}), now, skipped)
        next_days.setdefault(next_on, []).append(deadline.id)
        if plan is not None:
            plans.append(plan)
    summary.deadlines += len(deadlines)
    # Insert first: every step of the batch is claimed in one statement; only steps whose row
    # this pass inserted are sent (another pass that got there first holds the others).
    summary.skipped += len(_claim(session, skipped))
    won = _claim(session, [_claim_values(p.deadline, p.step,
                                         ReminderStatus.sent if p.recipient
                                         else ReminderStatus.skipped,
                                         now, p.recipient) for p in plans])
    claimed: list[tuple[int, int]] = []  # (reminder, outbox row)
    history: list[dict[str, Any]] = []
    # No autoflush: the batch's rows are written together by one flush at the end.
    with session.no_autoflush:
        for plan in plans:
            reminder_id = won.get((plan.deadline.id, plan.step.name))
            if reminder_id is None:
                continue
            if plan.recipient is None:
                summary.without_recipient += 1
                continue
            outbox_id = _send(session, plan, users.get(plan.app.case_officer_id), now,
                              reminder_id, history)
            claimed.append((reminder_id, outbox_id))
            summary.sent[plan.step.name] += 1
    session.flush()
    if history:
        session.execute(insert(TransitionRecord.__table__), history)
    # One statement per distinct day (few), not one per deadline.
    deadline_table = Deadline.__table__
    for next_on, ids in next_days.items():
        session.execute(update(deadline_table).where(deadline_table.c.id.in_(ids))
                        .values(next_reminder_on=next_on))
    if claimed:
        table = ReminderSent.__table__
        session.execute(update(table).where(table.c.id.in_([rid for rid, _ in claimed])).values(
            outbox_id=case(dict(claimed), value=table.c.id)))
    return summary


@dataclass(frozen=True)
class _Plan:
    """The step one deadline sends in this pass, and to whom (None: nobody to send it to)."""

    deadline: Deadline
    app: Application
    programme: Programme
    step: Step
    recipient: User | None
    mahnung_on: date | None = None  # the day the Mahnung of this deadline went out, if it did
    reminded: bool = False  # whether an earlier step went out to the carrier


def _plan(deadline: Deadline, app: Application, programme: Programme, users: dict[int, User],
          rows: dict[str, ReminderSent], now: datetime,
          skipped: list[dict[str, Any]]) -> tuple[_Plan | None, date]:
    """Decide one deadline: collect its stale steps as skipped; return its step to send (if any)
    and the day the pass must look at it next."""
    today = local_date(now)
    rule = reminder_rule(programme.config, deadline.kind)
    mahnung = rows.get(OVERDUE)
    sent = mahnung is not None and mahnung.status == ReminderStatus.sent
    grace = mahnung.grace_until if sent else None
    steps = plan_steps(deadline.due_date, local_date(_aware(deadline.opened_at)), rule, grace)
    decision = decide(steps, set(rows), today)
    skipped += [_claim_values(deadline, step, ReminderStatus.skipped, now, None)
                for step in decision.skip]
    next_on, plan = decision.next_on, None
    if decision.send is not None:
        step = decision.send
        if step.name == OVERDUE:
            # The grace period runs from the day the formal reminder actually goes out.
            step = Step(OVERDUE, step.on, grace_end(today, rule))
            if rule["escalate"]:
                next_on = step.grace_until + timedelta(days=1)
        sent_rows = [r for r in rows.values() if r.status == ReminderStatus.sent]
        plan = _Plan(deadline, app, programme, step, _recipient(app, step, users, programme),
                     local_date(_aware(mahnung.at)) if sent else None,
                     any(r.step != ESCALATION for r in sent_rows))
    return plan, next_on


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _programmes(session: Session, call_ids: set[int]) -> dict[int, Programme]:
    calls = session.exec(select(Call).where(Call.id.in_(call_ids))).all()
    programmes = {p.id: p for p in session.exec(select(Programme).where(
        Programme.id.in_({c.programme_id for c in calls})))}
    return {c.id: programmes[c.programme_id] for c in calls}


def _claim_values(deadline: Deadline, step: Step, status: str, now: datetime,
                  recipient: User | None) -> dict[str, Any]:
    return {"deadline_id": deadline.id, "application_id": deadline.application_id,
            "due_date": deadline.due_date, "step": step.name, "status": status,
            "scheduled_on": step.on, "at": now,
            "recipient": recipient.email if recipient is not None else None,
            "grace_until": step.grace_until if status == ReminderStatus.sent else None}


def _claim(session: Session, rows: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    """Insert these step rows unless present; (deadline id, step) -> id of the rows inserted."""
    if not rows:
        return {}
    table = ReminderSent.__table__
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = (dialect_insert(table)
                .on_conflict_do_nothing(index_elements=["deadline_id", "due_date", "step"])
                .returning(table.c.id, table.c.deadline_id, table.c.step))
        # executemany with RETURNING: SQLAlchemy batches the rows into multi-row INSERTs.
        return {(deadline_id, step): id_
                for id_, deadline_id, step in session.execute(stmt, rows)}
    won = {}
    for row in rows:
        try:
            with session.begin_nested():
                result = session.execute(insert(table).values(**row))
                won[(row["deadline_id"], row["step"])] = result.inserted_primary_key[0]
        except IntegrityError:
            continue
    return won


def _recipient(app: Application, step: Step, users: dict[int, User],
               programme: Programme) -> User | None:
    """The carrier's user for reminders; the case officer (or the programme) for escalation."""
    if step.to_case_officer:
        officer = users.get(app.case_officer_id) if app.case_officer_id else None
        if officer is not None and not officer.disabled:
            return officer
        if not programme.contact_email:
            return None
        # Not stored: the programme's contact address stands in for a missing case officer.
        return User(id=None, email=programme.contact_email, language="de",
                    name=programme.contact_name or programme.contact_email,
                    role=Role.reviewer.value)
    carrier = users.get(app.created_by_id)
    return carrier if carrier is not None and not carrier.disabled else None


def _send(session: Session, plan: _Plan, officer: User | None, now: datetime,
          reminder_id: int, history: list[dict[str, Any]]) -> int:
    """The email (outbox) and the history row of one sent step, in the caller's transaction."""
    programme, app, deadline, step = plan.programme, plan.app, plan.deadline, plan.step
    recipient = plan.recipient
    assert recipient is not None
    today = local_date(now)
    language = recipient.language
    kind = DeadlineKind(deadline.kind)
    context = {
        **notices.base_context(programme, app, recipient),
        "deadline_kind": deadline.kind,
        "deadline_label": DEADLINE_LABELS[kind].in_language(language),
        "due_date": deadline.due_date.isoformat(),
        "step": step.name,
        "days": (deadline.due_date - today).days,
        "grace_until": step.grace_until.isoformat() if step.grace_until else "",
        "case_officer_name": officer.name if officer else programme.contact_name,
        "case_officer_email": officer.email if officer else programme.contact_email,
        # What the carrier was actually sent before this step (the escalation says only that).
        "mahnung_on": plan.mahnung_on.isoformat() if plan.mahnung_on else "",
        "reminded": plan.reminded,
    }
    template = ESCALATION_EMAIL if step.to_case_officer else REMINDER_EMAIL
    outbox_id = enqueue(
        connection(session), template=template, recipient=recipient.email, language=language,
        context=with_link(session, template, language, context),
        application_id=app.id, now=now)
    # The history row (written with the batch): the reminder shows in the application history.
    history.append({
        "application_id": app.id, "trigger": f"{REMINDER_TRIGGER_PREFIX}{step.name}",
        "from_state": app.state,
        "to_state": app.state, "actor_id": None, "actor_role": Role.system.value, "at": now,
        "reason": describe(step, deadline, plan.mahnung_on), "late": False, "payload": {
            "deadline_id": deadline.id, "deadline_kind": deadline.kind,
            "period": deadline.period, "due_date": deadline.due_date.isoformat(),
            "step": step.name, "scheduled_on": step.on.isoformat(),
            "grace_until": step.grace_until.isoformat() if step.grace_until else None,
            "mahnung_on": plan.mahnung_on.isoformat() if plan.mahnung_on else None,
            "recipient": recipient.email, "reminder_id": reminder_id}})
    return outbox_id


def describe(step: Step, deadline: Deadline, mahnung_on: date | None = None) -> str:
    """A German line for the history: which step, for which deadline, which grace period (only
    one a Mahnung that went out, on `mahnung_on`, actually set)."""
    label = DEADLINE_LABELS[DeadlineKind(deadline.kind)].de
    period = f" {deadline.period}" if deadline.period else ""
    step_label = STEP_LABELS.get(step.name)
    what = step_label.de if step_label else ""
    if step.name.startswith(BEFORE_STEP_PREFIX):
        what = f"Erinnerung {step.name.removeprefix(BEFORE_STEP_PREFIX)} Tage vor Fristablauf"
    text = f"{what}: {label}{period}, fällig am {deadline.due_date:%d.%m.%Y}"
    if step.name == OVERDUE and step.grace_until:
        text += f"; Nachfrist bis {step.grace_until:%d.%m.%Y}"
    if step.name == ESCALATION:
        if mahnung_on and step.grace_until:
            text += (f"; gemahnt am {mahnung_on:%d.%m.%Y}, "
                     f"Nachfrist am {step.grace_until:%d.%m.%Y} abgelaufen")
        else:
            text += "; ohne Mahnung"
    return text


# ---------------------------------------------------------------- grace periods in force


@dataclass(frozen=True)
class GracePeriod:
    """A grace period a sent Mahnung set on an open deadline, and which has not ended yet."""

    deadline_id: int
    kind: str
    period: str
    due_date: date
    mahnung_at: datetime
    until: date  # the last day of the grace period (Europe/Berlin)


_RUNNING_GRACE = (
    select(ReminderSent.deadline_id, ReminderSent.due_date, ReminderSent.at,
           ReminderSent.grace_until)
    .where(ReminderSent.deadline_id.in_(bindparam("ids", expanding=True)),
           ReminderSent.step == OVERDUE, ReminderSent.status == ReminderStatus.sent,
           ReminderSent.grace_until >= bindparam("today")))


def running_grace_periods(conn: Connection, deadlines: list[Any], today: date) -> list[GracePeriod]:
    """The grace periods still running on `today` on these deadlines (rows with id, kind,
    period, due_date, status): only open ones, only for their current due date. One statement,
    none when no deadline is open."""
    open_ = {d.id: d for d in deadlines if d.status == DeadlineStatus.open and d.id is not None}
    if not open_:
        return []
    found = []
    for deadline_id, due_date, at, until in conn.execute(
            _RUNNING_GRACE, {"ids": sorted(open_), "today": today}):
        deadline = open_[deadline_id]
        if due_date == deadline.due_date:
            found.append(GracePeriod(deadline_id, deadline.kind, deadline.period or "",
                                     due_date, _aware(at), until))
    return sorted(found, key=lambda g: (g.until, g.deadline_id))


# ---------------------------------------------------------------- overdue applications


def overdue_filter(today: date | None = None) -> Any:
    """SQL condition on Application: an open deadline whose grace period ended (escalated)."""
    escalated = (
        select(ReminderSent.application_id)
        .join(Deadline, Deadline.id == ReminderSent.deadline_id)
        .where(Deadline.status == DeadlineStatus.open, ReminderSent.due_date == Deadline.due_date,
               ReminderSent.step == ESCALATION, ReminderSent.status == ReminderStatus.sent)
    )
    if today is not None:
        escalated = escalated.where(ReminderSent.scheduled_on <= today)
    return Application.id.in_(escalated)


def overdue_application_ids(session: Session, today: date | None = None) -> set[int]:
    """Applications shown as overdue in the reviewers' list: escalated and still not met."""
    return set(session.exec(select(Application.id).where(overdue_filter(today))).all())


def reminders_of(session: Session, application_id: int) -> list[ReminderSent]:
    """Every recorded step (sent or skipped) of one application, oldest first."""
    return list(session.exec(select(ReminderSent).where(
        ReminderSent.application_id == application_id).order_by(ReminderSent.id)))


__all__ = ["DEFAULT_REMINDERS", "ReminderSent", "PassSummary", "Step", "plan_steps", "decide",
           "reminder_rule", "has_mahnung", "running_grace_periods", "run_reminder_pass",
           "remind", "due_deadline_ids",
           "overdue_application_ids", "overdue_filter", "reminders_of"]
