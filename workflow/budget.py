"""The budget ledger: committing and releasing money so that `committed <= budget` always holds.

The database enforces the rule: every change is a conditional UPDATE (and a CHECK constraint backs
it up). Money operations on a call first lock the call row (PostgreSQL `FOR UPDATE`; on SQLite the
transaction already holds the write lock from `BEGIN IMMEDIATE`), so concurrent approvals queue.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, select

from notifications.formatting import money
from workflow import repository
from workflow.errors import InsufficientFunds, InvalidInput, NotFound
from workflow.models import BudgetLine, Call
from workflow.repository import connection
from workflow.rows import ApplicationRow, BudgetLineRow, CallRow

# Euros as people write them, ASCII digits only: plain (50000, 50000.5, 50000.50) or German
# (50.000, 50.000,50, 50000,50); a euro sign may stand before or after. Nothing else: no
# exponents, no underscores, no other digits, no sign (callers that take a sign strip it).
_PLAIN = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<cents>[0-9]{1,2}))?")
_GERMAN = re.compile(r"(?P<whole>[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]+)(?:,(?P<cents>[0-9]{1,2}))?")
MAX_CENTS = 10**13  # 100 billion euros: far above any programme, far below BIGINT


def parse_euros(value: object, field: str = "Betrag", field_en: str | None = None) -> int:
    """A euro amount (a whole number, a Decimal with at most two places, or text in plain or
    German notation) as integer cents; anything else is refused with the reason."""
    en = field_en or field
    if isinstance(value, bool) or isinstance(value, float):
        raise InvalidInput(
            f"{field}: Beträge bitte als Text oder ganze Zahl angeben.",
            f"{en}: give amounts as text or whole numbers, not floats.",
        )
    if isinstance(value, int):
        cents = value * 100
    elif isinstance(value, Decimal):
        # Written out in full (no exponent) when it is of a sensible size, else refused as text.
        small = value.is_finite() and value.adjusted() < 20
        cents = _cents_of_text(format(value, "f") if small else str(value), field, en)
    else:
        cents = _cents_of_text(str(value), field, en)
    if cents < 0:
        raise InvalidInput(f"{field}: Der Betrag darf nicht negativ sein.",
                           f"{en}: the amount must not be negative.")
    if cents > MAX_CENTS:
        raise InvalidInput(f"{field}: Der Betrag ist zu groß (höchstens {money(MAX_CENTS)}).",
                           f"{en}: the amount is too large (at most {money(MAX_CENTS, 'en')}).")
    return cents


def parse_signed_euros(value: object, field: str = "Änderung", field_en: str = "Change") -> int:
    """A change of money: an amount as `parse_euros` reads it, with at most one sign."""
    if isinstance(value, int) and not isinstance(value, bool):
        return (-1 if value < 0 else 1) * parse_euros(abs(value), field, field_en)
    text = str(value).strip()
    sign = -1 if text.startswith("-") else 1
    return sign * parse_euros(text[1:] if text[:1] in ("+", "-") else text, field, field_en)


def _cents_of_text(raw: str, field: str, en: str) -> int:
    text = raw.strip().removeprefix("€").removesuffix("€").strip()
    if len(text) > 40:
        text = ""  # far too long for an amount: refused below, without parsing it
    # Three decimals after a single dot can only be German thousands: 50.000 is 50,000 euros.
    match = _PLAIN.fullmatch(text) if not re.fullmatch(r"[0-9]{1,3}\.[0-9]{3}", text) else None
    match = match or _GERMAN.fullmatch(text)
    if match is None:
        if text.startswith("-") and (_PLAIN.fullmatch(text[1:]) or _GERMAN.fullmatch(text[1:])):
            raise InvalidInput(f"{field}: Der Betrag darf nicht negativ sein.",
                               f"{en}: the amount must not be negative.")
        if re.fullmatch(r"[0-9]+[.,][0-9]{3,}", text):
            raise InvalidInput(f"{field}: höchstens zwei Nachkommastellen.",
                               f"{en}: at most two decimal places.")
        raise InvalidInput(
            f"{field}: „{raw[:40]}“ ist kein gültiger Betrag (z. B. 50.000,00 oder 50000.00).",
            f"{en}: '{raw[:40]}' is not a valid amount (e.g. 50000.00 or 50.000,00).",
        )
    whole = int(match["whole"].replace(".", ""))
    return whole * 100 + int((match["cents"] or "0").ljust(2, "0"))


def format_euros(cents: int) -> str:
    """German money format: 1.234,50 €."""
    return money(cents, "de")


@dataclass(frozen=True)
class YearStatus:
    year: int
    budget_cents: int
    committed_cents: int

    @property
    def available_cents(self) -> int:
        return self.budget_cents - self.committed_cents


def lock_call(session: Session, call_id: int) -> Call:
    """The call row, locked for the rest of the transaction (serialises money changes per call)."""
    call = session.exec(
        select(Call)
        .where(Call.id == call_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if call is None:
        raise NotFound("Der Förderaufruf existiert nicht.", "The call does not exist.")
    return call


def budget_lines(session: Session, call_id: int) -> list[BudgetLineRow]:
    """The call's budget lines, by year and priority."""
    return repository.budget_lines(connection(session), call_id)


def years(
    session: Session, call_id: int, lines: list[BudgetLineRow] | None = None
) -> dict[int, YearStatus]:
    """Budget, committed and available money per budget year of a call (of `lines` if given)."""
    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for line in budget_lines(session, call_id) if lines is None else lines:
        totals[line.year][0] += line.budget_cents
        totals[line.year][1] += line.committed_cents
    return {y: YearStatus(y, b, c) for y, (b, c) in sorted(totals.items())}


def shortfalls(
    session: Session, call_id: int, amounts: dict[int, int],
    lines: list[BudgetLineRow] | None = None,
) -> dict[int, int]:
    """For each year whose available money is below the amount: how much is missing."""
    status = years(session, call_id, lines)
    missing = {}
    for year, cents in amounts.items():
        available = status[year].available_cents if year in status else 0
        if cents > available:
            missing[year] = cents - available
    return missing


def _entry(line: BudgetLineRow | BudgetLine, kind: str, now: datetime, actor_id: int | None,
           application_id: int | None = None, committed: int = 0, budget: int = 0,
           note: str = "", paid: int = 0, repaid: int = 0,
           funds_call_id: int | None = None) -> dict[str, object]:
    """The values of one ledger row."""
    return {"budget_line_id": line.id, "application_id": application_id, "kind": kind,
            "committed_delta_cents": committed, "budget_delta_cents": budget,
            "paid_delta_cents": paid, "repaid_delta_cents": repaid,
            "funds_call_id": funds_call_id, "at": now, "actor_id": actor_id, "note": note}


def commit(
    session: Session, app: ApplicationRow, amounts: dict[int, int], now: datetime,
    actor_id: int | None,
    lines: list[BudgetLineRow] | None = None,
) -> list[BudgetLineRow]:
    """Commit `amounts` (cents per year) for `app`, drawing on the year's sources by priority.

    Raises InsufficientFunds (and changes nothing) if any year lacks the money. Call `lock_call`
    first. Returns the call's lines with their new committed sums.
    """
    lines = budget_lines(session, app.call_id) if lines is None else lines
    missing = shortfalls(session, app.call_id, amounts, lines)
    if missing:
        years_text = ", ".join(
            f"{y}: es fehlen {money(c, 'de')}" for y, c in sorted(missing.items())
        )
        years_en = ", ".join(f"{y}: {money(c, 'en')} missing" for y, c in sorted(missing.items()))
        raise InsufficientFunds(
            "Für dieses Haushaltsjahr sind nicht mehr genug Fördermittel verfügbar "
            f"({years_text}).",
            f"Not enough funds left in the budget year ({years_en}).",
            missing={str(y): c for y, c in missing.items()},
        )
    lines_by_year: dict[int, list[BudgetLineRow]] = defaultdict(list)
    for line in lines:
        lines_by_year[line.year].append(line)
    entries = []
    for year, cents in sorted(amounts.items()):
        remaining = cents
        for line in lines_by_year[year]:
            take = min(remaining, line.budget_cents - line.committed_cents)
            if take <= 0:
                continue
            _conditional_commit(session, line, take)
            entries.append(_entry(line, "commit", now, actor_id, app.id, committed=take,
                                  note=f"Bewilligung {app.reference}"))
            remaining -= take
            if remaining == 0:
                break
    _year_committed(session, app, amounts)
    repository.insert_ledger(connection(session), entries)
    return lines


def _year_committed(session: Session, app: ApplicationRow, changes: dict[int, int]) -> None:
    """The application's committed money per year follows its ledger (never below paid)."""
    repository.add_year_committed(connection(session), app.id, changes)


def _conditional_commit(session: Session, line: BudgetLineRow, cents: int) -> None:
    """committed += cents, only if it stays within the budget; the database decides."""
    committed = repository.add_committed(connection(session), line.id, cents)
    if committed is None:
        raise InsufficientFunds(
            "Die Fördermittel wurden gleichzeitig anderweitig gebunden; bitte erneut versuchen.",
            "The funds were committed elsewhere at the same time; please try again.",
        )
    # The new value comes back with the UPDATE (RETURNING): no second query to refresh the line.
    line.committed_cents = committed
    repository.sync(session, BudgetLine, line.id, {"committed_cents": committed})


def commitments(session: Session, application_id: int) -> dict[int, int]:
    """Net committed cents of one application per budget line id."""
    return repository.commitments(connection(session), application_id)


def release(
    session: Session,
    app: ApplicationRow,
    now: datetime,
    actor_id: int | None,
    note: str,
    per_year: dict[int, int] | None = None,
    lines: list[BudgetLineRow] | None = None,
) -> int:
    """Give back the application's commitment (all of it, or `per_year` cents); returns cents.

    `lines` (the call's budget lines, if already read) get their new committed sums."""
    holdings = repository.holdings(connection(session), app.id)
    held = {line: c for line, (c, _) in holdings.items() if c}
    if not held:
        return 0
    # Money paid out stays committed: only the unpaid commitment returns to the budget (what
    # was paid comes back through a repayment).
    paid = {line: p for line, (_, p) in holdings.items()}
    by_id = {line.id: line for line in (budget_lines(session, app.call_id)
                                         if lines is None else lines)}
    wanted = dict(per_year) if per_year is not None else None
    released, entries, per_year_released = 0, [], defaultdict(int)
    # Release from the lowest-priority source first, the reverse of committing.
    for line_id in sorted(held, key=lambda i: (by_id[i].year, -by_id[i].priority, -i)):
        line = by_id[line_id]
        amount = held[line_id] - paid.get(line_id, 0)
        if wanted is not None:
            amount = min(amount, wanted.get(line.year, 0))
            wanted[line.year] = wanted.get(line.year, 0) - amount
        if amount <= 0:
            continue
        _conditional_commit(session, line, -amount)
        entries.append(_entry(line, "release", now, actor_id, app.id, committed=-amount,
                              note=note))
        per_year_released[line.year] -= amount
        released += amount
    _year_committed(session, app, dict(per_year_released))
    repository.insert_ledger(connection(session), entries)
    return released


def change_budget(
    session: Session,
    line: BudgetLineRow | BudgetLine,
    delta_cents: int,
    now: datetime,
    actor_id: int | None,
    note: str,
) -> None:
    """Increase or cut a budget line; a cut below what is committed is refused."""
    conn = connection(session)
    row = repository.add_budget(conn, line.id, delta_cents)
    if row is None:
        raise InvalidInput(
            "Das Budget kann nicht unter die bereits gebundenen Mittel gekürzt werden.",
            "The budget cannot be cut below the money already committed.",
        )
    values = {"budget_cents": row[0], "committed_cents": row[1]}
    if isinstance(line, BudgetLineRow):
        line.budget_cents, line.committed_cents = row
    repository.sync(session, BudgetLine, line.id, values)
    repository.insert_ledger(
        conn, [_entry(line, "budget_change", now, actor_id, budget=delta_cents, note=note)])


def automatic_stop_due(session: Session, call: CallRow | Call,
                       lines: list[BudgetLineRow] | None = None) -> bool:
    """True when no budget year of the call has at least the minimum grant left (of `lines`, the
    call's budget lines, if already read)."""
    threshold = max(call.min_grant_cents, 1)
    status = years(session, call.id, lines)
    return bool(status) and all(y.available_cents < threshold for y in status.values())
