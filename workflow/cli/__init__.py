"""`quartier`: the one command line for operators and demos, one Typer app of the modules here."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from workflow.cli import (
    applications,
    budget,
    calendar,
    database,
    documents,
    final_report,
    lifecycle,
    mail,
    notices,
    organisations,
    payments,
    programmes,
    reports,
    server,
    settlement,
    staff,
    users,
)
from workflow.cli.common import NowOpt, fail, options, parse_now
from workflow.errors import InvalidInput

app = typer.Typer(help="Quartier – Antragsverfahren für Förderprogramme.", no_args_is_help=True,
                  add_completion=False,
                  rich_markup_mode=None, pretty_exceptions_enable=False)


@app.callback()
def main_callback(
    now: NowOpt = None,
    lang: Annotated[str, typer.Option(
        "--lang", metavar="SPRACHE", help="de oder en: Sprache der JSON-Ausgabe und ihrer "
        "Fehlermeldungen.")] = "de",
    operator: Annotated[str | None, typer.Option(
        "--operator", metavar="NAME", envvar="QUARTIER_OPERATOR",
        help="Wer den Befehl ausführt; wird bei --as in der Historie vermerkt "
        "(Standard: der Benutzer des Betriebssystems).")] = None,
) -> None:
    """Quartier. `--now ISO` simuliert die Uhr für jeden Befehl."""
    if lang not in ("de", "en"):
        fail(InvalidInput(f"--lang: de oder en (nicht „{lang}“).",
                          f"--lang: de or en (not '{lang}').", field="lang"))
    options.now = parse_now(now)
    options.lang = lang
    options.operator = operator.strip() if operator and operator.strip() else None


app.add_typer(database.db_app, name="db")
app.command("seed")(database.seed)
app.add_typer(applications.applications_app, name="applications")
app.command("fire")(applications.fire)
app.add_typer(budget.budget_app, name="budget")
app.add_typer(budget.stop_app, name="funding-stop")
app.add_typer(reports.reports_app, name="reports")
app.add_typer(calendar.calendar_app, name="calendar")
app.add_typer(users.users_app, name="users")
app.add_typer(organisations.organisations_app, name="organisations")
app.add_typer(mail.mail_app, name="mail")
app.add_typer(notices.notices_app, name="notices")
app.add_typer(documents.documents_app, name="documents")
app.add_typer(payments.payments_app, name="payments")
app.add_typer(settlement.settlement_app, name="settlement")
app.add_typer(final_report.final_report_app, name="final-report")
app.add_typer(lifecycle.workflow_app, name="workflow")
app.command("simulate")(lifecycle.simulate)
app.command("serve")(server.serve)
app.command("worker")(server.worker)
app.command("remind")(server.remind)
app.command("start-projects")(server.start_projects)
# Programme administration: programmes, modules, calls and their audit.
app.add_typer(programmes.programme_app, name="programme")
app.add_typer(programmes.call_app, name="call")
app.add_typer(staff.cases_app, name="cases")
app.command("worklist")(staff.worklist_command)
app.command("audit")(programmes.audit)


def main() -> None:
    try:
        app(prog_name="quartier")
    except ValidationError as error:  # a QUARTIER_* setting that cannot be read
        for problem in error.errors():
            typer.echo(f"Fehlerhafte Einstellung / invalid setting: {problem['msg']}", err=True)
        raise SystemExit(2) from None

