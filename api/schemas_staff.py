"""Request and response bodies of staff work (issue 15): assignment, Prüfvermerk, aggregates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from api.schemas import DB_ID_MAX, HistoryEntry, Strict


class AssignmentRequest(Strict):
    references: list[str] = Field(min_length=1, max_length=500,
                                  description="Aktenzeichen of the cases to assign")
    case_officer_id: int | None = Field(ge=1, le=DB_ID_MAX,
                                        description="The new case officer; null releases")
    reason: str | None = Field(default=None, max_length=2000)


class AssignmentResult(BaseModel):
    changed: list[HistoryEntry]


class RatingIn(Strict):
    rating: str | None = Field(default=None, max_length=100)
    note: str = Field(default="", max_length=4000)


class AssessmentIn(Strict):
    ratings: dict[str, RatingIn] = Field(default_factory=dict)
    summary: str = Field(default="", max_length=20000)
    amounts: dict[str, str | int] = Field(
        default_factory=dict, description='Recommended euros per budget year: {"2027": "50000"}')


class CriterionOut(BaseModel):
    code: str
    label: str
    rating: str | None
    rating_label: str | None
    note: str


class ScaleStepOut(BaseModel):
    code: str
    value: int
    label: str


class AssessmentOut(BaseModel):
    reference: str
    required: bool  # the call asks for a structured assessment
    version: int  # 0: none recorded yet
    versions: int
    complete: bool
    missing: list[str]
    author_id: int | None
    at: datetime | None
    criteria: list[CriterionOut]
    scale: list[ScaleStepOut]
    summary: str
    amounts: dict[str, str]


class CriterionIn(Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] = Field(
        description="Stable key, e.g. quartiersbezug")
    de: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"[^\s]")]
    en: Annotated[str, StringConstraints(max_length=200)] = ""


class CriteriaIn(Strict):
    criteria: list[CriterionIn] | None = Field(
        max_length=30, description='[{"code": "quartiersbezug", "de": "Quartiersbezug", '
                                   '"en": "…"}]; null: none (the Prüfvermerk is optional)')


class AggregateGroup(BaseModel):
    key: str
    label: str
    applications: int
    requested: str
    approved: str


class AggregatesOut(BaseModel):
    by: str
    call: str | None
    groups: list[AggregateGroup]
    total: dict[str, Any]
