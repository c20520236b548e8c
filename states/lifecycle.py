"""The lifecycle of a grant application as data: states, roles, deadlines and the transition table.

Everything else in Quartier (the engine, the command line, the API, the diagram) reads this module;
reading it alone tells the whole lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from states.deadlines import STAFF_ADJUSTABLE, DeadlineKind
from states.labels import Label


class State(StrEnum):
    """What an application can be."""

    draft = "draft"
    submitted = "submitted"
    in_review = "in_review"
    documents_requested = "documents_requested"
    recommended = "recommended"
    waitlisted = "waitlisted"
    approved = "approved"
    rejected = "rejected"
    withdrawn = "withdrawn"
    active = "active"
    report_submitted = "report_submitted"
    report_changes_requested = "report_changes_requested"
    closed = "closed"
    revocation_hearing = "revocation_hearing"
    revoked = "revoked"
    # Issue 16, settlement: partly revoked, the repayment claim open until it is paid.
    partially_revoked = "partially_revoked"


STATE_LABELS: dict[State, Label] = {
    State.draft: Label("Entwurf", "Draft"),
    State.submitted: Label("Eingereicht", "Submitted"),
    State.in_review: Label("In Prüfung", "In review"),
    State.documents_requested: Label("Nachforderung", "Documents requested"),
    State.recommended: Label("Zur Bewilligung vorgeschlagen", "Recommended for approval"),
    State.waitlisted: Label("Warteliste", "Waiting list"),
    State.approved: Label("Bewilligt", "Approved"),
    State.rejected: Label("Abgelehnt", "Rejected"),
    State.withdrawn: Label("Zurückgezogen", "Withdrawn"),
    State.active: Label("In Durchführung", "In progress"),
    State.report_submitted: Label("Verwendungsnachweis eingereicht", "Final report submitted"),
    State.report_changes_requested: Label("Nachbesserung", "Report changes requested"),
    State.closed: Label("Abgeschlossen", "Closed"),
    State.revocation_hearing: Label("Anhörung", "Hearing"),
    State.revoked: Label("Widerrufen", "Revoked"),
    State.partially_revoked: Label("Teilweise widerrufen", "Partially revoked"),
}

INITIAL_STATE = State.draft
FINAL_STATES = frozenset({State.rejected, State.withdrawn, State.closed, State.revoked})


class Role(StrEnum):
    """Who acts. `system` is the engine itself (waiting list, scheduled starts)."""

    carrier = "carrier"
    reviewer = "reviewer"
    approver = "approver"
    admin = "admin"
    observer = "observer"
    system = "system"


ROLE_LABELS: dict[Role, Label] = {
    Role.carrier: Label("Antragsteller / Träger", "Carrier"),
    Role.reviewer: Label("Sachbearbeitung", "Reviewer"),
    Role.approver: Label("Zeichnungsbefugte", "Approver"),
    Role.admin: Label("Programmverwaltung", "Programme administration"),
    Role.observer: Label("Begleitung", "Observer"),
    Role.system: Label("System", "System"),
}


class Guard(StrEnum):
    """Conditions a transition checks; the engine implements each and says why one fails."""

    own_organisation = "own_organisation"
    call_window_open = "call_window_open"
    no_funding_stop = "no_funding_stop"
    required_fields_complete = "required_fields_complete"
    project_start_not_past = "project_start_not_past"
    reason_given = "reason_given"
    amounts_given = "amounts_given"
    spending_given = "spending_given"
    four_eyes = "four_eyes"
    money_available = "money_available"
    approval_notice_exists = "approval_notice_exists"
    hearing_done = "hearing_done"
    # No decision against the carrier while a Nachfrist the authority set is running.
    no_grace_period_running = "no_grace_period_running"
    repayment_given = "repayment_given"
    years_fit_project = "years_fit_project"
    # Issue 12: no money for a budget year that is over; no start before the project start date.
    budget_years_not_over = "budget_years_not_over"
    start_date_reached = "start_date_reached"
    # Documents (issue 13): uploads a transition carries (payload `document_ids`), of the
    # purposes that answer the deadlines it closes; `documents_or_explanation` needs one or a
    # reason why none (payload `explanation`).
    documents_attached = "documents_attached"
    documents_or_explanation = "documents_or_explanation"
    # Issue 14: a programme with cost headings needs a complete plan that balances in every
    # budget year of the project period (states.financing).
    finance_plan_balanced = "finance_plan_balanced"
    # Issue 15: where the call configures assessment criteria, its Prüfvermerk is complete
    # (every criterion rated, a summary, a recommended amount for every budget year).
    assessment_complete = "assessment_complete"
    # Issue 16, settlement: no case closes while a repayment claim is open or while money paid
    # beyond the final grant has no claim yet (workflow.settlement).
    no_open_claim = "no_open_claim"
    # Issue 16, Verwendungsnachweis: the report (payload or the carrier's draft) is complete and
    # consistent; `close` only after staff checked the newest submitted version.
    final_report_complete = "final_report_complete"
    final_report_checked = "final_report_checked"


# Guards that check the firing's input (reason, payload). `check` and `available_triggers` skip
# them: whether a trigger is possible now does not depend on what the user will type.
INPUT_GUARDS: frozenset[Guard] = frozenset(
    {Guard.reason_given, Guard.amounts_given, Guard.spending_given, Guard.repayment_given,
     Guard.documents_attached, Guard.documents_or_explanation, Guard.final_report_complete}
)


class Effect(StrEnum):
    """What a transition does besides changing the state."""

    become_case_officer = "become_case_officer"
    record_assessment = "record_assessment"
    commit_budget = "commit_budget"
    release_budget = "release_budget"
    release_underspend = "release_underspend"
    record_spending = "record_spending"
    record_repayment = "record_repayment"
    mark_received = "mark_received"
    mark_waitlisted = "mark_waitlisted"
    # Issue 16: a waiver of appeal given with `start` is the carrier's Rechtsbehelfsverzicht
    # (the same record as the action `waive_appeal`): the notice is final from then on.
    record_waiver_of_appeal = "record_waiver_of_appeal"
    # Issue 16, settlement: a hearing records its subject (partial, with the amount), and a
    # revocation creates the repayment claim for money paid beyond the final grant (partial) or
    # for all money paid (full).
    record_hearing_subject = "record_hearing_subject"
    record_claim = "record_claim"
    # Issue 16: the submitted Verwendungsnachweis is stored as the report's version.
    record_final_report = "record_final_report"


class Money(StrEnum):
    """How an effect moves the call's money."""

    commit = "commit"  # takes money from the budget (may be refused: not enough left)
    release = "release"  # gives money back to the budget


MONEY_EFFECTS: dict[Effect, Money] = {
    Effect.commit_budget: Money.commit,
    Effect.release_budget: Money.release,
    Effect.release_underspend: Money.release,
}


class Policy(StrEnum):
    """What a call does with an approval that finds no money."""

    waitlist = "waitlist"  # the application goes to the waiting list, in order of receipt
    reject = "reject"  # the approval is refused with the reason; the case stays recommended


class StopKind(StrEnum):
    """Why a funding stop is in force."""

    declared = "declared"  # an admin declared it; only an admin lifts it
    automatic = "automatic"  # no budget year has the minimum grant left; lifts with money back


@dataclass(frozen=True)
class Transition:
    """One row of the lifecycle table."""

    trigger: str
    sources: tuple[State, ...]
    dest: State | None  # None: an internal transition, the state stays
    roles: frozenset[Role]
    label: Label
    guards: tuple[Guard, ...] = ()
    effects: tuple[Effect, ...] = ()
    opens: tuple[DeadlineKind, ...] = ()
    closes: tuple[DeadlineKind, ...] = ()
    email: str | None = None  # template name of the carrier email it causes
    # Template name of the email to the case officer it causes (a decision sent back to them).
    officer_email: str | None = None
    # The trigger the engine fires instead when money is missing, under the call policy named.
    fallback: str | None = None
    fallback_policy: Policy | None = None
    # Reviewing work: whoever fired it on a case may not approve that case (four-eyes).
    review_work: bool = False

    def dest_from(self, source: State) -> State:
        return self.dest if self.dest is not None else source

    @property
    def takes_money(self) -> bool:
        return any(MONEY_EFFECTS.get(e) == Money.commit for e in self.effects)

    @property
    def returns_money(self) -> bool:
        return any(MONEY_EFFECTS.get(e) == Money.release for e in self.effects)

    @property
    def moves_money(self) -> bool:
        """Money effects lock the call row for the whole firing."""
        return self.takes_money or self.returns_money

    @property
    def ends_case(self) -> bool:
        return self.dest in FINAL_STATES

    @property
    def staff_sets_deadline(self) -> bool:
        return any(kind in STAFF_ADJUSTABLE for kind in self.opens)

    @property
    def chosen_by_user(self) -> bool:
        """Offered to users (the engine alone fires the system-only rows)."""
        return self.roles != {Role.system}


def _t(trigger: str, sources, dest, roles, label: Label, **kw) -> Transition:
    if isinstance(sources, State):
        sources = (sources,)
    return Transition(trigger, tuple(sources), dest, frozenset(roles), label, **kw)


S, R, G, E, D = State, Role, Guard, Effect, DeadlineKind
# Approvers may also review; the four-eyes guard keeps them from approving what they reviewed.
STAFF = frozenset({R.reviewer, R.approver})
# Entering a final state cancels every open deadline (the engine does it), so the final
# transitions need not list them in `closes`.
BEFORE_DECISION = (S.submitted, S.in_review, S.documents_requested, S.recommended, S.waitlisted)

TRANSITIONS: tuple[Transition, ...] = (
    _t("submit", S.draft, S.submitted, {R.carrier}, Label("Einreichen", "Submit"),
       guards=(G.own_organisation, G.call_window_open, G.no_funding_stop,
               G.required_fields_complete, G.finance_plan_balanced, G.project_start_not_past),
       effects=(E.mark_received,), email="receipt_confirmation"),
    _t("start_review", S.submitted, S.in_review, STAFF, Label("Prüfung beginnen", "Start review"),
       effects=(E.become_case_officer,), review_work=True),
    _t("request_documents", S.in_review, S.documents_requested, STAFF,
       Label("Unterlagen nachfordern", "Request documents"),
       guards=(G.reason_given,), opens=(D.document_request,), email="documents_requested",
       review_work=True),
    _t("provide_documents", S.documents_requested, S.in_review, {R.carrier},
       Label("Unterlagen nachreichen", "Provide documents"),
       guards=(G.own_organisation, G.documents_or_explanation), closes=(D.document_request,),
       email="documents_received"),
    _t("recommend", S.in_review, S.recommended, STAFF,
       Label("Zur Bewilligung vorschlagen", "Recommend"),
       guards=(G.assessment_complete, G.reason_given, G.amounts_given),
       effects=(E.record_assessment,),
       review_work=True),
    _t("approve", S.recommended, S.approved, {R.approver}, Label("Bewilligen", "Approve"),
       guards=(G.four_eyes, G.years_fit_project, G.budget_years_not_over, G.money_available),
       effects=(E.commit_budget,),
       opens=(D.interim_report, D.final_report), email="approval",
       fallback="waitlist", fallback_policy=Policy.waitlist),
    # The approver sends a recommendation back to the case officer (sign or return).
    _t("return_to_review", S.recommended, S.in_review, {R.approver},
       Label("An die Prüfung zurückgeben", "Return to review"), guards=(G.reason_given,),
       officer_email="case_returned"),
    _t("waitlist", S.recommended, S.waitlisted, {R.system}, Label("Auf die Warteliste", "Waitlist"),
       effects=(E.mark_waitlisted,), email="waitlisted"),
    _t("reoffer", S.waitlisted, S.recommended, {R.system},
       Label("Erneut zur Bewilligung vorlegen", "Offer again"), email="reoffered"),
    _t("reject", BEFORE_DECISION, S.rejected, STAFF,
       Label("Ablehnen", "Reject"), guards=(G.reason_given, G.no_grace_period_running),
       effects=(E.release_budget,),
       email="rejection"),
    _t("withdraw", BEFORE_DECISION, S.withdrawn, {R.carrier}, Label("Zurückziehen", "Withdraw"),
       guards=(G.own_organisation,), effects=(E.release_budget,),
       email="withdrawal_confirmation"),
    _t("start", S.approved, S.active, {R.carrier, R.reviewer, R.system},
       Label("Projekt beginnen", "Start project"),
       guards=(G.own_organisation, G.approval_notice_exists, G.start_date_reached),
       effects=(E.record_waiver_of_appeal,), email="project_started"),
    _t("submit_final_report", (S.active, S.report_changes_requested), S.report_submitted,
       {R.carrier}, Label("Verwendungsnachweis einreichen", "Submit final report"),
       guards=(G.own_organisation, G.final_report_complete, G.documents_attached),
       effects=(E.record_spending, E.record_final_report),
       closes=(D.final_report, D.report_changes), email="report_received"),
    _t("request_report_changes", S.report_submitted, S.report_changes_requested, STAFF,
       Label("Nachbesserung anfordern", "Request report changes"),
       guards=(G.reason_given,), opens=(D.report_changes,), email="report_changes_requested"),
    _t("close", (S.report_submitted, S.partially_revoked), S.closed, STAFF,
       Label("Abschließen", "Close"), guards=(G.final_report_checked, G.no_open_claim),
       effects=(E.release_underspend,), closes=(D.interim_report,), email="closure"),
    _t("open_hearing", (S.active, S.report_submitted, S.report_changes_requested),
       S.revocation_hearing, STAFF, Label("Anhörung einleiten", "Open hearing"),
       guards=(G.reason_given,), effects=(E.record_hearing_subject,), opens=(D.hearing_reply,),
       email="hearing"),
    _t("answer_hearing", S.revocation_hearing, None, {R.carrier},
       Label("Zur Anhörung Stellung nehmen", "Answer hearing"),
       guards=(G.own_organisation, G.reason_given, G.documents_attached),
       closes=(D.hearing_reply,)),
    _t("revoke", S.revocation_hearing, S.revoked, {R.approver}, Label("Widerrufen", "Revoke"),
       guards=(G.reason_given, G.hearing_done, G.no_grace_period_running, G.repayment_given),
       effects=(E.record_repayment, E.record_claim, E.release_budget),
       closes=(D.interim_report, D.final_report, D.report_changes, D.hearing_reply),
       email="revocation"),
    # Teilwiderruf (issue 16): money paid beyond the final grant is reclaimed, after a hearing.
    _t("revoke_partially", S.revocation_hearing, S.partially_revoked, {R.approver},
       Label("Teilweise widerrufen", "Revoke partially"),
       guards=(G.reason_given, G.hearing_done, G.no_grace_period_running),
       effects=(E.record_claim,),
       closes=(D.interim_report, D.final_report, D.report_changes, D.hearing_reply),
       email="partial_revocation"),
)

TRANSITIONS_BY_TRIGGER: dict[str, Transition] = {t.trigger: t for t in TRANSITIONS}


@dataclass(frozen=True)
class ScheduledStart:
    """The engine starts approved projects by itself on their project start date (Berlin): it
    fires `trigger` as the system for every application in `state` whose start has come."""

    state: State
    trigger: str
    reason: Label
    # The payload key by which the carrier waives its right of appeal (Rechtsbehelfsverzicht),
    # which lets it start before the project start date.
    waiver_key: str = "waiver_of_appeal"


SCHEDULED_START = ScheduledStart(
    State.approved, "start", Label("Projektbeginn erreicht", "Project start date reached"))



@dataclass(frozen=True)
class WaitingList:
    """The waiting list: who waits in which state, and the trigger that offers a case again.

    Waiting applications keep their place by time of receipt; when money comes back they are
    offered again in that order, as far as the money reaches, and nobody overtakes the first
    one that does not fit.
    """

    state: State
    offer_again: str
    message: Label


WAITING_LIST = WaitingList(
    State.waitlisted,
    "reoffer",
    Label("Es sind wieder Fördermittel verfügbar.", "Funds are available again."),
)


def transitions_from(state: State) -> list[Transition]:
    """The rows of the table whose sources include `state`, in table order."""
    return [t for t in TRANSITIONS if state in t.sources]
