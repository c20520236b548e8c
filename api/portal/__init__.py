"""The web portal: server-rendered pages (Jinja2, KERN UX, htmx as an enhancement) in the API's
app. Carriers apply and follow their cases here; staff pages live under /verwaltung."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import errors
from api.portal import (
    accounts,
    admin_calls,
    admin_users,
    application_form,
    case,
    case_forms,
    dashboards,
    final_report_form,
    home,
    i18n,
    my_applications,
    organisations,
    payments_pages,
    session_pages,
    settlement_pages,
    signing,
    staff_assessment,
    staff_case,
    staff_final_report,
    staff_worklist,
)
from api.portal.base import LoginRequired, login_url, page, redirect
from workflow.errors import WorkflowError

# Every module of pages; each has `router = portal_router()`.
ROUTERS = [home, session_pages, my_applications, application_form, accounts, organisations,
            case, case_forms, final_report_form, staff_worklist, staff_case, staff_assessment,
            staff_final_report, signing, dashboards, admin_calls, admin_users, payments_pages,
            settlement_pages]

PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
            "base-uri 'none'; object-src 'none'")
# The portal's forms that carry files (the document request, reports, the hearing reply).
UPLOAD_PATH = r"^/antraege/[^/]+/(?:unterlagen|zwischennachweis|verwendungsnachweis|anhoerung)$"
_NOT_PAGES = ("/api/", "/static/", "/docs", "/redoc", "/openapi.json")


def wants_page(request: Request) -> bool:
    """Whether an error should be a page: on a portal route, or on any path outside the API for
    a client that asks for HTML (a browser)."""
    path = request.url.path
    if path.startswith(_NOT_PAGES):
        return False
    endpoint = request.scope.get("endpoint")
    if endpoint is not None and getattr(endpoint, "__module__", "").startswith("api.portal"):
        return True
    return "text/html" in request.headers.get("accept", "")


def error_page(request: Request, status: int, message: str) -> Response:
    return page(request, "portal/error.html", {"status": status, "message": message},
                status_code=status)


_PAGE_TITLES = {404: ("Seite nicht gefunden", "Page not found"),
                405: ("Diese Aktion ist hier nicht möglich", "This action is not possible here")}


def install(app: FastAPI) -> None:
    for module in ROUTERS:
        app.include_router(module.router)

    async def login_required(request: Request, error: Exception) -> Response:
        assert isinstance(error, LoginRequired)
        return redirect(request, login_url(error.next_path),
                        flash=i18n._(request, "Bitte melden Sie sich an."))

    async def workflow_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, WorkflowError)
        if not wants_page(request):
            return errors.workflow_problem(request, error)
        return error_page(request, error.status, error.message(i18n.request_language(request)))

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, StarletteHTTPException)
        if not wants_page(request):
            return errors.http_problem(request, error)
        de, en = _PAGE_TITLES.get(error.status_code, ("Anfrage abgelehnt", "Request refused"))
        language = i18n.request_language(request)
        return error_page(request, error.status_code, de if language == "de" else en)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(WorkflowError, workflow_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


def csp_for(path: str, content_type: str) -> Any:
    """The page CSP for portal HTML (stricter than the documentation pages')."""
    if content_type.startswith("text/html") and not path.startswith(_NOT_PAGES):
        return PAGE_CSP
    return None
