"""Small builders for test data: a call with a budget, people, applications in a given state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from workflow import budget, drafts, engine
from workflow.models import BudgetLine, Call, Module, Organisation, Programme, User
from workflow.rows import Actor

NOW = datetime(2020, 11, 2, 9, 0, tzinfo=UTC)
# The ZiQ cost headings, as workflow/data/ziq.json configures them.
EXPENSE_HEADINGS = [
    {"code": "personnel", "de": "Personalausgaben", "en": "Staff costs"},
    {"code": "fees", "de": "Honorare", "en": "Fees"},
    {"code": "material", "de": "Sachausgaben", "en": "Material costs"},
    {"code": "rent", "de": "Miete und Nebenkosten", "en": "Rent and service charges"},
    {"code": "investment", "de": "Investitionen", "en": "Investments"},
]
PLAN_OWN = Decimal("500")  # Eigenmittel per budget year in the plans of `balanced_plan`


@dataclass
class World:
    call_id: int
    carrier: Actor
    other_carrier: Actor
    reviewer: Actor
    reviewer2: Actor
    approver: Actor
    admin: Actor
    observer: Actor
    carrier_email: str


def make_world(
    session: Session,
    *,
    years: dict[int, int] | None = None,
    policy: str = "waitlist",
    min_grant_cents: int = 100_000,
    sources: tuple[str, ...] = ("Landesmittel",),
    carrier_language: str = "de",
    opens_at: datetime = datetime(2020, 10, 1, tzinfo=UTC),
    closes_at: datetime = datetime(2030, 12, 31, tzinfo=UTC),
    finance_plan: bool = True,
    financing: dict[str, Any] | None = None,
) -> World:
    """A programme "ZiQ" with modules B1/B2, one call, budget lines and one user per role.
    `finance_plan`: the programme has the ZiQ cost headings (drafts need a balanced plan);
    `financing`: the call's Finanzierungsart columns (default Fehlbedarf, no maximum)."""
    years = years if years is not None else {2021: 1_000_000_00, 2022: 1_000_000_00}
    programme = Programme(
        code="ZiQ",
        name="Zusammen im Quartier – Kinder stärken – Zukunft sichern",
        contact_name="MAGS NRW",
        contact_email="ziq@mags.example",
        config={"finance_plan": {"expense_headings": EXPENSE_HEADINGS}} if finance_plan else {},
    )
    session.add(programme)
    session.flush()
    for code in ("B1", "B2"):
        session.add(Module(programme_id=programme.id, code=code, name=f"Baustein {code}"))
    call = Call(
        programme_id=programme.id,
        code="ZiQ-2021",
        title="ZiQ 2021/2022",
        opens_at=opens_at,
        closes_at=closes_at,
        policy=policy,
        min_grant_cents=min_grant_cents,
        earliest_project_start=date(2021, 1, 1),
        min_project_months=8,
        **(financing or {}),
    )
    session.add(call)
    session.flush()
    for year, cents in years.items():
        share, rest = divmod(cents, len(sources))
        for i, source in enumerate(sources):
            line = BudgetLine(
                call_id=call.id,
                year=year,
                source=source,
                priority=i,
                budget_cents=0,
                committed_cents=0,
            )
            session.add(line)
            session.flush()
            budget.change_budget(
                session, line, share + (rest if i == 0 else 0), NOW, None, "Haushaltsansatz"
            )
    orgs = [Organisation(name=f"Träger {i} e.V.", municipality="Gelsenkirchen") for i in (1, 2)]
    for org in orgs:
        session.add(org)
    session.flush()
    people = {
        "carrier": User(
            email="traeger@example.org",
            name="Jürgen Weiß",
            role="carrier",
            organisation_id=orgs[0].id,
            language=carrier_language,
        ),
        "other_carrier": User(
            email="andere@example.org",
            name="Özlem Kaya",
            role="carrier",
            organisation_id=orgs[1].id,
        ),
        "reviewer": User(email="pruefung@example.org", name="Sabine Prüfer", role="reviewer"),
        "reviewer2": User(email="pruefung2@example.org", name="Tobias Krüger", role="reviewer"),
        "approver": User(email="zeichnung@example.org", name="Helga Böhm", role="approver"),
        "admin": User(email="admin@example.org", name="Admin", role="admin"),
        "observer": User(email="gib@example.org", name="G.I.B.", role="observer"),
    }
    for user in people.values():
        session.add(user)
    session.flush()
    actors = {k: Actor.of(u) for k, u in people.items()}
    return World(call_id=call.id, carrier_email=people["carrier"].email, **actors)


def balanced_plan(amounts: dict[str, str]) -> dict[str, Any]:
    """A Kosten- und Finanzierungsplan that balances under Fehlbedarf with the given grant per
    year: staff costs and fees of grant + 500 euros, 500 euros own money, no third-party money."""
    plan = {}
    for year, grant in amounts.items():
        total = Decimal(str(grant).replace(",", ".")) + PLAN_OWN
        fees = (total / 5).quantize(Decimal("1"))
        plan[str(year)] = {"expenses": {"personnel": str(total - fees), "fees": str(fees)},
                           "own": str(PLAN_OWN), "third_party": "0"}
    return plan


def draft_fields(amounts: dict[str, str] | None = None, /, **overrides: Any) -> dict[str, Any]:
    """A complete draft whose finance plan asks for `amounts` (euros per year). A test that
    passes `amounts` or `own_contribution` itself gets plain fields without a plan (the path of
    a programme without cost headings, or of a draft before its plan)."""
    amounts = amounts or {"2021": "50000", "2022": "50000"}
    fields: dict[str, Any] = {
        "module_code": "B1",
        "title": "Stadtteilmütter",
        "summary": "Begleitung von Familien",
        "quartier": "Schalke",
        "project_start": "2021-03-01",
        "project_end": "2022-12-31",
    }
    if {"amounts", "own_contribution"} & set(overrides):
        fields.update({"own_contribution": "1000", "amounts": amounts})
    else:
        fields["finance_plan"] = balanced_plan(amounts)
    fields.update(overrides)
    return fields


SACHBERICHT = (
    "Im Projekt haben zwei Stadtteilmütter über die gesamte Laufzeit Familien im Quartier "
    "begleitet: wöchentliche Sprechstunden im Familienzentrum, Hausbesuche und ein Elterncafé. "
    "Erreicht wurden 84 Familien mit 160 Kindern; 31 Familien nehmen inzwischen Angebote der "
    "Regelstruktur wahr. Der Zuwendungszweck ist erreicht.")


def final_report_payload(spending: dict[str, str], heading: str = "personnel",
                         **extra: Any) -> dict[str, Any]:
    """A complete Verwendungsnachweis for `submit_final_report`: the actual expenses of each
    year on one heading of the approved plan, each backed by one Beleg dated in its year."""
    return {
        "sachbericht": SACHBERICHT,
        "nachweis": {str(y): {"expenses": {heading: v}, "own": "0", "third_party": "0"}
                     for y, v in spending.items()},
        "belege": [{"year": int(y), "heading": heading, "date": f"{y}-06-30",
                    "party": "Stadtteilmütter-Team", "purpose": f"Personalausgaben {y}",
                    "amount": v, "number": f"B-{y}"} for y, v in spending.items()],
        **extra,
    }


CHECK_RATINGS = {c: {"rating": "erfuellt", "note": "passt"}
                 for c in ("sachbericht", "finanzplan", "belegliste", "zweck")}


def check_final_report(session: Session, reference: Any, reviewer: Actor, *,
                       lowered: dict[str, Any] | None = None, now: datetime = NOW) -> Any:
    """Staff's complete check of the submitted Verwendungsnachweis (then `close` may fire)."""
    from workflow import final_report_check
    return final_report_check.check_final_report(
        session, reference, reviewer, ratings=CHECK_RATINGS, summary="Nachweis schlüssig.",
        lowered=lowered, now=now)


# The trigger path from draft to each reachable state (actor key, trigger, payload, reason).
# The worlds act before the project start date, so the carrier starts with a waiver of appeal.
PATH = [
    ("carrier", "submit", None, None),
    ("reviewer", "start_review", None, None),
    ("reviewer", "recommend", "amounts", "Förderfähig"),
    ("approver", "approve", None, None),
    ("carrier", "start", "waiver", None),
    ("carrier", "submit_final_report", "spending", "Nachweis"),
]
STATE_AFTER = ["submitted", "in_review", "recommended", "approved", "active", "report_submitted"]


def application_in(
    session: Session,
    world: World,
    state: str,
    *,
    amounts: dict[str, str] | None = None,
    carrier: Actor | None = None,
    now: datetime = NOW,
) -> Any:
    """A new application driven through the engine to `state` (draft..report_submitted)."""
    amounts = amounts or {"2021": "50000", "2022": "50000"}
    app = drafts.create_application(
        session, carrier or world.carrier, world.call_id, draft_fields(amounts), now=now
    )
    if state == "draft":
        return app
    for (who, trigger, payload_kind, reason), reached in zip(PATH, STATE_AFTER, strict=True):
        payload = None
        if payload_kind == "amounts":
            payload = {"amounts": amounts}
        elif payload_kind == "spending":
            payload = final_report_payload(amounts)
        elif payload_kind == "waiver":
            payload = {"waiver_of_appeal": True}
        actor = carrier if (who == "carrier" and carrier) else getattr(world, who)
        engine.fire(session, app, trigger, actor, payload=payload, reason=reason, now=now)
        if reached == state:
            return app
    raise ValueError(state)
