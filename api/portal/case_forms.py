"""The carrier's answers on a case: documents for a request (/unterlagen), the interim and
final reports and the hearing reply. Each POST files the uploads through the upload pipeline
(size, type from the content, virus scan: workflow.uploads) and then takes the one workflow
step; any refusal re-renders the form with the engine's reason, and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api.deps import SessionDep
from api.portal import case_view as view
from api.portal.base import (
    CarrierDep,
    FormDep,
    form_errors,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.i18n import _, request_language
from states import DeadlineKind, State
from states.documents import DocumentPurpose
from workflow import engine, queries, reports, uploads
from workflow.errors import WorkflowError
from workflow.models import Application
from workflow.rows import Actor

router = portal_router()

FILES = "dateien"
CHUNK = 256 * 1024
# The engine's field names -> the form's.
FIELDS = {"file": FILES, "document_ids": FILES, "explanation": "erklaerung", "reason": "text",
          "narrative": "text", "spending": "ausgaben", "period": ""}


@dataclass(frozen=True)
class Form:
    """One answer form: its page, the purpose of its uploads and its step."""

    slug: str
    template: str
    purpose: DocumentPurpose
    kinds: tuple[DeadlineKind, ...]
    done: str  # the flash after success (German msgid)


DOCUMENTS = Form("unterlagen", "portal/case/documents.html", DocumentPurpose.document_request,
                 (DeadlineKind.document_request,),
                 "Vielen Dank, Ihre Unterlagen sind eingegangen.")
INTERIM = Form("zwischennachweis", "portal/case/report.html", DocumentPurpose.interim_report,
               (DeadlineKind.interim_report,),
               "Vielen Dank, Ihr Zwischennachweis ist eingegangen.")
FINAL = Form("verwendungsnachweis", "portal/case/report.html", DocumentPurpose.final_report,
             (DeadlineKind.final_report, DeadlineKind.report_changes),
             "Vielen Dank, Ihr Verwendungsnachweis ist eingegangen.")
HEARING = Form("anhoerung", "portal/case/hearing.html", DocumentPurpose.hearing_reply,
               (DeadlineKind.hearing_reply,),
               "Vielen Dank, Ihre Stellungnahme ist eingegangen.")


def _files(form: FormData) -> list[UploadFile]:
    """The chosen files (a browser sends an empty part when none is chosen)."""
    return [f for f in form.getlist(FILES)
            if isinstance(f, UploadFile) and (f.filename or f.size)]


def file_uploads(request: Request, session: Session, app: Application, actor: Actor,
                 form: FormData, purpose: DocumentPurpose) -> list[int]:
    """Every chosen file through the checks at the door into the case file (this unit of
    work); the first refusal raises, and the caller's rollback keeps nothing of any of them."""
    settings = request.app.state.settings
    policy = uploads.UploadPolicy.of(settings)
    chosen = _files(form)
    if chosen:
        policy.admit_uploads()
    ids = []
    for upload in chosen:
        staged = settings.document_store().stage(policy.max_bytes)
        try:
            upload.file.seek(0)
            while chunk := upload.file.read(CHUNK):
                policy.write(staged, chunk)
            inspection = uploads.inspect(staged, policy)
            document = uploads.upload_document(
                session, app.reference or app.id, actor, staged, inspection,
                filename=upload.filename or "", purpose=purpose, policy=policy)
            ids.append(document.id)
        finally:
            staged.discard()
    return ids


def _context(request: Request, session: Session, app: Application, form: Form,
             **extra: Any) -> dict[str, Any]:
    requested = [r for r in view.requested_now(request, session, app, queries.today())
                 if r.deadline.kind in form.kinds]
    return {"app": app, "form": form.slug, "requested": requested,
            "years": [y for y in view.years_of(session, app) if y.approved_cents],
            "files_field": FILES, **extra}


def _show(request: Request, session: Session, reference: str, actor: Actor, form: Form,
          errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    app = view.application_of(session, reference, actor)
    return page(request, form.template, _context(
        request, session, app, form, errors=errors or {}, values=values or {},
        allowed=_allowed(request, session, app, actor, form)), status_code=status_code)


def _allowed(request: Request, session: Session, app: Application, actor: Actor,
             form: Form) -> str | None:
    """None when the engine lets the carrier take this step now, else the engine's reason."""
    trigger = {DOCUMENTS.slug: "provide_documents", FINAL.slug: "submit_final_report",
               HEARING.slug: "answer_hearing"}.get(form.slug)
    if trigger is None:  # the interim report is an action, not a transition: it says itself
        if State(app.state) != State.active:
            return _(request, "Zwischennachweise gibt es nur für Projekte in Durchführung.")
        return None
    refusal = engine.check(session, app.id, trigger, actor)
    return None if refusal is None else refusal.message(request_language(request))


def _answer(request: Request, session: Session, reference: str, actor: Actor,
            form: Form, data: FormData, step: Callable[[Application, list[int]], None]
            ) -> Response:
    app = view.application_of(session, reference, actor)
    try:
        ids = file_uploads(request, session, app, actor, data, form.purpose)
        step(app, ids)
    except WorkflowError as error:
        refused(session)
        lang = request_language(request)
        errors = {FIELDS.get(k, k): v for k, v in form_errors(error, lang).items()}
        if _files(data):
            errors.setdefault(FILES, _(request, "Bitte wählen Sie die Dateien erneut aus; es "
                                                "wurde nichts gespeichert."))
        return _show(request, session, reference, actor, form, errors, form_values(data),
                     error.status)
    return redirect(request, f"/antraege/{reference}", flash=_(request, form.done))


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _spending(data: FormData, app: Application, session: Session) -> dict[str, str]:
    return {str(y.year): _text(data, f"ausgaben_{y.year}")
            for y in view.years_of(session, app) if y.approved_cents}


# ---- Unterlagen nachreichen --------------------------------------------------------------------

@router.get("/antraege/{reference}/unterlagen")
def documents_form(reference: str, request: Request, session: SessionDep,
                   actor: CarrierDep) -> Response:
    return _show(request, session, reference, actor, DOCUMENTS)


@router.post("/antraege/{reference}/unterlagen")
def provide_documents(reference: str, request: Request, session: SessionDep,
                      actor: CarrierDep, form: FormDep) -> Response:
    def step(app: Application, _ids: list[int]) -> None:
        payload = {}
        if explanation := _text(form, "erklaerung"):
            payload["explanation"] = explanation
        engine.fire(session, app.reference or app.id, "provide_documents", actor,
                    payload=payload)

    return _answer(request, session, reference, actor, DOCUMENTS, form, step)


# ---- Zwischennachweis --------------------------------------------------------------------------

@router.get("/antraege/{reference}/zwischennachweis")
def interim_form(reference: str, request: Request, session: SessionDep,
                 actor: CarrierDep) -> Response:
    return _show(request, session, reference, actor, INTERIM)


@router.post("/antraege/{reference}/zwischennachweis")
def interim_report(reference: str, request: Request, session: SessionDep, actor: CarrierDep,
                   form: FormDep) -> Response:
    def step(app: Application, _ids: list[int]) -> None:
        spending = {y: v for y, v in _spending(form, app, session).items() if v}
        reports.submit_interim_report(session, app.reference or app.id, actor,
                                      narrative=_text(form, "text"), spending=spending)

    return _answer(request, session, reference, actor, INTERIM, form, step)


# The Verwendungsnachweis form is api.portal.final_report_form (it uses FINAL).


# ---- Anhörung ----------------------------------------------------------------------------------

@router.get("/antraege/{reference}/anhoerung")
def hearing_form(reference: str, request: Request, session: SessionDep,
                 actor: CarrierDep) -> Response:
    return _show(request, session, reference, actor, HEARING)


@router.post("/antraege/{reference}/anhoerung")
def answer_hearing(reference: str, request: Request, session: SessionDep, actor: CarrierDep,
                   form: FormDep) -> Response:
    def step(app: Application, _ids: list[int]) -> None:
        engine.fire(session, app.reference or app.id, "answer_hearing", actor,
                    reason=_text(form, "text") or None)

    return _answer(request, session, reference, actor, HEARING, form, step)
