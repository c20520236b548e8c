"""The tables. Money is integer cents; timestamps are timezone-aware UTC; deadlines are dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    UniqueConstraint,
    event,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Field, SQLModel

from notifications.outbox import OutboxMessage  # noqa: F401  (registers the outbox table)
from states import DEFAULT_FINANCING, INITIAL_STATE, DeadlineStatus, Policy
from states.accounts import OrganisationStatus
from workflow.sqltypes import UTCDateTime


def utcnow() -> datetime:
    return datetime.now(UTC)


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


def _money(**kw: Any) -> Any:
    return Field(sa_column=Column(BigInteger, **kw))


class Programme(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)  # short name, prefix of reference numbers: "ZiQ"
    name: str
    purpose: str = ""
    contact_email: str = ""
    contact_name: str = ""
    # Per-programme configuration (deadline rules, reminder steps); defaults live in code.
    config: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Module(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("programme_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    code: str  # "B1"
    name: str


class Call(SQLModel, table=True):
    """A call for applications with its window, policy and funding-stop status."""

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id")
    code: str = Field(unique=True)
    title: str
    opens_at: datetime = _ts(nullable=False)
    closes_at: datetime = _ts(nullable=False)
    policy: str = Policy.waitlist.value  # states.Policy
    min_grant_cents: int = _money(nullable=False, default=0)
    earliest_project_start: date | None = None
    min_project_months: int = 0
    stop_kind: str | None = None  # None or a states.StopKind
    stop_since: datetime | None = _ts(nullable=True)
    stop_reason: str | None = None
    # Finanzierungsart (states.FinancingKind) and its settings: the share of eligible expenses
    # in basis points (Anteil), the fixed sum per budget year (Festbetrag), the maximum grant
    # per budget year (any kind; None: no maximum).
    financing_kind: str = Field(default=DEFAULT_FINANCING.value)
    grant_share_bp: int | None = None
    fixed_grant_cents: int | None = _money(nullable=True)
    max_grant_cents: int | None = _money(nullable=True)
    # The Prüfvermerk's criteria ([{code, de, en}]) and rating scale ([{code, value, de, en}]);
    # None: the call asks for no structured assessment (states.staff has the ZiQ defaults).
    assessment_criteria: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True))
    assessment_scale: list[dict[str, Any]] | None = Field(
        default=None, sa_column=Column(JSON, nullable=True))


class BudgetLine(SQLModel, table=True):
    """Money of one call for one budget year from one funding source, and what is committed."""

    __tablename__ = "budget_line"
    __table_args__ = (
        UniqueConstraint("call_id", "year", "source"),
        CheckConstraint(
            "committed_cents >= 0 AND committed_cents <= budget_cents", name="ck_budget_not_over"
        ),
        # Money paid out (less money repaid) never exceeds what is committed (issue 16).
        CheckConstraint(
            "paid_cents >= 0 AND repaid_cents >= 0 AND paid_cents - repaid_cents <= "
            "committed_cents", name="ck_budget_paid_not_over"),
    )
    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    year: int
    source: str  # Landesmittel | ESF | REACT-EU
    priority: int = 0  # order in which approvals draw on the sources of a year
    budget_cents: int = _money(nullable=False)
    committed_cents: int = _money(nullable=False, default=0)
    paid_cents: int = _money(nullable=False, default=0, server_default="0")
    repaid_cents: int = _money(nullable=False, default=0, server_default="0")


class LedgerEntry(SQLModel, table=True):
    """Append-only record of every change to budget or committed money."""

    __tablename__ = "ledger_entry"
    id: int | None = Field(default=None, primary_key=True)
    budget_line_id: int = Field(foreign_key="budget_line.id", index=True)
    application_id: int | None = Field(default=None, foreign_key="application.id", index=True)
    kind: str  # commit | release | budget_change | paid | repaid
    committed_delta_cents: int = _money(nullable=False, default=0)
    budget_delta_cents: int = _money(nullable=False, default=0)
    paid_delta_cents: int = _money(nullable=False, default=0, server_default="0")
    repaid_delta_cents: int = _money(nullable=False, default=0, server_default="0")
    funds_call_id: int | None = Field(default=None, foreign_key="funds_call.id", index=True)
    at: datetime = _ts(nullable=False)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    note: str = ""


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    kind: str = ""  # Wohlfahrtsverband, Verein, Kommune
    municipality: str = ""
    calendar_token: str | None = Field(default=None, unique=True)
    # Onboarding (issue 14): what a registration gives, and its confirmation.
    legal_form: str = ""  # a key of states.accounts.LEGAL_FORMS ("" for the seed's)
    street: str = ""
    postcode: str = ""
    city: str = ""
    contact_name: str = ""
    contact_email: str = ""
    status: str = Field(default=OrganisationStatus.confirmed.value, index=True)
    registered_at: datetime | None = _ts(nullable=True)
    confirmed_at: datetime | None = _ts(nullable=True)  # or rejected at
    confirmed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    rejection_reason: str | None = None
    # The bank account payments go to (issue 16): IBAN (compact, checked), BIC, holder.
    iban: str | None = None
    bic: str | None = None
    account_holder: str | None = None


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    name: str
    role: str  # states.Role
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    language: str = "de"
    password_hash: str | None = None
    disabled: bool = False
    created_at: datetime = _ts(nullable=False, default=utcnow)
    # Bumped by logout, password change and reset: tokens of an older version stop working.
    token_version: int = 0
    must_change_password: bool = False  # after an admin reset: only the password change works
    # The organisation's admin (the registered contact) invites colleagues of the organisation.
    organisation_admin: bool = False
    lead: bool = False  # a lead reviewer (Teamleitung): assigns cases like an admin


class OneTimeToken(SQLModel, table=True):
    """A one-time link to choose a password (states.accounts.TokenPurpose). Only the SHA-256 of
    the token is stored; the link works once, until `expires_at`."""

    __tablename__ = "one_time_token"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True)
    purpose: str  # states.accounts.TokenPurpose
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = _ts(nullable=False)
    expires_at: datetime = _ts(nullable=False)
    used_at: datetime | None = _ts(nullable=True)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class Application(SQLModel, table=True):
    """A grant application. Only the engine writes `state` and `version`."""

    # The worklist's orders and filters (issue 15), so that a page costs the same at any size.
    __table_args__ = (
        Index("ix_application_state_received", "state", "received_at"),
        Index("ix_application_officer_state", "case_officer_id", "state"),
        Index("ix_application_received", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reference: str | None = Field(default=None, unique=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    module_code: str
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    created_by_id: int = Field(foreign_key="app_user.id")
    municipality: str = ""
    quartier: str = ""
    title: str = ""
    summary: str = ""
    project_start: date | None = None
    project_end: date | None = None
    own_contribution_cents: int = _money(nullable=False, default=0)
    early_start_granted: bool = False
    early_start_granted_at: datetime | None = _ts(nullable=True)  # when staff granted it
    state: str = Field(default=INITIAL_STATE.value, index=True)
    version: int = 1
    case_officer_id: int | None = Field(default=None, foreign_key="app_user.id")
    assessment: str | None = None
    approved_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    repayment_claim_cents: int | None = _money(nullable=True)
    received_at: datetime | None = _ts(nullable=True)
    waitlisted_at: datetime | None = _ts(nullable=True)
    approved_at: datetime | None = _ts(nullable=True)
    # Finality (issue 16): the day the approval notice was made known to the carrier
    # (Bekanntgabe) and when the carrier waived its right of appeal (Rechtsbehelfsverzicht).
    notified_on: date | None = None
    appeal_waived_at: datetime | None = _ts(nullable=True)
    created_at: datetime = _ts(nullable=False, default=utcnow)
    updated_at: datetime = _ts(nullable=False, default=utcnow)


class ApplicationYear(SQLModel, table=True):
    """Requested, approved and spent money of one application in one budget year."""

    __tablename__ = "application_year"
    __table_args__ = (
        UniqueConstraint("application_id", "year"),
        # Issue 16: never paid above what is committed for the application and year; calls of
        # funds (open and paid) never below what is paid.
        # Repaid money may go back to the budget (issue 16, settlement): net paid counts.
        CheckConstraint("committed_cents >= 0 AND paid_cents >= 0 AND paid_cents - "
                        "repaid_cents <= committed_cents AND called_cents >= paid_cents",
                        name="ck_year_paid_not_over"),
        CheckConstraint("repaid_cents >= 0 AND repaid_cents <= paid_cents AND "
                        "(final_grant_cents IS NULL OR final_grant_cents >= 0)",
                        name="ck_year_repaid"),
    )
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    year: int
    requested_cents: int = _money(nullable=False, default=0)
    approved_cents: int | None = _money(nullable=True)
    spent_cents: int | None = _money(nullable=True)
    # Net committed money of the year (the ledger's commit less release entries of the
    # application), money called (open calls and paid ones) and money paid (issue 16).
    committed_cents: int = _money(nullable=False, default=0, server_default="0")
    called_cents: int = _money(nullable=False, default=0, server_default="0")
    paid_cents: int = _money(nullable=False, default=0, server_default="0")
    # Issue 16, settlement: the final grant the reviewer fixes from the Verwendungsnachweis
    # (None until then) and money the carrier has paid back for the year.
    final_grant_cents: int | None = _money(nullable=True)
    repaid_cents: int = _money(nullable=False, default=0, server_default="0")


class FinancePlanLine(SQLModel, table=True):
    """One line of an application's Kosten- und Finanzierungsplan for one budget year: the
    expenses of a cost heading (kind "expense", heading its code) or a financing line (kind a
    states.FinancingLine, heading "")."""

    __tablename__ = "finance_plan_line"
    __table_args__ = (
        UniqueConstraint("application_id", "year", "kind", "heading"),
        CheckConstraint("cents >= 0", name="ck_finance_plan_line_not_negative"),
    )
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    year: int
    kind: str
    heading: str = ""
    cents: int = _money(nullable=False)


class TransitionRecord(SQLModel, table=True):
    """History: who did what to which application, when, from which state to which."""

    __tablename__ = "transition_record"
    # "Waiting for me" and the four-eyes rule look up an application's acts by actor and trigger.
    __table_args__ = (
        Index("ix_transition_app_actor_at", "application_id", "actor_id", "at"),
        Index("ix_transition_app_trigger_at", "application_id", "trigger", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    trigger: str
    from_state: str | None = None
    to_state: str
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_role: str
    at: datetime = _ts(nullable=False)
    reason: str | None = None
    late: bool = False
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Deadline(SQLModel, table=True):
    """A due date opened by a transition; met, cancelled or still open."""

    __table_args__ = (
        UniqueConstraint("application_id", "kind", "period"),
        Index("ix_deadline_reminder_due", "status", "next_reminder_on"),
        Index("ix_deadline_app_status_due", "application_id", "status", "due_date"),
    )
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    kind: str  # states.DeadlineKind
    period: str = ""  # distinguishes several deadlines of one kind (interim report per year)
    due_date: date = Field(index=True)
    status: str = Field(default=DeadlineStatus.open.value, index=True)  # states.DeadlineStatus
    opened_at: datetime = _ts(nullable=False)
    closed_at: datetime | None = _ts(nullable=True)
    opened_by_id: int | None = Field(default=None, foreign_key="transition_record.id")
    # The day the reminder pass must look at this deadline next (None: plan its steps anew).
    next_reminder_on: date | None = None


# --- The case file (Akte): documents of an application (issue 13) -----------------------------


class Document(SQLModel, table=True):
    """One document in an application's case file: an upload or a generated notice. The content
    is a blob in the store (`workflow.storage`), named by its SHA-256 checksum."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    purpose: str  # states.DocumentPurpose
    filename: str  # the original file name, as the uploader's system named it
    content_type: str  # detected from the content, not the client's header
    size_bytes: int = Field(sa_column=Column(BigInteger, nullable=False))
    sha256: str = Field(index=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="app_user.id")  # None: Quartier
    uploaded_at: datetime = _ts(nullable=False)
    # The deadline (request) the document answers, if any.
    deadline_id: int | None = Field(default=None, foreign_key="deadline.id")
    transition_id: int | None = Field(default=None, foreign_key="transition_record.id")
    scan: str = ""  # "clean" when a virus scanner checked it, "" when none was configured


class StateWriteForbidden(RuntimeError):
    """Raised when code other than the engine tries to change an application's state."""


@event.listens_for(OrmSession, "before_flush")
def _protect_state(session: OrmSession, flush_context: Any, instances: Any) -> None:
    """The state column is the engine's: ORM changes to it from anywhere else are refused."""
    for obj in session.dirty:
        if isinstance(obj, Application):
            attrs = sa_inspect(obj).attrs
            if attrs.state.history.has_changes() or attrs.version.history.has_changes():
                raise StateWriteForbidden("only workflow.engine may change state or version")
    for obj in session.new:
        if isinstance(obj, Application) and obj.state != INITIAL_STATE:
            raise StateWriteForbidden("applications are created as drafts")


from workflow.claim_tables import ClaimYear, LateUse, Repayment, RepaymentClaim  # noqa: E402,F401
from workflow.idempotency import IdempotencyRecord  # noqa: E402,F401
from workflow.payment_tables import FundsCall, Payment, SepaExport  # noqa: E402,F401
from workflow.reminder_tables import InterimReport, ReminderSent  # noqa: E402,F401

# ------------------------------------------------------------------ programme administration audit


class AdminAudit(SQLModel, table=True):
    """Who changed which programme, module or call, when, and how (before and after as JSON).
    Append-only; budget money has its own record, the ledger."""

    __tablename__ = "admin_audit"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _ts(nullable=False)
    actor_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor_name: str = ""
    action: str  # a states.ActionName of programme administration
    subject_kind: str  # programme | module | call
    subject: str = Field(index=True)  # its code: "ZiQ", "ZiQ/B1", "ZiQ-2021"
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    reason: str | None = None


# ------------------------------------------------------------------ issue 15: the Prüfvermerk


class Assessment(SQLModel, table=True):
    """One version of an application's structured assessment (Prüfvermerk). Append-only: every
    save is a new version; the newest is the assessment. Staff only, never the carrier."""

    __table_args__ = (UniqueConstraint("application_id", "version"),)
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    version: int
    author_id: int = Field(foreign_key="app_user.id")
    at: datetime = _ts(nullable=False)
    # {criterion code: {"rating": scale code or null, "note": text}}
    ratings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    summary: str = ""
    # {budget year: recommended cents}
    amounts_cents: dict[str, Any] = Field(default_factory=dict,
                                          sa_column=Column(JSON, nullable=False))
    complete: bool = False


# ------------------------------------------------------------------ issue 16: Verwendungsnachweis


class FinalReport(SQLModel, table=True):
    """One version of an application's Verwendungsnachweis: the Sachbericht and who submitted
    it when (None while the carrier's draft). A request for changes makes the next version."""

    __tablename__ = "final_report"
    __table_args__ = (UniqueConstraint("application_id", "version"),
                      CheckConstraint("version >= 1", name="ck_final_report_version"))
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    version: int = 1
    sachbericht: str = ""
    created_at: datetime = _ts(nullable=False, default=utcnow)
    updated_at: datetime = _ts(nullable=False, default=utcnow)
    submitted_at: datetime | None = _ts(nullable=True)
    submitted_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class FinalReportLine(SQLModel, table=True):
    """The zahlenmäßiger Nachweis: actual expenses of a heading of the approved plan (kind
    "expense") or financing received (kind own / third_party / grant, heading "") in a year."""

    __tablename__ = "final_report_line"
    __table_args__ = (UniqueConstraint("report_id", "year", "kind", "heading"),
                      CheckConstraint("cents >= 0", name="ck_final_report_line_not_negative"))
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="final_report.id", index=True)
    year: int
    kind: str
    heading: str = ""
    cents: int = _money(nullable=False)


class FinalReportEntry(SQLModel, table=True):
    """One line of the Belegliste: a payment of a heading in a budget year."""

    __tablename__ = "final_report_entry"
    __table_args__ = (CheckConstraint("amount_cents > 0", name="ck_final_report_entry_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="final_report.id", index=True)
    position: int  # the order of the list, from 1
    year: int
    heading: str
    paid_on: date
    party: str  # Empfänger / Einzahler
    purpose: str
    amount_cents: int = _money(nullable=False)
    number: str = ""  # Belegnummer


class FinalReportCheck(SQLModel, table=True):
    """Staff's check of a submitted Verwendungsnachweis version: a rating and note per criterion,
    a summary, and the final grant per year (computed, and lowered with a reason where staff
    found ineligible expenses). Append-only; the newest check of the newest version counts."""

    __tablename__ = "final_report_check"
    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="final_report.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    author_id: int = Field(foreign_key="app_user.id")
    at: datetime = _ts(nullable=False)
    ratings: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    summary: str = ""
    # {year: {"computed": cents, "final": cents, "reason": text}}
    grants: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
