"""Seed data: the ZiQ programme from `data/ziq.json`; for development and the simulation also
demo carriers and staff (all with one known password) and demo applications."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from importlib import resources
from typing import Any

from sqlmodel import Session, select

from workflow import budget, drafts, engine
from workflow.models import BudgetLine, Call, Module, Organisation, Programme, User
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
        for u in o["users"]:
            users[u["email"]] = User(
                email=u["email"],
                name=u["name"],
                role="carrier",
                organisation_id=org.id,
                language=u.get("language", "de"),
                password_hash=hashed,
            )
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


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def seed_demo_applications(session: Session, call: Call, users: dict[str, User]) -> None:
    """A handful of applications in several states, driven through the engine (2020–2022 clock)."""

    def actor(email: str) -> Actor:
        return Actor.of(users[email])

    c1, c2, c3, c4 = (actor(f"traeger{i}@quartier.example") for i in range(1, 5))
    rev, rev2 = actor("pruefung@quartier.example"), actor("pruefung2@quartier.example")
    appr = actor("zeichnung@quartier.example")

    def new(
        carrier: Actor,
        module: str,
        title: str,
        quartier: str,
        amounts: dict[str, str],
        start: str = "2021-03-01",
        end: str = "2022-12-31",
    ) -> Any:
        return drafts.create_application(
            session,
            carrier,
            call,
            {
                "module_code": module,
                "title": title,
                "quartier": quartier,
                "summary": f"{title}: Angebote für Kinder und Familien im Quartier {quartier}.",
                "project_start": start,
                "project_end": end,
                "own_contribution": "5000.00",
                "amounts": amounts,
            },
            now=_at("2020-11-02T09:00:00+01:00"),
        )

    def run(
        app: Any, steps: list[tuple[str, Actor, str, dict[str, Any] | None, str | None]]
    ) -> None:
        for when, who, trigger, payload, reason in steps:
            engine.fire(session, app, trigger, who, payload=payload, reason=reason, now=_at(when))

    new(
        c1,
        "B1",
        "Stadtteilmütter Gelsenkirchen-Schalke",
        "Schalke",
        {"2021": "60000", "2022": "60000"},
    )
    submitted = new(
        c2, "B2", "Bewegte Kindheit Marxloh", "Marxloh", {"2021": "45000", "2022": "50000"}
    )
    run(submitted, [("2020-11-10T10:00:00+01:00", c2, "submit", None, None)])
    docs = new(
        c3,
        "B1",
        "Familienlotsen Hagen-Altenhagen",
        "Altenhagen",
        {"2021": "80000", "2022": "80000"},
    )
    run(
        docs,
        [
            ("2020-11-10T11:00:00+01:00", c3, "submit", None, None),
            ("2020-11-16T09:00:00+01:00", rev, "start_review", None, None),
            (
                "2020-11-17T09:00:00+01:00",
                rev,
                "request_documents",
                {"documents": ["Finanzierungsplan", "Satzung"]},
                "Bitte Finanzierungsplan und Satzung nachreichen.",
            ),
        ],
    )
    recommended = new(
        c4,
        "B2",
        "Gesund groß werden in Chorweiler",
        "Chorweiler",
        {"2021": "70000", "2022": "70000"},
    )
    run(
        recommended,
        [
            ("2020-11-11T10:00:00+01:00", c4, "submit", None, None),
            ("2020-11-16T10:00:00+01:00", rev2, "start_review", None, None),
            (
                "2020-11-20T10:00:00+01:00",
                rev2,
                "recommend",
                {"amounts": {"2021": "65000", "2022": "65000"}},
                "Förderfähig; Personalkosten leicht gekürzt.",
            ),
        ],
    )
    active = new(
        c1, "B2", "Familienzentrum Bismarck", "Bismarck", {"2021": "90000", "2022": "90000"}
    )
    run(
        active,
        [
            ("2020-11-12T10:00:00+01:00", c1, "submit", None, None),
            ("2020-11-16T11:00:00+01:00", rev, "start_review", None, None),
            (
                "2020-11-23T10:00:00+01:00",
                rev,
                "recommend",
                {"amounts": {"2021": "90000", "2022": "90000"}},
                "Förderfähig in voller Höhe.",
            ),
            ("2020-12-01T10:00:00+01:00", appr, "approve", None, None),
            ("2021-03-01T08:00:00+01:00", c1, "start", None, "Projektbeginn"),
        ],
    )
    closed = new(
        c2,
        "B1",
        "Nachbarschaftslotsen Marxloh",
        "Marxloh",
        {"2021": "40000", "2022": "40000"},
        start="2021-02-01",
        end="2021-12-31",
    )
    run(
        closed,
        [
            ("2020-11-12T11:00:00+01:00", c2, "submit", None, None),
            ("2020-11-17T10:00:00+01:00", rev2, "start_review", None, None),
            (
                "2020-11-24T10:00:00+01:00",
                rev2,
                "recommend",
                {"amounts": {"2021": "40000"}},
                "Laufzeit 2021; Förderung für 2021.",
            ),
            ("2020-12-02T10:00:00+01:00", appr, "approve", None, None),
            ("2021-02-01T08:00:00+01:00", c2, "start", None, None),
            (
                "2022-05-20T10:00:00+02:00",
                c2,
                "submit_final_report",
                {"spending": {"2021": "36500"}},
                "Verwendungsnachweis 2021",
            ),
            (
                "2022-06-15T10:00:00+02:00",
                rev2,
                "close",
                None,
                "Nachweis geprüft; Minderausgabe zurück.",
            ),
        ],
    )


def seed(
    session: Session, now: datetime, demo_applications: bool = True, password: str | None = None,
    *, people: bool = True,
) -> Call:
    """Create the ZiQ programme; with `people` its demo organisations and accounts (all with the
    one demo password: development and simulation only), with `demo_applications` also demo
    applications. Refuses a second run."""
    data = load_programme_data()
    if session.exec(select(Programme).where(Programme.code == data["programme"]["code"])).first():
        raise RuntimeError("already seeded")
    call = seed_programme(session, data, now)
    if people:
        users = seed_people(session, data, password or data["demo_password"])
        if demo_applications:
            seed_demo_applications(session, call, users)
    return call
