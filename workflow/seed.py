"""Seed data: the ZiQ programme from `data/ziq.json`; for development and the simulation also
demo carriers and staff (all with one known password) and demo applications."""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from importlib import resources
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, select

from notifications.outbox import OutboxMessage
from states import DeadlineStatus
from workflow import (
    budget,
    deadlines,
    drafts,
    engine,
    final_report_check,
    finance_plan,
    reminders,
    reports,
)
from workflow.bescheide import without_pdfs
from workflow.deadlines import BERLIN
from workflow.models import BudgetLine, Call, Deadline, Module, Organisation, Programme, User
from workflow.rows import Actor
from workflow.security import hash_password


def load_programme_data(name: str = "ziq.json") -> dict[str, Any]:
    return json.loads(resources.files("workflow").joinpath("data", name).read_text("utf-8"))


def seed_programme(session: Session, data: dict[str, Any], now: datetime) -> Call:
    """Programme, modules, call and budget lines (each budget opened by a ledger entry)."""
    p = data["programme"]
    programme = Programme(
        code=p["code"],
        name=p["name"],
        purpose=p.get("purpose", ""),
        contact_name=p.get("contact_name", ""),
        contact_email=p.get("contact_email", ""),
        config=p.get("config", {}),
    )
    session.add(programme)
    session.flush()
    for m in p["modules"]:
        session.add(Module(programme_id=programme.id, code=m["code"], name=m["name"]))
    c = data["call"]
    call = Call(
        programme_id=programme.id,
        code=c["code"],
        title=c["title"],
        opens_at=datetime.fromisoformat(c["opens_at"]),
        closes_at=datetime.fromisoformat(c["closes_at"]),
        policy=c.get("policy", "waitlist"),
        min_grant_cents=budget.parse_euros(c.get("min_grant", "0")),
        earliest_project_start=c.get("earliest_project_start")
        and datetime.fromisoformat(c["earliest_project_start"]).date(),
        min_project_months=c.get("min_project_months", 0),
        **finance_plan.financing_columns(c.get("financing")),
    )
    session.add(call)
    session.flush()
    for b in c["budget"]:
        line = BudgetLine(
            call_id=call.id,
            year=b["year"],
            source=b["source"],
            priority=b.get("priority", 0),
            budget_cents=0,
            committed_cents=0,
        )
        session.add(line)
        session.flush()
        budget.change_budget(
            session,
            line,
            budget.parse_euros(b["amount"]),
            now,
            None,
            f"Haushaltsansatz {b['year']} {b['source']}",
        )
    return call


def seed_people(session: Session, data: dict[str, Any], password: str) -> dict[str, User]:
    users: dict[str, User] = {}
    hashed = hash_password(password)
    for o in data["organisations"]:
        org = Organisation(
            name=o["name"],
            kind=o.get("kind", ""),
            municipality=o.get("municipality", ""),
            calendar_token=secrets.token_urlsafe(24),
        )
        session.add(org)
        session.flush()
        for position, u in enumerate(o["users"]):
            users[u["email"]] = User(
                email=u["email"],
                name=u["name"],
                role="carrier",
                organisation_id=org.id,
                language=u.get("language", "de"),
                password_hash=hashed,
                organisation_admin=position == 0,  # the first contact invites colleagues
            )
            if position == 0:
                org.contact_name, org.contact_email = u["name"], u["email"]
    for u in data["staff"]:
        users[u["email"]] = User(
            email=u["email"],
            name=u["name"],
            role=u["role"],
            language=u.get("language", "de"),
            password_hash=hashed,
        )
    for user in users.values():
        session.add(user)
    session.flush()
    return users


# ---------------------------------------------------------------- the ZiQ 2021/2022 call's history
#
# The call's history is a script of dated actions, generated deterministically from the lists in
# `data/ziq_history.json` (a fixed random seed), and played through the engine on a simulated
# clock: the same script, with money flowing back, is `quartier simulate`.

HISTORY_CALL = "ZiQ-2021"
HISTORY_SEED = 2021  # the fixed seed of the generator
FUNDED = 110  # approvals the money covers; the last one exhausts it
LEFTOVER = {2021: 2_400_00, 2022: 3_100_00}  # what the last approval leaves (below the minimum)
HISTORY_END = date(2023, 9, 29)  # the seeded history ends here (then the real clock runs)
REVIEWERS = ("pruefung@quartier.example", "pruefung2@quartier.example")
APPROVER = "zeichnung@quartier.example"
PASS_HOUR = 6  # the reminder pass runs at 06:00 Berlin time, before anyone acts


@dataclass(frozen=True)
class Action:
    """Something a person does at a moment of the simulated clock."""

    when: datetime
    who: str  # email of the acting user
    app: str  # key of the application in the script
    what: str  # create | a trigger | submit_interim | accept_interim | request_interim_changes
    # | refused_submit (a submission the engine must refuse; nothing is written)
    args: dict[str, Any]


@dataclass
class Project:
    """One application of the generated call and what becomes of it."""

    key: str
    carrier: str  # email
    module: str
    title: str
    quartier: str
    created: datetime
    outcome: str  # funded | waitlisted | rejected | docs_missing | withdrawn | late_draft
    submitted: datetime | None = None
    reviewer: str = REVIEWERS[0]
    review: datetime | None = None
    documents: tuple[datetime, datetime | None] | None = None  # requested, provided
    recommend: datetime | None = None
    approve: datetime | None = None
    amounts: dict[int, int] = field(default_factory=dict)  # cents per budget year
    start: date | None = None
    end: date | None = None
    # Money flowing back (the simulation): a hearing opened on this day, then revocation;
    revocation: date | None = None
    # an early final report on this day with this under-spend (cents) in the last budget year;
    early_final: tuple[date, int] | None = None
    # a waitlisted application offered again and approved on this day.
    reoffered: date | None = None


@dataclass
class History:
    """The generated call: its extra carriers, its projects and the script of their actions."""

    organisations: list[dict[str, Any]]
    projects: list[Project]
    actions: list[Action] = field(default_factory=list)

    def project(self, key: str) -> Project:
        return next(p for p in self.projects if p.key == key)


def berlin(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def working_day(day: date) -> date:
    return deadlines.next_working_day(day)


def _cents(euros: int) -> int:
    return euros * 100


def _euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


# How the seed's plans spread a year's expenses over the ZiQ cost headings (per mille); the
# last heading named takes the rest.
PLAN_SPREAD = (("personnel", 620), ("fees", 150), ("material", 120), ("rent", 110))


def finance_plan_for(amounts: dict[str, str], own_cents: int) -> dict[str, Any]:
    """A balanced Kosten- und Finanzierungsplan (Fehlbedarf) whose grant per year is `amounts`
    (euros): the own money split over the years, the expenses over the cost headings."""
    share, rest = divmod(own_cents, len(amounts))
    plan = {}
    for i, (year, grant) in enumerate(sorted(amounts.items())):
        own = share + (rest if i == 0 else 0)
        total = budget.parse_euros(grant) + own
        expenses = {code: total * part // 1000 // 100 * 100 for code, part in PLAN_SPREAD[:-1]}
        expenses[PLAN_SPREAD[-1][0]] = total - sum(expenses.values())
        plan[year] = {"expenses": {c: _euros(v) for c, v in expenses.items()},
                      "own": _euros(own), "third_party": "0.00"}
    return plan


def final_report_for(spending: dict[str, str], title: str) -> dict[str, Any]:
    """A complete Verwendungsnachweis with the spending per year as its actual expenses, spread
    over the plan's headings like the plan, each heading backed by one Beleg in its year."""
    nachweis, belege = {}, []
    for year, euros in sorted(spending.items()):
        total = budget.parse_euros(euros)
        parts = {code: total * part // 1000 for code, part in PLAN_SPREAD[:-1]}
        parts[PLAN_SPREAD[-1][0]] = total - sum(parts.values())
        parts = {c: v for c, v in parts.items() if v}
        nachweis[year] = {"expenses": {c: _euros(v) for c, v in parts.items()},
                          "own": "0.00", "third_party": "0.00", "grant": _euros(total)}
        belege += [{"year": int(year), "heading": c, "date": f"{year}-{m:02d}-28",
                    "party": "Lohnbuchhaltung" if c == "personnel" else "Lieferant",
                    "purpose": f"{c} {year}", "amount": _euros(v), "number": f"{year}-{m}"}
                   for m, (c, v) in enumerate(parts.items(), start=1)]
    return {"nachweis": nachweis, "belege": belege, "sachbericht": (
        f"{title}: Die Angebote im Quartier liefen wie geplant. Familien und Kinder wurden "
        "regelmäßig erreicht, die Bezugspersonen sind im Stadtteil bekannt und vernetzt. "
        "Die Ergebnisse sind im Anhang je Angebot beschrieben; der Zuwendungszweck ist "
        "erreicht.")}


CHECK_RATINGS = {c: {"rating": "erfuellt", "note": ""}
                 for c in ("sachbericht", "finanzplan", "belegliste", "zweck")}


def _month_after(day: date, months: int = 1) -> date:
    return deadlines.add_months(day.replace(day=1), months)


def _organisations(lists: dict[str, Any], known: dict[str, str]) -> list[dict[str, Any]]:
    """Carrier organisations in many NRW cities; a name of a demo organisation is its account."""
    orgs, seen = [], set()
    cities, carriers, contacts = lists["cities"], lists["carriers"], lists["contacts"]
    for i in range(len(cities) * 4):
        city = cities[i % len(cities)]
        pattern = carriers[(i * 3 + i // len(cities)) % len(carriers)]
        quartier = city["quartiers"][(i // len(cities)) % len(city["quartiers"])]
        name = pattern["name"].format(city=city["city"], quartier=quartier)
        if name in seen:
            continue
        seen.add(name)
        email = known.get(name) or f"traeger-{len(orgs) + 1:03d}@quartier.example"
        orgs.append({"name": name, "kind": pattern["kind"], "municipality": city["city"],
                     "quartiers": city["quartiers"], "email": email,
                     "contact": contacts[len(orgs) % len(contacts)], "demo": name in known})
    return orgs


def generate_history(*, waitlisted: int = 9, rejected: int = 16, withdrawn: int = 5,
                     late_drafts: int = 4,
                     adjust: Callable[[list[Project]], None] | None = None) -> History:
    """The ZiQ 2021/2022 call as projects with dates and amounts (deterministic); `adjust` may
    change the projects before their actions are written."""
    rng = random.Random(HISTORY_SEED)
    lists = load_programme_data("ziq_history.json")
    data = load_programme_data()
    known = {o["name"]: o["users"][0]["email"] for o in data["organisations"]}
    orgs = _organisations(lists, known)
    outcomes = (["funded"] * FUNDED + ["waitlisted"] * waitlisted
                + ["rejected"] * (rejected - rejected // 4) + ["docs_missing"] * (rejected // 4)
                + ["withdrawn"] * withdrawn)
    rng.shuffle(outcomes)
    projects: list[Project] = []
    first, last = date(2020, 10, 5), date(2021, 1, 22)
    span = (last - first).days
    for i, outcome in enumerate(outcomes):
        org = orgs[(i * 7) % len(orgs)]
        module = "B1" if i % 5 in (0, 2, 3) else "B2"
        quartier = org["quartiers"][i % len(org["quartiers"])]
        titles = lists["titles"][module]
        title = titles[(i // 2) % len(titles)].format(quartier=quartier)
        created = working_day(first + timedelta(days=span * i // len(outcomes)))
        p = Project(f"p{i + 1:03d}", org["email"], module, title, quartier,
                    berlin(created, 9 + i % 3, (i * 7) % 60), outcome)
        p.submitted = berlin(working_day(created + timedelta(days=1 + rng.randrange(7))),
                             10 + i % 6, (i * 13) % 60)
        projects.append(p)
    for p in projects:
        _schedule_review(p, rng, len(projects))
    _fund(projects, rng)
    stop = max(p.approve for p in projects if p.outcome == "funded")
    for j in range(late_drafts):
        org = orgs[(j * 11 + 3) % len(orgs)]
        quartier = org["quartiers"][j % len(org["quartiers"])]
        title = lists["titles"]["B1"][j % 7].format(quartier=quartier)
        p = Project(f"d{j + 1:02d}", org["email"], "B1", title, quartier,
                    berlin(working_day(stop.date() - timedelta(days=20 - 4 * j)), 9), "late_draft")
        p.submitted = berlin(working_day(stop.date() + timedelta(days=3 + 5 * j)), 11)
        p.amounts = {2021: _cents(50_000 + 5_000 * j), 2022: _cents(60_000)}
        p.start, p.end = date(2021, 9, 1), date(2022, 8, 31)
        projects.append(p)
    if adjust:
        adjust(projects)
    history = History(orgs, projects)
    history.actions = sorted((a for p in projects for a in _actions(p, rng)),
                             key=lambda a: a.when)
    return history


def _schedule_review(p: Project, rng: random.Random, count: int) -> None:
    """Review, documents and recommendation of a submitted application."""
    p.reviewer = REVIEWERS[int(p.key[1:]) % 2]
    review = working_day(p.submitted.date() + timedelta(days=4 + rng.randrange(7)))
    p.review = berlin(review, 9)
    ready = review
    if p.outcome == "docs_missing" or int(p.key[1:]) % 6 == 0:
        requested = working_day(review + timedelta(days=2))
        provided = (None if p.outcome == "docs_missing"
                    else working_day(requested + timedelta(days=4 + rng.randrange(6))))
        p.documents = (berlin(requested, 11), provided and berlin(provided, 15))
        ready = provided or requested
    p.recommend = berlin(working_day(ready + timedelta(days=5 + rng.randrange(8))), 14)
    if p.outcome in ("funded", "waitlisted"):
        n = int(p.key[1:])  # one approval a moment: the order of approvals is unambiguous
        p.approve = berlin(working_day(p.recommend.date() + timedelta(days=2 + rng.randrange(5))),
                           11, n % 60) + timedelta(seconds=n // 60)


def _fund(projects: list[Project], rng: random.Random) -> None:
    """Periods and amounts: the first FUNDED approvals commit the whole budget but LEFTOVER."""
    deciding = sorted((p for p in projects if p.outcome in ("funded", "waitlisted")),
                      key=lambda p: p.approve)
    for n, p in enumerate(deciding):
        p.outcome = "funded" if n < FUNDED else "waitlisted"
    for n, p in enumerate(projects):
        begin = max(date(2021, 1, 1), _month_after(p.approve or p.recommend,
                                                   1 + rng.randrange(2)))
        kind = n % 17
        if kind == 3 and begin <= date(2021, 5, 1):  # the year 2021 only
            p.start, p.end = begin, date(2021, 12, 31)
        elif kind == 8:  # the year 2022 only
            p.start, p.end = date(2022, 1, 1), date(2022, 12, 31)
        else:
            p.start = begin
            p.end = (date(2022, 6, 30), date(2022, 9, 30), date(2022, 12, 31),
                     date(2022, 12, 31))[n % 4]
        p.amounts = {y: _cents(100 * rng.randrange(400, 1051))
                     for y in (2021, 2022) if p.start.year <= y <= p.end.year}
    funded = [p for p in deciding if p.outcome == "funded"]
    last = funded[-1]
    if len(last.amounts) < 2:  # the exhausting approval needs money of both years
        last.start, last.end = _month_after(last.approve), date(2022, 12, 31)
        last.amounts = {2021: _cents(60_000), 2022: _cents(80_000)}
    budget_total = _cents(8_000_000)
    for year, leftover in LEFTOVER.items():
        having = [p for p in funded if year in p.amounts]
        target = budget_total - leftover
        asked = sum(p.amounts[year] for p in having)
        for p in having:
            p.amounts[year] = p.amounts[year] * target // asked // 10_000 * 10_000
        last.amounts[year] += target - sum(p.amounts[year] for p in having)


def _actions(p: Project, rng: random.Random) -> list[Action]:
    """The dated actions of one project, from its creation to the end of the history."""
    amounts = {str(y): _euros(c) for y, c in p.amounts.items()}
    out = [Action(p.created, p.carrier, p.key, "create", {
        "call": HISTORY_CALL, "module_code": p.module, "title": p.title, "quartier": p.quartier,
        "summary": f"{p.title}: Angebote für Kinder und Familien im Quartier {p.quartier}.",
        "project_start": p.start.isoformat(), "project_end": p.end.isoformat(),
        "finance_plan": finance_plan_for(amounts, _cents(3_000 + 500 * (int(p.key[1:]) % 9)))})]
    if p.outcome == "late_draft":
        return out + [Action(p.submitted, p.carrier, p.key, "refused_submit", {})]

    def act(when: datetime, who: str, what: str, **args: Any) -> None:
        out.append(Action(when, who, p.key, what, args))

    act(p.submitted, p.carrier, "submit")
    if p.outcome == "withdrawn":
        act(berlin(working_day(p.submitted.date() + timedelta(days=9)), 16), p.carrier,
            "withdraw", reason="Das Projekt wird aus Eigenmitteln umgesetzt.")
        return out
    act(p.review, p.reviewer, "start_review")
    if p.documents:
        requested, provided = p.documents
        act(requested, p.reviewer, "request_documents",
            reason="Bitte Kooperationsvereinbarung und Kosten- und Finanzierungsplan nachreichen.",
            payload={"documents": ["Kooperationsvereinbarung", "Kosten- und Finanzierungsplan"]})
        if provided is None:
            # Reminded, formally reminded (14-day grace period), escalated: then rejected.
            due = working_day(requested.date() + timedelta(days=14))
            act(berlin(working_day(due + timedelta(days=7 + 14 + 3)), 10), p.reviewer, "reject",
                reason="Die nachgeforderten Unterlagen sind trotz Mahnung und Nachfrist nicht "
                       "eingegangen.")
            return out
        act(provided, p.carrier, "provide_documents", reason="Unterlagen nachgereicht.",
            payload={"explanation": "Die Unterlagen sind im Original per Post eingegangen."})
    if p.outcome == "rejected":
        reasons = ("Das Quartier erfüllt die Fördervoraussetzungen des Aufrufs nicht.",
                   "Die Ausgaben sind im Finanzierungsplan nicht nachvollziehbar begründet.",
                   "Das Vorhaben wird bereits aus einem anderen Landesprogramm gefördert.")
        act(p.recommend, p.reviewer, "reject", reason=reasons[int(p.key[1:]) % 3])
        return out
    act(p.recommend, p.reviewer, "recommend", reason="Förderfähig; Prüfvermerk liegt vor.",
        payload={"amounts": amounts})
    act(p.approve, APPROVER, "approve")
    if p.outcome == "waitlisted":
        if p.reoffered is None:
            return out
        act(berlin(p.reoffered, 11), APPROVER, "approve")
    out += _after_approval(p, rng)
    return out


def _after_approval(p: Project, rng: random.Random) -> list[Action]:
    """Start, interim report, final report and closure of a funded project (up to HISTORY_END)."""
    out: list[Action] = []
    n = int(p.key[1:])

    def act(day: date, hour: int, who: str, what: str, **args: Any) -> None:
        out.append(Action(berlin(day, hour), who, p.key, what, args))

    act(p.start, 8, p.carrier, "start", reason="Projektbeginn")
    if p.revocation:
        hearing = p.revocation
        act(hearing, 10, p.reviewer, "open_hearing",
            reason="Das Fachpersonal ist nicht eingestellt; die Angebote finden nicht statt.")
        act(working_day(hearing + timedelta(days=8)), 15, p.carrier, "answer_hearing",
            reason="Die Stellen konnten nicht besetzt werden; wir geben das Projekt zurück.")
        act(working_day(hearing + timedelta(days=21)), 11, APPROVER, "revoke",
            reason="Zuwendungszweck nicht erfüllt; Widerruf nach Anhörung.",
            payload={"repayment": "12500.00"})
        return out
    if p.early_final:
        sent, underspend = p.early_final
        last_year = max(p.amounts)
        spending = {str(y): _euros(c - (underspend if y == last_year else 0))
                    for y, c in p.amounts.items()}
        act(sent, 10, p.carrier, "submit_final_report", reason="Verwendungsnachweis",
            payload=final_report_for(spending, p.title))
        act(working_day(sent + timedelta(days=16)), 11, p.reviewer, "check_final_report")
        act(working_day(sent + timedelta(days=16)), 14, p.reviewer, "close",
            reason="Nachweis geprüft; die Minderausgabe fließt zurück.")
        return out
    if p.start.year < p.end.year:  # interim report of 2021, due 30 April 2022 (a working day)
        due = working_day(date(2022, 4, 30))
        lateness = n % 23
        if lateness == 1:
            sent = due + timedelta(days=3)  # after the reminder on the due date
        elif lateness == 2:
            sent = due + timedelta(days=10)  # after the Mahnung, inside its grace period
        elif lateness == 3:
            sent = due + timedelta(days=30)  # after the escalation to the case officer
        else:
            sent = due - timedelta(days=3 + rng.randrange(50))
        sent = working_day(sent)
        spent = {"2021": _euros(p.amounts.get(2021, 0) * (90 + rng.randrange(11)) // 100
                                // 100 * 100)}
        act(sent, 11, p.carrier, "submit_interim", spending=spent,
            narrative=f"{p.title}: Angebote laufen; {40 + n % 90} Familien erreicht.")
        reviewed = working_day(sent + timedelta(days=5 + rng.randrange(12)))
        if n % 29 == 5:
            act(reviewed, 10, p.reviewer, "request_interim_changes",
                reason="Bitte die Teilnehmendenzahlen je Angebot ergänzen.")
            sent = working_day(reviewed + timedelta(days=6))
            act(sent, 11, p.carrier, "submit_interim", spending=spent,
                narrative=f"{p.title}: Angebote laufen; Teilnehmendenzahlen je Angebot anbei.")
            reviewed = working_day(sent + timedelta(days=5))
        act(reviewed, 14, p.reviewer, "accept_interim")
    due = working_day(deadlines.add_months(p.end, 6))
    lateness = n % 31
    if lateness == 7:
        return out  # never sent by the end of the history: reminded up to the escalation
    sent = (due + timedelta(days=9) if lateness == 11
            else due - timedelta(days=5 + rng.randrange(40)))
    sent = working_day(sent)
    if sent > HISTORY_END:
        return out
    spending = {str(y): _euros(c) for y, c in p.amounts.items()}
    if n % 37 == 4:  # a small under-spend: the stop stays in force (below the minimum grant)
        year = max(p.amounts)
        spending[str(year)] = _euros(p.amounts[year] - _cents(600 + 100 * (n % 3)))
    act(sent, 10, p.carrier, "submit_final_report", reason="Verwendungsnachweis",
        payload=final_report_for(spending, p.title))
    closing = working_day(sent + timedelta(days=10 + rng.randrange(30)))
    if n % 19 == 6:
        act(closing, 10, p.reviewer, "request_report_changes",
            reason="Bitte die Belegliste vollständig beifügen.")
        sent = working_day(closing + timedelta(days=7))
        act(sent, 10, p.carrier, "submit_final_report", reason="Verwendungsnachweis mit Belegliste",
            payload=final_report_for(spending, p.title))
        closing = working_day(sent + timedelta(days=12))
    if closing <= HISTORY_END:
        act(closing, 11, p.reviewer, "check_final_report")
        act(closing, 14, p.reviewer, "close", reason="Nachweis geprüft.")
    return out


def create_organisations(session: Session, history: History, users: dict[str, User]) -> None:
    """The generated carriers that are not demo organisations, each with one contact."""
    template = next((u for u in users.values() if u.role == "carrier"), None)
    password_hash = template.password_hash if template else None
    for o in history.organisations:
        if o["email"] in users:
            continue
        org = Organisation(name=o["name"], kind=o["kind"], municipality=o["municipality"],
                           calendar_token=secrets.token_urlsafe(24))
        session.add(org)
        session.flush()
        user = User(email=o["email"], name=o["contact"], role="carrier",
                    organisation_id=org.id, password_hash=password_hash,
                    organisation_admin=True)
        org.contact_name, org.contact_email = o["contact"], o["email"]
        session.add(user)
        users[o["email"]] = user
    session.flush()


def perform(session: Session, action: Action, refs: dict[str, str],
            users: dict[str, User]) -> None:
    """Do one action of the script through the engine (drafts, reports, `engine.fire`)."""
    actor = Actor.of(users[action.who])
    args = dict(action.args)
    if action.what == "create":
        call = args.pop("call")
        app = drafts.create_application(session, actor, call, args, now=action.when)
        refs[action.app] = app.reference
        return
    ref = refs[action.app]
    if action.what == "refused_submit":
        refusal = engine.check(session, ref, "submit", actor, now=action.when)
        if refusal is None:
            raise RuntimeError(f"{ref}: the submission should have been refused")
    elif action.what == "submit_interim":
        reports.submit_interim_report(session, ref, actor, now=action.when, **args)
    elif action.what == "accept_interim":
        reports.accept_interim_report(session, ref, actor, now=action.when, **args)
    elif action.what == "request_interim_changes":
        reports.request_interim_changes(session, ref, actor, now=action.when, **args)
    elif action.what == "check_final_report":
        final_report_check.check_final_report(
            session, ref, actor, ratings=CHECK_RATINGS, now=action.when,
            summary="Sachbericht schlüssig, Belegliste vollständig; Zuwendung festgesetzt.")
    else:
        engine.fire(session, ref, action.what, actor, reason=args.get("reason"),
                    payload=args.get("payload"), now=action.when)


def reminder_pass(session: Session, day: date) -> date | None:
    """The reminder pass of one simulated morning, inside the caller's transaction; returns the
    day the next step of an open deadline is due."""
    ids = reminders.due_deadline_ids(session, day)
    if ids:
        reminders.remind(session, ids, berlin(day, PASS_HOUR))
    return session.exec(select(func.min(Deadline.next_reminder_on)).where(
        Deadline.status == DeadlineStatus.open)).one()


def play_history(session: Session, users: dict[str, User], history: History,
                 until: date = HISTORY_END) -> dict[str, str]:
    """Play the script day by day (the morning's reminder pass first); returns the references.

    A morning's pass is skipped only when it could not send anything: no deadline opened since
    the last pass, and no planned step due yet."""
    refs: dict[str, str] = {}
    pending = [a for a in history.actions if deadlines.local_date(a.when) <= until]
    day = deadlines.local_date(pending[0].when)
    i, acted, next_due = 0, True, None
    while day <= until:
        if acted or (next_due is not None and next_due <= day):
            next_due, acted = reminder_pass(session, day), False
        while i < len(pending) and deadlines.local_date(pending[i].when) == day:
            perform(session, pending[i], refs, users)
            i, acted = i + 1, True
        day += timedelta(days=1)
    return refs


def mark_history_delivered(session: Session, before: datetime) -> None:
    """The history's emails went out when they were written (the worker must not send them
    again, years later): delivered at their creation time."""
    session.flush()
    session.exec(update(OutboxMessage).where(OutboxMessage.created_at < before).values(
        status="sent", sent_at=OutboxMessage.created_at, attempts=1))


# ----------------------------------------------------------------------- the current demo call


def seed_demo_call(session: Session, programme: Programme, now: datetime) -> Call:
    """A call open now: window around today, budget years next year and the year after."""
    c = load_programme_data("ziq_demo.json")["call"]
    today = deadlines.local_date(now)
    first_year = today.year + 1
    closes = deadlines.add_months(today, c["closes_months_after"])
    call = Call(
        programme_id=programme.id,
        code=c["code"],
        title=c["title"],
        opens_at=berlin(today - timedelta(days=c["opens_days_before"]), 0),
        closes_at=datetime.combine(closes, time(23, 59, 59), tzinfo=BERLIN),
        policy=c["policy"],
        min_grant_cents=budget.parse_euros(c["min_grant"]),
        earliest_project_start=date(first_year, 1, 1),
        min_project_months=c["min_project_months"],
        **finance_plan.financing_columns(c.get("financing")),
    )
    session.add(call)
    session.flush()
    for b in c["budget"]:
        year = today.year + b["year_offset"]
        line = BudgetLine(call_id=call.id, year=year, source=b["source"],
                          priority=b["priority"], budget_cents=0, committed_cents=0)
        session.add(line)
        session.flush()
        budget.change_budget(session, line, budget.parse_euros(b["amount"]), call.opens_at,
                             None, f"Haushaltsansatz {year} {b['source']}")
    return call


def demo_call_script(call: Call, now: datetime) -> list[Action]:
    """The hands-on demo applications of the demo call, in the last weeks before `now`: a draft,
    a submitted one, one with documents requested, a recommended and an approved one."""
    today = deadlines.local_date(now)
    y1, y2 = call.earliest_project_start.year, call.earliest_project_start.year + 1
    c1, c2, c3, c4 = (f"traeger{i}@quartier.example" for i in range(1, 5))
    rev, rev2 = REVIEWERS

    def ago(days: int, hour: int = 10) -> datetime:
        return min(berlin(today - timedelta(days=days), hour), now - timedelta(minutes=days + 1))

    def new(key: str, carrier: str, module: str, title: str, quartier: str, yearly: str,
            days: int) -> Action:
        return Action(ago(days, 9), carrier, key, "create", {
            "call": call.code, "module_code": module, "title": title, "quartier": quartier,
            "summary": f"{title}: Angebote für Kinder und Familien im Quartier {quartier}.",
            "project_start": f"{y1}-03-01", "project_end": f"{y2}-12-31",
            "finance_plan": finance_plan_for({str(y1): yearly, str(y2): yearly}, _cents(5_000))})

    a = Action
    return [
        new("schalke", c1, "B1", "Stadtteilmütter Gelsenkirchen-Schalke", "Schalke",
            "60000", 30),
        new("marxloh", c2, "B2", "Bewegte Kindheit Marxloh", "Marxloh", "45000", 29),
        new("altenhagen", c3, "B1", "Familienlotsen Hagen-Altenhagen", "Altenhagen",
            "80000", 28),
        new("chorweiler", c4, "B2", "Gesund groß werden in Chorweiler", "Chorweiler",
            "70000", 27),
        new("bismarck", c1, "B2", "Familienzentrum Bismarck", "Bismarck", "90000", 26),
        a(ago(20), c2, "marxloh", "submit", {}),
        a(ago(21), c3, "altenhagen", "submit", {}),
        a(ago(8), rev, "altenhagen", "start_review", {}),
        a(ago(3), rev, "altenhagen", "request_documents", {
            "reason": "Bitte Finanzierungsplan und Satzung nachreichen.",
            "payload": {"documents": ["Finanzierungsplan", "Satzung"]}}),
        a(ago(22), c4, "chorweiler", "submit", {}),
        a(ago(15), rev2, "chorweiler", "start_review", {}),
        a(ago(6), rev2, "chorweiler", "recommend", {
            "reason": "Förderfähig; Personalkosten leicht gekürzt.",
            "payload": {"amounts": {str(y1): "65000", str(y2): "65000"}}}),
        a(ago(24), c1, "bismarck", "submit", {}),
        a(ago(18), rev, "bismarck", "start_review", {}),
        a(ago(11), rev, "bismarck", "recommend", {
            "reason": "Förderfähig in voller Höhe.",
            "payload": {"amounts": {str(y1): "90000", str(y2): "90000"}}}),
        a(ago(4), APPROVER, "bismarck", "approve", {}),
    ]


def seed(
    session: Session, now: datetime, demo_applications: bool = True, password: str | None = None,
    *, people: bool = True,
) -> Call:
    """Create the ZiQ programme; with `people` its demo organisations and accounts (all with the
    one demo password: development and simulation only), with `demo_applications` also the
    history of the ZiQ 2021/2022 call (about 110 funded projects, its money committed so the
    automatic funding stop is in force) and a current demo call with demo applications.
    Refuses a second run."""
    data = load_programme_data()
    if session.exec(select(Programme).where(Programme.code == data["programme"]["code"])).first():
        raise RuntimeError("already seeded")
    call = seed_programme(session, data, now)
    if people:
        users = seed_people(session, data, password or data["demo_password"])
        if demo_applications:
            programme = session.get(Programme, call.programme_id)
            demo = seed_demo_call(session, programme, now)
            script = demo_call_script(demo, now)
            refs: dict[str, str] = {}
            for action in script:  # the demo drafts first: they get the first references
                if action.what == "create":
                    perform(session, action, refs, users)
            history = generate_history()
            create_organisations(session, history, users)
            # Bulk historical data: its firings file no notice PDFs (seconds instead of minutes);
            # the demo call's applications below get theirs.
            with without_pdfs():
                play_history(session, users, history)
            mark_history_delivered(session, berlin(HISTORY_END + timedelta(days=1), 0))
            for action in sorted(script, key=lambda a: a.when):
                if action.what != "create":
                    perform(session, action, refs, users)
    return call
