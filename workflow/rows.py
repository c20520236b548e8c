"""Typed rows: what one firing reads, as plain dataclasses (not ORM objects), and who acts.

The repository builds them from the columns of one statement (`repository.load_context`); their
fields are the tables' columns, in the tables' order, so a row is built positionally.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import Self, TypeAlias

from states import Role
from workflow.models import Application, ApplicationYear, Call, Deadline, Programme, User

# What JSON columns (history payloads, programme configuration) hold.
JsonValue: TypeAlias = (
    str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
)
Payload: TypeAlias = dict[str, JsonValue]


class _Row:
    """Helpers shared by the row classes."""

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))  # type: ignore[arg-type]

    @classmethod
    def of(cls, values: object) -> Self:
        """A row from anything with the columns as attributes (an ORM object, a Core row)."""
        return cls(*(getattr(values, name) for name in cls.columns()))


@dataclass(slots=True)
class ApplicationRow(_Row):
    id: int
    reference: str | None
    call_id: int
    module_code: str
    organisation_id: int
    created_by_id: int
    municipality: str
    quartier: str
    title: str
    summary: str
    project_start: date | None
    project_end: date | None
    own_contribution_cents: int
    early_start_granted: bool
    state: str
    version: int
    case_officer_id: int | None
    assessment: str | None
    approved_by_id: int | None
    repayment_claim_cents: int | None
    received_at: datetime | None
    waitlisted_at: datetime | None
    approved_at: datetime | None
    notified_on: date | None
    appeal_waived_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)
class ApplicationSummary(_Row):
    """What a notice about many applications needs of each."""

    id: int
    reference: str | None
    title: str
    state: str


@dataclass(slots=True)
class CallRow(_Row):
    id: int
    programme_id: int
    code: str
    title: str
    opens_at: datetime
    closes_at: datetime
    policy: str
    min_grant_cents: int
    earliest_project_start: date | None
    min_project_months: int
    stop_kind: str | None
    stop_since: datetime | None
    stop_reason: str | None
    financing_kind: str
    grant_share_bp: int | None
    fixed_grant_cents: int | None
    max_grant_cents: int | None


@dataclass(slots=True)
class ProgrammeRow(_Row):
    id: int
    code: str
    name: str
    purpose: str
    contact_email: str
    contact_name: str
    config: Payload


@dataclass(slots=True)
class UserRow(_Row):
    """The parts of a user account a firing needs: whom to write to, in which language."""

    id: int
    email: str
    name: str
    language: str
    disabled: bool


@dataclass(slots=True)
class YearRow(_Row):
    id: int
    year: int
    requested_cents: int
    approved_cents: int | None
    spent_cents: int | None
    final_grant_cents: int | None = None  # fixed by staff's check of the final report


@dataclass(slots=True)
class DeadlineRow(_Row):
    id: int | None
    kind: str
    period: str
    due_date: date
    status: str
    application_id: int | None = None
    opened_at: datetime | None = None
    closed_at: datetime | None = None
    opened_by_id: int | None = None
    next_reminder_on: date | None = None


@dataclass(slots=True)
class BudgetLineRow(_Row):
    id: int
    call_id: int
    year: int
    source: str
    priority: int
    budget_cents: int
    committed_cents: int


@dataclass(frozen=True, slots=True)
class Actor:
    """Who fires a trigger: a user with a role, or the engine itself."""

    id: int | None
    role: Role
    organisation_id: int | None = None
    name: str = "System"

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.id, Role(user.role), user.organisation_id, user.name)


SYSTEM = Actor(None, Role.system)


@dataclass(slots=True)
class Loaded:
    """What one firing reads up front, with one statement."""

    app: ApplicationRow
    call: CallRow
    programme: ProgrammeRow
    carrier: UserRow | None  # the carrier contact who created the application
    officer: UserRow | None  # the case officer, if there is one
    years: dict[int, YearRow] = field(default_factory=dict)  # by budget year
    deadlines: list[DeadlineRow] = field(default_factory=list)  # earliest first


# The ORM model each row mirrors (the repository keeps loaded ORM objects current from rows).
MODEL_OF: dict[type, type] = {
    ApplicationRow: Application, CallRow: Call, ProgrammeRow: Programme, UserRow: User,
    YearRow: ApplicationYear, DeadlineRow: Deadline,
}


def visible(actor: Actor, app: ApplicationRow | Application) -> bool:
    """Carriers see only their own organisation's applications; every other role sees all."""
    return actor.role != Role.carrier or app.organisation_id == actor.organisation_id
