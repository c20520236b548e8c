"""Logging in (OAuth2 password flow, throttled), logging out, changing one's password, who am I."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm

from api import auth
from api.deps import AccountDep, LanguageDep, SessionDep, SettingsDep, UnitOfWorkRoute, UserDep
from api.errors import workflow_problem
from api.schemas import PasswordChange, Token, UserOut
from workflow import users
from workflow.errors import InvalidInput, LoginFailed, TooManyLoginAttempts
from workflow.presenters import user_out
from workflow.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["auth"], route_class=UnitOfWorkRoute)
log = logging.getLogger("quartier.auth")


def _address(request: Request) -> str:
    return request.client.host if request.client else "-"


def _throttled(request: Request, refusal: TooManyLoginAttempts, account: str) -> JSONResponse:
    log.warning("login throttled account=%r address=%s retry_after=%s", account,
                _address(request), refusal.retry_after)
    response = workflow_problem(request, refusal)
    response.headers["Retry-After"] = str(refusal.retry_after)
    return response


def _token(login: Any, settings: Settings) -> Token:
    """A token for the login (anything with `id` and `token_version`)."""
    return Token(access_token=auth.create_access_token(login, settings),
                 expires_in=settings.token_lifetime_minutes * 60)


@router.post("/auth/token", response_model=Token, summary="Log in with email and password",
             responses={429: {"description": "Too many failed logins (Retry-After)"}})
def login(request: Request, session: SessionDep, settings: SettingsDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token | JSONResponse:
    """OAuth2 password flow: `username` is the email address. Answers a bearer token. After an
    admin reset the token serves only `POST /me/password` (every other endpoint answers 403)."""
    account = form.username.strip().lower()
    throttle = auth.login_throttle(request.app.state, settings)
    try:
        throttle.check(account, _address(request))
    except TooManyLoginAttempts as refusal:
        return _throttled(request, refusal, account)
    try:
        login = users.authenticate(session, form.username, form.password)
    except LoginFailed as failure:
        throttle.failed(account, _address(request))
        log.warning("login failed account=%r address=%s reason=%s", account, _address(request),
                    failure.reason)
        raise
    throttle.succeeded(account)
    request.state.user_id = login.id
    return _token(login, settings)


@router.post("/auth/logout", status_code=204, summary="Log out (every token of the account)")
def logout(session: SessionDep, user: AccountDep) -> Response:
    """Revokes every token issued to this account so far, this one included."""
    users.revoke_tokens(session, user.id)
    return Response(status_code=204)


@router.post("/me/password", response_model=Token, summary="Change one's own password",
             responses={429: {"description": "Too many wrong current passwords (Retry-After)"}})
def change_password(request: Request, body: PasswordChange, session: SessionDep,
                    settings: SettingsDep, user: AccountDep) -> Token | JSONResponse:
    """With the current and the new password (at least 12 characters, not a common one). Every
    earlier token stops working; the answer is a new one."""
    throttle = auth.login_throttle(request.app.state, settings)
    try:
        throttle.check(user.email, _address(request))
    except TooManyLoginAttempts as refusal:
        return _throttled(request, refusal, user.email)
    try:
        users.change_password(session, user, body.current_password, body.new_password)
    except InvalidInput as refusal:
        if refusal.extra.get("field") == "current_password":
            throttle.failed(user.email, _address(request))
            log.warning("password change with a wrong current password account=%r address=%s",
                        user.email, _address(request))
        raise
    return _token(user, settings)


@router.get("/me", response_model=UserOut, summary="The logged-in user")
def me(user: UserDep, lang: LanguageDep) -> dict:
    return user_out(user, lang)
