"""Due-date rules for deadlines, working-day shift (NRW holidays), opening and closing deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlmodel import Session, select

from states import DeadlineKind
from workflow.models import Application, Deadline

BERLIN = ZoneInfo("Europe/Berlin")

# The default rules of DOMAIN.md; a programme's config["deadlines"] may override any of them.
DEFAULT_RULES: dict[str, dict[str, int]] = {
    DeadlineKind.document_request: {"days_after": 14},
    DeadlineKind.report_changes: {"days_after": 14},
    DeadlineKind.hearing_reply: {"days_after": 14},
    # ANBest-P no. 6.1: interim report by 30 April after each budget year the project runs on.
    DeadlineKind.interim_report: {"month": 4, "day": 30},
    # ANBest-P no. 6.1: final report six months after the end of the funding period.
    DeadlineKind.final_report: {"months_after_end": 6},
}


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


def _add_months(day: date, months: int) -> date:
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


def rules_for(config: dict[str, Any]) -> dict[str, dict[str, int]]:
    overrides = (config or {}).get("deadlines", {})
    return {kind: {**rule, **overrides.get(kind, {})} for kind, rule in DEFAULT_RULES.items()}


def due_dates(
    kind: DeadlineKind, app: Application, now: datetime, config: dict[str, Any],
    explicit: date | None = None,
) -> list[tuple[str, date]]:
    """(period, due date) pairs a transition opens for `kind`, already moved to working days."""
    rule = rules_for(config)[kind]
    if explicit is not None:
        return [("", next_working_day(explicit))]
    if "days_after" in rule:
        return [("", next_working_day(local_date(now) + timedelta(days=rule["days_after"])))]
    if kind == DeadlineKind.final_report:
        if app.project_end is None:
            return []
        return [("", next_working_day(_add_months(app.project_end, rule["months_after_end"])))]
    if kind == DeadlineKind.interim_report:
        if app.project_start is None or app.project_end is None:
            return []
        # One per budget year in which the project runs on into the next year.
        return [
            (str(year), next_working_day(date(year + 1, rule["month"], rule["day"])))
            for year in range(app.project_start.year, app.project_end.year)
        ]
    raise ValueError(f"no due rule for {kind}")


def open_deadlines(
    session: Session, app: Application, kind: DeadlineKind, now: datetime,
    config: dict[str, Any], record_id: int | None, explicit: date | None = None,
) -> list[Deadline]:
    """Open (or re-open) the deadlines of `kind` for `app`."""
    opened = []
    for period, due in due_dates(kind, app, now, config, explicit):
        existing = session.exec(
            select(Deadline).where(
                Deadline.application_id == app.id, Deadline.kind == kind,
                Deadline.period == period,
            )
        ).first()
        deadline = existing or Deadline(application_id=app.id, kind=kind, period=period,
                                        due_date=due, opened_at=now)
        deadline.due_date, deadline.status, deadline.opened_at = due, "open", now
        deadline.closed_at, deadline.opened_by_id = None, record_id
        session.add(deadline)
        opened.append(deadline)
    return opened


def close_deadlines(
    session: Session, app: Application, kind: DeadlineKind, now: datetime, status: str = "met",
) -> list[Deadline]:
    """Close the open deadlines of `kind` (all periods, or the earliest for interim reports)."""
    open_ones = list(session.exec(
        select(Deadline).where(
            Deadline.application_id == app.id, Deadline.kind == kind, Deadline.status == "open",
        ).order_by(Deadline.due_date)
    ))
    for deadline in open_ones:
        deadline.status, deadline.closed_at = status, now
        session.add(deadline)
    return open_ones


def is_late(session: Session, app: Application, kind: DeadlineKind, now: datetime) -> bool:
    """Whether the open deadline of `kind` is already past (a late answer is marked late)."""
    due = session.exec(
        select(Deadline.due_date).where(
            Deadline.application_id == app.id, Deadline.kind == kind, Deadline.status == "open",
        )
    ).first()
    return due is not None and local_date(now) > due
