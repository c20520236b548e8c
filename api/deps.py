"""Request dependencies: one unit of work per request, the current user, language, headers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import re
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Annotated, Any

import anyio.to_thread
from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api import auth
from api.errors import language
from states import Role
from workflow.access import refuse_observer
from workflow.bescheide import SESSION_STORE_KEY
from workflow.db import DatabaseBusy, connection_slots, is_busy, reader
from workflow.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotPermitted,
    PasswordChangeRequired,
)
from workflow.links import SESSION_PUBLIC_URL_KEY
from workflow.models import User
from workflow.rows import Actor
from workflow.settings import Settings

TOKEN_URL = "/api/v1/auth/token"
oauth2_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def _commit_open(session: Session) -> None:
    """The unit of work's one commit: of whatever the request left open."""
    if session.in_transaction():
        session.commit()


class _Slots:
    """The engine's connections as slots a request waits for on the event loop, not in a thread.

    A request holds its connection from its first query to its commit, also while it waits for
    a thread between the dependency and the endpoint; if requests waited for the pool in
    threads, the holders could starve for threads until the pool's timeout. Waiting here, at
    most QUARTIER_DB_POOL_TIMEOUT_SECONDS, a request that gets a slot always gets a connection.
    The first request of an event loop also sizes its thread pool (QUARTIER_THREADS).
    """

    def __init__(self, size: int | None, timeout: float, threads: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.semaphore = asyncio.Semaphore(size) if size else None
        self.timeout = timeout
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads

    async def acquire(self) -> None:
        if self.semaphore is None:
            return
        if not self.semaphore.locked():
            await self.semaphore.acquire()  # a free slot: taken at once, no timer needed
            return
        try:
            await asyncio.wait_for(self.semaphore.acquire(), self.timeout)
        except TimeoutError:
            raise DatabaseBusy() from None

    def release(self) -> None:
        if self.semaphore is not None:
            self.semaphore.release()


def _slots(request: Request) -> _Slots:
    state = request.app.state
    slots: _Slots | None = getattr(state, "db_slots", None)
    if slots is None or slots.loop is not asyncio.get_running_loop():
        settings: Settings = state.settings
        slots = state.db_slots = _Slots(connection_slots(state.engine),
                                        settings.db_pool_timeout_seconds, settings.threads)
    return slots


def _document_store(request: Request) -> Any:
    """The settings' document store, made once per app."""
    state = request.app.state
    store = getattr(state, "document_store", None)
    if store is None:
        store = state.document_store = state.settings.document_store()
    return store


@contextlib.asynccontextmanager
async def unit_of_work(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: the only place that commits or rolls back.

    The handler and the workflow add, update and flush; after the handler returned normally
    the transaction is committed once, on any exception it is rolled back. Whatever a handler
    stored under an Idempotency-Key is in this same transaction: it commits with the change
    or not at all. It ends when the route's handler has its response and before that is sent,
    so a failing commit still turns into an error response and never into a false success.

    GET and HEAD requests read only: their transaction never waits for SQLite's write lock,
    and a write in one fails. A request that gets no connection or lock in time gets 503.

    Opening a session does no I/O (it connects on first use, in the worker thread of the
    endpoint or of `current_actor`), so this is entered on the event loop (by `get_session`,
    on the exit stack of the route's handler). The commit runs in the endpoint's own worker
    thread when its route is a `UnitOfWorkRoute` (every router's is); only what is left open
    then is committed here, through the threadpool.
    """
    engine = request.app.state.engine
    if request.method in ("GET", "HEAD"):
        engine = reader(engine)
    slots = _slots(request)
    await slots.acquire()
    # Notices the request files (workflow.bescheide) go where the case-file routes read.
    # Links in the emails it writes (workflow.links) use the app's portal address.
    session = Session(engine, expire_on_commit=False, info={
        SESSION_STORE_KEY: _document_store(request),
        SESSION_PUBLIC_URL_KEY: request.app.state.settings.public_url})
    try:
        yield session
        if session.in_transaction():
            await run_in_threadpool(_commit_open, session)
    except IntegrityError:
        # e.g. the same Idempotency-Key used by two requests at once: the loser writes nothing
        await run_in_threadpool(session.rollback)
        raise Conflict(
            "Die Anfrage kollidierte mit einer gleichzeitigen Änderung; es wurde nichts "
            "gespeichert. Bitte erneut versuchen.",
            "The request collided with a concurrent change; nothing was saved. "
            "Please retry.") from None
    except Exception as error:
        await run_in_threadpool(session.rollback)
        if is_busy(error):
            raise DatabaseBusy() from error
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
        slots.release()


_UNIT = "quartier.unit_of_work"


async def get_session(request: Request) -> Session:
    """The request's session (SessionDep): its unit of work is entered on the exit stack that
    the route's handler holds (UnitOfWorkRoute), so it ends with the handler. A plain
    dependency, not a generator one: FastAPI's machinery for those costs a fifth of a small
    page's time."""
    stack: contextlib.AsyncExitStack | None = request.scope.get(_UNIT)
    if stack is None:
        raise RuntimeError(f"{request.url.path}: a session needs a UnitOfWorkRoute")
    return await stack.enter_async_context(unit_of_work(request))


def _committing(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)  # FastAPI reads the signature through __wrapped__
    def run(*args: Any, **kwargs: Any) -> Any:
        result = endpoint(*args, **kwargs)
        session = next((v for v in kwargs.values() if isinstance(v, Session)), None)
        if session is not None:
            _commit_open(session)
        return result
    return run


def _dependants(dependant: Any) -> Iterator[Any]:
    """A route's dependant and those of all its dependencies."""
    todo = [dependant]
    while todo:
        current = todo.pop()
        yield current
        todo.extend(current.dependencies)


def _query_names(dependant: Any) -> frozenset[str]:
    """The query parameters a route and its dependencies declare."""
    return frozenset(p.alias for d in _dependants(dependant) for p in d.query_params)


def check_units_of_work(routes: Iterable[Any]) -> None:
    """Refuses, when the app is made, a route that takes a session but is no UnitOfWorkRoute
    (its session would be refused on every request)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            check_units_of_work(included.routes)
        elif isinstance(route, APIRoute) and not isinstance(route, UnitOfWorkRoute) and any(
                d.call is get_session for d in _dependants(route.dependant)):
            raise RuntimeError(f"{route.path}: a route with a session must be a "
                               "UnitOfWorkRoute (route_class_override=UnitOfWorkRoute)")


class UnknownQueryParameter(InvalidInput):
    type = "unknown-parameter"


class UnitOfWorkRoute(APIRoute):
    """A route whose sync endpoint's unit of work commits in the endpoint's worker thread, as
    soon as the endpoint returned: the unit of work's one commit, without a second trip through
    the threadpool (about a tenth of a transition's cost). The route's handler holds the exit
    stack on which `get_session` enters `unit_of_work`: an exception, in the endpoint or in the
    commit, still reaches it, and it rolls back. Handlers never commit.

    A GET route refuses query parameters it does not know (422, naming them), so that a typo
    in a filter never silently shows an unfiltered list."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = _committing(endpoint)
        super().__init__(path, endpoint, **kwargs)

    refuses_unknown_query = True  # the portal's pages ignore them, as web pages do

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()
        known = _query_names(self.dependant) if (
            "GET" in self.methods and self.refuses_unknown_query) else None

        async def checked(request: Request) -> Any:
            unknown = sorted(set(request.query_params) - known) if known is not None else ()
            if unknown:
                names = ", ".join(unknown)
                allowed = ", ".join(sorted(known)) or "keine"
                raise UnknownQueryParameter(
                    f"Unbekannter Abfrageparameter: {names}. Erlaubt sind: {allowed}.",
                    f"Unknown query parameter: {names}. Allowed: "
                    f"{', '.join(sorted(known)) or 'none'}.", field=unknown[0],
                    parameters=unknown)
            async with contextlib.AsyncExitStack() as stack:
                request.scope[_UNIT] = stack  # get_session's unit of work ends with it
                return await handler(request)
        return checked


SessionDep = Annotated[Session, Depends(get_session)]


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


TokenDep = Annotated[str | None, Depends(oauth2_scheme)]


def _token_claims(request: Request, token: str | None) -> auth.TokenClaims:
    if not token:
        raise NotAuthenticated("Bitte anmelden (Authorization: Bearer <Token>).",
                               "Please log in (Authorization: Bearer <token>).")
    return auth.verified_claims(token, request.app.state.settings)


def _gone() -> NotAuthenticated:
    return NotAuthenticated("Das Konto ist gesperrt oder existiert nicht mehr.",
                            "The account is disabled or no longer exists.")


def _admit(request: Request, claims: auth.TokenClaims, row: Any, *,
           pending_change: bool = False) -> None:
    """Let the token's user in: active, the token of the user's current token version (logout,
    password change and reset bump it), and no password change pending unless `pending_change`
    (the password change itself and logout)."""
    if row is None or row.disabled:
        raise _gone()
    if row.token_version != claims.version:
        raise NotAuthenticated("Die Anmeldung gilt nicht mehr (abgemeldet oder Passwort "
                               "geändert). Bitte erneut anmelden.",
                               "The login is no longer valid (logged out or password "
                               "changed). Please log in again.")
    request.state.user_id = row.id
    if row.must_change_password and not pending_change:
        raise PasswordChangeRequired(
            "Passwort muss geändert werden: Bitte zuerst ein neues Passwort setzen "
            "(POST /api/v1/me/password).",
            "The password must be changed: please set a new one first "
            "(POST /api/v1/me/password).")


_USERS = User.__table__.c  # type: ignore[attr-defined]
# Who acts, read on every request (so a disabled account or a revoked token stops at once): one
# plain Core row.
_ACTOR = (select(_USERS.id, _USERS.role, _USERS.organisation_id, _USERS.name, _USERS.disabled,
                 _USERS.token_version, _USERS.must_change_password)
          .where(_USERS.id == bindparam("user_id")))

# Each of the following is one dependency (not a chain of them: FastAPI's cost is per
# dependency) and the only sync ones, so a request makes one trip through the threadpool for
# them, and they read the user in the request's session.


def current_user(request: Request, session: SessionDep, token: TokenDep) -> User:
    """The logged-in, active user (as a row object); checked against the database every time."""
    claims = _token_claims(request, token)
    user = session.get(User, claims.user_id)
    _admit(request, claims, user)
    return user


UserDep = Annotated[User, Depends(current_user)]


def account_user(request: Request, session: SessionDep, token: TokenDep) -> User:
    """The logged-in, active user, also while a password change is pending (for the change
    itself and for logout)."""
    claims = _token_claims(request, token)
    user = session.get(User, claims.user_id)
    _admit(request, claims, user, pending_change=True)
    return user


AccountDep = Annotated[User, Depends(account_user)]


def current_actor(request: Request, session: SessionDep, token: TokenDep) -> Actor:
    """The logged-in, active user as the engine's actor; checked against the database every
    time, with one Core query (the engine reads the users it needs itself)."""
    claims = _token_claims(request, token)
    row = session.execute(_ACTOR, {"user_id": claims.user_id}).first()
    _admit(request, claims, row)
    return Actor(row.id, Role(row.role), row.organisation_id, row.name)


ActorDep = Annotated[Actor, Depends(current_actor)]


def case_reader(request: Request, session: SessionDep, token: TokenDep) -> Actor:
    """Anyone who may read single cases and lists of cases: not the observer, who sees
    aggregates only (403 with the reason)."""
    actor = current_actor(request, session, token)
    refuse_observer(actor)
    return actor


CaseReaderDep = Annotated[Actor, Depends(case_reader)]


def writing_actor(request: Request, session: SessionDep, token: TokenDep) -> Actor:
    """Anyone but an observer; observers read but never write."""
    actor = current_actor(request, session, token)
    if actor.role == Role.observer:
        raise NotPermitted("Die Begleitung (Beobachterrolle) hat nur Lesezugriff.",
                           "Observers have read-only access.")
    return actor


WriterDep = Annotated[Actor, Depends(writing_actor)]


def admin_actor(request: Request, session: SessionDep, token: TokenDep) -> Actor:
    actor = current_actor(request, session, token)
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
    if_match: Annotated[str | None, Header(
        alias="If-Match", pattern=r'^\s*(?:\*|(?:W/)?"?\d+"?)\s*$',
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
    key: Annotated[str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                                      pattern=r"^[!-~]+$",
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
