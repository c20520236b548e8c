"""Logging in and out of the portal, and choosing the language before logging in."""

from __future__ import annotations

import logging

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
    home_of,
    page,
    portal_router,
    redirect,
    refused,
    set_cookie,
)
from api.portal.i18n import _
from workflow import users
from workflow.errors import LoginFailed, TooManyLoginAttempts

router = portal_router()
log = logging.getLogger("quartier.portal")


def safe_next(target: str | None, default: str) -> str:
    """Only a path of this site (no other host, no scheme) is a place to go back to."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


@router.get("/anmelden")
def login_form(request: Request, user: MaybeUserDep, weiter: str | None = None) -> Response:
    if user is not None:
        return redirect(request, safe_next(weiter, home_of(user.role)))
    return page(request, "portal/login.html", {"next": safe_next(weiter, "")})


@router.post("/anmelden")
def login(request: Request, session: SessionDep, settings: SettingsDep, form: FormDep) -> Response:
    email = str(form.get("email") or "").strip()
    password = str(form.get("password") or "")
    target = str(form.get("weiter") or "")
    context = {"next": safe_next(target, ""), "values": {"email": email}}
    if not email or not password:
        errors = {}
        if not email:
            errors["email"] = _(request, "Bitte geben Sie Ihre E-Mail-Adresse ein.")
        if not password:
            errors["password"] = _(request, "Bitte geben Sie Ihr Passwort ein.")
        return page(request, "portal/login.html", {**context, "errors": errors}, 422)
    account = email.lower()
    throttle = auth.login_throttle(request.app.state, settings)
    try:
        throttle.check(account, _address(request))
        found = users.authenticate(session, email, password)
    except TooManyLoginAttempts as refusal:
        log.warning("portal login throttled account=%r address=%s", account, _address(request))
        response = page(request, "portal/login.html", {**context, "errors": {
            "": refusal.message(i18n.request_language(request))}}, 429)
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    except LoginFailed as failure:
        refused(session)
        throttle.failed(account, _address(request))
        log.warning("portal login failed account=%r address=%s reason=%s", account,
                    _address(request), failure.reason)
        return page(request, "portal/login.html", {**context, "errors": {
            "": _(request, "E-Mail-Adresse oder Passwort ist falsch, oder das Konto ist "
                           "gesperrt.")}}, 401)
    throttle.succeeded(account)
    request.state.user_id = found.id
    from workflow.models import User
    user = session.get(User, found.id)
    default = "/konto/passwort" if found.must_change_password else home_of(user.role)
    response = redirect(request, safe_next(target, default) if not found.must_change_password
                        else default, flash=_(request, "Sie sind angemeldet."))
    set_cookie(request, response, SESSION_COOKIE, auth.create_access_token(found, settings),
               max_age=settings.token_lifetime_minutes * 60)
    return response


@router.post("/abmelden")
def logout(request: Request, session: SessionDep, user: ViewerDep, form: FormDep) -> Response:
    """Ends every login of the account (as the API's logout does)."""
    users.revoke_tokens(session, user.id)
    request.state.portal_language = user.language
    response = redirect(request, "/", flash=_(request, "Sie sind abgemeldet."))
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/sprache")
def choose_language(request: Request, zu: str = "de", weiter: str | None = None) -> Response:
    """The language of the pages before logging in (afterwards the profile's language counts)."""
    language = zu if zu in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE
    response = redirect(request, safe_next(weiter, "/"))
    set_cookie(request, response, i18n.LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600)
    return response
