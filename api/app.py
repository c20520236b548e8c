"""The FastAPI app factory: `uvicorn --factory api.app:create_app` or `quartier serve`.

The database engine is created here, per app (per worker), never at import time.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from api.routers import admin, applications, auth, calls, health, mail
from api.routers import calendar as calendar_feed
from api.routers import reports as interim_reports
from workflow.db import make_engine
from workflow.settings import Settings, check_settings, get_settings

log = logging.getLogger("quartier.api")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestLog:
    """One log line per request, with a request id (X-Request-ID, echoed or generated)."""

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
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"],
                                      (b"x-request-id", request_id.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            query = scope.get("query_string", b"").decode("latin-1")
            log.info("%s %s%s %s %.1fms request_id=%s user=%s", scope["method"], scope["path"],
                     f"?{query}" if query else "", status,
                     (time.perf_counter() - started) * 1000, request_id,
                     state.get("user_id", "-"))


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
    )
    app.state.engine = db
    app.state.settings = settings
    errors.install(app)
    app.add_middleware(RequestLog)
    for module in (health, auth, calls, applications, admin, mail):
        app.include_router(module.router)
    app.include_router(interim_reports.router)
    app.include_router(calendar_feed.router)
    return app
