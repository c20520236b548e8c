"""Every refusal as application/problem+json (RFC 9457): stable type, title, status, German detail.

Domain errors carry their status and both languages (workflow.errors); this module adds the few
errors that only the HTTP layer knows and the handlers that turn all of them into responses.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from workflow.db import DatabaseBusy
from workflow.errors import WorkflowError

log = logging.getLogger("quartier.api")

PROBLEM_BASE = "https://quartier.example/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


class PreconditionFailed(WorkflowError):
    status, type, title = 412, "precondition-failed", "Vorbedingung nicht erfüllt"


class IdempotencyKeyReused(WorkflowError):
    status, type, title = 422, "idempotency-key-reused", "Idempotency-Key bereits verwendet"



class NotReady(WorkflowError):
    status, type, title = 503, "not-ready", "Nicht bereit"


# English titles per problem type; the German title lives on the error class.
TITLES_EN = {
    "workflow-error": "Request refused",
    "not-found": "Not found",
    "not-authenticated": "Not authenticated",
    "not-permitted": "Forbidden",
    "four-eyes": "Four-eyes principle",
    "unknown-trigger": "Unknown action",
    "wrong-state": "Not possible in the current state",
    "stale-version": "The application has changed",
    "funding-stop": "Funding stop",
    "call-window-closed": "Submission window",
    "insufficient-funds": "No money left",
    "invalid-input": "Invalid input",
    "incomplete": "Incomplete application",
    "guard-failed": "Precondition not met",
    "precondition-failed": "Precondition failed",
    "idempotency-key-reused": "Idempotency key already used",
    "conflict": "Conflict",
    "not-ready": "Not ready",
    "validation-error": "Invalid request",
    "method-not-allowed": "Method not allowed",
    "http-error": "Request refused",
    "internal-error": "Internal error",
}

# Messages of the pydantic error types a client is likely to cause, in German.
VALIDATION_DE = {
    "missing": "fehlt",
    "string_type": "Text erwartet",
    "int_type": "ganze Zahl erwartet",
    "int_parsing": "ganze Zahl erwartet",
    "int_from_float": "ganze Zahl erwartet",
    "bool_parsing": "true oder false erwartet",
    "date_from_datetime_parsing": "Datum erwartet (JJJJ-MM-TT)",
    "date_parsing": "Datum erwartet (JJJJ-MM-TT)",
    "date_type": "Datum erwartet (JJJJ-MM-TT)",
    "dict_type": "Objekt erwartet",
    "list_type": "Liste erwartet",
    "model_type": "Objekt erwartet",
    "extra_forbidden": "unbekanntes Feld",
    "json_invalid": "kein gültiges JSON",
    "greater_than_equal": "zu klein",
    "greater_than": "zu klein",
    "less_than_equal": "zu groß",
    "less_than": "zu groß",
    "string_too_short": "zu kurz",
    "string_too_long": "zu lang",
    "literal_error": "kein erlaubter Wert",
    "enum": "kein erlaubter Wert",
    "value_error": "ungültiger Wert",
}

HTTP_DE = {
    400: ("Ungültige Anfrage", "Die Anfrage ist ungültig."),
    401: ("Nicht angemeldet", "Bitte anmelden."),
    403: ("Keine Berechtigung", "Dafür fehlt die Berechtigung."),
    404: ("Nicht gefunden", "Diese Adresse gibt es nicht."),
    405: ("Methode nicht erlaubt", "Diese Methode ist hier nicht erlaubt."),
}
HTTP_EN = {
    400: ("Bad request", "The request is invalid."),
    401: ("Not authenticated", "Please log in."),
    403: ("Forbidden", "You lack the permission for this."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Method not allowed", "This method is not allowed here."),
}


def language(request: Request) -> str:
    """"en" if the client prefers English (Accept-Language), else German."""
    best, best_q = "de", 0.0
    for part in request.headers.get("accept-language", "").split(","):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if primary in ("de", "en") and q > best_q:
            best, best_q = primary, q
    return best


def problem(request: Request, status: int, type_: str, title: str, detail: str,
            headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    body = {"type": PROBLEM_BASE + type_, "title": title, "status": status, "detail": detail,
            "instance": request.url.path, **jsonable_encoder(extra)}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def workflow_problem(request: Request, error: WorkflowError) -> JSONResponse:
    lang = language(request)
    title = TITLES_EN.get(error.type, "Request refused") if lang == "en" else error.title
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return problem(request, error.status, error.type, title, error.message(lang), headers,
                   **error.extra)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def validation_problem(request: Request, error: RequestValidationError) -> JSONResponse:
    lang = language(request)
    errors = []
    for item in error.errors():
        loc = item.get("loc", ())
        if item.get("type") == "json_invalid":
            loc = ("body",)
        field = _field(loc)
        message = item.get("msg", "") if lang == "en" else VALIDATION_DE.get(
            item.get("type", ""), "ungültiger Wert")
        errors.append({"field": field, "location": loc[0] if loc else "body",
                       "type": item.get("type"), "message": message})
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors))
    if lang == "en":
        title, detail = TITLES_EN["validation-error"], f"Invalid input in: {fields}."
    else:
        title = "Ungültige Anfrage"
        detail = "Ungültige Eingabe: " + "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(request, 422, "validation-error", title, detail, errors=errors,
                   field=errors[0]["field"] if errors else None)


def http_problem(request: Request, error: StarletteHTTPException) -> JSONResponse:
    lang = language(request)
    status = error.status_code
    type_ = {404: "not-found", 405: "method-not-allowed", 401: "not-authenticated",
             403: "not-permitted"}.get(status, "http-error")
    table = HTTP_EN if lang == "en" else HTTP_DE
    title, detail = table.get(status, (TITLES_EN["http-error"] if lang == "en"
                                       else "Anfrage abgelehnt", str(error.detail)))
    return problem(request, status, type_, title, detail, headers=error.headers)


def out_of_range_problem(request: Request, error: Exception) -> JSONResponse:
    """A value the database cannot hold (e.g. an id with 30 digits): bad input, not a crash."""
    if language(request) == "en":
        return problem(request, 422, "invalid-input", TITLES_EN["invalid-input"],
                       "A value is out of the permitted range.")
    return problem(request, 422, "invalid-input", "Ungültige Eingabe",
                   "Ein Wert liegt außerhalb des zulässigen Bereichs.")


def busy_problem(request: Request, error: DatabaseBusy) -> JSONResponse:
    """No database connection or lock in time: 503 with Retry-After, never a 500 after long."""
    response = workflow_problem(request, error)
    response.headers["Retry-After"] = str(error.retry_after_seconds)
    return response


def internal_problem(request: Request, error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    if language(request) == "en":
        return problem(request, 500, "internal-error", TITLES_EN["internal-error"],
                       "An unexpected error occurred; nothing was saved.")
    return problem(request, 500, "internal-error", "Interner Fehler",
                   "Ein unerwarteter Fehler ist aufgetreten; es wurde nichts gespeichert.")


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""
    app.add_exception_handler(WorkflowError, workflow_problem)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_problem)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_problem)  # type: ignore[arg-type]
    app.add_exception_handler(OverflowError, out_of_range_problem)
    app.add_exception_handler(DataError, out_of_range_problem)
    app.add_exception_handler(DatabaseBusy, busy_problem)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, internal_problem)
