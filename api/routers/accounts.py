"""Onboarding over HTTP: a public registration, the admin's confirmation or rejection, password
reset by an emailed one-time link, invitations of colleagues (workflow.onboarding, .tokens)."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from api import auth
from api.account_schemas import (
    Accepted,
    InvitationIn,
    OrganisationOut,
    PasswordResetConfirm,
    PasswordResetRequest,
    RegistrationIn,
    RegistrationOut,
    RejectionIn,
)
from api.deps import ActorDep, AdminDep, LanguageDep, SessionDep, SettingsDep, UnitOfWorkRoute
from api.errors import workflow_problem
from api.routers.auth import _address, _token
from api.schemas import RowId, Token, UserOut
from states.accounts import OrganisationStatus
from workflow import onboarding, tokens
from workflow.errors import InvalidLink, TooManyLoginAttempts
from workflow.models import utcnow
from workflow.presenters import user_out

router = APIRouter(prefix="/api/v1", tags=["onboarding"], route_class=UnitOfWorkRoute)
log = logging.getLogger("quartier.auth")
RESET_THROTTLE = "password_reset_throttle"
REGISTRATION_THROTTLE = "registration_throttle"

RECEIVED = {"de": "Vielen Dank. Die Registrierung ist eingegangen; nach der Bestätigung durch "
                  "die Programmverwaltung erhält die Ansprechperson eine E-Mail mit einem Link "
                  "zum Festlegen des Passworts.",
            "en": "Thank you. The registration has arrived; once the programme administration "
                  "has confirmed it, the contact person receives an email with a link to choose "
                  "the password."}
RESET_SENT = {"de": "Wenn es zu dieser E-Mail-Adresse ein aktives Konto gibt, ist eine E-Mail "
                    "mit einem Link zum Festlegen eines neuen Passworts unterwegs.",
              "en": "If there is an active account with this email address, an email with a "
                    "link to choose a new password is on its way."}


def _throttled(request: Request, refusal: TooManyLoginAttempts) -> JSONResponse:
    response = workflow_problem(request, refusal)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


@router.post("/public/registrations", status_code=201, response_model=RegistrationOut,
             summary="Register an organisation (no login; confirmed by an admin)",
             responses={429: {"description": "Too many registrations (Retry-After)"}})
def register(request: Request, body: RegistrationIn, session: SessionDep,
             settings: SettingsDep, lang: LanguageDep) -> dict[str, Any] | JSONResponse:
    """The organisation waits for confirmation; its contact gets the email "Registrierung
    eingegangen" and, once confirmed, a one-time link to choose a password. A name or an email
    address already registered is refused with 409. Throttled per client address like logins
    (every registration counts)."""
    throttle = auth.login_throttle(request.app.state, settings, REGISTRATION_THROTTLE)
    account = "registration:" + body.contact_email.strip().lower()
    try:
        throttle.check(account, _address(request))
    except TooManyLoginAttempts as refusal:
        return _throttled(request, refusal)
    throttle.failed(account, _address(request))
    organisation, contact = onboarding.register(session, body.model_dump())
    return {"organisation": onboarding.organisation_out(organisation, lang, contact),
            "message": RECEIVED[lang if lang in RECEIVED else "de"]}


@router.get("/admin/organisations", response_model=list[OrganisationOut],
            summary="Organisations (registrations), the oldest first")
def list_organisations(session: SessionDep, actor: AdminDep, lang: LanguageDep,
                       status: Annotated[OrganisationStatus | None, Query(
                           description="Only these, e.g. pending")] = None
                       ) -> list[dict[str, Any]]:
    return [onboarding.organisation_out(o, lang, onboarding.contact_of(session, o))
            for o in onboarding.organisations(session, status.value if status else None)]


@router.post("/admin/organisations/{organisation_id}/confirm", response_model=OrganisationOut,
             summary="Confirm a registration (the contact is emailed a link); audited")
def confirm_organisation(organisation_id: RowId, session: SessionDep, actor: AdminDep,
                         settings: SettingsDep, lang: LanguageDep) -> dict[str, Any]:
    """A registration decided already is refused with 409."""
    organisation = onboarding.confirm(session, actor, organisation_id,
                                      link_hours=settings.onboarding_link_hours)
    return onboarding.organisation_out(organisation, lang,
                                       onboarding.contact_of(session, organisation))


@router.post("/admin/organisations/{organisation_id}/reject", response_model=OrganisationOut,
             summary="Reject a registration with a reason (the contact is told); audited")
def reject_organisation(organisation_id: RowId, body: RejectionIn, session: SessionDep,
                        actor: AdminDep, lang: LanguageDep) -> dict[str, Any]:
    organisation = onboarding.reject(session, actor, organisation_id, body.reason)
    return onboarding.organisation_out(organisation, lang,
                                       onboarding.contact_of(session, organisation))


@router.post("/auth/password-reset", status_code=202, response_model=Accepted,
             summary="Ask for a link to choose a new password (same answer for any address)",
             responses={429: {"description": "Too many requests (Retry-After)"}})
def request_password_reset(request: Request, body: PasswordResetRequest, session: SessionDep,
                           settings: SettingsDep, lang: LanguageDep
                           ) -> dict[str, Any] | JSONResponse:
    """Throttled like logins (per address asked for and per client address): every request
    counts."""
    account = body.email.strip().lower()
    throttle = auth.login_throttle(request.app.state, settings, RESET_THROTTLE)
    try:
        throttle.check(account, _address(request))
    except TooManyLoginAttempts as refusal:
        log.warning("password reset throttled account=%r address=%s", account, _address(request))
        return _throttled(request, refusal)
    throttle.failed(account, _address(request))
    onboarding.request_password_reset(session, body.email,
                                      link_hours=settings.password_reset_link_hours)
    return {"message": RESET_SENT[lang if lang in RESET_SENT else "de"]}


@router.post("/auth/password-reset/confirm", response_model=Token,
             summary="Choose a password with a one-time link's token; answers a login token",
             responses={410: {"description": "The link is unknown, used or expired"},
                        429: {"description": "Too many invalid links (Retry-After)"}})
def confirm_password_reset(request: Request, body: PasswordResetConfirm, session: SessionDep,
                           settings: SettingsDep) -> Token | JSONResponse:
    """For every one-time link (a confirmed registration, an invitation, a reset). Every earlier
    login token of the account stops working."""
    # Invalid links count per client address (and per link, never for everyone at once).
    throttle = auth.login_throttle(request.app.state, settings, RESET_THROTTLE)
    link = "link:" + tokens.digest(body.token)
    try:
        throttle.check(link, _address(request))
    except TooManyLoginAttempts as refusal:
        return _throttled(request, refusal)
    try:
        user = tokens.redeem(session, body.token, body.new_password, utcnow())
    except InvalidLink:
        throttle.failed(link, _address(request))
        raise
    request.state.user_id = user.id
    return _token(user, settings)


@router.post("/me/invitations", status_code=201, response_model=UserOut,
             summary="Invite a colleague of one's organisation (organisation admins)",
             responses={403: {"description": "Only an organisation's admin invites colleagues"},
                        409: {"description": "The address has an account already"}})
def invite(body: InvitationIn, session: SessionDep, actor: ActorDep, settings: SettingsDep,
           lang: LanguageDep) -> dict[str, Any]:
    """The colleague gets an email with a one-time link to choose a password."""
    colleague = onboarding.invite(session, actor, body.model_dump(),
                                  link_hours=settings.onboarding_link_hours)
    return user_out(colleague, lang)
