"""Due-date rules for deadlines, working-day shift (NRW holidays), opening and closing deadlines."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from sqlmodel import Session

from states import DEFAULT_DUE_RULES, DeadlineKind, DeadlineStatus
from workflow import repository
from workflow.models import Deadline
from workflow.repository import connection
from workflow.rows import ApplicationRow, DeadlineRow, Payload

BERLIN = ZoneInfo("Europe/Berlin")

# The default due rules are lifecycle data (states.deadlines); a programme may override them.
DEFAULT_RULES = DEFAULT_DUE_RULES


@lru_cache(maxsize=64)
def _nrw_holidays(year: int) -> holidays.HolidayBase:
    return holidays.Germany(subdiv="NW", years=year)


def next_working_day(day: date) -> date:
    """`day`, or the next day that is neither a weekend nor an NRW public holiday."""
    while day.weekday() >= 5 or day in _nrw_holidays(day.year):
        day += timedelta(days=1)
    return day


def local_date(moment: datetime) -> date:
    return moment.astimezone(BERLIN).date()


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has no such day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def rules_for(config: Payload | None) -> dict[str, dict[str, int]]:
    overrides = (config or {}).get("deadlines", {})
    return {kind: {**rule, **overrides.get(kind, {})} for kind, rule in DEFAULT_RULES.items()}


def due_dates(
    kind: DeadlineKind, app: ApplicationRow, now: datetime, config: Payload,
    explicit: date | None = None,
) -> list[tuple[str, date]]:
    """(period, due date) pairs a transition opens for `kind`, already moved to working days."""
    rule = rules_for(config)[kind]
    if explicit is not None:
        return [("", next_working_day(explicit))]
    if "days_after" in rule:
        return [("", next_working_day(local_date(now) + timedelta(days=rule["days_after"])))]
    if "months_after_end" in rule:
        if app.project_end is None:
            return []
        return [("", next_working_day(add_months(app.project_end, rule["months_after_end"])))]
    if "month" in rule:
        if app.project_start is None or app.project_end is None:
            return []
        # One per budget year in which the project runs on into the next year.
        return [
            (str(year), next_working_day(date(year + 1, rule["month"], rule["day"])))
            for year in range(app.project_start.year, app.project_end.year)
        ]
    raise ValueError(f"no due rule for {kind}")


def of_application(session: Session, application_id: int) -> list[DeadlineRow]:
    """Every deadline of one application (earliest first), read with one statement."""
    return repository.deadlines_of(connection(session), application_id)


Planned = list[tuple[DeadlineKind, list[tuple[str, date]]]]


def open_deadlines(
    session: Session, app: ApplicationRow, planned: Planned, now: datetime,
    record_id: int | None, existing: list[DeadlineRow] | None = None,
) -> list[DeadlineRow]:
    """Open (or re-open) deadlines for `app`: `planned` is (kind, `due_dates(kind, …)`) pairs;
    `existing` is `of_application`, kept current. New rows are inserted with one statement."""
    existing = of_application(session, app.id) if existing is None else existing
    conn, opened, new = connection(session), [], []
    for kind, dues in planned:
        for period, due in dues:
            row = next((d for d in existing if d.kind == kind and d.period == period), None)
            if row is None:
                row = DeadlineRow(None, str(kind), period, due, DeadlineStatus.open, app.id, now,
                                  None, record_id, None)
                new.append(row)
                existing.append(row)
            else:
                repository.reopen_deadline(conn, row.id, due, now, record_id)
                values = {"due_date": due, "status": DeadlineStatus.open.value, "opened_at": now,
                          "closed_at": None, "opened_by_id": record_id, "next_reminder_on": None}
                for name, value in values.items():
                    setattr(row, name, value)
                repository.sync(session, Deadline, row.id, values)
            opened.append(row)
    ids = repository.insert_deadlines(conn, [
        {name: getattr(row, name) for name in DeadlineRow.columns() if name != "id"}
        for row in new
    ])
    for row, new_id in zip(new, ids, strict=True):
        row.id = new_id
    return opened


def close_deadlines(
    session: Session, app: ApplicationRow, kinds: Collection[str] | None, now: datetime,
    status: DeadlineStatus = DeadlineStatus.met, existing: list[DeadlineRow] | None = None,
) -> list[DeadlineRow]:
    """Close the open deadlines of `kinds` (every period) with `status` (met or cancelled);
    `kinds=None` closes every open deadline of the application."""
    existing = of_application(session, app.id) if existing is None else existing
    closing = [d for d in existing
               if d.status == DeadlineStatus.open and (kinds is None or d.kind in kinds)]
    repository.close_deadlines(connection(session), [d.id for d in closing], status.value, now)
    for d in closing:
        d.status, d.closed_at = status.value, now
        repository.sync(session, Deadline, d.id, {"status": status.value, "closed_at": now})
    return closing


def is_late(existing: list[DeadlineRow], kinds: Collection[str], now: datetime) -> bool:
    """Whether an open deadline of `kinds` is already past (a late answer is marked late)."""
    today = local_date(now)
    return any(d.status == DeadlineStatus.open and d.kind in kinds and today > d.due_date
               for d in existing)
