"""What a grant application can be: states, labels, roles and the transition table."""

from states.lifecycle import (
    DEADLINE_LABELS,
    FINAL_STATES,
    INITIAL_STATE,
    ROLE_LABELS,
    STATE_LABELS,
    TRANSITIONS,
    TRANSITIONS_BY_TRIGGER,
    DeadlineKind,
    Effect,
    Guard,
    Label,
    Role,
    State,
    Transition,
    transitions_from,
)

__all__ = [
    "DEADLINE_LABELS", "FINAL_STATES", "INITIAL_STATE", "ROLE_LABELS", "STATE_LABELS",
    "TRANSITIONS", "TRANSITIONS_BY_TRIGGER", "DeadlineKind", "Effect", "Guard", "Label", "Role",
    "State", "Transition", "transitions_from",
]
