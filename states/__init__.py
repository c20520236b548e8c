"""The lifecycle of a grant application as data; reading this package alone tells it.

`lifecycle` holds states, roles, guards, effects and the transition table; `deadlines` the
deadline kinds, statuses, due rules and reminder steps; `actions` what users do besides
transitions, and who hears of a funding stop.
"""

from states.actions import (
    ACTIONS,
    ESCALATION_EMAIL,
    FUNDING_STOP_EMAIL,
    FUNDING_STOP_LIFTED_EMAIL,
    FUNDING_STOP_LIFTED_NOTICE,
    FUNDING_STOP_NOTICE,
    INTERIM_REPORT_EMAILS,
    REMINDER_EMAIL,
    Action,
    ActionName,
    InterimReportStatus,
    StopNotice,
)
from states.deadlines import (
    BEFORE_STEP_PREFIX,
    DEADLINE_LABELS,
    DEFAULT_DUE_RULES,
    DEFAULT_REMINDERS,
    STAFF_ADJUSTABLE,
    STEP_LABELS,
    DeadlineKind,
    DeadlineStatus,
    ReminderStatus,
    ReminderStep,
)
from states.labels import Label
from states.lifecycle import (
    FINAL_STATES,
    INITIAL_STATE,
    INPUT_GUARDS,
    MONEY_EFFECTS,
    ROLE_LABELS,
    STAFF,
    STATE_LABELS,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    WAITING_LIST,
    Effect,
    Guard,
    Money,
    Policy,
    Role,
    State,
    StopKind,
    Transition,
    WaitingList,
    transitions_from,
)

__all__ = [
    "ACTIONS", "BEFORE_STEP_PREFIX", "DEADLINE_LABELS", "DEFAULT_DUE_RULES", "DEFAULT_REMINDERS",
    "ESCALATION_EMAIL", "FINAL_STATES", "FUNDING_STOP_EMAIL", "FUNDING_STOP_LIFTED_EMAIL",
    "FUNDING_STOP_LIFTED_NOTICE", "FUNDING_STOP_NOTICE", "INITIAL_STATE", "INPUT_GUARDS",
    "INTERIM_REPORT_EMAILS", "MONEY_EFFECTS", "REMINDER_EMAIL", "ROLE_LABELS", "STAFF",
    "STAFF_ADJUSTABLE", "STATE_LABELS", "STEP_LABELS", "TRANSITIONS", "TRANSITIONS_BY_TRIGGER",
    "WAITING_LIST", "Action", "ActionName", "DeadlineKind", "DeadlineStatus", "Effect", "Guard",
    "InterimReportStatus", "Label", "Money", "Policy", "ReminderStatus", "ReminderStep", "Role",
    "State", "StopKind", "StopNotice", "Transition", "WaitingList", "transitions_from",
]
