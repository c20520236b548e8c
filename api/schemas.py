"""Request and response bodies (the presenters that fill them live in workflow.presenters).

Money goes over the wire as a string of euros and cents ("50000.00"), never as a float; requests
may also give whole euros as integers.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    WithJsonSchema,
)

from states import Policy, Role
from workflow import budget, reports

MAX_EUROS = 10**11  # workflow.budget caps amounts at 10^13 cents; larger ones are refused here
MAX_YEARS = 10  # budget years in one request
DB_ID_MAX = 2**31 - 1  # ids and offsets fit the database's integers
RowId = Annotated[int, Path(ge=1, le=DB_ID_MAX)]  # a row's id in a path
MAX_DOCUMENTS, MAX_DOCUMENT_NAME = 100, 200


def _money(value: Any) -> str | int:
    # Floats would round money; booleans are ints to Python but never amounts. Ints are bounded
    # here, before anything turns a 5,000-digit one into text (Python refuses that with a crash).
    if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_EUROS:
        value = int(value)  # 2721.0 is JSON's 2721 (JSON Schema counts it an integer): no rounding
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError('give euros as text ("50000.00") or a whole number, not a float')
    if isinstance(value, int) and abs(value) > MAX_EUROS:
        raise ValueError(f"at most {MAX_EUROS} euros")
    if isinstance(value, str) and len(value) > 40:
        raise ValueError("not an amount (at most 40 characters)")
    return value


# The amounts workflow.budget.parse_euros reads, as a JSON Schema pattern: plain (50000.50) or
# German (50.000,50) notation, ASCII digits, at most two decimals, below 10^11 euros.
MONEY_PATTERN = (r"(?:[0-9]{1,11}(?:[.,][0-9]{1,2})?"
                 r"|[0-9]{1,3}(?:\.[0-9]{3}){1,2}(?:,[0-9]{1,2})?"
                 r"|[0-9]{1,2}(?:\.[0-9]{3}){3}(?:,[0-9]{1,2})?)")
_MONEY_DESCRIPTION = 'Euros, e.g. "50000.00", "50.000,00" or 50000 (never a float)'
Money = Annotated[str | int, PlainValidator(_money), WithJsonSchema(
    {"anyOf": [{"type": "string", "pattern": f"^{MONEY_PATTERN}$"},
               {"type": "integer", "minimum": 0, "maximum": MAX_EUROS - 1}],
     "description": _MONEY_DESCRIPTION})]
SignedMoney = Annotated[str | int, PlainValidator(_money), WithJsonSchema(
    {"anyOf": [{"type": "string", "pattern": f"^[+-]?{MONEY_PATTERN}$"},
               {"type": "integer", "minimum": 1 - MAX_EUROS, "maximum": MAX_EUROS - 1}],
     "description": "A change in " + _MONEY_DESCRIPTION[0].lower() + _MONEY_DESCRIPTION[1:]})]
def _iso_day(value: object) -> object:
    """A day as ISO text only (2026-12-31); pydantic's lax mode would also take a timestamp."""
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("give the day as YYYY-MM-DD")
    return value


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A day in a query parameter: ISO text, as its schema (format: date) says.
IsoDay = Annotated[date, BeforeValidator(_iso_day)]
# Query text: anything but NUL, which PostgreSQL cannot hold in a string (the schema says so).
NO_NUL = r"^[^\x00]*$"
# A reason, a note: text with at least one character that is not a space.
# "Something visible": a character that is white space to none of the regular expression
# engines involved (pydantic-core's Rust regex, Python's re, and the ECMAScript reading of
# clients and schemathesis disagree on U+0085, U+FEFF and U+001C..U+001F).
VISIBLE = r"[^\s\u0085\ufeff\x1c-\x1f]"
Reason = Annotated[str, StringConstraints(max_length=5000, pattern=VISIBLE)]
BudgetYear = Annotated[str, StringConstraints(min_length=4, max_length=4, pattern="^[0-9]{4}$")]
def _amounts_schema(min_years: int = 0) -> dict[str, Any]:
    """Euros per budget year as the server reads them (JSON Schema)."""
    return {"type": "object", "minProperties": min_years, "maxProperties": MAX_YEARS,
            "propertyNames": {"pattern": "^[0-9]{4}$"},
            "additionalProperties": {"anyOf": [
                {"type": "string", "pattern": f"^{MONEY_PATTERN}$"},
                {"type": "integer", "minimum": 0, "maximum": MAX_EUROS - 1}]},
            "description": 'Euros per budget year, e.g. {"2021": "50000.00"}'}


Amounts = Annotated[dict[BudgetYear, Money], Field(max_length=MAX_YEARS),
                    WithJsonSchema(_amounts_schema())]
SomeAmounts = Annotated[dict[BudgetYear, Money], Field(min_length=1, max_length=MAX_YEARS),
                        WithJsonSchema(_amounts_schema(1))]
DocumentName = Annotated[str, StringConstraints(max_length=MAX_DOCUMENT_NAME)]
Code = Annotated[str, StringConstraints(max_length=50)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ------------------------------------------------------------------ requests


class FinancePlanYearIn(Strict):
    """One budget year of the Kosten- und Finanzierungsplan as the carrier gives it; the grant
    follows from it under the call's Finanzierungsart."""

    expenses: dict[Code, Money] = Field(
        default_factory=dict, max_length=50,
        description='Euros per cost heading of the programme, e.g. {"personnel": "40000.00"}')
    own: Money | None = Field(default=None, description="Eigenmittel")
    third_party: Money | None = Field(default=None, description="Drittmittel")


FinancePlanIn = Annotated[dict[BudgetYear, FinancePlanYearIn], Field(max_length=MAX_YEARS)]


class ApplicationFields(Strict):
    module_code: Code | None = None
    title: str | None = Field(default=None, max_length=5000)  # as workflow.drafts enforces
    summary: str | None = Field(default=None, max_length=5000)
    quartier: str | None = Field(default=None, max_length=5000)
    municipality: str | None = Field(default=None, max_length=5000)
    project_start: date | None = None
    project_end: date | None = None
    own_contribution: Money | None = None
    amounts: Amounts | None = Field(
        default=None, description='{"2027": "50000.00"}; not beside a finance plan')
    finance_plan: FinancePlanIn | None = Field(
        default=None, description="The Kosten- und Finanzierungsplan per budget year; the "
        "requested amounts and the own contribution follow from it")

    def engine_fields(self) -> dict[str, Any]:
        """Only the fields the client sent, in the form the engine takes."""
        return self.model_dump(mode="json", exclude_unset=True, exclude={"call"})


class ApplicationCreate(ApplicationFields):
    call: Code = Field(description="Code of the call, e.g. ZiQ-2021")
    module_code: Code


class ApplicationUpdate(ApplicationFields):
    """Fields of a draft to change; omitted fields stay as they are."""


class NachweisYearIn(Strict):
    """The zahlenmäßiger Nachweis of a budget year: actual expenses by heading of the approved
    plan, financing received."""

    expenses: dict[Code, Money] = Field(default_factory=dict, max_length=50)
    own: Money | None = None
    third_party: Money | None = None
    grant: Money | None = None


class BelegIn(Strict):
    year: int = Field(ge=1900, le=2200)
    heading: Code
    date: date
    party: str = Field(max_length=500)
    purpose: str = Field(max_length=500)
    amount: Money
    number: str | None = Field(default=None, max_length=60)


class FinalReportContent(Strict):
    """A Verwendungsnachweis: Sachbericht, zahlenmäßiger Nachweis per year, Belegliste."""

    sachbericht: str | None = Field(default=None, max_length=50_000)
    nachweis: dict[BudgetYear, NachweisYearIn] | None = Field(default=None, max_length=MAX_YEARS)
    belege: list[BelegIn] | None = Field(default=None, max_length=5000)


class FirePayload(Strict):
    amounts: Amounts | None = None
    spending: Amounts | None = None
    documents: list[DocumentName] | None = Field(default=None, max_length=MAX_DOCUMENTS)
    deadline: date | None = None
    repayment: Money | None = None
    # Issue 12: the carrier's Rechtsbehelfsverzicht lets `start` come before the project start.
    waiver_of_appeal: bool | None = Field(
        default=None, description="start: the carrier waives its right of appeal "
        "(Rechtsbehelfsverzicht), so the project may start before its start date")
    # Uploads the transition carries (issue 13), and why none when documents were requested.
    document_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        default=None, max_length=MAX_DOCUMENTS)
    explanation: str | None = Field(default=None, max_length=2000)
    # submit_final_report (issue 16): the Verwendungsnachweis; none of them: the saved draft.
    sachbericht: str | None = Field(default=None, max_length=50_000)
    nachweis: dict[BudgetYear, NachweisYearIn] | None = Field(default=None, max_length=MAX_YEARS)
    belege: list[BelegIn] | None = Field(default=None, max_length=5000)


class FireRequest(Strict):
    reason: str | None = Field(default=None, max_length=5000)
    payload: FirePayload | None = None

    def engine_payload(self) -> dict[str, Any]:
        if self.payload is None:
            return {}
        return self.payload.model_dump(mode="json", exclude_none=True)


class BudgetChangeRequest(Strict):
    year: int = Field(ge=1900, le=2200)
    source: str = Field(max_length=100)
    delta: SignedMoney = Field(description='Signed euros, e.g. "100000" or "-2500.50"')
    note: str = Field(default="Budgetänderung", max_length=2000)

    def delta_cents(self) -> int:
        """The signed change in cents; one sign at most, the amount parsed as any other."""
        return budget.parse_signed_euros(self.delta)


class FundingStopRequest(Strict):
    reason: Annotated[str, StringConstraints(max_length=2000, pattern=VISIBLE)]


class InterimReportSubmit(Strict):
    period: str | None = Field(default=None, max_length=20,
                               description="Budget year; default: the next open one")
    narrative: Annotated[str, StringConstraints(max_length=reports.MAX_NARRATIVE,
                                                pattern=VISIBLE)]
    spending: SomeAmounts = Field(
        description='Spending to date per budget year {"2021": "38500.00"}')
    # Uploads the report carries (issue 13); default: those answering its deadline.
    document_ids: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None = Field(
        default=None, max_length=MAX_DOCUMENTS)


class InterimReportReview(Strict):
    note: str | None = Field(default=None, max_length=5000)


class InterimChangesRequest(Strict):
    reason: Reason
    deadline: date | None = Field(default=None, description="Default: 14 days (programme rule)")


class UserCreate(Strict):
    email: str = Field(max_length=320)
    name: str = Field(max_length=200)
    role: Role
    password: str = Field(max_length=1000)  # the policy (workflow.security) says why not
    organisation_id: int | None = None
    language: str = Field(default="de", pattern="^(de|en)$")


# ------------------------------------------------------------------ responses


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(BaseModel):
    id: int
    email: str
    name: str
    role: str
    role_label: str
    organisation_id: int | None
    language: str
    disabled: bool
    organisation_admin: bool = False  # invites colleagues of the organisation


class YearAmounts(BaseModel):
    year: int
    requested: str
    approved: str | None
    spent: str | None


class FinancePlanYearOut(BaseModel):
    expenses: dict[str, str]
    own: str
    third_party: str
    grant: str
    total_expenses: str
    total_financing: str
    difference: str = Field(description="Expenses minus financing; 0.00 when the year balances")


class ApplicationSummary(BaseModel):
    id: int
    reference: str
    call: str
    module_code: str
    organisation_id: int
    organisation: str
    municipality: str
    quartier: str
    title: str
    state: str
    state_label: str
    version: int
    received_at: datetime | None
    updated_at: datetime


class FinalityOut(BaseModel):
    """Bestandskraft of the approval notice: notified on, the appeal period's last day, the
    carrier's waiver of appeal, the first day it is final, and whether it is final today."""

    notified_on: date | None
    appeal_ends_on: date | None
    appeal_waived_at: datetime | None
    final_on: date | None
    final: bool


class ApplicationOut(ApplicationSummary):
    summary: str
    project_start: date | None
    project_end: date | None
    own_contribution: str
    early_start_granted: bool
    case_officer_id: int | None
    approved_by_id: int | None
    assessment: str | None
    approved_at: datetime | None
    waitlisted_at: datetime | None
    repayment_claim: str | None
    created_at: datetime
    years: list[YearAmounts]
    finance_plan: dict[str, FinancePlanYearOut] | None = None
    finality: FinalityOut


class WorklistItem(ApplicationSummary):
    """One line of the worklist: the summary with who has the case, what is due next, money."""

    case_officer_id: int | None
    case_officer_name: str | None
    next_due_date: date | None
    requested: str
    approved: str | None


class ApplicationPage(BaseModel):
    items: list[WorklistItem]
    total: int
    limit: int
    offset: int
    sort: str
    order: str


class HistoryEntry(BaseModel):
    id: int
    trigger: str
    from_state: str | None
    to_state: str
    actor_id: int | None
    actor_name: str | None
    actor_role: str
    at: datetime
    reason: str | None
    late: bool
    payload: dict[str, Any]


class DeadlineOut(BaseModel):
    kind: str
    label: str
    period: str
    due_date: date
    status: str
    overdue: bool
    opened_at: datetime
    closed_at: datetime | None


class Refusal(BaseModel):
    type: str
    title: str
    detail: str


class TriggerOut(BaseModel):
    trigger: str
    label: str
    available: bool
    reason: Refusal | None


class FireResult(BaseModel):
    transition: HistoryEntry
    application: ApplicationOut


# ------------------------------------------------------------------ issue 12: early start


class EarlyStartRequest(Strict):
    reason: Reason


class EarlyStartResult(BaseModel):
    transition: HistoryEntry
    application: ApplicationOut
    right_to_funding: bool = Field(description="Always false: an early start creates no right "
                                   "to funding")
    notice: str


class YearStatusOut(BaseModel):
    year: int
    budget: str
    committed: str
    available: str
    available_cents: int
    paid: str  # money paid out of the committed money (issue 16)
    repaid: str


class FundingStopOut(BaseModel):
    in_force: bool
    kind: str | None
    since: datetime | None
    reason: str | None


class WindowOut(BaseModel):
    opens_at: datetime
    closes_at: datetime
    open_now: bool


class CallOut(BaseModel):
    code: str
    title: str
    programme: str
    policy: str
    min_grant: str
    earliest_project_start: date | None
    min_project_months: int
    submission_window: WindowOut
    funding_stop: FundingStopOut
    years: list[YearStatusOut]


class LedgerEntryOut(BaseModel):
    id: int
    at: datetime
    kind: str
    year: int
    source: str
    committed_delta: str
    budget_delta: str
    paid_delta: str
    repaid_delta: str
    funds_call_id: int | None
    application: str | None
    actor_id: int | None
    note: str


class LedgerPage(BaseModel):
    items: list[LedgerEntryOut]
    total: int
    limit: int
    offset: int


class InterimReportOut(BaseModel):
    id: int
    period: str
    status: str
    narrative: str
    spending: dict[str, str | None]
    late: bool
    submitted_at: datetime
    reviewed_at: datetime | None
    review_note: str | None


class ReminderOut(BaseModel):
    deadline_id: int
    due_date: date
    step: str
    status: str
    scheduled_on: date
    at: datetime
    recipient: str | None
    grace_until: date | None


class OutboxMessageOut(BaseModel):
    id: int
    status: str
    attempts: int
    template: str
    recipient: str
    language: str
    subject: str | None
    message_id: str
    application_id: int | None
    created_at: datetime
    next_attempt_at: datetime
    sent_at: datetime | None
    last_error: str | None


# ------------------------------------------------------------------ the mail overview (admins)


class MailOverviewOut(BaseModel):
    """The outbox at a glance, dead letters first."""

    dead_count: int = Field(description="Emails that failed every scheduled retry.")
    oldest_dead: OutboxMessageOut | None = Field(description="The oldest dead letter, if any.")
    warning: str | None = Field(
        description="What an administrator must see first while dead letters exist (in the "
                    "language asked for); null when there are none.")
    pending_count: int = Field(description="Emails waiting for delivery (retrying included).")
    retrying_count: int = Field(description="Pending emails after at least one failed attempt.")
    sent_count: int
    retry_schedule_seconds: list[float] = Field(
        description="The waits after the 1st, 2nd, ... failed attempt "
                    "(QUARTIER_MAIL_RETRY_SCHEDULE); after the last one an email is dead.")


# ------------------------------------------------------------------ accounts: passwords


class PasswordChange(Strict):
    current_password: str = Field(max_length=1000)
    new_password: str = Field(max_length=1000)


class PasswordReset(Strict):
    password: str | None = Field(
        default=None, max_length=1000,
        description="The new password; without it a random one-time password is made.")


class PasswordResetOut(BaseModel):
    user: UserOut
    password: str | None = Field(
        description="The one-time password made by the reset (shown only this once); null when "
                    "the administrator gave one.")


# ------------------------------------------------------------------ public call status (no login)


class PublicWindowOut(BaseModel):
    opens_at: datetime = Field(description="Berlin time with its offset")
    closes_at: datetime = Field(description="Berlin time with its offset")


class PublicFundingStopOut(BaseModel):
    in_force: bool
    kind: str | None = Field(description="declared or automatic; null without a stop")
    since: datetime | None = Field(description="Berlin time with its offset")
    reason: str | None


class PublicStatusLabel(BaseModel):
    de: str
    en: str


class PublicCallOut(BaseModel):
    """A call as anyone may see it without logging in: no ids, no policy, no money."""

    code: str
    title: str
    programme: str
    open_now: bool = Field(description="The submission window is open now")
    submission_window: PublicWindowOut
    funding_stop: PublicFundingStopOut
    status: str = Field(description="funding_stop, not_yet_open, open or closed")
    status_label: PublicStatusLabel


# ------------------------------------------------------------------ programme administration

AdminCode = Annotated[str, StringConstraints(max_length=50)]  # workflow.calls_admin checks it
AdminText = Annotated[str, StringConstraints(max_length=2000)]
# The codes' rules as workflow.calls_admin states them (PROGRAMME_CODE, MODULE_CODE, CALL_CODE).
ProgrammeCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]{0,19}$")]
ModuleCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,10}$")]
CallCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")]
RequiredText = Annotated[str, StringConstraints(min_length=1, max_length=2000,
                                                pattern=VISIBLE)]


class ModuleIn(Strict):
    code: ModuleCode = Field(description="1 to 10 letters or digits, e.g. B1")
    name: RequiredText


class ModuleRename(Strict):
    name: RequiredText


class ExpenseHeadingIn(Strict):
    code: str = Field(max_length=30, description="Stable code, e.g. personnel (lower-case, _)")
    de: str = Field(max_length=120, description="German label, e.g. Personalausgaben")
    en: str = Field(default="", max_length=120, description="English label (default: German)")


class ExpenseHeadings(Strict):
    headings: list[ExpenseHeadingIn] = Field(max_length=30)


class ProgrammeCreate(Strict):
    code: ProgrammeCode = Field(description="Prefix of reference numbers, e.g. ZiQ")
    name: RequiredText
    purpose: AdminText = ""
    contact_name: AdminText = ""
    contact_email: AdminText = ""
    config: dict[str, Any] = Field(default_factory=dict,
                                   description="Deadline rules, reminder steps (JSON object)")
    modules: list[ModuleIn] = Field(default_factory=list, max_length=50)


class ModuleOut(BaseModel):
    code: str
    name: str


class ProgrammeOut(BaseModel):
    code: str
    name: str
    purpose: str
    contact_name: str
    contact_email: str
    config: dict[str, Any]
    modules: list[ModuleOut]
    calls: list[str]


class BudgetLineIn(Strict):
    year: int = Field(ge=2000, le=2100)
    source: RequiredText = Field(description="Funding source, e.g. Landesmittel, ESF, REACT-EU")
    amount: Money
    priority: int | None = Field(default=None, ge=0, le=99, description=(
        "Order in which approvals draw on the year's sources; default: the order given"))


_WINDOW = "ISO 8601; without an offset it is Berlin time"


class CallFields(Strict):
    code: CallCode | None = None
    title: RequiredText | None = None
    opens_at: datetime | None = Field(default=None, description=_WINDOW)
    closes_at: datetime | None = Field(default=None, description=_WINDOW)
    policy: Policy | None = Field(default=None, description="Approval without money: "
                                  "waitlist or reject")
    min_grant: Money | None = None
    earliest_project_start: date | None = None
    min_project_months: int | None = Field(default=None, ge=0, le=120)
    budget: list[BudgetLineIn] | None = Field(default=None, max_length=100)

    def admin_fields(self) -> dict[str, Any]:
        """Only the fields the client sent, as workflow.calls_admin takes them."""
        fields = self.model_dump(exclude_unset=True)
        if "policy" in fields and fields["policy"] is not None:
            fields["policy"] = fields["policy"].value
        return fields


class CallCreate(CallFields):
    programme: ProgrammeCode = Field(description="Code of the programme, e.g. ZiQ")
    code: CallCode
    title: RequiredText
    opens_at: datetime = Field(description=_WINDOW)
    closes_at: datetime = Field(description=_WINDOW)
    budget: list[BudgetLineIn] = Field(min_length=1, max_length=100)

    def admin_fields(self) -> dict[str, Any]:
        return {k: v for k, v in super().admin_fields().items() if k != "programme"}


class CallUpdate(CallFields):
    """Fields of the call to change; omitted ones stay. Budget lines given are set (year and
    source), others stay. Refused once an application of the call was submitted."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})


class CallClose(Strict):
    reason: Reason


class AuditEntryOut(BaseModel):
    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    action: str
    action_label: str
    subject_kind: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    total: int
    limit: int
    offset: int
# --- The case file (Akte), issue 13 ---------------------------------------------------------------


class DocumentOut(BaseModel):
    id: int
    purpose: str
    purpose_label: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by_id: int | None
    uploaded_by: str | None  # None: generated by Quartier
    uploaded_at: datetime
    deadline_id: int | None
    transition_id: int | None
    scan: str
