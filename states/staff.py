"""Staff work as data (issue 15): who may take and assign cases, the worklist's views, the
structured assessment (Prüfvermerk) with its criteria and rating scale, and what the observer
may see in aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from states.actions import ACTIONS, CASE_OFFICER_NOTICES, HISTORY_TRIGGERS, Action
from states.labels import Label
from states.lifecycle import FINAL_STATES, STAFF, TRANSITIONS, Role, State


class StaffActionName(StrEnum):
    take_case = "take_case"
    assign_case = "assign_case"
    record_assessment = "record_assessment"


# Lead reviewers (Teamleitung) may assign cases to others like an admin. A user is a lead by a
# flag on the account (`app_user.lead`), given by an admin; it only counts for these roles.
LEAD_ROLES = frozenset({Role.reviewer, Role.approver})
# Who may be case officer (Sachbearbeitung) of an application.
CASE_OFFICER_ROLES = STAFF
# The states in which a case can be taken or assigned: submitted, not yet decided for good.
ASSIGNABLE_STATES: tuple[State, ...] = tuple(
    s for s in State if s is not State.draft and s not in FINAL_STATES)


@dataclass(frozen=True)
class StaffAction(Action):
    """An action on a case by staff; `review_work` counts it as reviewing (four-eyes)."""

    review_work: bool = False
    # Who may also act for others (assign to someone else): admins, and leads of LEAD_ROLES.
    for_others: frozenset[Role] = frozenset()


_S = StaffActionName
STAFF_ACTIONS: dict[str, StaffAction] = {a.name: a for a in (
    StaffAction(_S.take_case, frozenset(STAFF), Label("Fall übernehmen", "Take the case"),
                history_trigger="take_case", in_states=ASSIGNABLE_STATES),
    StaffAction(_S.assign_case, frozenset({Role.admin} | LEAD_ROLES),
                Label("Fall zuweisen", "Assign the case"), history_trigger="assign_case",
                in_states=ASSIGNABLE_STATES, for_others=frozenset({Role.admin})),
    # Writing the Prüfvermerk is reviewing: its author may not approve the case.
    StaffAction(_S.record_assessment, frozenset(STAFF),
                Label("Prüfvermerk erfassen", "Record the assessment"),
                history_trigger="record_assessment",
                in_states=(State.in_review, State.documents_requested), review_work=True),
)}
ACTIONS.update(STAFF_ACTIONS)  # type: ignore[arg-type]
HISTORY_TRIGGERS.update({a.history_trigger: a for a in STAFF_ACTIONS.values()
                         if a.history_trigger})

# The history triggers that count as review work for the four-eyes rule: the transitions the
# table marks so, and the staff actions that are.
REVIEW_WORK_TRIGGERS: tuple[str, ...] = (
    *dict.fromkeys(t.trigger for t in TRANSITIONS if t.review_work),
    *(a.history_trigger for a in STAFF_ACTIONS.values() if a.review_work and a.history_trigger),
)

# "Waiting for me": a carrier's act that brings something to the case officer (documents, a
# report, a hearing reply) since the case officer's own last act on the case.
ARRIVAL_TRIGGERS: tuple[str, ...] = tuple(CASE_OFFICER_NOTICES)


# ------------------------------------------------------------------ the worklist
class WorklistSort(StrEnum):
    """What the worklist can be ordered by."""

    due = "due"  # next open deadline (none last)
    received = "received"
    reference = "reference"
    requested = "requested"  # requested amount, all years
    approved = "approved"  # approved amount, all years


# Who sees which applications in lists: staff never see a carrier's unsubmitted draft; the
# observer sees no single case at all, only aggregates.
HIDDEN_FROM_STAFF: frozenset[State] = frozenset({State.draft})
CASE_READERS = frozenset({Role.carrier, Role.reviewer, Role.approver, Role.admin, Role.system})
OBSERVER_REFUSAL = Label(
    "Die Begleitung (G.I.B.) sieht nur zusammengefasste Zahlen, keine einzelnen Anträge, "
    "Unterlagen oder Listen; bitte GET /api/v1/observer/aggregates verwenden.",
    "The observer (G.I.B.) sees aggregated figures only, no single applications, documents or "
    "lists; please use GET /api/v1/observer/aggregates.")


AGGREGATE_READERS = frozenset({Role.reviewer, Role.approver, Role.admin, Role.observer})


class AggregateDimension(StrEnum):
    """What the observer's aggregates group by."""

    module = "module"
    municipality = "municipality"
    state = "state"


# ------------------------------------------------------------------ the Prüfvermerk
@dataclass(frozen=True)
class Rating:
    """One step of the rating scale; `complete` ratings count, `value` orders them."""

    code: str
    value: int
    label: Label


# The default rating scale (configuration per call may replace it: `assessment.scale`).
RATING_SCALE: tuple[Rating, ...] = (
    Rating("erfuellt", 3, Label("erfüllt", "met")),
    Rating("teilweise", 2, Label("teilweise erfüllt", "partly met")),
    Rating("nicht_erfuellt", 1, Label("nicht erfüllt", "not met")),
)


@dataclass(frozen=True)
class Criterion:
    code: str
    label: Label


# The ZiQ criteria: the default for a call that configures none of its own.
DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    Criterion("quartiersbezug", Label("Quartiersbezug", "Neighbourhood focus")),
    Criterion("zielgruppe", Label("Zielgruppe", "Target group")),
    Criterion("wirtschaftlichkeit", Label("Wirtschaftlichkeit", "Cost-effectiveness")),
    Criterion("foerderfaehigkeit", Label("Förderfähigkeit der Ausgaben",
                                         "Eligibility of the expenses")),
    Criterion("finanzierung", Label("Finanzierung gesichert", "Financing secured")),
)
# Who reads a Prüfvermerk: staff and admins. Never the carrier, never the observer.
ASSESSMENT_READERS = frozenset({Role.reviewer, Role.approver, Role.admin})


# ------------------------------------------------------------------ the signing queue
@dataclass(frozen=True)
class SigningQueue:
    """The approver's queue (Zeichnung): the cases waiting in `state`; `sign` approves one,
    `send_back` returns it to the case officer with a reason."""

    state: State
    sign: str
    send_back: str


SIGNING = SigningQueue(State.recommended, "approve", "return_to_review")


# ------------------------------------------------------------------ issue 16: Verwendungsnachweis
# The criteria of staff's check of a final report, each rated on RATING_SCALE with a note.
FINAL_REPORT_CRITERIA: tuple[Criterion, ...] = (
    Criterion("sachbericht", Label("Sachbericht schlüssig", "Narrative report coherent")),
    Criterion("finanzplan", Label("Ausgaben entsprechen dem Finanzplan",
                                  "Expenses match the finance plan")),
    Criterion("belegliste", Label("Belegliste vollständig und plausibel",
                                  "List of receipts complete and plausible")),
    Criterion("zweck", Label("Zuwendungszweck erreicht", "Purpose of the grant achieved")),
)
