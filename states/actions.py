"""What users do besides firing a transition: drafts, funding stops, budgets, users, interim
reports. Each action names the roles that may take it, its label, the history trigger it writes
(if it writes one) and the carrier email it causes. Also the records that are not transitions
(interim reports) and who is told of a funding stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from states.deadlines import DeadlineKind
from states.labels import Label
from states.lifecycle import STAFF, TRANSITIONS_BY_TRIGGER, Role, State


class ActionName(StrEnum):
    create_draft = "create_draft"
    edit_draft = "edit_draft"
    declare_funding_stop = "declare_funding_stop"
    lift_funding_stop = "lift_funding_stop"
    change_budget = "change_budget"
    # programme administration: programmes, modules and calls (each change audited)
    create_programme = "create_programme"
    add_module = "add_module"
    rename_module = "rename_module"
    set_expense_headings = "set_expense_headings"
    create_call = "create_call"
    edit_call = "edit_call"
    close_call = "close_call"
    read_admin_audit = "read_admin_audit"
    manage_users = "manage_users"
    manage_mail = "manage_mail"
    submit_interim_report = "submit_interim_report"
    accept_interim_report = "accept_interim_report"
    request_interim_changes = "request_interim_changes"
    grant_early_start = "grant_early_start"
    # onboarding (states.accounts): registrations confirmed or rejected, colleagues invited
    confirm_organisation = "confirm_organisation"
    reject_organisation = "reject_organisation"
    invite_colleague = "invite_colleague"
    # Issue 16: finality (Bestandskraft) of the approval notice
    waive_appeal = "waive_appeal"
    set_notification_date = "set_notification_date"
    # Issue 16, part 2: calls of funds (Mittelabruf), payments, the SEPA export, the bank account
    call_funds = "call_funds"
    check_funds_call = "check_funds_call"
    order_payment = "order_payment"
    export_payments = "export_payments"
    edit_bank_account = "edit_bank_account"
    # Issue 16, settlement: paid less final grant, the repayment claim and money repaid
    settle = "settle"
    record_repayment = "record_repayment"
    record_late_use = "record_late_use"
    claim_settled = "claim_settled"
    # Issue 16, part 3: the Verwendungsnachweis (draft kept by the carrier, checked by staff)
    edit_final_report = "edit_final_report"
    check_final_report = "check_final_report"


@dataclass(frozen=True)
class Action:
    """One action that is not a transition of the application's state."""

    name: ActionName
    roles: frozenset[Role]
    label: Label
    history_trigger: str | None = None  # the trigger of the history row it writes, if any
    email: str | None = None  # the carrier email it causes
    in_states: tuple[State, ...] = ()  # the application states it needs (empty: any)
    meets: DeadlineKind | None = None  # the deadline it meets
    reopens: DeadlineKind | None = None  # the deadline it opens again (with the rule of `rule`)
    rule: DeadlineKind | None = None

    def allows(self, role: Role) -> bool:
        return role in self.roles


A, R, S, D = ActionName, Role, State, DeadlineKind
ADMIN = frozenset({R.admin})

ACTIONS: dict[ActionName, Action] = {a.name: a for a in (
    Action(A.create_draft, frozenset({R.carrier}), Label("Antrag anlegen", "Create application"),
           history_trigger="create"),
    Action(A.edit_draft, frozenset({R.carrier}), Label("Entwurf bearbeiten", "Edit draft"),
           in_states=(S.draft,)),
    Action(A.declare_funding_stop, ADMIN,
           Label("Fördermittelstopp erklären", "Declare a funding stop")),
    Action(A.lift_funding_stop, ADMIN, Label("Fördermittelstopp aufheben", "Lift a funding stop")),
    Action(A.change_budget, ADMIN, Label("Budget ändern", "Change a budget")),
    Action(A.manage_users, ADMIN, Label("Benutzerkonten verwalten", "Manage user accounts")),
    Action(A.manage_mail, ADMIN, Label("Postausgang verwalten", "Manage the outbox")),
    Action(A.submit_interim_report, frozenset({R.carrier}),
           Label("Zwischennachweis einreichen", "Submit interim report"),
           history_trigger="submit_interim_report", email="interim_report_received",
           in_states=(S.active,), meets=D.interim_report),
    Action(A.accept_interim_report, frozenset(STAFF),
           Label("Zwischennachweis anerkennen", "Accept interim report"),
           history_trigger="accept_interim_report", email="interim_report_accepted"),
    Action(A.request_interim_changes, frozenset(STAFF),
           Label("Nachbesserung des Zwischennachweises anfordern",
                 "Request interim report changes"),
           history_trigger="request_interim_report_changes",
           email="interim_report_changes_requested", reopens=D.interim_report,
           rule=D.report_changes),
    # Vorzeitiger Maßnahmebeginn: staff allow a project start before the decision (and a start
    # date in the past at submission), recorded with reason, who and when.
    Action(A.grant_early_start, frozenset(STAFF),
           Label("Vorzeitigen Maßnahmebeginn genehmigen", "Grant an early start"),
           history_trigger="grant_early_start", email="early_start_granted",
           in_states=(S.draft, S.submitted, S.in_review, S.documents_requested)),
    # Rechtsbehelfsverzicht: the carrier waives its right of appeal against the approval notice,
    # which makes the notice final (bestandskräftig) at once.
    Action(A.waive_appeal, frozenset({R.carrier}),
           Label("Auf Rechtsbehelfe verzichten", "Waive the right of appeal"),
           history_trigger="waive_appeal", email="appeal_waived",
           in_states=(S.approved, S.active)),
    # Bekanntgabe: staff record the day the approval notice reached the carrier (by default the
    # day it was issued); the appeal period of one month runs from it.
    Action(A.set_notification_date, frozenset({R.reviewer, R.approver}),
           Label("Bekanntgabedatum des Bescheids festlegen",
                 "Set the notice's date of notification"),
           history_trigger="set_notification_date", email="notification_date_set",
           in_states=(S.approved, S.active)),
    # Mittelabruf (ANBest-P no. 1.4): the carrier calls money of an approved budget year, as far
    # as it is needed within two months for payments due; staff certify the call as factually
    # correct ("sachlich richtig"), a second person orders the payment (four-eyes).
    Action(A.call_funds, frozenset({R.carrier}), Label("Mittel abrufen", "Call funds"),
           history_trigger="call_funds", email="funds_call_received",
           in_states=(S.approved, S.active)),
    Action(A.check_funds_call, frozenset(STAFF),
           Label("Mittelabruf sachlich richtig zeichnen",
                 "Certify a call of funds as factually correct"),
           history_trigger="check_funds_call", email="funds_call_checked",
           in_states=(S.approved, S.active, S.closed)),
    Action(A.order_payment, frozenset(STAFF),
           Label("Auszahlung anordnen", "Order the payment"),
           history_trigger="order_payment", email="payment_ordered",
           in_states=(S.approved, S.active, S.closed)),
    Action(A.export_payments, frozenset(STAFF | {R.admin}),
           Label("Zahlungen als SEPA-Datei ausgeben", "Export payments as a SEPA file"),
           history_trigger="export_payment"),
    Action(A.edit_bank_account, frozenset({R.carrier}),
           Label("Bankverbindung ändern", "Change the bank account")),
    # Abrechnung (workflow.settlement): paid less final grant per year; unpaid commitment goes
    # back to the budget; money paid beyond the final grant starts the Teilwiderruf (a hearing).
    Action(A.settle, frozenset(STAFF), Label("Abrechnen", "Settle"),
           history_trigger="settle", email="settlement", in_states=(S.report_submitted,)),
    Action(A.record_repayment, frozenset(STAFF),
           Label("Rückzahlung erfassen", "Record a repayment"),
           history_trigger="record_repayment", email="repayment_received",
           in_states=(S.partially_revoked, S.revoked)),
    Action(A.record_late_use, frozenset(STAFF),
           Label("Späte Verwendung erfassen (§ 49a Abs. 4 VwVfG)",
                 "Record late use (section 49a (4) VwVfG)"),
           history_trigger="record_late_use",
           in_states=(S.partially_revoked, S.revoked)),
    # Written by `record_repayment` when the claim is paid in full.
    Action(A.claim_settled, frozenset(STAFF),
           Label("Rückforderung vollständig beglichen", "Repayment claim paid in full"),
           history_trigger="claim_settled", email="claim_settled",
           in_states=(S.partially_revoked, S.revoked)),
    # Verwendungsnachweis: the carrier keeps a draft (Sachbericht, zahlenmäßiger Nachweis,
    # Belegliste) until it submits it with `submit_final_report`; staff check it and fix the
    # final grant per budget year under the call's Finanzierungsart (the state stays).
    Action(A.edit_final_report, frozenset({R.carrier}),
           Label("Verwendungsnachweis bearbeiten", "Edit the final report"),
           in_states=(S.active, S.report_changes_requested)),
    Action(A.check_final_report, frozenset(STAFF),
           Label("Verwendungsnachweis prüfen", "Check the final report"),
           history_trigger="check_final_report", email="final_report_checked",
           in_states=(S.report_submitted,)),
)}


# Programme administration: programmes, modules and calls; every change writes an audit record.
# A call is edited only while none of its applications has been submitted (budget changes and
# closing early have their own actions).
PROGRAMME_ADMIN_ACTIONS = (
    Action(A.create_programme, ADMIN, Label("Förderprogramm anlegen", "Create a programme")),
    Action(A.add_module, ADMIN, Label("Baustein hinzufügen", "Add a module")),
    Action(A.rename_module, ADMIN, Label("Baustein umbenennen", "Rename a module")),
    Action(A.set_expense_headings, ADMIN,
           Label("Kostenpositionen des Finanzplans festlegen",
                 "Set the finance plan's cost headings")),
    Action(A.create_call, ADMIN, Label("Förderaufruf anlegen", "Create a call")),
    Action(A.edit_call, ADMIN, Label("Förderaufruf bearbeiten", "Edit a call")),
    Action(A.close_call, ADMIN, Label("Förderaufruf vorzeitig schließen", "Close a call early")),
    Action(A.read_admin_audit, ADMIN,
           Label("Änderungsprotokoll der Programmverwaltung lesen", "Read the admin audit")),
)
ACTIONS.update({a.name: a for a in PROGRAMME_ADMIN_ACTIONS})

# Onboarding: the programme administration confirms or rejects a registered organisation (the
# registered contact then chooses a password from an emailed link); an organisation's admin
# invites colleagues of the same organisation. Confirmations and rejections are audited.
ONBOARDING_ACTIONS = (
    Action(A.confirm_organisation, ADMIN,
           Label("Registrierung bestätigen", "Confirm a registration")),
    Action(A.reject_organisation, ADMIN,
           Label("Registrierung ablehnen", "Reject a registration")),
    Action(A.invite_colleague, frozenset({R.carrier}),
           Label("Kollegin oder Kollegen einladen", "Invite a colleague")),
)
ACTIONS.update({a.name: a for a in ONBOARDING_ACTIONS})



class CallStatus(StrEnum):
    """A call's status as anyone sees it without logging in (a stop in force comes first)."""

    funding_stop = "funding_stop"
    not_yet_open = "not_yet_open"
    open = "open"
    closed = "closed"


INTERIM_REPORT_ACTIONS = tuple(
    ACTIONS[a] for a in (A.submit_interim_report, A.accept_interim_report,
                         A.request_interim_changes))
# The history rows actions write, with their labels (transitions have their own table).
HISTORY_TRIGGERS: dict[str, Action] = {
    a.history_trigger: a for a in ACTIONS.values() if a.history_trigger}


class InterimReportStatus(StrEnum):
    """An interim report submission: waiting for review, accepted, or sent back for changes."""

    submitted = "submitted"
    accepted = "accepted"
    changes_requested = "changes_requested"


@dataclass(frozen=True)
class StopNotice:
    """Who hears of a funding stop or its lifting: the carriers with an application of the call
    in one of `states`, once per stop."""

    email: str
    states: tuple[State, ...]


FUNDING_STOP_NOTICE = StopNotice("funding_stop", (S.draft,))
FUNDING_STOP_LIFTED_NOTICE = StopNotice("funding_stop_lifted", (S.waitlisted, S.draft))

# Emails that do not follow from one transition or action.
REMINDER_EMAIL = "deadline_reminder"
ESCALATION_EMAIL = "deadline_escalation"
FUNDING_STOP_EMAIL = FUNDING_STOP_NOTICE.email
FUNDING_STOP_LIFTED_EMAIL = FUNDING_STOP_LIFTED_NOTICE.email
INTERIM_REPORT_EMAILS = tuple(a.email for a in INTERIM_REPORT_ACTIONS if a.email)


# ---------------------------------------------------------------- telling the case officer
# The carrier's acts the application's case officer hears of by email (none while nobody has
# taken the case), by the trigger of the history row the act writes, with what came in.
CASE_OFFICER_EMAIL = "case_officer_notice"
CASE_OFFICER_NOTICES: dict[str, Label] = {
    "provide_documents": Label("Nachgereichte Unterlagen", "Documents provided"),
    "submit_interim_report": Label("Zwischennachweis", "Interim report"),
    "submit_final_report": Label("Verwendungsnachweis", "Final report"),
    "answer_hearing": Label("Stellungnahme zur Anhörung", "Hearing reply"),
}
# ------------------------------------------------------------------ issue 12: early start
EARLY_START_EMAIL = ACTIONS[A.grant_early_start].email
# What every grant of an early start says, in the response and the carrier's email.
EARLY_START_NO_CLAIM = Label(
    "Der vorzeitige Maßnahmebeginn begründet keinen Rechtsanspruch auf eine Förderung; "
    "Ausgaben vor der Bewilligung erfolgen auf eigenes Risiko.",
    "The early start creates no right to funding; spending before the approval is at your own "
    "risk.")

# ------------------------------------------------------------------ issue 16: finality
FINALITY_EMAILS = (ACTIONS[A.waive_appeal].email, ACTIONS[A.set_notification_date].email)


# ------------------------------------------------------------------ issue 16: calls of funds
class FundsCallStatus(StrEnum):
    """A call of funds: requested by the carrier, certified as factually correct, then its
    payment ordered (the ledger's `paid`)."""

    requested = "requested"
    checked = "checked"
    ordered = "ordered"


# The purpose of the call of funds the closure of a settled case opens for the final grant not
# yet paid (Schlusszahlung); staff certify and order it like the carrier's calls.
FINAL_PAYMENT_PURPOSE = "Schlusszahlung nach Prüfung des Verwendungsnachweises"

FUNDS_CALL_STATUS_LABELS: dict[FundsCallStatus, Label] = {
    FundsCallStatus.requested: Label("Beantragt", "Requested"),
    FundsCallStatus.checked: Label("Sachlich richtig gezeichnet", "Certified"),
    FundsCallStatus.ordered: Label("Auszahlung angeordnet", "Payment ordered"),
}
# ANBest-P no. 1.4: money is called only as far as it is needed within this many months.
FUNDS_NEEDED_WITHIN_MONTHS = 2
PAYMENT_EMAILS = tuple(ACTIONS[a].email for a in (A.call_funds, A.check_funds_call,
                                                   A.order_payment))


# ------------------------------------------------------------------ issue 16: settlement
class ClaimBasis(StrEnum):
    """The legal basis of a repayment claim."""

    partial_revocation = "partial_revocation"  # Teilwiderruf: paid beyond the final grant
    revocation = "revocation"  # Widerruf: all money paid


class ClaimStatus(StrEnum):
    open = "open"
    paid = "paid"


CLAIM_BASIS_LABELS: dict[ClaimBasis, Label] = {
    ClaimBasis.partial_revocation: Label("Teilwiderruf", "Partial revocation"),
    ClaimBasis.revocation: Label("Widerruf", "Revocation"),
}
CLAIM_STATUS_LABELS: dict[ClaimStatus, Label] = {
    ClaimStatus.open: Label("Offen", "Open"),
    ClaimStatus.paid: Label("Beglichen", "Paid"),
}
# § 49a (3) VwVfG: the rule the claims name (workflow.interest computes it).
INTEREST_RULE = Label("Zinsen nach § 49a Abs. 3 VwVfG: jährlich fünf Prozentpunkte über dem "
                      "Basiszinssatz (§ 247 BGB), vom Tag der Wirksamkeit des Widerrufs an",
                      "Interest under section 49a (3) VwVfG: five percentage points above the "
                      "base rate (section 247 BGB) a year, from the day the revocation takes "
                      "effect")
# The claim is due this many months after the revocation (programme config
# `claim_due_months` overrides it).
CLAIM_DUE_MONTHS = 1


@dataclass(frozen=True)
class Settlement:
    """The transitions the settlement fires: the hearing on a partial revocation when more was
    paid than the final grant, else the closure."""

    hearing: str = "open_hearing"
    close: str = "close"


SETTLEMENT = Settlement()
SETTLEMENT_EMAILS = ("settlement", "partial_revocation", "repayment_received", "claim_settled")
# ------------------------------------------------------------------ issue 16: Verwendungsnachweis
FINAL_REPORT_EMAILS = (ACTIONS[A.check_final_report].email,)
# The transition that hands the Verwendungsnachweis in (states.lifecycle).
SUBMIT_FINAL_REPORT = TRANSITIONS_BY_TRIGGER["submit_final_report"].trigger


class FinalReportStatus(StrEnum):
    """Where the carrier's Verwendungsnachweis stands: not begun, a draft, handed in."""

    none = "none"
    draft = "draft"
    submitted = "submitted"
