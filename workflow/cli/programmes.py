"""`quartier programme …`, `quartier call …` and `quartier audit`: programme administration of
programmes, modules and calls, every change audited (workflow.calls_admin)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from workflow import calls_admin
from workflow.cli.common import (
    AsOpt,
    JsonOpt,
    actor_for,
    options,
    print_json,
    session_scope,
    show,
    table,
    when,
)
from workflow.errors import InvalidInput
from workflow.presenters import call_status

programme_app = typer.Typer(help="Förderprogramme und ihre Bausteine (Programmverwaltung).",
                            no_args_is_help=True)
call_app = typer.Typer(help="Förderaufrufe anlegen, bearbeiten und vorzeitig schließen "
                       "(Programmverwaltung).", no_args_is_help=True)

ProgrammeArg = Annotated[str, typer.Argument(metavar="PROGRAMM", help="Programmkürzel, z. B. ZiQ.")]
CallArg = Annotated[str, typer.Argument(metavar="CALL", help="Kürzel des Förderaufrufs.")]
TitleOpt = Annotated[str | None, typer.Option("--title", metavar="TEXT", help="Titel.")]
OpensOpt = Annotated[str | None, typer.Option(
    "--opens", metavar="ISO", help="Beginn der Einreichung (ISO 8601; ohne Zone: Berliner Zeit).")]
ClosesOpt = Annotated[str | None, typer.Option(
    "--closes", metavar="ISO", help="Ende der Einreichung (ISO 8601; ohne Zone: Berliner Zeit).")]
PolicyOpt = Annotated[str | None, typer.Option(
    "--policy", metavar="VERFAHREN", help="Bewilligung ohne Mittel: waitlist (Warteliste) oder "
    "reject (Ablehnung).")]
MinGrantOpt = Annotated[str | None, typer.Option(
    "--min-grant", metavar="EURO", help="Mindestzuwendung in Euro, z. B. 10.000,00.")]
StartOpt = Annotated[str | None, typer.Option(
    "--earliest-start", metavar="DATUM", help="Frühester Projektbeginn (JJJJ-MM-TT).")]
MonthsOpt = Annotated[int | None, typer.Option(
    "--min-months", metavar="MONATE", help="Mindestlaufzeit eines Projekts in Monaten.")]
BudgetOpt = Annotated[list[str] | None, typer.Option(
    "--budget", metavar="JAHR:QUELLE=EURO[@PRIO]", help="Budget je Haushaltsjahr und "
    "Mittelquelle, mehrfach, z. B. 2027:ESF=250000@1 (PRIO: Reihenfolge der Quellen im Jahr).")]


def _budget(values: list[str] | None) -> list[dict[str, Any]] | None:
    """`JAHR:QUELLE=EURO[@PRIO]` options as budget lines (amounts parsed by the domain)."""
    if not values:
        return None
    lines = []
    for value in values:
        year, colon, rest = value.partition(":")
        source, equals, amount = rest.rpartition("=")
        amount, at, priority = amount.partition("@")
        if not colon or not equals or not source.strip():
            raise InvalidInput(f"--budget: JAHR:QUELLE=EURO erwartet, z. B. 2027:ESF=250000 "
                               f"(nicht „{value}“).", f"--budget: YEAR:SOURCE=EUROS expected, "
                               f"e.g. 2027:ESF=250000 (not '{value}').", field="budget")
        lines.append({"year": year.strip(), "source": source.strip(), "amount": amount.strip(),
                      "priority": priority.strip() if at else None})
    return lines


def _call_fields(**given: Any) -> dict[str, Any]:
    """The options given, under the names of workflow.calls_admin (None: not given)."""
    names = {"opens": "opens_at", "closes": "closes_at", "earliest_start": "earliest_project_start",
             "min_months": "min_project_months"}
    return {names.get(k, k): v for k, v in given.items() if v is not None}


def _show_call(session: Any, call: Any, as_json: bool, message: str) -> None:
    if as_json:
        print_json(call_status(session, call, options.now))
    else:
        typer.echo(message)


# ------------------------------------------------------------------ programmes


@programme_app.command("list")
def list_programmes(as_json: JsonOpt = False) -> None:
    """Alle Förderprogramme mit Bausteinen und Aufrufen."""
    with session_scope(as_json) as session:
        found = [calls_admin.programme_snapshot(session, p)
                 for p in calls_admin.programmes(session)]
        if as_json:
            print_json(found)
            return
        show(table(["Kürzel", "Name", "Bausteine", "Aufrufe"],
                   [[p["code"], p["name"], ", ".join(m["code"] for m in p["modules"]),
                     ", ".join(p["calls"])] for p in found]))


@programme_app.command("create")
def create_programme(
    as_user: AsOpt,
    code: Annotated[str, typer.Option("--code", metavar="KÜRZEL",
                                      help="Programmkürzel, Präfix der Aktenzeichen.")],
    name: Annotated[str, typer.Option("--name", metavar="TEXT", help="Name des Programms.")],
    purpose: Annotated[str, typer.Option("--purpose", metavar="TEXT", help="Zweck.")] = "",
    contact_name: Annotated[str, typer.Option(
        "--contact-name", metavar="TEXT", help="Ansprechperson.")] = "",
    contact_email: Annotated[str, typer.Option(
        "--contact-email", metavar="EMAIL", help="Kontakt-E-Mail.")] = "",
    config: Annotated[str | None, typer.Option(
        "--config", metavar="JSON", help="Konfiguration (Fristen, Erinnerungen) als JSON-Objekt.")]
    = None,
    modules: Annotated[list[str] | None, typer.Option(
        "--module", metavar="KÜRZEL=NAME", help="Baustein, mehrfach, z. B. B1=Aktive "
        "Nachbarschaft.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ein Förderprogramm anlegen, mit seinen ersten Bausteinen (Programmverwaltung)."""
    with session_scope(as_json) as session:
        pairs = [m.partition("=") for m in modules or []]
        programme = calls_admin.create_programme(session, actor_for(session, as_user), {
            "code": code, "name": name, "purpose": purpose, "contact_name": contact_name,
            "contact_email": contact_email, "config": config,
            "modules": [{"code": c.strip(), "name": n.strip()} for c, _, n in pairs]},
            now=options.now)
        if as_json:
            print_json(calls_admin.programme_snapshot(session, programme))
        else:
            typer.echo(f"Förderprogramm {programme.code} angelegt.")


@programme_app.command("add-module")
def add_module(
    programme: ProgrammeArg,
    as_user: AsOpt,
    code: Annotated[str, typer.Option("--code", metavar="KÜRZEL", help="Baustein, z. B. B3.")],
    name: Annotated[str, typer.Option("--name", metavar="TEXT", help="Name des Bausteins.")],
) -> None:
    """Einem Förderprogramm einen Baustein hinzufügen (Programmverwaltung)."""
    with session_scope() as session:
        module = calls_admin.add_module(session, actor_for(session, as_user), programme,
                                        {"code": code, "name": name}, now=options.now)
        typer.echo(f"Baustein {module.code} zu {programme} hinzugefügt.")


@programme_app.command("rename-module")
def rename_module(
    programme: ProgrammeArg,
    module: Annotated[str, typer.Argument(metavar="BAUSTEIN", help="Kürzel des Bausteins.")],
    as_user: AsOpt,
    name: Annotated[str, typer.Option("--name", metavar="TEXT", help="Neuer Name.")],
) -> None:
    """Einen Baustein umbenennen (Programmverwaltung)."""
    with session_scope() as session:
        calls_admin.rename_module(session, actor_for(session, as_user), programme, module, name,
                                  now=options.now)
        typer.echo(f"Baustein {module} heißt jetzt „{name.strip()}“.")


# ------------------------------------------------------------------ calls


@call_app.command("create")
def create_call(
    as_user: AsOpt,
    programme: Annotated[str, typer.Option("--programme", metavar="PROGRAMM",
                                           help="Programmkürzel, z. B. ZiQ.")],
    code: Annotated[str, typer.Option("--code", metavar="KÜRZEL",
                                      help="Kürzel des Aufrufs, z. B. ZiQ-2027.")],
    title: Annotated[str, typer.Option("--title", metavar="TEXT", help="Titel.")],
    opens: Annotated[str, typer.Option("--opens", metavar="ISO", help=(
        "Beginn der Einreichung (ISO 8601; ohne Zone: Berliner Zeit)."))],
    closes: Annotated[str, typer.Option("--closes", metavar="ISO", help=(
        "Ende der Einreichung (ISO 8601; ohne Zone: Berliner Zeit)."))],
    budget: BudgetOpt = None,
    policy: PolicyOpt = None,
    min_grant: MinGrantOpt = None,
    earliest_start: StartOpt = None,
    min_months: MonthsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Einen Förderaufruf anlegen: Fenster, Verfahren, Regeln, Budget je Jahr und Quelle."""
    with session_scope(as_json) as session:
        fields = _call_fields(code=code, title=title, opens=opens, closes=closes,
                              budget=_budget(budget), policy=policy, min_grant=min_grant,
                              earliest_start=earliest_start, min_months=min_months)
        call = calls_admin.create_call(session, actor_for(session, as_user), programme, fields,
                                       now=options.now)
        _show_call(session, call, as_json, f"Förderaufruf {call.code} angelegt.")


@call_app.command("edit")
def edit_call(
    code: CallArg,
    as_user: AsOpt,
    new_code: Annotated[str | None, typer.Option(
        "--code", metavar="KÜRZEL", help="Neues Kürzel des Aufrufs.")] = None,
    title: TitleOpt = None,
    opens: OpensOpt = None,
    closes: ClosesOpt = None,
    budget: BudgetOpt = None,
    policy: PolicyOpt = None,
    min_grant: MinGrantOpt = None,
    earliest_start: StartOpt = None,
    min_months: MonthsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Einen Förderaufruf bearbeiten, solange kein Antrag eingereicht wurde; nicht genannte
    Felder bleiben (Budgets danach: `quartier budget change`)."""
    with session_scope(as_json) as session:
        fields = _call_fields(code=new_code, title=title, opens=opens, closes=closes,
                              budget=_budget(budget), policy=policy, min_grant=min_grant,
                              earliest_start=earliest_start, min_months=min_months)
        call = calls_admin.edit_call(session, actor_for(session, as_user), code, fields,
                                     now=options.now)
        _show_call(session, call, as_json, f"Förderaufruf {call.code} geändert.")


@call_app.command("close")
def close_call(
    code: CallArg,
    as_user: AsOpt,
    reason: Annotated[str, typer.Option("--reason", metavar="TEXT", help="Begründung.")],
    as_json: JsonOpt = False,
) -> None:
    """Einen Förderaufruf jetzt vorzeitig schließen, mit Begründung (Programmverwaltung)."""
    with session_scope(as_json) as session:
        call = calls_admin.close_call(session, actor_for(session, as_user), code, reason,
                                      now=options.now)
        _show_call(session, call, as_json,
                   f"Förderaufruf {call.code} geschlossen am {when(call.closes_at)}.")


# ------------------------------------------------------------------ the audit


def audit(
    as_user: AsOpt,
    subject: Annotated[str | None, typer.Option(
        "--subject", metavar="KÜRZEL", help="Nur ein Programm (mit Bausteinen) oder ein "
        "Aufruf.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000, help="Höchstens so viele "
                                       "Einträge.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """Änderungsprotokoll der Programmverwaltung (Programme, Bausteine, Aufrufe), neueste zuerst."""
    with session_scope(as_json) as session:
        page = calls_admin.audit_page(session, actor_for(session, as_user), limit, 0, subject)
        entries = [calls_admin.audit_out(r, options.lang) for r in page.items]
        if as_json:
            print_json({"items": entries, "total": page.total, "limit": page.limit,
                        "offset": page.offset})
            return
        show(table(["Zeit", "Wer", "Aktion", "Gegenstand", "Vorher", "Nachher", "Begründung"],
                   [[when(e["at"]), e["actor_name"], e["action_label"], e["subject"],
                     _brief(e["before"]), _brief(e["after"]), e["reason"] or ""]
                    for e in entries]),
             f"{page.total} Einträge.")


def _brief(values: dict[str, Any] | None) -> str:
    if not values:
        return "–"
    return "; ".join(f"{k}={v}" for k, v in values.items() if k != "budget") + (
        "; budget geändert" if "budget" in values else "")
