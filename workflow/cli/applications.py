"""`quartier applications list|show|history|create|finance-plan` and `quartier fire`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy import func
from sqlmodel import Session, select

from states import EARLY_START_NO_CLAIM, STATE_LABELS, DeadlineStatus, State
from workflow import applications, commands, deadlines, drafts, early_start, engine
from workflow.cli.common import (
    AmountsOpt,
    AsOpt,
    JsonOpt,
    RefArg,
    acting_for,
    actor_for,
    euro,
    operator,
    options,
    parse_pairs,
    print_json,
    right,
    session_scope,
    show,
    table,
    when,
)
from workflow.errors import InvalidInput
from workflow.models import Application, ApplicationYear, Call, Deadline, Organisation, User
from workflow.presenters import application_out, application_summary, deadline_out, history_entry

PlanOpt = Annotated[Path | None, typer.Option(
    "--finance-plan", metavar="DATEI",
    help="Kosten- und Finanzierungsplan als JSON-Datei (statt --amount und --own-contribution).")]
applications_app = typer.Typer(help="Anträge anzeigen und anlegen.", no_args_is_help=True)



def _label(state: str | None) -> str:
    return STATE_LABELS[State(state)].de if state else "–"


def _actor_name(session: Session, actor_id: int | None) -> str | None:
    user = session.get(User, actor_id) if actor_id else None
    return user.name if user else None


@applications_app.command("list")
def list_applications(
    state: Annotated[str | None, typer.Option(
        "--state", metavar="STATE", help="Nur dieser Status, z. B. submitted.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Alle Anträge mit Status, Träger und beantragter Summe."""
    with session_scope(as_json) as session:
        query = (select(Application, Call.code, Organisation.name)
                 .join(Call, Call.id == Application.call_id)
                 .join(Organisation, Organisation.id == Application.organisation_id)
                 .order_by(Application.id))
        if state:
            query = query.where(Application.state == state)
        found = session.exec(query).all()
        if as_json:
            print_json([application_summary(a, code, org, options.lang) for a, code, org in found])
            return
        requested = dict(session.exec(
            select(ApplicationYear.application_id, func.sum(ApplicationYear.requested_cents))
            .group_by(ApplicationYear.application_id)).all())
        show(table(["Aktenzeichen", "Status", "Baustein", "Träger", "Titel", right("Beantragt")],
                   [[a.reference, _label(a.state), a.module_code, org, a.title,
                     euro(int(requested.get(a.id) or 0))] for a, _, org in found]))


@applications_app.command("show")
def show_application(reference: RefArg, as_json: JsonOpt = False) -> None:
    """Ein Antrag mit Beträgen je Jahr und offenen Fristen."""
    with session_scope(as_json) as session:
        app = applications.load_application(session, reference)
        data = application_out(session, app.id, options.lang)
        if as_json:
            print_json(data)
            return
        today = deadlines.local_date(options.now or datetime.now(UTC))
        open_deadlines = [deadline_out(d, today, options.lang) for d in session.exec(
            select(Deadline).where(Deadline.application_id == app.id,
                                   Deadline.status == DeadlineStatus.open)
            .order_by(Deadline.due_date, Deadline.id))]
        cents = {y.year: y for y in session.exec(
            select(ApplicationYear).where(ApplicationYear.application_id == app.id))}
        facts = [("Aktenzeichen", data["reference"]), ("Status", data["state_label"]),
                 ("Version", data["version"]), ("Titel", data["title"]),
                 ("Förderaufruf", data["call"]), ("Baustein", data["module_code"]),
                 ("Träger", data["organisation"]), ("Kommune", data["municipality"]),
                 ("Quartier", data["quartier"]), ("Kurzbeschreibung", data["summary"]),
                 ("Projektbeginn", when(data["project_start"])),
                 ("Projektende", when(data["project_end"])),
                 ("Eigenanteil", euro(app.own_contribution_cents)),
                 ("Eingegangen", when(data["received_at"])),
                 ("Prüfvermerk", data["assessment"])]
        years = [[y["year"], euro(cents[y["year"]].requested_cents),
                  euro(cents[y["year"]].approved_cents), euro(cents[y["year"]].spent_cents)]
                 for y in data["years"]]
        parts: list[Any] = [
            table(["", ""], facts, header=False),
            table(["Jahr", right("Beantragt"), right("Bewilligt"), right("Ausgegeben")], years,
                  title="Beträge")]
        if open_deadlines:
            parts.append(table(["Frist", "Zeitraum", "Fällig", "Überfällig"],
                               [[d["label"], d["period"], when(d["due_date"]),
                                 "ja" if d["overdue"] else ""] for d in open_deadlines],
                               title="Offene Fristen"))
        show(*parts)


@applications_app.command("history")
def history(reference: RefArg, as_json: JsonOpt = False) -> None:
    """Jeder Übergang eines Antrags: wann, was, von, nach, wer, warum."""
    with session_scope(as_json) as session:
        app = applications.load_application(session, reference)
        entries = [history_entry(r, _actor_name(session, r.actor_id))
                   for r in applications.history(session, app)]
        if as_json:
            print_json(entries)
            return
        show(table(["Zeit", "Aktion", "Von", "Nach", "Wer", "Grund"],
                   [[when(e["at"]), e["trigger"], _label(e["from_state"]), _label(e["to_state"]),
                     acting_for(e["actor_name"] or e["actor_role"], e["payload"].get("operator")),
                     (e["reason"] or "") + (" (verspätet)" if e["late"] else "")]
                    for e in entries]))


@applications_app.command("create")
def create(
    as_user: AsOpt,
    module: Annotated[str, typer.Option("--module", metavar="BAUSTEIN", help="z. B. B1.")],
    title: Annotated[str, typer.Option("--title", metavar="TITEL", help="Projekttitel.")],
    call: Annotated[str, typer.Option(
        "--call", metavar="CALL", help="Förderaufruf.")] = "ZiQ-2021",
    summary: Annotated[str, typer.Option(
        "--summary", metavar="TEXT", help="Kurzbeschreibung.")] = "",
    quartier: Annotated[str, typer.Option(
        "--quartier", metavar="QUARTIER", help="Das Quartier des Projekts.")] = "",
    municipality: Annotated[str | None, typer.Option(
        "--municipality", metavar="KOMMUNE", help="Kommune (Standard: die des Trägers).")]
    = None,
    start: Annotated[str | None, typer.Option(
        "--start", metavar="JJJJ-MM-TT", help="Projektbeginn.")] = None,
    end: Annotated[str | None, typer.Option(
        "--end", metavar="JJJJ-MM-TT", help="Projektende.")] = None,
    own_contribution: Annotated[str | None, typer.Option(
        "--own-contribution", metavar="EURO",
        help="Eigenanteil in Euro (ohne Finanzierungsplan).")] = None,
    amount: AmountsOpt = None,
    plan: PlanOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Einen Entwurf als Träger anlegen."""
    fields: dict[str, Any] = {"module_code": module, "title": title, "summary": summary,
                              "quartier": quartier, "project_start": start,
                              "project_end": end}
    if own_contribution is not None:
        fields["own_contribution"] = own_contribution
    if municipality:
        fields["municipality"] = municipality
    with session_scope(as_json) as session:
        if plan is not None:
            fields["finance_plan"] = read_plan(plan)
        if amount:
            fields["amounts"] = parse_pairs(amount, "--amount")
        app = drafts.create_application(session, actor_for(session, as_user), call, fields,
                                        now=options.now, operator=operator())
        if as_json:
            print_json(application_out(session, app.id, options.lang))
            return
        typer.echo(f"Entwurf {app.reference} angelegt.")


def fire(
    reference: RefArg,
    trigger: Annotated[str, typer.Argument(
        metavar="TRIGGER", help="Die Aktion, z. B. submit, approve (quartier workflow table).")],
    as_user: AsOpt,
    reason: Annotated[str | None, typer.Option(
        "--reason", metavar="TEXT", help="Begründung oder Prüfvermerk.")] = None,
    amount: Annotated[list[str] | None, typer.Option(
        "--amount", metavar="JAHR=BETRAG", help="Bewilligte Euro je Jahr, mehrfach.")] = None,
    spending: Annotated[list[str] | None, typer.Option(
        "--spending", metavar="JAHR=BETRAG", help="Ausgaben in Euro je Jahr, mehrfach.")] = None,
    document: Annotated[list[str] | None, typer.Option(
        "--document", metavar="UNTERLAGE", help="Nachgeforderte Unterlage, mehrfach.")] = None,
    deadline: Annotated[str | None, typer.Option(
        "--deadline", metavar="JJJJ-MM-TT", help="Frist.")] = None,
    repayment: Annotated[str | None, typer.Option(
        "--repayment", metavar="EURO", help="Rückforderung in Euro.")] = None,
    waiver_of_appeal: Annotated[bool, typer.Option(
        "--waiver-of-appeal", help="start: Der Träger verzichtet auf Rechtsbehelfe "
        "(Rechtsbehelfsverzicht) und beginnt vor dem Projektbeginn.")] = False,
    attach: Annotated[list[int] | None, typer.Option(
        "--attach", metavar="NR", help="Hochgeladene Unterlage (quartier documents upload), "
        "die der Schritt mitnimmt, mehrfach.")] = None,
    explanation: Annotated[str | None, typer.Option(
        "--explanation", metavar="TEXT",
        help="Warum keine Unterlage beiliegt (bei der Antwort auf eine Nachforderung).")] = None,
    expected_version: Annotated[int | None, typer.Option(
        "--expected-version", metavar="VERSION", help="Nur wenn der Antrag diese Version hat.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Eine Aktion (TRIGGER) auf einem Antrag als Nutzer auslösen."""
    payload: dict[str, Any] = {}
    if document:
        payload["documents"] = document
    if deadline:
        payload["deadline"] = deadline
    if repayment is not None:
        payload["repayment"] = repayment
    if waiver_of_appeal:
        payload["waiver_of_appeal"] = True
    if attach:
        payload["document_ids"] = attach
    if explanation:
        payload["explanation"] = explanation
    with session_scope(as_json) as session:
        if amount:
            payload["amounts"] = parse_pairs(amount, "--amount")
        if spending:
            payload["spending"] = parse_pairs(spending, "--spending")
        record = engine.fire(session, reference, trigger, actor_for(session, as_user),
                             reason=reason, payload=payload, expected_version=expected_version,
                             now=options.now, operator=operator())
        if as_json:
            print_json({"transition": history_entry(record,
                                                    _actor_name(session, record.actor_id)),
                        "application": application_out(session, record.application_id,
                                                       options.lang)})
            return
        typer.echo(f"{reference}: {record.trigger} – {_label(record.from_state)} → "
                   f"{_label(record.to_state)}")


@applications_app.command("finance-plan")
def set_finance_plan(
    reference: RefArg,
    plan: Annotated[Path, typer.Argument(
        metavar="DATEI", help="Der Kosten- und Finanzierungsplan als JSON-Datei: "
        '{"2027": {"expenses": {"personnel": "40000"}, "own": "1000", "third_party": "0"}}.')],
    as_user: AsOpt,
    as_json: JsonOpt = False,
) -> None:
    """Den Kosten- und Finanzierungsplan eines Entwurfs setzen (die beantragten Beträge und der
    Eigenanteil folgen aus ihm)."""
    with session_scope(as_json) as session:
        app = commands.edit_draft(session, reference, actor_for(session, as_user),
                                  {"finance_plan": read_plan(plan)})
        shown = application_out(session, app.id, options.lang)
        if as_json:
            print_json(shown)
            return
        def cents(euros: str) -> int:
            return int(Decimal(euros) * 100)

        for year, y in (shown["finance_plan"] or {}).items():
            off = cents(y["difference"])
            typer.echo(f"{year}: Ausgaben {euro(cents(y['total_expenses']))}, Finanzierung "
                       f"{euro(cents(y['total_financing']))}, beantragte Zuwendung "
                       f"{euro(cents(y['grant']))}"
                       + (f" – nicht ausgeglichen (Differenz {euro(abs(off))})" if off else ""))


def read_plan(path: Path) -> Any:
    """The plan of a JSON file; a missing or malformed file is refused with the reason."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidInput(f"Finanzierungsplan {path} nicht lesbar: {error}",
                           f"Cannot read the finance plan {path}: {error}",
                           field="finance_plan") from None


@applications_app.command("early-start")
def grant_early_start(
    reference: RefArg,
    as_user: AsOpt,
    reason: Annotated[str | None, typer.Option(
        "--reason", metavar="TEXT", help="Begründung der Genehmigung.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Einen vorzeitigen Maßnahmebeginn genehmigen (Sachbearbeitung, Zeichnungsbefugte)."""
    with session_scope(as_json) as session:
        record = early_start.grant_early_start(session, reference, actor_for(session, as_user),
                                               reason=reason, now=options.now,
                                               operator=operator())
        if as_json:
            print_json({"transition": history_entry(record,
                                                    _actor_name(session, record.actor_id)),
                        "application": application_out(session, record.application_id,
                                                       options.lang),
                        "right_to_funding": False,
                        "notice": EARLY_START_NO_CLAIM.in_language(options.lang)})
            return
        typer.echo(f"{reference}: vorzeitiger Maßnahmebeginn genehmigt. "
                   f"{EARLY_START_NO_CLAIM.de}")
