"""Due-date rules for deadlines, working-day shift (NRW holidays), opening and closing deadlines."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import bindparam, insert, select, update
from sqlmodel import Session

from states import DeadlineKind
from workflow.db import connection, sync_loaded, view
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


_D = Deadline.__table__
_OF_APPLICATION = select(_D).where(_D.c.application_id == bindparam("app")).order_by(_D.c.due_date)
_INSERT = insert(_D).returning(_D.c.id, sort_by_parameter_order=True)
_REOPEN = (update(_D).where(_D.c.id == bindparam("_id"))
           .values(due_date=bindparam("due_date"), status="open", opened_at=bindparam("now"),
                   closed_at=None, opened_by_id=bindparam("record"), next_reminder_on=None))
_CLOSE = (update(_D).where(_D.c.id == bindparam("_id"))
          .values(status=bindparam("status"), closed_at=bindparam("now")))


def of_application(session: Session, application_id: int) -> list[SimpleNamespace]:
    """Every deadline of one application (plain rows, earliest first), read with one statement."""
    rows = connection(session).execute(_OF_APPLICATION, {"app": application_id})
    return [view(row) for row in rows]


def open_deadlines(
    session: Session, app: Any, planned: list[tuple[DeadlineKind, list[tuple[str, date]]]],
    now: datetime, record_id: int | None, existing: list[SimpleNamespace] | None = None,
) -> list[SimpleNamespace]:
    """Open (or re-open) deadlines for `app`: `planned` is (kind, `due_dates(kind, …)`) pairs;
    `existing` is `of_application`, kept current. New rows are inserted with one statement."""
    existing = of_application(session, app.id) if existing is None else existing
    conn, opened, new = connection(session), [], []
    for kind, dues in planned:
        for period, due in dues:
            values = {"due_date": due, "status": "open", "opened_at": now, "closed_at": None,
                      "opened_by_id": record_id, "next_reminder_on": None}
            row = next((d for d in existing if d.kind == kind and d.period == period), None)
            if row is None:
                row = SimpleNamespace(application_id=app.id, kind=str(kind), period=period,
                                      **values)
                new.append(row)
                existing.append(row)
            else:
                conn.execute(_REOPEN, {"_id": row.id, "due_date": due, "now": now,
                                       "record": record_id})
                vars(row).update(values)
                sync_loaded(session, Deadline, row.id, values)
            opened.append(row)
    if new:
        ids = conn.execute(_INSERT, [dict(vars(row)) for row in new]).scalars().all()
        for row, new_id in zip(new, ids, strict=True):
            row.id = new_id
    return opened


def close_deadlines(
    session: Session, app: Any, kinds: Any, now: datetime, status: str = "met",
    existing: list[SimpleNamespace] | None = None,
) -> list[SimpleNamespace]:
    """Close the open deadlines of `kinds` (every period) with `status` (met or cancelled);
    `kinds=None` closes every open deadline of the application."""
    existing = of_application(session, app.id) if existing is None else existing
    closing = [d for d in existing if d.status == "open" and (kinds is None or d.kind in kinds)]
    if closing:
        connection(session).execute(
            _CLOSE, [{"_id": d.id, "status": status, "now": now} for d in closing])
        for d in closing:
            d.status, d.closed_at = status, now
            sync_loaded(session, Deadline, d.id, {"status": status, "closed_at": now})
    return closing


def is_late(existing: list[SimpleNamespace], kinds: Any, now: datetime) -> bool:
    """Whether an open deadline of `kinds` is already past (a late answer is marked late)."""
    today = local_date(now)
    return any(d.status == "open" and d.kind in kinds and today > d.due_date for d in existing)
