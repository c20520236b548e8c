"""Account pages: register an organisation, forgotten password, choose a password from a one-time
link (onboarding, reset, invitation), the profile and the password change."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api import auth
from api.deps import SessionDep, SettingsDep
from api.portal import i18n
from api.portal.base import (
    SESSION_COOKIE,
    FormDep,
    MaybeUserDep,
    ViewerDep,
    form_errors,
    form_values,
    home_of,
    page,
    portal_router,
    redirect,
    refused,
    set_cookie,
)
from api.portal.i18n import _
from api.routers.accounts import REGISTRATION_THROTTLE, RESET_THROTTLE
from states.accounts import LEGAL_FORMS, TokenPurpose
from workflow import onboarding, tokens, users
from workflow.errors import InvalidInput, InvalidLink, TooManyLoginAttempts, WorkflowError
from workflow.models import User, utcnow
from workflow.settings import Settings

router = portal_router()
log = logging.getLogger("quartier.portal")

REGISTRATION_FIELDS = ("name", "legal_form", "street", "postcode", "city", "contact_name",
                       "contact_email", "language")


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _language(request: Request) -> str:
    return i18n.request_language(request)


def _log_in(request: Request, response: Response, user: User, settings: Settings) -> Response:
    """Set the login cookie for `user` (at its current token version)."""
    set_cookie(request, response, SESSION_COOKIE, auth.create_access_token(user, settings),
               max_age=settings.token_lifetime_minutes * 60)
    return response


# ------------------------------------------------------------------ registration


def _legal_forms(language: str) -> list[tuple[str, str]]:
    return [("", "–")] + [(key, label.in_language(language)) for key, label in LEGAL_FORMS.items()]


def _registration_page(request: Request, values: dict[str, Any], errors: dict[str, str],
                       status: int = 200) -> Response:
    return page(request, "portal/accounts/register.html", {
        "values": values, "errors": errors, "legal_forms": _legal_forms(_language(request))},
        status_code=status)


@router.get("/registrieren")
def registration_form(request: Request, user: MaybeUserDep) -> Response:
    return _registration_page(request, {"language": _language(request)}, {})


@router.post("/registrieren")
def register(request: Request, session: SessionDep, settings: SettingsDep,
             form: FormDep) -> Response:
    """Throttled per client address like the API's registration."""
    values = form_values(form)
    throttle = auth.login_throttle(request.app.state, settings, REGISTRATION_THROTTLE)
    account = "registration:" + values.get("contact_email", "").strip().lower()
    try:
        throttle.check(account, _address(request))
    except TooManyLoginAttempts as refusal:
        response = _registration_page(request, values, {
            "": refusal.message(_language(request))}, 429)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    throttle.failed(account, _address(request))
    try:
        onboarding.register(session, {k: values.get(k, "") for k in REGISTRATION_FIELDS})
    except WorkflowError as refusal:
        refused(session)
        return _registration_page(request, values, form_errors(refusal, _language(request)),
                                  refusal.status)
    return redirect(request, "/registrieren/danke")


@router.get("/registrieren/danke")
def registration_thanks(request: Request, user: MaybeUserDep) -> Response:
    return page(request, "portal/accounts/register_thanks.html")


# ------------------------------------------------------------------ forgotten password


@router.get("/passwort-vergessen")
def forgotten_form(request: Request, user: MaybeUserDep) -> Response:
    return page(request, "portal/accounts/forgotten.html")


@router.post("/passwort-vergessen")
def forgotten(request: Request, session: SessionDep, settings: SettingsDep,
              form: FormDep) -> Response:
    """The same answer whether or not the account exists; throttled like the API's."""
    email = str(form.get("email") or "").strip()
    if not email:
        return page(request, "portal/accounts/forgotten.html", {"errors": {
            "email": _(request, "Bitte geben Sie Ihre E-Mail-Adresse ein.")}}, 422)
    throttle = auth.login_throttle(request.app.state, settings, RESET_THROTTLE)
    account = email.lower()
    try:
        throttle.check(account, _address(request))
    except TooManyLoginAttempts as refusal:
        log.warning("portal password reset throttled account=%r address=%s", account,
                    _address(request))
        response = page(request, "portal/accounts/forgotten.html", {
            "values": {"email": email}, "errors": {"": refusal.message(_language(request))}}, 429)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    throttle.failed(account, _address(request))
    onboarding.request_password_reset(session, email,
                                      link_hours=settings.password_reset_link_hours)
    return redirect(request, "/passwort-vergessen", flash=_(
        request, "Wenn es zu dieser E-Mail-Adresse ein aktives Konto gibt, ist eine E-Mail mit "
                 "einem Link zum Festlegen eines neuen Passworts unterwegs."))


# ------------------------------------------------------------------ a password from a link


def _choose_page(request: Request, token: str, link: tokens.LinkHolder | None,
                 errors: dict[str, str], refusal: InvalidLink | None = None,
                 status: int = 200) -> Response:
    return page(request, "portal/accounts/choose_password.html", {
        "token": token, "refusal": refusal.message(_language(request)) if refusal else None,
        "account": link.user if link else None,
        "purpose": link.token.purpose if link else None, "errors": errors,
        "Purpose": TokenPurpose}, status_code=status)


@router.get("/passwort-setzen/{token}")
def choose_form(request: Request, token: str, session: SessionDep) -> Response:
    try:
        link = tokens.holder(session, token, utcnow())
    except InvalidLink as refusal:
        return _choose_page(request, token, None, {}, refusal, refusal.status)
    request.state.portal_language = link.user.language
    return _choose_page(request, token, link, {})


@router.post("/passwort-setzen/{token}")
def choose(request: Request, token: str, session: SessionDep, settings: SettingsDep,
           form: FormDep) -> Response:
    """Choose the password; afterwards the user is logged in."""
    password = str(form.get("password") or "")
    now = utcnow()
    try:
        link = tokens.holder(session, token, now)
    except InvalidLink as refusal:
        return _choose_page(request, token, None, {}, refusal, refusal.status)
    request.state.portal_language = link.user.language
    if password != str(form.get("password_repeat") or ""):
        return _choose_page(request, token, link, {"password_repeat": _(
            request, "Die beiden Passwörter stimmen nicht überein.")}, status=422)
    try:
        user = tokens.redeem(session, token, password, now)
    except InvalidLink as refusal:
        refused(session)
        return _choose_page(request, token, None, {}, refusal, refusal.status)
    except InvalidInput as refusal:
        refused(session)
        return _choose_page(request, token, link, form_errors(refusal, _language(request)),
                            status=refusal.status)
    request.state.user_id = user.id
    response = redirect(request, home_of(user.role), flash=_(
        request, "Ihr Passwort ist gespeichert. Sie sind angemeldet."))
    return _log_in(request, response, user, settings)


# ------------------------------------------------------------------ profile and password


def _profile_page(request: Request, user: User, values: dict[str, Any] | None = None,
                  errors: dict[str, str] | None = None, status: int = 200) -> Response:
    shown = values or {"name": user.name, "language": user.language, "email": user.email}
    return page(request, "portal/accounts/profile.html", {
        "values": shown, "errors": errors or {},
        "languages": [("de", "Deutsch"), ("en", "English")]}, status_code=status)


@router.get("/konto")
def profile(request: Request, user: ViewerDep) -> Response:
    return _profile_page(request, user)


@router.post("/konto")
def save_profile(request: Request, session: SessionDep, user: ViewerDep,
                 form: FormDep) -> Response:
    """Name, language (the portal follows it) and email (a new one needs the password)."""
    values = form_values(form)
    try:
        users.update_profile(session, user, name=values.get("name", ""),
                             language=values.get("language", ""),
                             email=values.get("email", ""),
                             password=str(form.get("current_password") or ""))
    except WorkflowError as refusal:
        refused(session)
        return _profile_page(request, user, values, form_errors(refusal, _language(request)),
                             refusal.status)
    request.state.portal_language = user.language
    return redirect(request, "/konto", flash=_(request, "Ihre Angaben sind gespeichert."))


@router.get("/konto/passwort")
def password_form(request: Request, user: ViewerDep) -> Response:
    return page(request, "portal/accounts/password.html",
                {"must_change": user.must_change_password})


@router.post("/konto/passwort")
def change_password(request: Request, session: SessionDep, settings: SettingsDep,
                    user: ViewerDep, form: FormDep) -> Response:
    """Every other login of the account ends; this one continues with a new cookie."""
    current = str(form.get("current_password") or "")
    new = str(form.get("new_password") or "")
    context = {"must_change": user.must_change_password}
    if new != str(form.get("new_password_repeat") or ""):
        return page(request, "portal/accounts/password.html", {**context, "errors": {
            "new_password_repeat": _(request, "Die beiden Passwörter stimmen nicht überein.")}},
            422)
    throttle = auth.login_throttle(request.app.state, settings)
    try:
        throttle.check(user.email, _address(request))
        users.change_password(session, user, current, new)
    except TooManyLoginAttempts as refusal:
        response = page(request, "portal/accounts/password.html", {**context, "errors": {
            "": refusal.message(_language(request))}}, 429)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    except WorkflowError as refusal:
        refused(session)
        field = refusal.extra.get("field")
        if field == "current_password":
            throttle.failed(user.email, _address(request))
        errors = form_errors(refusal, _language(request))
        if field == "password":  # the policy's field is the new password here
            errors = {"new_password": errors["password"]}
        return page(request, "portal/accounts/password.html", {**context, "errors": errors},
                    refusal.status)
    response = redirect(request, home_of(user.role),
                        flash=_(request, "Ihr neues Passwort ist gespeichert."))
    return _log_in(request, response, user, settings)
