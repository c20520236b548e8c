"""`quartier settlement`: paid less final grant, the settlement, repayments and the repayment
claims with § 49a VwVfG interest (issue 16)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from states import ClaimStatus
from workflow import deadlines, settlement
from workflow.cli.common import (
    AsOpt,
    JsonOpt,
    RefArg,
    actor_for,
    operator,
    options,
    parse_day,
    print_json,
    right,
    session_scope,
    show,
    table,
    when,
)

settlement_app = typer.Typer(help="Abrechnung, Rückforderungen mit Zinsen und Rückzahlungen.",
                             no_args_is_help=True)
OnOpt = Annotated[str | None, typer.Option(
    "--on", metavar="JJJJ-MM-TT", help="Stichtag für Zinsen und Saldo (ohne Angabe: heute).")]


def _today() -> date:
    return deadlines.local_date(options.now or datetime.now(UTC))


def _eur(text: str | None) -> str:
    """An amount as the API writes it ("1234.50") in German notation."""
    if text is None:
        return "–"
    whole, cents = text.lstrip("-").split(".")
    sign = "-" if text.startswith("-") else ""
    return f"{sign}{int(whole):,}".replace(",", ".") + f",{cents} €"


def _claim_lines(claim: dict[str, Any]) -> list[Any]:
    bal = claim["balance"]
    head = (f"Rückforderung {claim['id']} ({claim['reference']}, {claim['basis_label']}): "
            f"{_eur(claim['principal'])}, wirksam ab {when(claim['effective_on'])}, fällig am "
            f"{when(claim['due_on'])} – {claim['status_label']}")
    saldo = (f"Stand {when(bal['on'])}: Hauptforderung offen {_eur(bal['principal_open'])}, "
             f"Zinsen {_eur(bal['interest'])} (davon § 49a Abs. 4: "
             f"{_eur(bal['late_use_interest'])}), gezahlt {_eur(bal['interest_paid'])}, "
             f"offen insgesamt {_eur(bal['open'])}")
    out: list[Any] = [head, saldo]
    if claim["repayments"]:
        out.append(table(["Valuta", right("Betrag"), right("Zinsen"), right("Hauptforderung"),
                          "Erfasst von"],
                         [[when(r["value_date"]), _eur(r["amount"]), _eur(r["interest"]),
                           _eur(r["principal"]), r["recorded_by"]]
                          for r in claim["repayments"]], title="Rückzahlungen"))
    return out


def _print_view(out: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(out)
        return
    rows = [[y["year"], _eur(y["committed"]), _eur(y["paid"]), _eur(y["repaid"]),
             _eur(y["final_grant"]), _eur(y["difference"])] for y in out["years"]]
    parts: list[Any] = [f"{out['reference']}: {out['state_label']}",
                        table(["Jahr", right("Gebunden"), right("Ausgezahlt"),
                               right("Zurückgezahlt"), right("Festgesetzt"),
                               right("Differenz")], rows)]
    if out["claim"]:
        parts += _claim_lines(out["claim"])
    show(*parts)


@settlement_app.command("show")
def show_settlement(reference: RefArg, as_user: AsOpt, on: OnOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Die Abrechnung zeigen: je Haushaltsjahr ausgezahlt und festgesetzt, die Rückforderung
    mit Zinsen zum Stichtag."""
    with session_scope(as_json) as session:
        day = parse_day(on, "--on") or _today()
        _print_view(settlement.view(session, reference, actor_for(session, as_user), on=day,
                                    lang=options.lang), as_json)


@settlement_app.command("settle")
def settle(
    reference: RefArg,
    as_user: AsOpt,
    reason: Annotated[str | None, typer.Option(
        "--reason", metavar="TEXT",
        help="Gründe des beabsichtigten Teilwiderrufs (nötig, wenn mehr als die festgesetzte "
             "Zuwendung ausgezahlt wurde).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Abrechnen (Sachbearbeitung, Zeichnungsbefugte): nicht ausgezahlte Mittel gehen an das
    Budget zurück; bei Überzahlung beginnt die Anhörung zum Teilwiderruf, sonst wird der Fall
    abgeschlossen."""
    with session_scope(as_json) as session:
        actor = actor_for(session, as_user)
        settlement.settle(session, reference, actor, reason=reason, now=options.now,
                          operator=operator())
        _print_view(settlement.view(session, reference, actor, on=_today(),
                                    lang=options.lang), as_json)


@settlement_app.command("repayment")
def repayment(
    reference: RefArg,
    as_user: AsOpt,
    amount: Annotated[str, typer.Option("--amount", metavar="EURO",
                                        help="Eingegangener Betrag, z. B. 5.000,00.")],
    value_date: Annotated[str | None, typer.Option(
        "--value-date", metavar="JJJJ-MM-TT",
        help="Valutadatum des Eingangs (ohne Angabe: heute).")] = None,
    note: Annotated[str | None, typer.Option("--note", metavar="TEXT",
                                             help="Vermerk.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Eine Rückzahlung erfassen: zuerst auf die Zinsen, dann auf die Hauptforderung
    (§ 367 BGB)."""
    with session_scope(as_json) as session:
        actor = actor_for(session, as_user)
        paid = settlement.record_repayment(session, reference, actor, amount=amount,
                                           value_date=parse_day(value_date, "--value-date"),
                                           note=note, now=options.now, operator=operator())
        claim = settlement.claim_out(session, session.get(settlement.RepaymentClaim,
                                                          paid.claim_id), paid.value_date,
                                     options.lang)
        if as_json:
            print_json(claim)
            return
        show(*_claim_lines(claim))


@settlement_app.command("claims")
def claims(
    as_user: AsOpt,
    on: OnOpt = None,
    open_only: Annotated[bool, typer.Option("--open", help="Nur offene Rückforderungen.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Alle Rückforderungen mit Saldo zum Stichtag (Sachbearbeitung, Zeichnungsbefugte)."""
    with session_scope(as_json) as session:
        actor = actor_for(session, as_user)
        settlement.require_staff(actor)
        day = parse_day(on, "--on") or _today()
        out = settlement.all_claims(session, day, ClaimStatus.open if open_only else None,
                                    options.lang)
        if as_json:
            print_json(out)
            return
        show(table(["Aktenzeichen", "Rechtsgrund", "Status", right("Hauptforderung"),
                    "Fällig", right("Zinsen"), right("Offen")],
                   [[c["reference"], c["basis_label"], c["status_label"], _eur(c["principal"]),
                     when(c["due_on"]), _eur(c["balance"]["interest"]),
                     _eur(c["balance"]["open"])] for c in out],
                   title=f"Rückforderungen, Stand {when(day)}"))
