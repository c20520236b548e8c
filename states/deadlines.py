"""Deadlines as data: kinds, statuses, default due rules and the reminder steps of DOMAIN.md.

A programme's config may override any due rule (`config["deadlines"][kind]`) and any reminder
setting (`config["reminders"]["default"]`, `config["reminders"][kind]`, e.g. `{"mahnung": false}`
for a kind whose deadline gets no formal reminder); these are the defaults.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from states.labels import Label


class DeadlineKind(StrEnum):
    """Deadlines a transition or an interim report can open or close."""

    document_request = "document_request"
    interim_report = "interim_report"
    final_report = "final_report"
    report_changes = "report_changes"
    hearing_reply = "hearing_reply"


DEADLINE_LABELS: dict[DeadlineKind, Label] = {
    DeadlineKind.document_request: Label("Nachforderung", "Document request"),
    DeadlineKind.interim_report: Label("Zwischennachweis", "Interim report"),
    DeadlineKind.final_report: Label("Verwendungsnachweis", "Final report"),
    DeadlineKind.report_changes: Label("Nachbesserung", "Report changes"),
    DeadlineKind.hearing_reply: Label("Stellungnahme zur Anhörung", "Hearing reply"),
}


class DeadlineStatus(StrEnum):
    """A deadline is open until it is met (answer received) or cancelled (case ended)."""

    open = "open"
    met = "met"
    cancelled = "cancelled"


# Deadline kinds whose due date staff may set explicitly when they open one (`payload["deadline"]`);
# the reporting deadlines follow from ANBest-P and the project period.
STAFF_ADJUSTABLE: frozenset[DeadlineKind] = frozenset(
    {DeadlineKind.document_request, DeadlineKind.report_changes, DeadlineKind.hearing_reply}
)

# The default due rules. `days_after`: that many days after opening; `month`/`day`: that day of
# the year after each budget year the project runs on; `months_after_end`: after the project end.
DEFAULT_DUE_RULES: dict[str, dict[str, int]] = {
    DeadlineKind.document_request: {"days_after": 14},
    DeadlineKind.report_changes: {"days_after": 14},
    DeadlineKind.hearing_reply: {"days_after": 14},
    # ANBest-P no. 6.1: interim report by 30 April after each budget year the project runs on.
    DeadlineKind.interim_report: {"month": 4, "day": 30},
    # ANBest-P no. 6.1: final report six months after the end of the funding period.
    DeadlineKind.final_report: {"months_after_end": 6},
}


class ReminderStep(StrEnum):
    """Named reminder steps; the steps before the due date are named `before_<days>`."""

    due = "due"
    overdue = "overdue"  # the formal reminder (Mahnung), which sets a grace period
    escalation = "escalation"  # to the case officer, after the grace period


BEFORE_STEP_PREFIX = "before_"
# A reminder writes a history row with the trigger REMINDER_TRIGGER_PREFIX + step name.
REMINDER_TRIGGER_PREFIX = "reminder:"

# The reminder steps of DOMAIN.md, defined once.
DEFAULT_REMINDERS: dict[str, Any] = {
    "before_days": [28, 7],  # reminders this many days before the due date
    "on_due": True,  # a reminder on the due date
    "mahnung": True,  # whether the deadline gets a formal reminder (and so a grace period)
    "overdue_after_days": 7,  # the formal reminder (Mahnung) this many days after the due date
    "grace_days": 14,  # the grace period the formal reminder sets
    "escalate": True,  # tell the case officer when the grace period has ended
}

# Defaults per deadline kind, over DEFAULT_REMINDERS (a programme's config overrides both).
# A hearing is a chance to comment, not a duty: its reply gets reminders but no Mahnung, so no
# grace period; the case officer hears the day after the reply period ended.
DEFAULT_KIND_REMINDERS: dict[str, dict[str, Any]] = {
    DeadlineKind.hearing_reply: {"mahnung": False},
}

STEP_LABELS: dict[str, Label] = {
    ReminderStep.due: Label("Erinnerung am Fälligkeitstag", "Reminder on the due date"),
    ReminderStep.overdue: Label("Mahnung", "Formal reminder"),
    ReminderStep.escalation: Label("Eskalation an die Sachbearbeitung",
                                   "Escalation to the case officer"),
}


class ReminderStatus(StrEnum):
    """What became of one planned reminder step."""

    sent = "sent"
    skipped = "skipped"  # overtaken by a newer step while the scheduler was down
