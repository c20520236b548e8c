"""Every refusal as application/problem+json (RFC 9457): stable type, title, status, German detail.

Domain errors carry their status and both languages (workflow.errors); this module adds the few
errors that only the HTTP layer knows and the handlers that turn all of them into responses.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

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


class PayloadTooLarge(WorkflowError):
    status, type, title = 413, "payload-too-large", "Anfrage zu groß"


class UnsupportedMediaType(WorkflowError):
    status, type, title = 415, "unsupported-media-type", "Falscher Inhaltstyp"


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
    "payload-too-large": "Request too large",
    "unsupported-media-type": "Unsupported media type",
    "validation-error": "Invalid request",
    "method-not-allowed": "Method not allowed",
    "http-error": "Request refused",
    "internal-error": "Internal error",
    "password-change-required": "Password change required",
    "too-many-login-attempts": "Too many login attempts",
    "database-busy": "Temporarily overloaded",
    # uploads (workflow.uploads)
    "file-too-large": "File too large",
    "file-type-not-allowed": "File type not allowed",
    "malware-found": "Malware found",
    "scanner-unavailable": "Virus scanner unavailable",
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
    413: ("Anfrage zu groß", "Der Inhalt der Anfrage ist zu groß."),
}
HTTP_EN = {
    400: ("Bad request", "The request is invalid."),
    401: ("Not authenticated", "Please log in."),
    403: ("Forbidden", "You lack the permission for this."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Method not allowed", "This method is not allowed here."),
    413: ("Request too large", "The content of the request is too large."),
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


# What users call the fields of the requests (German, English); other names as the client sent them.
FIELD_LABELS = {
    "call": ("Förderaufruf", "call"),
    "module_code": ("Modul", "module"),
    "module": ("Modul", "module"),
    "title": ("Titel", "title"),
    "summary": ("Kurzbeschreibung", "summary"),
    "quartier": ("Quartier", "neighbourhood"),
    "municipality": ("Kommune", "municipality"),
    "project_start": ("Projektbeginn", "project start"),
    "project_end": ("Projektende", "project end"),
    "own_contribution": ("Eigenanteil", "own contribution"),
    "amounts": ("Betrag", "amount"),
    "spending": ("Ausgaben", "spending"),
    "documents": ("Unterlage", "document"),
    "deadline": ("Frist", "deadline"),
    "repayment": ("Rückforderung", "repayment claim"),
    "reason": ("Begründung", "reason"),
    "year": ("Haushaltsjahr", "budget year"),
    "source": ("Mittelquelle", "funding source"),
    "delta": ("Änderung", "change"),
    "note": ("Vermerk", "note"),
    "narrative": ("Sachbericht", "narrative"),
    "period": ("Zeitraum", "period"),
    "state": ("Status", "state"),
    "organisation": ("Organisation", "organisation"),
    "organisation_id": ("Organisation", "organisation"),
    "overdue": ("überfällig", "overdue"),
    "escalated": ("eskaliert", "escalated"),
    "q": ("Suchtext", "search text"),
    "limit": ("Anzahl", "limit"),
    "offset": ("Versatz", "offset"),
    "email": ("E-Mail", "email"),
    "name": ("Name", "name"),
    "role": ("Rolle", "role"),
    "password": ("Passwort", "password"),
    "language": ("Sprache", "language"),
    "reference": ("Aktenzeichen", "reference"),
    "user_id": ("Konto", "account"),
    "outbox_id": ("E-Mail", "email"),
}
_WHOLE_REQUEST = ("Inhalt der Anfrage", "request content")
_WRAPPERS = {"payload"}  # nesting the user does not see as a field of its own


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    """The field as a dotted path (for programs): amounts.2021, payload.documents.3."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def field_label(loc: tuple[Any, ...] | list[Any], lang: str) -> str:
    """The field as the user knows it: "Betrag 2021" / "amount 2021", "Unterlage 4"."""
    index = 1 if lang == "en" else 0
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    words: list[str] = []
    for part in parts:
        if part in _WRAPPERS and len(parts) > 1:
            continue
        if isinstance(part, int):
            words.append(str(part + 1))  # list positions counted from 1, as people count
        elif isinstance(part, str) and part in FIELD_LABELS and not words:
            words.append(FIELD_LABELS[part][index])
        else:
            words.append(str(part)[:40])
    return " ".join(words) or _WHOLE_REQUEST[index]


def validation_problem(request: Request, error: RequestValidationError) -> JSONResponse:
    lang = language(request)
    errors = []
    for item in error.errors():
        loc = item.get("loc", ())
        if item.get("type") == "json_invalid":
            loc = ("body",)
        message = item.get("msg", "") if lang == "en" else VALIDATION_DE.get(
            item.get("type", ""), "ungültiger Wert")
        errors.append({"field": _field(loc), "label": field_label(loc, lang),
                       "location": loc[0] if loc else "body", "type": item.get("type"),
                       "message": message})
    listed = "; ".join(f"{e['label']}: {e['message']}" for e in errors)
    if lang == "en":
        title, detail = TITLES_EN["validation-error"], f"Invalid input: {listed}"
    else:
        title, detail = "Ungültige Anfrage", f"Ungültige Eingabe: {listed}"
    extra: dict[str, Any] = {"errors": errors}
    if errors:
        extra["field"] = errors[0]["field"]
    return problem(request, 422, "validation-error", title, detail, **extra)


def api_routes(app: FastAPI) -> Iterator[Any]:
    """Every API route with its full path (FastAPI keeps included routers nested)."""
    for context in iter_route_contexts(app.router.routes):
        if isinstance(context.original_route, APIRoute):
            yield context


def allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path (for Allow on a 405)."""
    methods: set[str] = set()
    for route in api_routes(request.app):
        if route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


def http_problem(request: Request, error: StarletteHTTPException) -> JSONResponse:
    lang = language(request)
    status = error.status_code
    type_ = {404: "not-found", 405: "method-not-allowed", 401: "not-authenticated",
             403: "not-permitted", 413: "payload-too-large"}.get(status, "http-error")
    table = HTTP_EN if lang == "en" else HTTP_DE
    title, detail = table.get(status, (TITLES_EN["http-error"] if lang == "en"
                                       else "Anfrage abgelehnt", str(error.detail)))
    headers = dict(error.headers or {})
    if status == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem(request, status, type_, title, detail, headers=headers or None)


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
    # Anything else: api.app.RequestLog answers with internal_problem (inside the middleware,
    # so the 500 carries X-Request-ID and the connection is kept).
