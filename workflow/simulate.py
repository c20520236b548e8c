"""`quartier simulate`: a programme year of the ZiQ 2021/2022 call on a simulated clock.

A fresh database (in memory unless one is given) is seeded with the ZiQ programme and its
people; then about 150 applications are played day by day from the call's opening to the last
closure: the money runs out and the automatic funding stop comes, the waiting list fills, a
revocation (after a hearing) and an under-spend give money back and the waiting list moves,
interim and final reports come in, reminders and Mahnungen go out. On each day the reminder
pass runs first (as cron would in the early morning), then whatever carriers and staff do that
day, each in its own transaction. The timeline lists every transition, deadline, interim report,
reminder, email and funding-stop change in order; the summary counts what came of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import Session, SQLModel, select

from notifications.outbox import OutboxMessage
from states import (
    DEADLINE_LABELS,
    HISTORY_TRIGGERS,
    INTERIM_REPORT_ACTIONS,
    REMINDER_TRIGGER_PREFIX,
    STATE_LABELS,
    TRANSITIONS_BY_TRIGGER,
    DeadlineKind,
    DeadlineStatus,
    ReminderStatus,
    State,
)
from workflow import seed
from workflow.bescheide import without_pdfs
from workflow.db import make_engine, unit_of_work
from workflow.deadlines import BERLIN, local_date
from workflow.models import (
    Application,
    Call,
    Deadline,
    LedgerEntry,
    TransitionRecord,
    User,
)
from workflow.reminder_tables import ReminderSent
from workflow.reminders import run_reminder_pass
from workflow.seed import Action, Project

PASS_HOUR = seed.PASS_HOUR
STEP_ORDER = {"before_28": 0, "before_7": 1, "due": 2, "overdue": 3, "escalation": 4}
STOP_KINDS = {"automatic": "automatisch, Mittel gebunden", "declared": "erklärt"}
WAITLISTED, REJECTED, WITHDRAWN, LATE_DRAFTS = 12, 16, 6, 6  # with 110 funded: 150 applications
REVOCATION_HEARING = date(2021, 8, 16)
EARLY_FINAL_REPORT = date(2022, 3, 15)
SECOND_WAITING_AMOUNT = 40_000_00  # the second on the waiting list asks for 2022 money only


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    day: date
    kind: str  # transition | report | reminder | deadline | email | funding_stop
    reference: str
    text: str
    step: str | None = None
    deadline_kind: str | None = None
    at: str | None = None  # funding_stop: the exact moment (ISO 8601) it began

    def line(self) -> str:
        return f"{self.day.isoformat()}  {self.reference:<14} {self.kind:<12} {self.text}"


@dataclass
class Simulation:
    """The timeline and the summary of one run."""

    entries: list[Entry]
    summary: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"timeline": [asdict(e) for e in self.entries], "summary": self.summary}


def _money_back(projects: list[Project]) -> None:
    """A large project is revoked in 2021 (money back for the first on the waiting list, who is
    planned to start late in 2021); one ends early in 2022 and under-spends (money back for the
    second, who asks for 2022 money only). Nobody later on the list fits afterwards."""
    funded = [p for p in projects if p.outcome == "funded"]
    waiting = sorted((p for p in projects if p.outcome == "waitlisted"),
                     key=lambda p: p.submitted)
    candidates = [p for p in funded[:-1] if len(p.amounts) == 2
                  and p.start <= date(2021, 6, 1) and p.end == date(2022, 12, 31)]
    revoked = max(candidates, key=lambda p: (sum(p.amounts.values()), p.key))
    revoked.revocation = REVOCATION_HEARING
    revoke_day = seed.working_day(REVOCATION_HEARING + timedelta(days=21))
    first, second = waiting[0], waiting[1]
    freed = {y: revoked.amounts[y] + seed.LEFTOVER[y] for y in revoked.amounts}
    first.amounts = {y: cents * 8 // 10 // 10_000 * 10_000 for y, cents in freed.items()}
    first.start, first.end = date(2021, 11, 1), date(2022, 10, 31)
    first.reoffered = seed.working_day(revoke_day + timedelta(days=3))
    left_2022 = freed[2022] - first.amounts[2022]
    underspend = SECOND_WAITING_AMOUNT - left_2022 + 5_000_00
    early = next(p for p in funded[:-1] if p is not revoked and p.start <= date(2021, 6, 1)
                 and p.amounts.get(2021) and p.amounts.get(2022, 0) >= underspend + 20_000_00)
    early.end = date(2022, 2, 28)
    early.early_final = (EARLY_FINAL_REPORT, underspend)
    second.amounts = {2022: SECOND_WAITING_AMOUNT}
    second.start, second.end = date(2022, 5, 1), date(2022, 12, 31)
    second.reoffered = seed.working_day(EARLY_FINAL_REPORT + timedelta(days=16 + 5))


def programme_year() -> seed.History:
    """The simulated call: the seeded history's generator with money flowing back."""
    return seed.generate_history(waitlisted=WAITLISTED, rejected=REJECTED, withdrawn=WITHDRAWN,
                                 late_drafts=LATE_DRAFTS, adjust=_money_back)


def script() -> list[Action]:
    return programme_year().actions


class Timeline:
    """Collects what happened since the last look: history rows, emails, deadline changes and
    funding-stop changes."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.last_record = 0
        self.last_email = 0
        self.deadlines: dict[int, tuple[str, date]] = {}
        self.stops: dict[str, tuple[str | None, datetime | None]] = {}

    def collect(self, session: Session, day: date) -> None:
        refs = dict(session.exec(select(Application.id, Application.reference)).all())
        for r in session.exec(select(TransitionRecord).where(
                TransitionRecord.id > self.last_record).order_by(TransitionRecord.id)):
            self.last_record = r.id
            self.entries.append(self._record(day, refs.get(r.application_id, "?"), r))
        for d in session.exec(select(Deadline).order_by(Deadline.id)):
            before = self.deadlines.get(d.id)
            now = (d.status, d.due_date)
            if before != now:
                self.deadlines[d.id] = now
                self.entries.append(self._deadline(day, refs.get(d.application_id, "?"), d,
                                                   before))
        for m in session.exec(select(OutboxMessage).where(
                OutboxMessage.id > self.last_email).order_by(OutboxMessage.id)):
            self.last_email = m.id
            self.entries.append(Entry(day, "email", refs.get(m.application_id, "–"),
                                      f"an {m.recipient} [{m.template}]: {m.subject}",
                                      step=(m.context or {}).get("step"),
                                      deadline_kind=(m.context or {}).get("deadline_kind")))
        for call in session.exec(select(Call).order_by(Call.id)):
            now_stop = (call.stop_kind, call.stop_since)
            if self.stops.get(call.code, (None, None)) != now_stop:
                self.stops[call.code] = now_stop
                if call.stop_kind:
                    self.entries.append(Entry(
                        day, "funding_stop", call.code,
                        f"Fördermittelstopp ({STOP_KINDS.get(call.stop_kind)}) seit "
                        f"{_berlin(call.stop_since):%d.%m.%Y %H:%M}: {call.stop_reason}",
                        at=_aware(call.stop_since).isoformat()))
                else:
                    self.entries.append(Entry(day, "funding_stop", call.code,
                                              "Fördermittelstopp aufgehoben"))

    @staticmethod
    def _record(day: date, ref: str, r: TransitionRecord) -> Entry:
        if r.trigger.startswith(REMINDER_TRIGGER_PREFIX):
            step = r.trigger.removeprefix(REMINDER_TRIGGER_PREFIX)
            return Entry(day, "reminder", ref, f"{r.reason} → {r.payload.get('recipient')}",
                         step=step, deadline_kind=r.payload.get("deadline_kind"))
        action = HISTORY_TRIGGERS.get(r.trigger)
        if action in INTERIM_REPORT_ACTIONS:
            text = f"{r.trigger}: {r.reason or ''}" + (" (verspätet)" if r.late else "")
            return Entry(day, "report", ref, text)
        spec = TRANSITIONS_BY_TRIGGER.get(r.trigger) or action
        label = spec.label.de if spec else r.trigger
        to = STATE_LABELS[State(r.to_state)].de
        source = STATE_LABELS[State(r.from_state)].de if r.from_state else "–"
        text = f"{label} ({r.actor_role}): {source} → {to}"
        if r.reason:
            text += f" – {r.reason}"
        if r.late:
            text += " (verspätet)"
        return Entry(day, "transition", ref, text)

    @staticmethod
    def _deadline(day: date, ref: str, d: Deadline, before: tuple[str, date] | None) -> Entry:
        label = DEADLINE_LABELS[DeadlineKind(d.kind)].de + (f" {d.period}" if d.period else "")
        if before is None or (before[0] != DeadlineStatus.open and d.status == DeadlineStatus.open):
            text = f"Frist geöffnet: {label}, fällig am {d.due_date:%d.%m.%Y}"
        elif d.status == DeadlineStatus.open:
            text = f"Frist verlängert: {label}, jetzt fällig am {d.due_date:%d.%m.%Y}"
        elif d.status == DeadlineStatus.met:
            text = f"Frist erfüllt: {label}"
        else:
            text = f"Frist aufgehoben: {label}"
        return Entry(day, "deadline", ref, text, deadline_kind=d.kind)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _berlin(moment: datetime) -> datetime:
    return _aware(moment).astimezone(BERLIN)


def _next_due(engine: Engine) -> date | None:
    with Session(engine) as session:
        return session.exec(select(func.min(Deadline.next_reminder_on)).where(
            Deadline.status == DeadlineStatus.open)).one()


def summarise(session: Session) -> dict[str, Any]:
    """Applications by state, money committed, released and repaid, reminders by step."""
    states = Counter(session.exec(select(Application.state)).all())
    ledger = Counter()
    for kind, delta in session.exec(select(LedgerEntry.kind, LedgerEntry.committed_delta_cents)):
        ledger[kind] += delta
    repaid = sum(c or 0 for c in session.exec(select(Application.repayment_claim_cents)))
    steps = Counter(session.exec(select(ReminderSent.step).where(
        ReminderSent.status == ReminderStatus.sent)).all())
    return {
        "applications": sum(states.values()),
        "states": {s.value: states[s.value] for s in State if states[s.value]},
        "committed_cents": ledger["commit"],
        "released_cents": -ledger["release"],
        "repaid_cents": repaid,
        "reminders": dict(sorted(steps.items(), key=lambda item: STEP_ORDER.get(item[0], 99))),
    }


def simulate(until: date | None = None, on_entry: Callable[[Entry], None] | None = None,
             on_day: Callable[[int, int], None] | None = None,
             engine: Engine | None = None) -> Simulation:
    """Run the programme year day by day on a fresh database (in memory unless `engine` is
    given: then it stays for inspection); returns the timeline and the summary."""
    db = engine or make_engine("sqlite://")
    SQLModel.metadata.create_all(db)
    data = seed.load_programme_data()
    opening = datetime.fromisoformat(data["call"]["opens_at"])
    history = programme_year()
    last = until or local_date(history.actions[-1].when)
    # A throwaway database: its notices would only leave files no row names in the store.
    try:
        with without_pdfs():
            return _run(db, history, opening, last, on_entry, on_day)
    finally:
        if engine is None:
            db.dispose()


def _run(db: Engine, history: Any, opening: datetime, last: date,
         on_entry: Callable[[Entry], None] | None,
         on_day: Callable[[int, int], None] | None) -> Simulation:
    timeline = Timeline()
    refs: dict[str, str] = {}
    with unit_of_work(db) as session:
        seed.seed(session, opening, demo_applications=False, password="simulation")
        users = {u.email: u for u in session.exec(select(User))}
        seed.create_organisations(session, history, users)
    with Session(db) as session:
        users = {u.email: u for u in session.exec(select(User))}
    first = day = local_date(opening)
    pending = [a for a in history.actions if local_date(a.when) <= last]
    i, acted, next_due = 0, True, None
    while day <= last:
        sent = False
        if acted or (next_due is not None and next_due <= day):
            summary = run_reminder_pass(db, datetime.combine(day, time(PASS_HOUR),
                                                             tzinfo=BERLIN))
            sent, acted, next_due = bool(sum(summary.sent.values())), False, _next_due(db)
        while i < len(pending) and local_date(pending[i].when) == day:
            with unit_of_work(db) as session:
                seed.perform(session, pending[i], refs, users)
            i, acted = i + 1, True
        if sent or acted:
            with Session(db) as session:
                count = len(timeline.entries)
                timeline.collect(session, day)
                if on_entry:
                    for entry in timeline.entries[count:]:
                        on_entry(entry)
            next_due = _next_due(db)
        if on_day:
            on_day((day - first).days + 1, (last - first).days + 1)
        day += timedelta(days=1)
    with Session(db) as session:
        return Simulation(timeline.entries, summarise(session))


def format_timeline(entries: list[Entry]) -> str:
    return "\n".join(e.line() for e in entries)


__all__ = ["simulate", "script", "programme_year", "summarise", "format_timeline", "Entry",
           "Action", "Simulation"]
