"""`quartier simulate`: the seeded ZiQ programme on a simulated clock, day by day.

A fresh in-memory database is seeded with the ZiQ programme and its people; then the clock runs
from the call's opening to the last closure. On each day the reminder pass runs first (as cron
would in the early morning), then whatever carriers and staff do that day. The timeline lists
every transition, deadline, interim report, reminder and email in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, SQLModel, select

from notifications.outbox import OutboxMessage
from states import (
    ACTIONS,
    DEADLINE_LABELS,
    HISTORY_TRIGGERS,
    INTERIM_REPORT_ACTIONS,
    REMINDER_TRIGGER_PREFIX,
    STATE_LABELS,
    TRANSITIONS_BY_TRIGGER,
    ActionName,
    DeadlineKind,
    DeadlineStatus,
    State,
)
from workflow import drafts, reports, rows, seed
from workflow import engine as wf
from workflow.db import make_engine, unit_of_work
from workflow.deadlines import BERLIN
from workflow.models import Application, Deadline, TransitionRecord, User
from workflow.reminders import run_reminder_pass

PASS_HOUR = 6  # the reminder pass runs at 06:00 Berlin time, before anyone acts


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    day: date
    kind: str  # transition | report | reminder | deadline | email
    reference: str
    text: str
    step: str | None = None
    deadline_kind: str | None = None

    def line(self) -> str:
        return f"{self.day.isoformat()}  {self.reference:<14} {self.kind:<10} {self.text}"


@dataclass(frozen=True)
class Action:
    """Something a person does on a simulated day."""

    when: datetime
    who: str  # email of the acting user
    app: str  # key of the application in the script
    what: str  # create | a trigger | submit_interim | accept_interim | request_interim_changes
    args: dict[str, Any]


def _at(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour), tzinfo=BERLIN)


C1, C2, C3, C4 = (f"traeger{i}@quartier.example" for i in range(1, 5))
REV, REV2, APPR = "pruefung@quartier.example", "pruefung2@quartier.example", \
    "zeichnung@quartier.example"


def _project(key: str, carrier: str, module: str, title: str, quartier: str, start: str,
             end: str, amounts: dict[str, str], created: str) -> Action:
    return Action(_at(created, 9), carrier, key, "create", {
        "module_code": module, "title": title, "quartier": quartier, "project_start": start,
        "project_end": end, "own_contribution": "5000.00", "amounts": amounts,
        "summary": f"{title}: Angebote für Kinder und Familien im Quartier {quartier}."})


def script() -> list[Action]:
    """A realistic ZiQ run: three funded projects (one late), one rejection, one withdrawal."""
    a = Action
    return sorted([
        # Familienzentrum Bismarck: everything on time, interim and final report accepted.
        _project("bismarck", C1, "B2", "Familienzentrum Bismarck", "Bismarck", "2021-03-01",
                 "2022-12-31", {"2021": "90000", "2022": "90000"}, "2020-11-02"),
        a(_at("2020-11-03"), C1, "bismarck", "submit", {}),
        a(_at("2020-11-09"), REV, "bismarck", "start_review", {}),
        a(_at("2020-11-16"), REV, "bismarck", "recommend", {
            "reason": "Förderfähig in voller Höhe.",
            "payload": {"amounts": {"2021": "90000", "2022": "90000"}}}),
        a(_at("2020-11-25"), APPR, "bismarck", "approve", {}),
        a(_at("2021-03-01", 8), C1, "bismarck", "start", {"reason": "Projektbeginn"}),
        a(_at("2022-04-11"), C1, "bismarck", "submit_interim", {
            "narrative": "Familiencafé und Hausaufgabenhilfe laufen; 64 Familien erreicht.",
            "spending": {"2021": "88200"}}),
        a(_at("2022-04-19"), REV, "bismarck", "accept_interim", {}),
        a(_at("2023-06-26"), C1, "bismarck", "submit_final_report", {
            "reason": "Verwendungsnachweis 2021/2022",
            "payload": {"spending": {"2021": "88200", "2022": "90000"}}}),
        a(_at("2023-07-10"), REV, "bismarck", "close", {"reason": "Nachweis geprüft."}),
        # Nachbarschaftslotsen Marxloh: the final report is late: reminders, Mahnung, escalation.
        _project("marxloh", C2, "B1", "Nachbarschaftslotsen Marxloh", "Marxloh", "2021-02-01",
                 "2021-12-31", {"2021": "40000"}, "2020-11-04"),
        a(_at("2020-11-05"), C2, "marxloh", "submit", {}),
        a(_at("2020-11-10"), REV2, "marxloh", "start_review", {}),
        a(_at("2020-11-18"), REV2, "marxloh", "recommend", {
            "reason": "Laufzeit 2021; förderfähig.", "payload": {"amounts": {"2021": "40000"}}}),
        a(_at("2020-11-30"), APPR, "marxloh", "approve", {}),
        a(_at("2021-02-01", 8), C2, "marxloh", "start", {}),
        a(_at("2022-08-03"), C2, "marxloh", "submit_final_report", {
            "reason": "Verwendungsnachweis (verspätet)",
            "payload": {"spending": {"2021": "36500"}}}),
        a(_at("2022-08-10"), REV2, "marxloh", "request_report_changes", {
            "reason": "Belegliste und Sachbericht fehlen."}),
        a(_at("2022-08-22"), C2, "marxloh", "submit_final_report", {
            "reason": "Verwendungsnachweis mit Belegliste",
            "payload": {"spending": {"2021": "36500"}}}),
        a(_at("2022-09-01"), REV2, "marxloh", "close", {
            "reason": "Nachweis geprüft; Minderausgabe fließt zurück."}),
        # Familienlotsen Hagen (English-speaking contact): documents requested, interim changes.
        _project("hagen", C3, "B1", "Familienlotsen Hagen-Altenhagen", "Altenhagen", "2021-04-01",
                 "2022-10-31", {"2021": "80000", "2022": "80000"}, "2020-11-05"),
        a(_at("2020-11-06"), C3, "hagen", "submit", {}),
        a(_at("2020-11-10", 11), REV, "hagen", "start_review", {}),
        a(_at("2020-11-12"), REV, "hagen", "request_documents", {
            "reason": "Bitte Finanzierungsplan und Satzung nachreichen.",
            "payload": {"documents": ["Finanzierungsplan", "Satzung"]}}),
        a(_at("2020-11-20"), C3, "hagen", "provide_documents", {"payload": {
            "explanation": "Finanzierungsplan und Satzung gehen im Original per Post ein."}}),
        a(_at("2020-11-27"), REV, "hagen", "recommend", {
            "reason": "Förderfähig; Sachkosten 2021 gekürzt.",
            "payload": {"amounts": {"2021": "75000", "2022": "80000"}}}),
        a(_at("2020-12-03"), APPR, "hagen", "approve", {}),
        a(_at("2021-04-01", 8), C3, "hagen", "start", {}),
        a(_at("2022-04-28"), C3, "hagen", "submit_interim", {
            "narrative": "Lotsinnen im Einsatz; Zahlen folgen.", "spending": {"2021": "70000"}}),
        a(_at("2022-05-03"), REV, "hagen", "request_interim_changes", {
            "reason": "Bitte Teilnehmendenzahlen und Belegliste ergänzen."}),
        a(_at("2022-05-20"), C3, "hagen", "submit_interim", {
            "narrative": "Lotsinnen im Einsatz; 120 Familien begleitet, Belegliste anbei.",
            "spending": {"2021": "70000"}}),
        a(_at("2022-05-25"), REV, "hagen", "accept_interim", {}),
        a(_at("2023-04-20"), C3, "hagen", "submit_final_report", {
            "reason": "Final report", "payload": {"spending": {"2021": "70000", "2022": "79000"}}}),
        a(_at("2023-05-08"), REV, "hagen", "close", {"reason": "Nachweis geprüft."}),
        # Chorweiler: documents never arrive: reminders, Mahnung, escalation, rejection.
        _project("chorweiler", C4, "B2", "Gesund groß werden in Chorweiler", "Chorweiler",
                 "2021-03-01", "2022-12-31", {"2021": "70000", "2022": "70000"}, "2020-11-06"),
        a(_at("2020-11-09"), C4, "chorweiler", "submit", {}),
        a(_at("2020-11-12"), REV2, "chorweiler", "start_review", {}),
        a(_at("2020-11-13"), REV2, "chorweiler", "request_documents", {
            "reason": "Kosten- und Finanzierungsplan fehlt.",
            "payload": {"documents": ["Kosten- und Finanzierungsplan"]}}),
        a(_at("2021-01-11"), REV2, "chorweiler", "reject", {
            "reason": "Unterlagen trotz Mahnung und Nachfrist nicht eingereicht."}),
        # Stadtteilmütter Schalke: withdrawn before the decision.
        _project("schalke", C1, "B1", "Stadtteilmütter Schalke", "Schalke", "2021-03-01",
                 "2022-12-31", {"2021": "60000", "2022": "60000"}, "2020-11-10"),
        a(_at("2020-11-12"), C1, "schalke", "submit", {}),
        a(_at("2020-12-01"), C1, "schalke", "withdraw", {}),
    ], key=lambda action: action.when)


class Timeline:
    """Collects what happened since the last look: new history rows, emails, deadline changes."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self.last_record = 0
        self.last_email = 0
        self.deadlines: dict[int, tuple[str, date]] = {}

    def collect(self, session: Session, day: date) -> None:
        refs = {a.id: a.reference for a in session.exec(select(Application))}
        emails = {u.email: u for u in session.exec(select(User))}
        for r in session.exec(select(TransitionRecord).where(
                TransitionRecord.id > self.last_record).order_by(TransitionRecord.id)):
            self.last_record = r.id
            self.entries.append(self._record(day, refs.get(r.application_id, "?"), r, emails))
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

    @staticmethod
    def _record(day: date, ref: str, r: TransitionRecord, emails: dict[str, User]) -> Entry:
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


def _act(session: Session, action: Action, refs: dict[str, str], users: dict[str, Any]) -> None:
    actor = rows.Actor.of(users[action.who])
    args = dict(action.args)
    if action.what == ACTIONS[ActionName.create_draft].history_trigger:
        app = drafts.create_application(session, actor, "ZiQ-2021", args, now=action.when)
        refs[action.app] = app.reference
        return
    ref = refs[action.app]
    if action.what == "submit_interim":
        reports.submit_interim_report(session, ref, actor, now=action.when, **args)
    elif action.what == "accept_interim":
        reports.accept_interim_report(session, ref, actor, now=action.when, **args)
    elif action.what == "request_interim_changes":
        reports.request_interim_changes(session, ref, actor, now=action.when, **args)
    else:
        wf.fire(session, ref, action.what, actor, reason=args.get("reason"),
                payload=args.get("payload"), now=action.when)


def simulate(until: date | None = None,
             on_entry: Callable[[Entry], None] | None = None) -> list[Entry]:
    """Run the ZiQ script day by day on a fresh in-memory database; returns the timeline."""
    db = make_engine("sqlite://")
    SQLModel.metadata.create_all(db)
    data = seed.load_programme_data()
    opening = datetime.fromisoformat(data["call"]["opens_at"])
    actions = script()
    last = until or actions[-1].when.astimezone(BERLIN).date()
    timeline = Timeline()
    refs: dict[str, str] = {}
    try:
        with unit_of_work(db) as session:
            seed.seed(session, opening, demo_applications=False, password="simulation")
            users = {u.email: u for u in session.exec(select(User))}
        day = opening.astimezone(BERLIN).date()
        pending = list(actions)
        while day <= last:
            run_reminder_pass(db, datetime.combine(day, time(PASS_HOUR), tzinfo=BERLIN))
            while pending and pending[0].when.astimezone(BERLIN).date() == day:
                with unit_of_work(db) as session:
                    _act(session, pending.pop(0), refs, users)
            with Session(db) as session:
                count = len(timeline.entries)
                timeline.collect(session, day)
                if on_entry:
                    for entry in timeline.entries[count:]:
                        on_entry(entry)
            day += timedelta(days=1)
    finally:
        db.dispose()
    return timeline.entries


def format_timeline(entries: list[Entry]) -> str:
    return "\n".join(e.line() for e in entries)


__all__ = ["simulate", "script", "format_timeline", "Entry", "Action"]
