"""The API's own documentation: an OpenAPI document that lists every problem a route answers,
and Swagger UI and ReDoc served from the package's assets (api/static/docs), never from a CDN.

Outside development /docs, /redoc and /openapi.json are off; QUARTIER_OPENAPI_FOR_ADMINS=true
serves /openapi.json to admins (bearer token), the pages stay off.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_flat_params
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from api.deps import (
    TOKEN_URL,
    AdminDep,
    UnitOfWorkRoute,
    admin_actor,
    case_reader,
    get_session,
    idempotency_key,
    if_match_version,
    oauth2_scheme,
    writing_actor,
)
from api.errors import PROBLEM_MEDIA_TYPE, api_routes
from workflow.settings import Settings

STATIC_PREFIX = "/static"
STATIC_DIR = Path(__file__).parent / "static"
OPENAPI_URL = "/openapi.json"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"

# application/problem+json (RFC 9457) as the server sends it; errors add fields of their own.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "Stable URI of the kind of problem"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string", "description": "German, or English with Accept-Language: en"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "field": {"type": "string", "description": "The field at fault, as a dotted path"},
        "errors": {"type": "array", "items": {"type": "object", "additionalProperties": True},
                   "description": "Each invalid field: field, label, location, type, message"},
    },
    "additionalProperties": True,
}

DESCRIPTIONS = {
    400: "Bad request",
    401: "Not authenticated: no token, an expired or revoked one, or a disabled account",
    403: "Not permitted for this role or account",
    404: "Not found, or not visible to you",
    405: "Method not allowed",
    409: "Refused by a workflow rule (state, funding stop, budget) or a concurrent change",
    412: "If-Match names another version than the current one",
    413: "The request body is too large",
    415: "The request body is not JSON",
    422: "Invalid input",
    429: "Too many attempts; retry after Retry-After seconds",
    503: "Not ready, or no database connection in time; retry after Retry-After seconds",
}
_READS = frozenset({"GET", "HEAD"})
# Routes whose refusals their dependencies do not show: a wrong password, too many attempts.
_ALSO = {TOKEN_URL: {401, 429}}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def problem_statuses(route: Any) -> set[int]:
    """The problem statuses a route answers, from what it depends on and what it reads."""
    calls = set(_calls(route.dependant))
    statuses: set[int] = set(_ALSO.get(route.path_format, ()))
    if oauth2_scheme in calls:
        statuses.add(401)
    if writing_actor in calls or admin_actor in calls or case_reader in calls:
        statuses.add(403)
    if route.param_convertors:  # every path parameter names something that may not exist
        statuses.add(404)
    if get_flat_params(route.dependant):
        statuses.add(422)
    if isinstance(getattr(route, "original_route", route), UnitOfWorkRoute) \
            and route.methods & _READS:
        statuses.add(422)  # an unknown query parameter
    if if_match_version in calls:
        statuses.add(412)
    if idempotency_key in calls:
        statuses |= {409, 422}
    if route.body_field is not None:
        statuses |= {400, 413, 422}
        if not isinstance(route.body_field.field_info, params.Form):
            statuses.add(415)
    if get_session in calls:
        statuses.add(503)  # no pool connection in time
        if route.methods - _READS:
            statuses.add(409)  # a concurrent change collided (get_session's Conflict)
    return statuses


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def _not_null(schema: dict[str, Any]) -> None:
    """A header is text or absent, never JSON null: an optional header's `anyOf [X, null]`
    becomes X (clients and schemathesis would otherwise send the text "null")."""
    options = [o for o in schema.get("anyOf", ()) if o.get("type") != "null"]
    if "anyOf" in schema and len(options) == 1:
        del schema["anyOf"]
        schema.update(options[0])


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document with every refusal as a Problem (422 included, not
    HTTPValidationError), statuses from each route's dependencies and its own `responses=`."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, summary=app.summary,
                         description=app.description, routes=app.routes)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for route in api_routes(app):
        if not route.include_in_schema:
            continue
        statuses = problem_statuses(route)
        for method in route.methods:
            responses = schema["paths"][route.path_format][method.lower()]["responses"]
            for status in statuses:
                responses.setdefault(str(status), {})
            for status, response in responses.items():
                if status.isdigit() and int(status) >= 400:
                    description = response.get("description")
                    if not description or description == "Validation Error":
                        description = DESCRIPTIONS.get(int(status), "Refused")
                    responses[status] = _problem_response(description)
            schema["paths"][route.path_format][method.lower()]["responses"] = dict(
                sorted(responses.items()))
            for parameter in schema["paths"][route.path_format][method.lower()].get(
                    "parameters", []):
                if parameter["in"] == "header":
                    _not_null(parameter["schema"])
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = schema
    return schema


def _page(title: str, head: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>{head}</head><body>{body}</body></html>\n")


def swagger_page(title: str) -> HTMLResponse:
    s = f"{STATIC_PREFIX}/docs"
    return _page(
        f"{title} – Swagger UI",
        f'<link rel="stylesheet" href="{s}/swagger-ui/swagger-ui.css">'
        f'<link rel="icon" type="image/png" href="{s}/swagger-ui/favicon-32x32.png">',
        f'<div id="swagger-ui" data-openapi-url="{OPENAPI_URL}" '
        f'data-oauth2-redirect-url="{OAUTH2_REDIRECT_URL}"></div>'
        f'<script src="{s}/swagger-ui/swagger-ui-bundle.js"></script>'
        f'<script src="{s}/swagger-init.js"></script>')


def redoc_page(title: str) -> HTMLResponse:
    s = f"{STATIC_PREFIX}/docs"
    return _page(f"{title} – ReDoc", "",
                 f'<div id="redoc" data-openapi-url="{OPENAPI_URL}"></div>'
                 f'<script src="{s}/redoc/redoc.standalone.js"></script>'
                 f'<script src="{s}/redoc-init.js"></script>')


def oauth2_redirect_page() -> HTMLResponse:
    return _page("OAuth2 redirect", "",
                 f'<script src="{STATIC_PREFIX}/docs/swagger-ui/oauth2-redirect.js"></script>')


def install(app: FastAPI, settings: Settings) -> None:
    """The documented OpenAPI document, the static assets, and in development the pages."""
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    app.mount(STATIC_PREFIX, StaticFiles(directory=STATIC_DIR), name="static")
    if settings.environment == "development":
        @app.get(OPENAPI_URL, include_in_schema=False)
        def openapi_json() -> JSONResponse:
            return JSONResponse(app.openapi())

        @app.get("/docs", include_in_schema=False)
        def swagger_ui() -> HTMLResponse:
            return swagger_page(app.title)

        @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
        def swagger_ui_redirect() -> HTMLResponse:
            return oauth2_redirect_page()

        @app.get("/redoc", include_in_schema=False)
        def redoc() -> HTMLResponse:
            return redoc_page(app.title)
    elif settings.openapi_for_admins:
        def openapi_json_for_admins(actor: AdminDep) -> JSONResponse:
            return JSONResponse(app.openapi())
        # The admin check reads the user: a unit of work like every API route.
        app.router.add_api_route(OPENAPI_URL, openapi_json_for_admins, methods=["GET"],
                                 include_in_schema=False, route_class_override=UnitOfWorkRoute)
