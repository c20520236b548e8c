"""Logging in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from api import auth
from api.deps import LanguageDep, SessionDep, SettingsDep, UnitOfWorkRoute, UserDep
from api.schemas import Token, UserOut
from workflow.presenters import user_out

router = APIRouter(prefix="/api/v1", tags=["auth"], route_class=UnitOfWorkRoute)


@router.post("/auth/token", response_model=Token, summary="Log in with email and password")
def login(request: Request, session: SessionDep, settings: SettingsDep,
          form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """OAuth2 password flow: `username` is the email address. Answers a bearer token."""
    user = auth.authenticate(session, form.username, form.password)
    request.state.user_id = user.id
    return Token(access_token=auth.create_access_token(user, settings),
                 expires_in=settings.token_lifetime_minutes * 60)


@router.get("/me", response_model=UserOut, summary="The logged-in user")
def me(user: UserDep, lang: LanguageDep) -> dict:
    return user_out(user, lang)
