"""What every portal page shares: the router, rendering, the login cookie, CSRF, flash messages,
form errors and the dependencies that say who may see a page."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import inspect
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from api import auth
from api.deps import SessionDep, UnitOfWorkRoute
from api.portal import i18n
from states import Role
from states.staff import AGGREGATE_READERS
from workflow.errors import WorkflowError
from workflow.models import User
from workflow.rows import Actor

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC = "/static/portal"
SESSION_COOKIE = "quartier_session"
CSRF_COOKIE = "quartier_csrf"
FLASH_COOKIE = "quartier_flash"
CSRF_FIELD = "csrf_token"
STAFF_ROLES = frozenset({Role.reviewer, Role.approver, Role.admin})
FIGURES_ROLES = AGGREGATE_READERS


class PageRoute(UnitOfWorkRoute):
    """A page: one unit of work like an API route; a query parameter it does not know (a link
    with tracking parameters) is ignored, not refused. The login check of a GET page runs in
    the endpoint's thread (see PendingCheck)."""

    refuses_unknown_query = False

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, resolving_checks(endpoint), **kwargs)


def portal_router() -> APIRouter:
    """A router of pages: HTML, not in the OpenAPI document, one unit of work per request."""
    return APIRouter(include_in_schema=False, route_class=PageRoute,
                     default_response_class=HTMLResponse)


# `{{ _("Text") }}` with a literal and no values, as a whole expression: its output is the same
# on every render of a language's template.
_STATIC_TEXT = re.compile(r"""\{\{\s*_\(\s*(?:"([^"\\{}%]*)"|'([^'\\{}%]*)')\s*\)\s*\}\}""")


class TranslatingLoader(FileSystemLoader):
    """Templates with their fixed texts already translated: `{{ _("Text") }}` (a literal, no
    values) becomes the language's text when the template is compiled, so a page does not look
    up the same words on every render (a row of a table repeats them). Texts with values, or
    inside larger expressions, stay calls of `_()`. The files are unchanged, so message
    extraction (Babel) reads them as before."""

    def __init__(self, searchpath: Path, gettext: Any) -> None:
        super().__init__(searchpath)
        self._gettext = gettext

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        source, filename, uptodate = super().get_source(environment, template)

        def translated(match: re.Match[str]) -> str:
            text = str(self._gettext(match.group(1) if match.group(1) is not None
                                     else match.group(2)))
            if any(mark in text for mark in ("{{", "{%", "{#", "}}", "%}", "#}")):
                return match.group(0)  # would read as template syntax: leave it a call
            return text
        return _STATIC_TEXT.sub(translated, source), filename, uptodate


def _environment(language: str) -> Environment:
    # Templates are read once (a changed template needs a restart, as code does).
    env = Environment(loader=TranslatingLoader(TEMPLATE_DIR, i18n.markup_gettext(language)),
                      autoescape=True,
                      undefined=StrictUndefined, extensions=["jinja2.ext.i18n"],
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    # `_()` as jinja2's newstyle gettext does it (the message trusted, the values escaped, `%`
    # always applied), without its context round trip: pages call it hundreds of times.
    env.globals.update(_=i18n.markup_gettext(language), gettext=i18n.markup_gettext(language))
    env.filters.update(i18n.filters(language))
    env.globals.update(static=lambda path: f"{STATIC}/{path}", lang=language)
    return env


_ENVIRONMENTS = {language: _environment(language) for language in i18n.LANGUAGES}


def environment(language: str) -> Environment:
    return _ENVIRONMENTS.get(language, _ENVIRONMENTS[i18n.DEFAULT_LANGUAGE])


# ---- CSRF: a random value in an HttpOnly cookie, and its HMAC in every form -------------------

def _secret(request: Request) -> bytes:
    """The portal's signing key, derived from the app's secret once per app."""
    state = request.app.state
    found: bytes | None = getattr(state, "portal_secret", None)
    if found is None:
        found = state.portal_secret = hashlib.sha256(
            b"quartier-portal:" + state.settings.signing_secret().encode()).digest()
    return found


def _sign(request: Request, value: str) -> str:
    return hmac.new(_secret(request), value.encode(), hashlib.sha256).hexdigest()


def csrf_token(request: Request) -> str:
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_seed", None)
    if not seed:
        seed = request.state.csrf_seed = secrets.token_urlsafe(32)
    return _sign(request, "csrf:" + seed)


class CsrfFailed(WorkflowError):
    status = 403
    type = "csrf-failed"
    title = "Formular abgelaufen"


async def checked_form(request: Request) -> FormData:
    """The POSTed form, once its CSRF token matches the cookie's (else a 403 page)."""
    form = await request.form(max_part_size=request.app.state.settings.max_body_bytes)
    seed = request.cookies.get(CSRF_COOKIE)
    sent = form.get(CSRF_FIELD)
    if not seed or not isinstance(sent, str) or not hmac.compare_digest(
            sent, _sign(request, "csrf:" + seed)):
        raise CsrfFailed(
            "Das Formular ist abgelaufen oder kam nicht von dieser Seite. Bitte die Seite neu "
            "laden und noch einmal absenden; es wurde nichts gespeichert.",
            "The form has expired or did not come from this page. Please reload the page and "
            "send it again; nothing was saved.")
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


# ---- flash: a one-time message after a redirect, signed so that nobody plants one -------------

def _flash_cookie(request: Request, message: str) -> str:
    data = base64.urlsafe_b64encode(message.encode()).decode()
    return f"{data}.{_sign(request, 'flash:' + data)}"


def _read_flash(request: Request) -> str | None:
    raw = request.cookies.get(FLASH_COOKIE, "")
    data, _, signature = raw.partition(".")
    if not data or not hmac.compare_digest(signature, _sign(request, "flash:" + data)):
        return None
    try:
        return base64.urlsafe_b64decode(data.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        return None


def secure_cookies(request: Request) -> bool:
    return request.app.state.settings.environment != "development" or \
        request.url.scheme == "https"


def set_cookie(request: Request, response: Any, name: str, value: str,
               max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=secure_cookies(request), path="/")


def redirect(request: Request, url: str, flash: str | None = None) -> RedirectResponse:
    """303 to `url` (after a POST), with a one-time message shown on the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        set_cookie(request, response, FLASH_COOKIE, _flash_cookie(request, flash))
    _keep_csrf(request, response)
    return response


def _keep_csrf(request: Request, response: Any) -> None:
    seed = getattr(request.state, "csrf_seed", None)
    if seed and not request.cookies.get(CSRF_COOKIE):
        set_cookie(request, response, CSRF_COOKIE, seed)


# ---- rendering ---------------------------------------------------------------------------------

def page(request: Request, template: str, context: dict[str, Any] | None = None,
         status_code: int = 200) -> HTMLResponse:
    """The page `template` in the request's language, with what every page needs."""
    language = i18n.request_language(request)
    flash = _read_flash(request)
    values = {"request": request, "user": _page_user(request),
              "csrf_token": csrf_token(request), "flash": flash, "path": request.url.path,
              "errors": {}, "values": {}, **(context or {})}
    html = environment(language).get_template(template).render(values)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Language"] = language
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path="/")
    _keep_csrf(request, response)
    return response


def _page_user(request: Request) -> Any:
    """The logged-in user for the page frame; after a refusal rolled back and closed the
    session (an error page), the copy taken at login time (the row cannot be read any more)."""
    user = getattr(request.state, "portal_user", None)
    if user is not None and sa_inspect(user).detached:
        return getattr(request.state, "portal_user_copy", None)
    return user


def form_errors(error: WorkflowError, language: str) -> dict[str, str]:
    """The refusal as errors by field ("" for one that concerns the whole form)."""
    field = error.extra.get("field") or ""
    return {str(field): error.message(language)}


def refused(session: Session) -> None:
    """Undo what the refused action may have flushed, before the form is shown again."""
    session.rollback()


def form_values(form: FormData) -> dict[str, str]:
    """What the user typed, to show it again (files and the CSRF token left out)."""
    return {key: value for key, value in form.items()
            if isinstance(value, str) and key != CSRF_FIELD}


# ---- who is logged in --------------------------------------------------------------------------

class LoginRequired(Exception):
    """Not logged in (or the login ended): the page sends the visitor to /anmelden."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageForbidden(WorkflowError):
    status = 403
    type = "not-permitted"
    title = "Kein Zugriff"


def login_url(next_path: str) -> str:
    return "/anmelden?weiter=" + quote(next_path, safe="/")


def session_user(request: Request, session: Session) -> User | None:
    """The user of the login cookie, if it still holds (active account, current token version);
    also sets the page language to the user's."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = auth.verified_claims(token, request.app.state.settings)
    except WorkflowError:
        return None
    user = session.get(User, claims.user_id)
    if user is None or user.disabled or user.token_version != claims.version:
        return None
    request.state.portal_user = user
    request.state.portal_user_copy = SimpleNamespace(**user.model_dump())
    request.state.user_id = user.id
    request.state.portal_language = user.language
    return user


def _required_user(request: Request, session: Session) -> User:
    user = session_user(request, session)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    if user.must_change_password and request.url.path not in ("/konto/passwort", "/abmelden"):
        raise LoginRequired("/konto/passwort")
    return user


# Where each role lands after login (the admin's and the observer's pages: /verwaltung).
HOMES = {Role.carrier: "/antraege", Role.reviewer: "/pruefung", Role.approver: "/zeichnung"}


def home_of(role: str) -> str:
    return HOMES.get(Role(role), "/verwaltung")


def _actor(user: User) -> Actor:
    return Actor(user.id, Role(user.role), user.organisation_id, user.name)


def maybe_user(request: Request, session: SessionDep) -> User | None:
    return session_user(request, session)


def viewer(request: Request, session: SessionDep) -> User:
    return _required_user(request, session)


def _role_page(request: Request, session: Session, roles: frozenset[Role], de: str,
               en: str) -> Actor:
    user = _required_user(request, session)
    if Role(user.role) not in roles:
        # The refusal rolls the unit of work back, which would expire the user the error page
        # still shows (name, navigation): keep it out of the session.
        session.expunge(user)
        raise PageForbidden(de, en)
    return _actor(user)


def carrier(request: Request, session: SessionDep) -> Actor:
    return _role_page(request, session, frozenset({Role.carrier}),
                      "Diese Seite ist für Träger (Antragsteller).",
                      "This page is for carriers (applicants).")


def staff(request: Request, session: SessionDep) -> Actor:
    return _role_page(request, session, STAFF_ROLES,
                      "Diese Seite ist für die Bewilligungsbehörde.",
                      "This page is for the granting authority.")


def approver(request: Request, session: SessionDep) -> Actor:
    return _role_page(request, session, frozenset({Role.approver, Role.admin}),
                      "Diese Seite ist für Zeichnungsbefugte.",
                      "This page is for approvers.")


def admin(request: Request, session: SessionDep) -> Actor:
    return _role_page(request, session, frozenset({Role.admin}),
                      "Diese Seite ist für die Programmverwaltung.",
                      "This page is for programme administration.")


def figures_reader(request: Request, session: SessionDep) -> Actor:
    """The authority and the observer (G.I.B.): the programme's figures, never a single case."""
    return _role_page(request, session, FIGURES_ROLES,
                      "Diese Seite ist für die Bewilligungsbehörde und die Begleitung.",
                      "This page is for the granting authority and the observer.")


class PendingCheck:
    """A page's login and role check, to run in the worker thread of the page's endpoint
    (PageRoute resolves it before the endpoint's body): a GET page then reads the user in the
    thread that reads everything else, not in a thread of its own."""

    __slots__ = ("check", "request", "session")

    def __init__(self, check: Callable[[Request, Session], Any], request: Request,
                 session: Session) -> None:
        self.check, self.request, self.session = check, request, session

    def resolve(self) -> Any:
        return self.check(self.request, self.session)


def _page_check(check: Callable[[Request, Session], Any]) -> Callable[..., Any]:
    """The dependency of `check`: on a GET or HEAD page, deferred to the endpoint's thread; on
    a form's POST, run before the form is read (a logged-out visitor is sent to the login
    page before the CSRF token is looked at), in the threadpool as FastAPI runs sync ones."""

    async def dependency(request: Request, session: SessionDep) -> Any:
        if request.method in ("GET", "HEAD"):
            return PendingCheck(check, request, session)
        return await run_in_threadpool(check, request, session)

    dependency.__name__ = dependency.__qualname__ = f"{check.__name__}_page"
    dependency.__doc__ = check.__doc__
    return dependency


def resolving_checks(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """`endpoint` with its PendingCheck arguments resolved first, in its own thread (or, for
    an async endpoint, in the threadpool)."""
    if inspect.iscoroutinefunction(endpoint):
        @functools.wraps(endpoint)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            for name, value in kwargs.items():
                if isinstance(value, PendingCheck):
                    kwargs[name] = await run_in_threadpool(value.resolve)
            return await endpoint(*args, **kwargs)
        return run_async

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        for name, value in kwargs.items():
            if isinstance(value, PendingCheck):
                kwargs[name] = value.resolve()
        return endpoint(*args, **kwargs)
    return run


MaybeUserDep = Annotated[User | None, Depends(_page_check(session_user))]
ViewerDep = Annotated[User, Depends(_page_check(_required_user))]
CarrierDep = Annotated[Actor, Depends(_page_check(carrier))]
StaffDep = Annotated[Actor, Depends(_page_check(staff))]
AdminPageDep = Annotated[Actor, Depends(_page_check(admin))]
ApproverPageDep = Annotated[Actor, Depends(_page_check(approver))]
FiguresDep = Annotated[Actor, Depends(_page_check(figures_reader))]
