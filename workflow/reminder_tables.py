"""Tables of reminders and interim reports (imported at the bottom of workflow.models).

This module imports only sqlmodel/sqlalchemy at the top so that workflow.models can import it
without a cycle; the hook that keeps `Deadline.next_reminder_on` honest is registered at the end.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, event
from sqlmodel import Field, SQLModel

from states import InterimReportStatus, ReminderStatus
from workflow.sqltypes import UTCDateTime


class ReminderSent(SQLModel, table=True):
    """One reminder step of one deadline (for one due date): sent, or skipped in a catch-up.

    The unique key is the guard against double sending: a pass inserts this row first and only
    writes the email if the insert went through. The due date is part of the key because a
    re-opened deadline (new due date) runs through its steps again.
    """

    __tablename__ = "reminder_sent"
    __table_args__ = (UniqueConstraint("deadline_id", "due_date", "step",
                                       name="uq_reminder_sent_step"),)

    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="deadline.id")
    application_id: int = Field(foreign_key="application.id", index=True)
    due_date: date
    step: str  # before_28 | before_7 | due | overdue | escalation (before_<n> if configured)
    status: str = ReminderStatus.sent.value  # states.ReminderStatus
    scheduled_on: date  # the day the step was due
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    recipient: str | None = None
    grace_until: date | None = None  # the grace period a formal reminder (Mahnung) set
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")


class InterimReport(SQLModel, table=True):
    """One submission of an interim report (Zwischennachweis) for one budget year."""

    __tablename__ = "interim_report"

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    deadline_id: int | None = Field(default=None, foreign_key="deadline.id")
    period: str  # the budget year reported on
    narrative: str
    spending_cents: dict[str, Any] = Field(default_factory=dict,
                                           sa_column=Column(JSON, nullable=False))
    status: str = InterimReportStatus.submitted.value  # states.InterimReportStatus
    late: bool = False
    submitted_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    submitted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reviewed_at: datetime | None = Field(default=None,
                                         sa_column=Column(UTCDateTime(), nullable=True))
    reviewed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    review_note: str | None = None


from workflow.models import Deadline  # noqa: E402  (after the tables: see the module docstring)


@event.listens_for(Deadline.due_date, "set")
def _reschedule_on_new_due_date(target: Deadline, value: Any, oldvalue: Any,
                                initiator: Any) -> None:
    """A new or moved due date means the reminder pass must plan this deadline's steps again."""
    target.next_reminder_on = None
