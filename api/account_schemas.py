"""Request and response bodies of onboarding: registrations, organisations, one-time links,
invitations (the logic is workflow.onboarding and workflow.tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from api.schemas import VISIBLE, Strict
from states.accounts import LEGAL_FORMS, OrganisationStatus

Text = Annotated[str, StringConstraints(max_length=200)]
LegalForm = Annotated[str, Field(json_schema_extra={"enum": list(LEGAL_FORMS)},
                                 max_length=60, description="A key of the legal forms")]
Language = Annotated[str, Field(default="de", pattern="^(de|en)$")]


class RegistrationIn(Strict):
    """A new organisation and its contact person (who becomes the organisation's admin)."""

    name: Text
    legal_form: LegalForm
    street: Text
    postcode: Annotated[str, StringConstraints(max_length=10)]
    city: Text
    contact_name: Text
    contact_email: Annotated[str, StringConstraints(max_length=320)]
    language: Language = "de"


class OrganisationOut(BaseModel):
    id: int
    name: str
    legal_form: str
    legal_form_label: str
    street: str
    postcode: str
    city: str
    contact_name: str
    contact_email: str
    status: OrganisationStatus
    status_label: str
    registered_at: datetime | None
    confirmed_at: datetime | None
    rejection_reason: str | None
    contact_user_id: int | None


class RegistrationOut(BaseModel):
    organisation: OrganisationOut
    message: str


class RejectionIn(Strict):
    reason: Annotated[str, StringConstraints(max_length=2000, pattern=VISIBLE)]


class PasswordResetRequest(Strict):
    email: Annotated[str, StringConstraints(max_length=320)]


class PasswordResetConfirm(Strict):
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    new_password: Annotated[str, StringConstraints(max_length=1000)]


class Accepted(BaseModel):
    message: str


class InvitationIn(Strict):
    email: Annotated[str, StringConstraints(max_length=320)]
    name: Text
    language: Language = "de"
