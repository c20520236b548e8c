"""The `quartier` command line for operators and demos."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from sqlmodel import Session, func, select

from states import STATE_LABELS, State
from states.diagram import mermaid
from workflow import applications, budget, drafts, engine, programme_admin, rows
from workflow.db import make_engine, unit_of_work
from workflow.errors import NotFound, WorkflowError
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    Deadline,
    Organisation,
    User,
)

app = typer.Typer(help="Quartier – Antragsverfahren für Förderprogramme.", no_args_is_help=True)
db_app = typer.Typer(help="Datenbank (Migrationen).", no_args_is_help=True)
applications_app = typer.Typer(help="Anträge anzeigen und anlegen.", no_args_is_help=True)
budget_app = typer.Typer(
    help="Budget, gebundene und verfügbare Mittel, Fördermittelstopp.", invoke_without_command=True
)
stop_app = typer.Typer(help="Fördermittelstopp erklären oder aufheben.", no_args_is_help=True)
workflow_app = typer.Typer(help="Der Lebenszyklus eines Antrags.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(applications_app, name="applications")
app.add_typer(budget_app, name="budget")
app.add_typer(stop_app, name="funding-stop")
app.add_typer(workflow_app, name="workflow")

JsonOpt = Annotated[bool, typer.Option("--json", help="Maschinenlesbare Ausgabe.")]
AsOpt = Annotated[str, typer.Option("--as", help="E-Mail-Adresse des handelnden Nutzers.")]
NowOpt = Annotated[str | None, typer.Option("--now", help="Simulierte Zeit (ISO 8601).")]


class Clock:
    """The simulated time set by the global `--now` option (None: the real clock)."""

    now: datetime | None = None


def parse_now(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work; a domain refusal prints its reason and exits 1."""
    engine_ = make_engine()
    try:
        with unit_of_work(engine_) as session:
            yield session
    except WorkflowError as refusal:
        typer.echo(f"Fehler: {refusal.de}", err=True)
        typer.echo(f"Error: {refusal.en}", err=True)
        raise typer.Exit(1) from None
    finally:
        engine_.dispose()


def actor_for(session: Session, email: str) -> rows.Actor:
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None or user.disabled:
        raise NotFound(
            f"Nutzer {email} existiert nicht oder ist gesperrt.",
            f"User {email} does not exist or is disabled.",
        )
    return rows.Actor.of(user)


def table(headers: list[str], rows: list[list[Any]]) -> str:
    cells = [[str(c) for c in headers]] + [[("" if c is None else str(c)) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


def emit(data: Any, as_json: bool, text: str) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str) if as_json else text)


def parse_pairs(values: list[str] | None, label: str) -> dict[str, str] | None:
    if not values:
        return None
    out = {}
    for value in values:
        if "=" not in value:
            raise typer.BadParameter(f"{label}: JAHR=BETRAG erwartet, z. B. 2021=50000")
        year, amount = value.split("=", 1)
        out[year.strip()] = amount.strip()
    return out


@app.callback()
def main_callback(now: NowOpt = None) -> None:
    """Quartier. `--now` simulates the clock for every command that changes something."""
    Clock.now = parse_now(now)


# ------------------------------------------------------------------ db and seed


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Migrate the database (QUARTIER_DATABASE_URL) to the newest schema."""
    from workflow import migrate

    migrate.upgrade(None, revision)
    typer.echo("Datenbank ist auf dem neuesten Stand.")


@app.command("seed")
def seed_cmd(
    demo: Annotated[bool, typer.Option("--demo/--no-demo", help="Demo-Anträge anlegen.")] = True,
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Nichts tun, wenn schon vorhanden.")
    ] = False,
) -> None:
    """Create the ZiQ programme, demo carriers, staff and demo applications."""
    from workflow import seed

    with session_scope() as session:
        try:
            call = seed.seed(session, Clock.now or datetime.now(UTC), demo_applications=demo)
        except RuntimeError:
            if if_empty:
                typer.echo("ZiQ ist bereits angelegt.")
                return
            typer.echo("Fehler: ZiQ ist bereits angelegt.", err=True)
            raise typer.Exit(1) from None
        typer.echo(f"Programm angelegt: {call.title} ({call.code}).")


# ------------------------------------------------------------------ applications


def application_dict(session: Session, a: Application) -> dict[str, Any]:
    org = session.get(Organisation, a.organisation_id)
    years = session.exec(
        select(ApplicationYear)
        .where(ApplicationYear.application_id == a.id)
        .order_by(ApplicationYear.year)
    ).all()
    open_deadlines = session.exec(
        select(Deadline)
        .where(Deadline.application_id == a.id, Deadline.status == "open")
        .order_by(Deadline.due_date)
    ).all()
    return {
        "reference": a.reference,
        "state": a.state,
        "state_label": STATE_LABELS[State(a.state)].de,
        "version": a.version,
        "title": a.title,
        "module": a.module_code,
        "organisation": org.name if org else None,
        "municipality": a.municipality,
        "quartier": a.quartier,
        "summary": a.summary,
        "project_start": a.project_start,
        "project_end": a.project_end,
        "own_contribution": budget.format_euros(a.own_contribution_cents),
        "received_at": a.received_at,
        "assessment": a.assessment,
        "years": [
            {
                "year": y.year,
                "requested_cents": y.requested_cents,
                "approved_cents": y.approved_cents,
                "spent_cents": y.spent_cents,
            }
            for y in years
        ],
        "open_deadlines": [
            {"kind": d.kind, "period": d.period, "due_date": d.due_date} for d in open_deadlines
        ],
    }


@applications_app.command("list")
def applications_list(
    state: Annotated[str | None, typer.Option(help="Nur dieser Status.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """All applications with state, carrier and requested money."""
    with session_scope() as session:
        query = select(Application).order_by(Application.id)
        if state:
            query = query.where(Application.state == state)
        rows = []
        for a in session.exec(query):
            org = session.get(Organisation, a.organisation_id)
            requested = (
                session.exec(
                    select(func.sum(ApplicationYear.requested_cents)).where(
                        ApplicationYear.application_id == a.id
                    )
                ).one()
                or 0
            )
            rows.append(
                {
                    "reference": a.reference,
                    "state": a.state,
                    "state_label": STATE_LABELS[State(a.state)].de,
                    "module": a.module_code,
                    "organisation": org.name,
                    "title": a.title,
                    "requested_cents": int(requested),
                }
            )
        emit(
            rows,
            as_json,
            table(
                ["Aktenzeichen", "Status", "Baustein", "Träger", "Titel", "Beantragt"],
                [
                    [
                        r["reference"],
                        r["state_label"],
                        r["module"],
                        r["organisation"][:40],
                        r["title"][:40],
                        budget.format_euros(r["requested_cents"]),
                    ]
                    for r in rows
                ],
            ),
        )


@applications_app.command("show")
def applications_show(reference: str, as_json: JsonOpt = False) -> None:
    """One application with amounts and open deadlines."""
    with session_scope() as session:
        data = application_dict(session, applications.load_application(session, reference))
        lines = [f"{k}: {v}" for k, v in data.items() if k not in ("years", "open_deadlines")]
        lines.append(
            table(
                ["Jahr", "Beantragt", "Bewilligt", "Ausgegeben"],
                [
                    [
                        y["year"],
                        budget.format_euros(y["requested_cents"]),
                        budget.format_euros(y["approved_cents"])
                        if y["approved_cents"] is not None
                        else "–",
                        budget.format_euros(y["spent_cents"])
                        if y["spent_cents"] is not None
                        else "–",
                    ]
                    for y in data["years"]
                ],
            )
        )
        if data["open_deadlines"]:
            lines.append(
                table(
                    ["Frist", "Zeitraum", "Fällig"],
                    [[d["kind"], d["period"], d["due_date"]] for d in data["open_deadlines"]],
                )
            )
        emit(data, as_json, "\n".join(lines))


@applications_app.command("history")
def applications_history(reference: str, as_json: JsonOpt = False) -> None:
    """Every transition of one application: who, when, from, to, why."""
    with session_scope() as session:
        a = applications.load_application(session, reference)
        rows = []
        for r in applications.history(session, a):
            user = session.get(User, r.actor_id) if r.actor_id else None
            rows.append(
                {
                    "at": r.at,
                    "trigger": r.trigger,
                    "from": r.from_state,
                    "to": r.to_state,
                    "actor": user.email if user else r.actor_role,
                    "reason": r.reason,
                    "late": r.late,
                    "payload": r.payload,
                }
            )
        emit(
            rows,
            as_json,
            table(
                ["Zeit", "Aktion", "Von", "Nach", "Wer", "Grund"],
                [
                    [
                        r["at"],
                        r["trigger"],
                        r["from"] or "–",
                        r["to"],
                        r["actor"],
                        (r["reason"] or "")[:50] + (" (verspätet)" if r["late"] else ""),
                    ]
                    for r in rows
                ],
            ),
        )


@applications_app.command("create")
def applications_create(
    as_user: AsOpt,
    module: Annotated[str, typer.Option(help="Baustein, z. B. B1.")],
    title: Annotated[str, typer.Option(help="Projekttitel.")],
    call: Annotated[str, typer.Option(help="Förderaufruf.")] = "ZiQ-2021",
    summary: Annotated[str, typer.Option()] = "",
    quartier: Annotated[str, typer.Option()] = "",
    municipality: Annotated[str | None, typer.Option()] = None,
    start: Annotated[str | None, typer.Option(help="Projektbeginn JJJJ-MM-TT.")] = None,
    end: Annotated[str | None, typer.Option(help="Projektende JJJJ-MM-TT.")] = None,
    own_contribution: Annotated[str, typer.Option(help="Eigenanteil in Euro.")] = "0",
    amount: Annotated[list[str] | None, typer.Option(help="JAHR=BETRAG, mehrfach.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a draft as a carrier."""
    fields: dict[str, Any] = {
        "module_code": module,
        "title": title,
        "summary": summary,
        "quartier": quartier,
        "project_start": start,
        "project_end": end,
        "own_contribution": own_contribution,
    }
    if municipality:
        fields["municipality"] = municipality
    if amount:
        fields["amounts"] = parse_pairs(amount, "--amount")
    with session_scope() as session:
        a = drafts.create_application(
            session, actor_for(session, as_user), call, fields, now=Clock.now
        )
        emit(
            {"reference": a.reference, "state": a.state},
            as_json,
            f"Entwurf {a.reference} angelegt.",
        )


# ------------------------------------------------------------------ fire


@app.command("fire")
def fire_cmd(
    reference: str,
    trigger: str,
    as_user: AsOpt,
    reason: Annotated[str | None, typer.Option(help="Begründung / Prüfvermerk.")] = None,
    amount: Annotated[list[str] | None, typer.Option(help="Bewilligung JAHR=BETRAG.")] = None,
    spending: Annotated[list[str] | None, typer.Option(help="Ausgaben JAHR=BETRAG.")] = None,
    document: Annotated[list[str] | None, typer.Option(help="Nachgeforderte Unterlage.")] = None,
    deadline: Annotated[str | None, typer.Option(help="Frist JJJJ-MM-TT.")] = None,
    repayment: Annotated[str | None, typer.Option(help="Rückforderung in Euro.")] = None,
    expected_version: Annotated[int | None, typer.Option(help="Erwartete Version.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fire a trigger on one application as a user."""
    payload: dict[str, Any] = {}
    if amount:
        payload["amounts"] = parse_pairs(amount, "--amount")
    if spending:
        payload["spending"] = parse_pairs(spending, "--spending")
    if document:
        payload["documents"] = document
    if deadline:
        payload["deadline"] = deadline
    if repayment is not None:
        payload["repayment"] = repayment
    with session_scope() as session:
        record = engine.fire(
            session,
            reference,
            trigger,
            actor_for(session, as_user),
            reason=reason,
            payload=payload,
            expected_version=expected_version,
            now=Clock.now,
        )
        data = {
            "reference": reference,
            "trigger": record.trigger,
            "from": record.from_state,
            "to": record.to_state,
            "payload": record.payload,
        }
        emit(
            data,
            as_json,
            f"{reference}: {record.trigger} – "
            f"{STATE_LABELS[State(record.from_state)].de} → "
            f"{STATE_LABELS[State(record.to_state)].de}",
        )


# ------------------------------------------------------------------ budget and funding stop


def _call(session: Session, code: str | None) -> Call:
    query = select(Call).order_by(Call.id)
    if code:
        query = query.where(Call.code == code)
    call = session.exec(query).first()
    if call is None:
        raise NotFound(
            f"Förderaufruf {code or ''} nicht gefunden.", f"Call {code or ''} not found."
        )
    return call


def budget_report(session: Session, call: Call) -> dict[str, Any]:
    lines = budget.budget_lines(session, call.id)
    return {
        "call": call.code,
        "title": call.title,
        "funding_stop": {
            "in_force": bool(call.stop_kind),
            "kind": call.stop_kind,
            "since": call.stop_since,
            "reason": call.stop_reason,
        },
        "lines": [
            {
                "year": ln.year,
                "source": ln.source,
                "budget_cents": ln.budget_cents,
                "committed_cents": ln.committed_cents,
                "available_cents": ln.budget_cents - ln.committed_cents,
            }
            for ln in lines
        ],
        "years": [
            {
                "year": y.year,
                "budget_cents": y.budget_cents,
                "committed_cents": y.committed_cents,
                "available_cents": y.available_cents,
            }
            for y in budget.years(session, call.id).values()
        ],
    }


@budget_app.callback()
def budget_show(
    ctx: typer.Context,
    call: Annotated[str | None, typer.Option(help="Förderaufruf (Standard: der erste).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Budget, committed and available money per year and source; the funding-stop status."""
    if ctx.invoked_subcommand:
        return
    with session_scope() as session:
        data = budget_report(session, _call(session, call))
        f = budget.format_euros
        rows = [
            [
                ln["year"],
                ln["source"],
                f(ln["budget_cents"]),
                f(ln["committed_cents"]),
                f(ln["available_cents"]),
            ]
            for ln in data["lines"]
        ]
        rows += [
            [
                y["year"],
                "Summe",
                f(y["budget_cents"]),
                f(y["committed_cents"]),
                f(y["available_cents"]),
            ]
            for y in data["years"]
        ]
        stop = data["funding_stop"]
        status = (
            f"Fördermittelstopp in Kraft seit {stop['since']} ({stop['kind']}): {stop['reason']}"
            if stop["in_force"]
            else "Kein Fördermittelstopp."
        )
        emit(
            data,
            as_json,
            f"{data['title']} ({data['call']})\n"
            + table(["Jahr", "Quelle", "Budget", "Gebunden", "Verfügbar"], rows)
            + "\n"
            + status,
        )


@budget_app.command("change")
def budget_change(
    as_user: AsOpt,
    year: Annotated[int, typer.Option()],
    source: Annotated[str, typer.Option()],
    delta: Annotated[str, typer.Option(help="Änderung in Euro, z. B. 100000 oder -50000.")],
    note: Annotated[str, typer.Option()] = "Budgetänderung",
    call: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Increase or cut a budget line (admin)."""
    negative = delta.strip().startswith("-")
    cents = budget.parse_euros(delta.strip().lstrip("-+"), "Änderung") * (-1 if negative else 1)
    with session_scope() as session:
        programme_admin.change_budget(
            session,
            _call(session, call),
            year,
            source,
            cents,
            actor_for(session, as_user),
            note,
            now=Clock.now,
        )
        typer.echo(f"Budget {year}/{source} um {budget.format_euros(cents)} geändert.")


@stop_app.command("declare")
def stop_declare(
    as_user: AsOpt,
    reason: Annotated[str, typer.Option()],
    call: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Declare a funding stop for a call (admin)."""
    with session_scope() as session:
        c = programme_admin.declare_funding_stop(
            session, _call(session, call), reason, actor_for(session, as_user), now=Clock.now
        )
        typer.echo(f"Fördermittelstopp für {c.code} seit {c.stop_since}.")


@stop_app.command("lift")
def stop_lift(as_user: AsOpt, call: Annotated[str | None, typer.Option()] = None) -> None:
    """Lift a funding stop (admin)."""
    with session_scope() as session:
        c = programme_admin.lift_funding_stop(
            session, _call(session, call), actor_for(session, as_user), now=Clock.now
        )
        typer.echo(
            f"Fördermittelstopp für {c.code} aufgehoben."
            if not c.stop_kind
            else f"Mittel reichen nicht: automatischer Stopp bleibt in Kraft ({c.stop_reason})."
        )


# ------------------------------------------------------------------ workflow


@workflow_app.command("diagram")
def workflow_diagram(lang: Annotated[str, typer.Option(help="de oder en.")] = "de") -> None:
    """The lifecycle as a Mermaid state diagram, generated from the transition table."""
    typer.echo(mermaid(lang), nl=False)


@workflow_app.command("table")
def workflow_table(as_json: JsonOpt = False) -> None:
    """The transition table: trigger, sources, destination, roles, guards, deadlines, email."""
    from states import TRANSITIONS

    rows = [
        {
            "trigger": t.trigger,
            "sources": [s.value for s in t.sources],
            "dest": t.dest.value if t.dest else None,
            "roles": sorted(r.value for r in t.roles),
            "guards": [g.value for g in t.guards],
            "opens": [d.value for d in t.opens],
            "closes": [d.value for d in t.closes],
            "email": t.email,
        }
        for t in TRANSITIONS
    ]
    emit(
        rows,
        as_json,
        table(
            ["Aktion", "Von", "Nach", "Rollen", "E-Mail"],
            [
                [
                    r["trigger"],
                    ",".join(r["sources"]),
                    r["dest"] or "(bleibt)",
                    ",".join(r["roles"]),
                    r["email"] or "",
                ]
                for r in rows
            ],
        ),
    )


def register_extensions() -> None:
    """Commands that live with their packages (API, mail, reminders) join the main app here."""
    for module_name, attr in (
        ("api.cli", "register"),
        ("notifications.cli", "register"),
        ("workflow.reminders_cli", "register"),
    ):
        try:
            module = __import__(module_name, fromlist=[attr])
        except ModuleNotFoundError as missing:
            if missing.name == module_name:
                continue
            raise
        getattr(module, attr)(app)


def main() -> None:
    register_extensions()
    app(prog_name="quartier")


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["app", "main", "session_scope", "actor_for", "table", "emit", "Clock"]
