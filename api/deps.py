"""Request dependencies: one unit of work per request, the current user, language, headers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api import auth
from api.errors import Conflict, language
from states import Role
from workflow.engine import Actor
from workflow.errors import InvalidInput, NotAuthenticated, NotPermitted
from workflow.models import User
from workflow.settings import Settings

TOKEN_URL = "/api/v1/auth/token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: commit once after the handler succeeded, else roll back.

    Services only flush. Function scope makes the commit happen before the response is sent, so
    a failing commit still turns into an error response and never into a false success.

    Every dependency but this one's database work runs on the event loop: each sync dependency
    would cost a trip through the threadpool. Opening a session does no I/O; the session
    connects on first use, in the endpoint's (or `current_user`'s) worker thread. A sync
    endpoint may commit at its end itself (`session.commit()`, in its own thread); only what is
    left open here is committed or rolled back in the threadpool.
    """
    session = Session(request.app.state.engine, expire_on_commit=False)
    try:
        yield session
        if session.in_transaction():
            await run_in_threadpool(session.commit)
    except IntegrityError:
        # e.g. the same Idempotency-Key used by two requests at once: the loser writes nothing
        await run_in_threadpool(session.rollback)
        raise Conflict(
            "Die Anfrage kollidierte mit einer gleichzeitigen Änderung; es wurde nichts "
            "gespeichert. Bitte erneut versuchen.",
            "The request collided with a concurrent change; nothing was saved. "
            "Please retry.") from None
    except Exception:
        await run_in_threadpool(session.rollback)
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def current_user(request: Request, session: SessionDep,
                 token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The logged-in, active user; checked against the database on every request.

    The one sync dependency (one trip through the threadpool): it reads the user in the
    request's session, where the engine finds it again (actor, carrier, case officer).
    """
    if not token:
        raise NotAuthenticated("Bitte anmelden (Authorization: Bearer <Token>).",
                               "Please log in (Authorization: Bearer <token>).")
    user = session.get(User, auth.user_id_from_token(token, request.app.state.settings))
    if user is None or user.disabled:
        raise NotAuthenticated("Das Konto ist gesperrt oder existiert nicht mehr.",
                               "The account is disabled or no longer exists.")
    request.state.user_id = user.id
    return user


UserDep = Annotated[User, Depends(current_user)]


async def current_actor(user: UserDep) -> Actor:
    return Actor.of(user)


ActorDep = Annotated[Actor, Depends(current_actor)]


async def writing_actor(actor: ActorDep) -> Actor:
    """Anyone but an observer; observers read but never write."""
    if actor.role == Role.observer:
        raise NotPermitted("Die Begleitung (Beobachterrolle) hat nur Lesezugriff.",
                           "Observers have read-only access.")
    return actor


WriterDep = Annotated[Actor, Depends(writing_actor)]


async def admin_actor(actor: ActorDep) -> Actor:
    if actor.role != Role.admin:
        raise NotPermitted("Nur die Programmverwaltung darf das.",
                           "Only programme administration may do this.")
    return actor


AdminDep = Annotated[Actor, Depends(admin_actor)]


async def get_language(request: Request) -> str:
    return language(request)


LanguageDep = Annotated[str, Depends(get_language)]

_ETAG = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


async def if_match_version(
    if_match: Annotated[str | None, Header(alias="If-Match",
                                           description='ETag of the version, e.g. W/"3"')] = None,
) -> int | None:
    """The version named by If-Match (W/"3", "3" or 3); None when absent or "*"."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match)
    if not match:
        raise InvalidInput(f"If-Match: „{if_match}“ ist kein gültiges ETag (z. B. W/\"3\").",
                           f"If-Match: '{if_match}' is not a valid ETag (e.g. W/\"3\").",
                           field="If-Match")
    return int(match.group(1))


IfMatchDep = Annotated[int | None, Depends(if_match_version)]


async def idempotency_key(
    key: Annotated[str | None, Header(alias="Idempotency-Key",
                                      description="Makes a retried request safe.")] = None,
) -> str | None:
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 200:
        raise InvalidInput("Idempotency-Key: 1 bis 200 Zeichen.",
                           "Idempotency-Key: 1 to 200 characters.", field="Idempotency-Key")
    return key


IdempotencyKeyDep = Annotated[str | None, Depends(idempotency_key)]


def etag(version: int) -> str:
    return f'W/"{version}"'
