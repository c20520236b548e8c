"""The FastAPI app factory: `uvicorn --factory api.app:create_app` or `quartier serve`.

The database engine is created here, per app (per worker), never at import time.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from urllib.parse import unquote_plus

from fastapi import FastAPI, HTTPException, Request, params
from sqlalchemy import Engine
from starlette.datastructures import Headers
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import docs, errors, portal
from api.deps import check_units_of_work
from api.docs import STATIC_PREFIX
from api.routers import accounts, admin, applications, auth, calls, health, mail
from api.routers import calendar as calendar_feed
from api.routers import documents as case_files
from api.routers import final_report as verwendungsnachweis
from api.routers import finality as notice_finality
from api.routers import payments as money_after_approval
from api.routers import reports as interim_reports
from api.routers import settlement as settlement_routes
from api.routers import staff as staff_work
from workflow.db import make_engine
from workflow.errors import WorkflowError
from workflow.settings import Settings, check_settings, get_settings
from workflow.uploads import megabytes

log = logging.getLogger("quartier.api")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Secrets that must not reach the log: the calendar feed's path segment, credentials in a query.
_SECRET_PATH = re.compile(r"^(/api/v1/calendar/)[^/]*(\.ics)$")
_SECRET_PARAMS = frozenset({"token", "access_token", "password", "secret", "key", "api_key"})


def _escaped(text: str) -> str:
    """`text` with control characters, backslashes and spaces escaped as repr does: one line
    that nobody can split or forge with a CR/LF in a URL."""
    return "".join(c if c.isprintable() and c not in " \\" else
                   ("\\x20" if c == " " else repr(c)[1:-1]) for c in text)


def loggable_target(path: str, query: str) -> str:
    """Path and query for the log line: escaped, and with secrets as ***."""
    path = _SECRET_PATH.sub(r"\1***\2", path)
    parts = []
    for part in query.split("&") if query else []:
        name, sep, _ = part.partition("=")
        if unquote_plus(name).strip().lower() in _SECRET_PARAMS:
            part = f"{name}{sep}***"
        parts.append(part)
    return _escaped(path + (f"?{'&'.join(parts)}" if parts else ""))


class RequestLog:
    """One log line per request, with a request id (X-Request-ID, echoed or generated); an
    unhandled error becomes a 500 problem here, inside the middleware, so that it carries the
    request id and the server keeps the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status, started_response = 500, False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status, started_response = message["status"], True
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as error:
            if started_response:
                raise  # half a response is out: only closing the connection is honest
            await errors.internal_problem(Request(scope), error)(scope, receive, send_with_id)
        finally:
            log.info("%s %s %s %.1fms request_id=%s user=%s", scope["method"],
                     loggable_target(scope["path"], scope.get("query_string", b"").decode(
                         "latin-1")), status, (time.perf_counter() - started) * 1000,
                     request_id, state.get("user_id", "-"))


# The documentation pages load only the app's own scripts (no inline script); Swagger UI and
# ReDoc set inline styles and ReDoc searches in a worker made from a blob.
DOCS_CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
            "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
API_CSP = "default-src 'none'; frame-ancestors 'none'"


_FIXED_HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                  (b"x-frame-options", b"DENY"))
_NO_STORE = (b"cache-control", b"no-store")
_REPLACED = frozenset(name for name, _ in (*_FIXED_HEADERS, _NO_STORE))


def _secured(path: str, static: bool,
             raw: Iterable[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The response's raw headers with ours: ours replace the same names (Cache-Control only
    off the static assets); a CSP the response set itself stays. One pass over the list."""
    replaced = _REPLACED if not static else _REPLACED - {_NO_STORE[0]}
    out, content_type, has_csp = [], "", False
    for name, value in raw:
        lower = name.lower()
        if lower in replaced:
            continue
        if lower == b"content-type":
            content_type = value.decode("latin-1")
        elif lower == b"content-security-policy":
            has_csp = True
        out.append((name, value))
    if not static:
        out.append(_NO_STORE)
    out.extend(_FIXED_HEADERS)
    if not has_csp:
        csp = portal.csp_for(path, content_type) or (
            DOCS_CSP if content_type.startswith("text/html") else API_CSP)
        out.append((b"content-security-policy", csp.encode("latin-1")))
    return out


class SecurityHeaders:
    """Headers on every response: nothing is cached (every answer but the static assets may
    carry personal data), no type sniffing, no referrer, never in a frame; a CSP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope["path"].startswith(STATIC_PREFIX + "/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _secured(scope["path"], static, message.get("headers", ()))
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(HTTPException):
    """Raised while a body without Content-Length streams in past the limit."""

    def __init__(self) -> None:
        super().__init__(413)


_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Routes that take a file: the API's upload and the portal's forms with uploads.
_UPLOAD = re.compile(f"{case_files.UPLOAD_PATH}|{portal.UPLOAD_PATH}")


class BoundedRequest:
    """Refuses, before routing and authentication, what no route should read: a body over the
    limit (by Content-Length, or counted as it streams in), a body that is not JSON for a route
    that takes JSON (415), and an If-Match too long to name any version (412)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int,
                 upload_max_bytes: int | None = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # The document upload (POST …/documents) takes a file up to the upload limit, and a
        # little more for the multipart envelope; every other route keeps max_body_bytes.
        self.upload_max_bytes = upload_max_bytes

    def limit(self, scope: Scope) -> int:
        if (self.upload_max_bytes is not None and scope["method"] == "POST"
                and _UPLOAD.match(scope["path"])):
            return max(self.max_body_bytes, self.upload_max_bytes + case_files.ENVELOPE_BYTES)
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if scope["method"] in ("GET", "HEAD") and "content-length" not in headers \
                and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body: nothing to bound or to refuse
            return
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            await errors.workflow_problem(Request(scope), refusal)(scope, receive, send)
            return
        received, responded = 0, False
        limit = self.limit(scope)

        async def bounded_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except BodyTooLarge:
            if responded:
                raise
            await errors.workflow_problem(Request(scope), self.too_large(limit))(
                scope, receive, send)

    def too_large(self, limit: int | None = None) -> errors.PayloadTooLarge:
        limit = self.max_body_bytes if limit is None else limit
        if limit != self.max_body_bytes and self.upload_max_bytes is not None:
            return errors.PayloadTooLarge(
                f"Die Datei ist zu groß: höchstens {megabytes(self.upload_max_bytes)} je "
                "Datei. Es wurde nichts gespeichert.",
                f"The file is too large: at most {megabytes(self.upload_max_bytes, 'en')} per "
                "file. Nothing was stored.", max_bytes=self.upload_max_bytes)
        return errors.PayloadTooLarge(
            f"Der Inhalt der Anfrage ist zu groß (höchstens {limit} Bytes).",
            f"The content of the request is too large (at most {limit} bytes).",
            max_bytes=limit)

    def refusal(self, scope: Scope, headers: Headers) -> WorkflowError | None:
        length = headers.get("content-length", "")
        limit = self.limit(scope)
        if length and (len(length) > 18 or (length.isdigit() and int(length) > limit)):
            return self.too_large(limit)
        if scope["method"] not in _WRITES:
            return None
        if len(headers.get("if-match", "")) > 40:
            return errors.PreconditionFailed(
                "If-Match nennt keine Version dieses Antrags; es wurde nichts gespeichert.",
                "If-Match names no version of this application; nothing was saved.",
                field="If-Match")
        has_body = length not in ("", "0") or "transfer-encoding" in headers
        content_type = headers.get("content-type")
        if has_body and content_type and not _is_json(content_type) and _takes_json(scope):
            return errors.UnsupportedMediaType(
                f"Diese Adresse nimmt JSON an (Content-Type: application/json), nicht "
                f"„{content_type[:60]}“.",
                f"This address takes JSON (Content-Type: application/json), not "
                f"'{content_type[:60]}'.", field="Content-Type")
        return None


def _is_json(content_type: str) -> bool:
    mime = content_type.split(";")[0].strip().lower()
    return mime == "application/json" or (mime.startswith("application/")
                                          and mime.endswith("+json"))


def _takes_json(scope: Scope) -> bool:
    """Whether the route at this method and path reads a JSON body (forms do not)."""
    for route in errors.api_routes(scope["app"]):
        if route.matches(scope)[0] == Match.FULL:
            body = route.body_field
            return body is not None and not isinstance(body.field_info, params.Form)
    return False


def create_app(database_url: str | None = None, *, engine: Engine | None = None,
               settings: Settings | None = None) -> FastAPI:
    """The API. Tests pass a database URL or an engine; the server reads QUARTIER_* settings."""
    settings = settings or get_settings()
    check_settings(settings)
    own_engine = engine is None
    db = engine if engine is not None else make_engine(database_url or settings.database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if own_engine:
            db.dispose()

    app = FastAPI(
        title="Quartier",
        version="0.1.0",
        summary="Antragsverfahren für Förderprogramme – grant applications, budget, deadlines.",
        description="Everything under /api/v1. Log in at POST /api/v1/auth/token (OAuth2 "
                    "password flow: username = email). Errors are application/problem+json, "
                    "German by default, English with `Accept-Language: en`.",
        lifespan=lifespan,
        docs_url=None, redoc_url=None, openapi_url=None,  # api.docs serves them, or not
    )
    app.state.engine = db
    app.state.settings = settings
    errors.install(app)
    # The last added runs first: headers on everything, then the id and log line, then bounds.
    app.add_middleware(BoundedRequest, max_body_bytes=settings.max_body_bytes,
                       upload_max_bytes=settings.upload_max_bytes)
    app.add_middleware(RequestLog)
    app.add_middleware(SecurityHeaders)
    for module in (health, auth, accounts, calls, applications, admin, mail):
        app.include_router(module.router)
    app.include_router(interim_reports.router)
    app.include_router(calendar_feed.router)
    app.include_router(case_files.router)
    app.include_router(staff_work.router)
    app.include_router(notice_finality.router)
    app.include_router(money_after_approval.router)
    app.include_router(settlement_routes.router)
    app.include_router(verwendungsnachweis.router)
    docs.install(app, settings)
    portal.install(app)
    guard_api_routes(app)
    check_units_of_work(app.router.routes)
    return app


API_PREFIX = "/api/"
_GUARDED: dict[type, type] = {}


def _paths(route: object) -> list[str] | None:
    """The paths a top-level route serves: its own, or those of the router it includes."""
    if isinstance(getattr(route, "path", None), str):
        return [route.path]  # type: ignore[attr-defined]
    included = getattr(route, "original_router", None)
    if included is None:
        return None
    return [getattr(r, "path", "") for r in included.routes]


def _guarded_class(cls: type) -> type:
    found = _GUARDED.get(cls)
    if found is None:
        def matches(self, scope: Scope) -> tuple[Match, Scope]:  # noqa: ANN001
            path = scope.get("path", "")
            root = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root):]
            if not path.startswith(API_PREFIX):
                return Match.NONE, {}
            return cls.matches(self, scope)
        found = _GUARDED[cls] = type(f"Api{cls.__name__}", (cls,), {"matches": matches})
    return found


def guard_api_routes(app: FastAPI) -> None:
    """Routes (or included routers) that serve only paths under /api/ answer "no match" to
    any other path at once. Routing tries the routes in order, and a portal page would
    otherwise be matched against every API route first (about 7 % of a page's time with
    ~180 routes); the routes, their order and the OpenAPI document stay as they are."""
    for route in app.router.routes:
        paths = _paths(route)
        if paths and all(p.startswith(API_PREFIX) for p in paths):
            route.__class__ = _guarded_class(type(route))
