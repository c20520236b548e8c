"""The worker starts approved projects on their project start date by itself.

One pass finds the applications in the scheduled start's state whose project start (a date in
Europe/Berlin) has come, and fires the start transition for each as the system, one transaction
each. Safe with several workers at once: the engine writes the state only if the version it read
is still the stored one, so a second worker's firing of the same application is refused as stale
and rolled back (its carrier email with it); PostgreSQL rows another pass holds are skipped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import Engine
from sqlmodel import Session, select

from states import SCHEDULED_START
from workflow import deadlines, engine
from workflow.db import is_postgres, unit_of_work
from workflow.errors import StaleVersion, WorkflowError, WrongState
from workflow.models import Application
from workflow.rows import SYSTEM

log = logging.getLogger("quartier.worker")


@dataclass
class StartSummary:
    """What one pass did: the references it started, and those it could not start (why)."""

    today: date
    started: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"today": self.today.isoformat(), "started": self.started,
                "refused": self.refused}


def due_start_ids(session: Session, today: date) -> list[int]:
    """The applications waiting in the scheduled start's state whose start date has come."""
    return list(session.exec(
        select(Application.id).where(Application.state == SCHEDULED_START.state.value,
                                     Application.project_start <= today)
        .order_by(Application.project_start, Application.id)))


def _claim(session: Session, app_id: int) -> bool:
    """Still waiting to start, and not held by another pass (PostgreSQL: SKIP LOCKED)."""
    query = select(Application.id).where(Application.id == app_id,
                                         Application.state == SCHEDULED_START.state.value)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return session.exec(query).first() is not None


def run_start_pass(db: Engine, now: datetime | None = None) -> StartSummary:
    """Fire the scheduled start for every approved project whose start date has come."""
    now = now or datetime.now(UTC)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    summary = StartSummary(deadlines.local_date(now))
    with Session(db) as session:
        ids = due_start_ids(session, summary.today)
    for app_id in ids:
        reference = str(app_id)
        try:
            with unit_of_work(db) as session:
                if not _claim(session, app_id):
                    continue
                record = engine.fire(session, app_id, SCHEDULED_START.trigger, SYSTEM,
                                     reason=SCHEDULED_START.reason.de, now=now)
                reference = session.get(Application, record.application_id).reference or reference
            summary.started.append(reference)
        except (StaleVersion, WrongState):
            continue  # another worker started it first
        except WorkflowError as refusal:
            summary.refused[reference] = refusal.de
            log.warning("scheduled start of application %s refused: %s", app_id, refusal.de)
    if summary.started:
        log.info("%s projects started on their start date", len(summary.started))
    return summary
