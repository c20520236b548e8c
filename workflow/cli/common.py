"""What every command shares: the clock and language options, one unit of work, refusals, output."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table
from sqlalchemy import event
from sqlmodel import Session, select

from notifications.formatting import day, moment, money
from workflow import rows
from workflow.db import make_engine, unit_of_work
from workflow.errors import InvalidInput, NotFound, NotPermitted, WorkflowError
from workflow.models import TransitionRecord, User
from workflow.settings import get_settings

# The API's problem types are URLs under this base (api.errors.PROBLEM_BASE; a test holds the two
# equal until the base lives with the domain errors).
PROBLEM_BASE = "https://quartier.example/problems/"
UNLIMITED = 100_000  # columns

RefArg = Annotated[str, typer.Argument(metavar="REF", help="Aktenzeichen, z. B. ZiQ-2020-0004.")]
JsonOpt = Annotated[bool, typer.Option(
    "--json", help="Maschinenlesbare Ausgabe (JSON in den Formen der HTTP-API).")]
AsOpt = Annotated[str, typer.Option(
    "--as", metavar="EMAIL", help="E-Mail-Adresse des handelnden Kontos.")]
NowOpt = Annotated[str | None, typer.Option(
    "--now", metavar="ISO", help="Simulierte Zeit (ISO 8601, z. B. 2021-05-01T09:00).")]
CallOpt = Annotated[str | None, typer.Option(
    "--call", metavar="CALL", help="Förderaufruf (Standard: der erste).")]
AmountsOpt = Annotated[list[str] | None, typer.Option(
    "--amount", metavar="JAHR=BETRAG", help="Betrag in Euro je Haushaltsjahr, mehrfach.")]


@dataclass
class Options:
    """The global options of `quartier` (set by the main callback for the command that runs)."""

    now: datetime | None = None  # None: the real clock
    lang: str = "de"  # language of the JSON's labels and of its problem's detail
    operator: str | None = None  # who runs the command (--operator, QUARTIER_OPERATOR, OS user)


options = Options()


def parse_now(value: str | None) -> datetime | None:
    """An ISO 8601 moment; without a zone it is UTC. Only in development: a live database runs
    on the real clock."""
    if not value:
        return None
    environment = get_settings().environment
    if environment != "development":
        fail(NotPermitted(
            f"--now (simulierte Zeit) ist nur in der Entwicklungsumgebung erlaubt, nicht bei "
            f"QUARTIER_ENVIRONMENT={environment}: Auf einer Live-Datenbank gilt die echte Uhr.",
            f"--now (simulated time) is only allowed in development, not with "
            f"QUARTIER_ENVIRONMENT={environment}: a live database runs on the real clock.",
            field="now"))
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail(InvalidInput(f"--now: „{value}“ ist keine Zeit nach ISO 8601.",
                          f"--now: '{value}' is not an ISO 8601 time.", field="now"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ------------------------------------------------------------------ refusals


def problem(error: WorkflowError, language: str) -> dict[str, Any]:
    """The refusal in the API's problem shape (application/problem+json without `instance`)."""
    body = error.as_dict(language)
    return {"type": PROBLEM_BASE + error.type, "title": error.title, "status": error.status,
            "detail": body.pop("detail"), **{k: v for k, v in body.items()
                                             if k not in ("type", "status")}}


def fail(error: WorkflowError, as_json: bool = False) -> NoReturn:
    """Print the reason in German and English on stderr (with --json also the problem on
    stdout) and exit 1."""
    typer.echo(f"Fehler: {error.de}", err=True)
    typer.echo(f"Error: {error.en}", err=True)
    if as_json:
        typer.echo(encode(problem(error, options.lang)))
    raise typer.Exit(1)


@contextmanager
def refusals(as_json: bool = False) -> Iterator[None]:
    """Turn a domain refusal inside the block into `fail`."""
    try:
        yield
    except WorkflowError as refusal:
        fail(refusal, as_json)


@contextmanager
def session_scope(as_json: bool = False) -> Iterator[Session]:
    """One unit of work that commits once; a refusal writes nothing and exits 1."""
    engine = make_engine()
    try:
        with refusals(as_json), unit_of_work(engine) as session:
            yield session
    finally:
        engine.dispose()


def operator() -> str:
    """Who runs the command: `--operator`, else QUARTIER_OPERATOR, else the OS user. It is
    recorded with every history row a command writes as someone (`--as`)."""
    return options.operator or getpass.getuser()


def acting_for(name: str | None, operator_name: str | None) -> str:
    """"Operator X acting for Y", as the history shows a row written with `--as`."""
    if not operator_name:
        return name or ""
    return f"{operator_name} für {name}" if name else operator_name


def _name_the_operator(session: Session, flush_context: Any, instances: Any) -> None:
    """Every history row this command's unit of work adds names the operator, unless the
    workflow named it already (the engine's own rows are written with `operator=`)."""
    name = session.info.get("operator")
    for obj in session.new:
        if isinstance(obj, TransitionRecord) and name and "operator" not in (obj.payload or {}):
            obj.payload = {**(obj.payload or {}), "operator": name}


def actor_for(session: Session, email: str) -> rows.Actor:
    """The acting user of `--as EMAIL`; disabled accounts may not act. From here on, the history
    rows of the command's unit of work record the operator acting for that account."""
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if user is None or user.disabled:
        raise NotFound(f"Konto {email} existiert nicht oder ist gesperrt.",
                       f"Account {email} does not exist or is disabled.", field="as")
    if "operator" not in session.info:
        session.info["operator"] = operator()
        event.listen(session, "before_flush", _name_the_operator)
    return rows.Actor.of(user)


def parse_pairs(values: Sequence[str] | None, option: str) -> dict[str, str] | None:
    """`JAHR=BETRAG` options as {year: amount}; the amounts are parsed by the domain."""
    if not values:
        return None
    out = {}
    for value in values:
        year, sep, amount = value.partition("=")
        if not sep or not year.strip():
            raise InvalidInput(f"{option}: JAHR=BETRAG erwartet, z. B. 2021=50000 (nicht "
                               f"„{value}“).", f"{option}: YEAR=AMOUNT expected, e.g. "
                               f"2021=50000 (not '{value}').", field=option.lstrip("-"))
        out[year.strip()] = amount.strip()
    return out


def parse_day(value: str | None, option: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: Datum JJJJ-MM-TT erwartet (nicht „{value}“).",
                           f"{option}: date YYYY-MM-DD expected (not '{value}').",
                           field=option.lstrip("-")) from None


# ------------------------------------------------------------------ output


def _json_value(value: Any) -> Any:
    """Dates and times as ISO strings the way the API writes them (UTC as `Z`)."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=_json_value)


def print_json(data: Any) -> None:
    typer.echo(encode(data))


def console() -> Console:
    """Plain text on stdout: no markup in our data, no colour guessing, no wrapping."""
    return Console(file=sys.stdout, markup=False, highlight=False, emoji=False, soft_wrap=True)


def right(header: str) -> Column:
    """A right-aligned column (amounts)."""
    return Column(header, justify="right", no_wrap=True)


def table(columns: Sequence[str | Column], body: Iterable[Sequence[Any]],
          title: str | None = None, header: bool = True) -> Table:
    """A table whose cells never wrap: the console grows to the table's width instead."""
    out = Table(*[Column(c, no_wrap=True) if isinstance(c, str) else c for c in columns],
                title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False,
                pad_edge=False, show_header=header)
    for row in body:
        out.add_row(*("" if cell is None else str(cell) for cell in row))
    return out


def show(*renderables: Any) -> None:
    """Print text and tables, each at its full width (never wrapped or cut)."""
    out = console()
    out.width = UNLIMITED  # a table is as wide as its cells; only the terminal may wrap it
    for item in renderables:
        out.print(item)


HUMAN = "de"  # the language of tables and messages (help texts are German too)


def euro(cents: int | None) -> str:
    """Money in human output; '–' for none."""
    return "–" if cents is None else money(int(cents), HUMAN)


def when(value: date | datetime | None) -> str:
    """A date or a moment in human output; '' for none."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return moment(value if value.tzinfo else value.replace(tzinfo=UTC), HUMAN)
    return day(value, HUMAN)
