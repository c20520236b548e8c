"""The case file (Akte) over HTTP: upload a document (multipart, streamed), list, download.

The upload is read before any unit of work begins: the body streams through python-multipart's
push parser into the store's staging area chunk by chunk (never whole in memory, never spooled
twice), the checks at the door run on the staged file, and only then one short transaction
files it. Who may upload is checked first, in a read-only session, so a refused caller's body
is never stored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import (
    ActorDep,
    SessionDep,
    TokenDep,
    UnitOfWorkRoute,
    _token_claims,
    current_actor,
    unit_of_work,
)
from api.errors import UnsupportedMediaType, language
from api.schemas import DB_ID_MAX, DocumentOut, RowId
from states import Role
from states.documents import UPLOAD_PURPOSES, DocumentPurpose
from workflow import uploads
from workflow.access import read_application
from workflow.db import reader
from workflow.documents import case_file_with_names, document_out
from workflow.errors import InvalidInput, NotFound, NotPermitted
from workflow.models import Document
from workflow.rows import Actor
from workflow.settings import Settings
from workflow.storage import Staged, read_chunks

router = APIRouter(prefix="/api/v1/applications/{reference}", tags=["documents"],
                   route_class=UnitOfWorkRoute)

UPLOAD_PATH = r"^/api/v1/applications/[^/]+/documents$"
ENVELOPE_BYTES = 64 * 1024  # what a multipart body may carry besides the file
MAX_FIELD_BYTES = 200
# What a download may be: the allowed upload types, and any other as stored (the notices).
DOWNLOAD_TYPES = [*Settings.model_fields["upload_allowed_types"].default,
                  "application/octet-stream"]


class FormStream:
    """A multipart/form-data body pushed through in chunks: the part named `file` goes to
    `on_file` as it arrives, the other (small) fields are collected as text."""

    def __init__(self, boundary: bytes, on_file: Any) -> None:
        self.on_file = on_file
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_seen = False
        self._headers: dict[bytes, bytes] = {}
        self._field, self._value = b"", b""
        self._name: str | None = None
        self._buffer = bytearray()
        self._is_file = False
        self.parser = MultipartParser(boundary, {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        })
        self.complete = False

    def _part_begin(self) -> None:
        self._headers, self._field, self._value = {}, b"", b""
        self._buffer.clear()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        self._is_file = self._name == "file"
        if self._is_file:
            if self.file_seen:
                raise InvalidInput("Bitte genau eine Datei je Anfrage hochladen.",
                                   "Upload exactly one file per request.", field="file")
            self.file_seen = True
            self.filename = _form_name(filename.decode("utf-8", "replace")) if filename \
                else None

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.on_file(data[start:end])
            return
        self._buffer += data[start:end]
        if len(self._buffer) > MAX_FIELD_BYTES:
            raise InvalidInput(f"{self._name}: zu lang.", f"{self._name}: too long.",
                               field=self._name)

    def _part_end(self) -> None:
        if not self._is_file and self._name:
            self.fields[self._name] = bytes(self._buffer).decode("utf-8", "replace").strip()

    def _end(self) -> None:
        self.complete = True

    def write(self, chunk: bytes) -> None:
        self.parser.write(chunk)

    def finish(self) -> None:
        """The body has ended: it must have ended as multipart says (a closing boundary)."""
        self.parser.finalize()
        if not self.complete:
            raise FormParserError("the body ended before the closing boundary")


def _form_name(name: str) -> str:
    """A file name as browsers send it in form data (WHATWG: `"`, CR and LF percent-encoded)."""
    return re.sub(r"%(22|0d|0a)", lambda m: chr(int(m.group(1), 16)), name, flags=re.I)


def _boundary(request: Request) -> bytes:
    content_type = request.headers.get("content-type", "")
    mime, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if mime != b"multipart/form-data" or not boundary:
        raise UnsupportedMediaType(
            "Unterlagen werden als multipart/form-data hochgeladen (Felder file, purpose, "
            "optional deadline_id).",
            "Documents are uploaded as multipart/form-data (fields file, purpose, optional "
            "deadline_id).", field="Content-Type")
    return boundary


def _may_upload(request: Request, token: str | None, reference: str) -> None:
    """Who may upload at all, read-only (no write lock while the body streams in)."""
    with Session(reader(request.app.state.engine)) as session:
        actor = current_actor(request, session, token)
        if actor.role not in (Role.carrier, Role.reviewer, Role.approver):
            uploads.check_uploader(actor, DocumentPurpose.document_request)
        _application(session, reference, actor)


def _application(session: Session, reference: str, actor: Actor):  # noqa: ANN202
    """The application the actor may see; a number too large to be an id is not found."""
    if reference.isascii() and reference.isdigit() and int(reference) > DB_ID_MAX:
        raise NotFound(f"Antrag {reference} wurde nicht gefunden.",
                       f"Application {reference} was not found.")
    return read_application(session, reference, actor)


def _deadline_id(text: str | None) -> int | None:
    if not text:
        return None
    if not (text.isascii() and text.isdigit() and len(text) < 10):
        raise InvalidInput(f"deadline_id: „{text[:20]}“ ist keine Fristnummer.",
                           f"deadline_id: '{text[:20]}' is not a deadline id.",
                           field="deadline_id")
    return int(text)


async def _drain(request: Request) -> None:
    """Read what is left of a refused body, so that the client gets to read the refusal."""
    try:
        async for _ in request.stream():
            pass
    except Exception:  # noqa: BLE001 (the refusal is what matters; the middleware bounds it)
        return




@router.post(
    "/documents", status_code=201, response_model=DocumentOut,
    summary="Upload a document into the case file (multipart: file, purpose, deadline_id)",
    openapi_extra={"requestBody": {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file", "purpose"], "properties": {
            "file": {"type": "string", "format": "binary"},
            "purpose": {"type": "string", "enum": sorted(
                p.value for p in UPLOAD_PURPOSES)},
            "deadline_id": {"type": "integer", "minimum": 1,
                            "description": "the request (deadline) the document answers"}}}}}}},
    responses={403: {"description": "observers and admins never upload; staff only other"},
               409: {"description": "no fitting deadline open, or a concurrent change"},
               413: {"description": "file or application limit exceeded"},
               415: {"description": "type not allowed (detected from the content)"},
               422: {"description": "malware found, or the form is incomplete"},
               503: {"description": "virus scanner unavailable or none configured"}})
async def upload_document(reference: str, request: Request, token: TokenDep) -> dict:
    settings = request.app.state.settings
    policy = uploads.UploadPolicy.of(settings)
    _token_claims(request, token)  # an anonymous body is never read
    policy.admit_uploads()
    boundary = _boundary(request)
    await run_in_threadpool(_may_upload, request, token, reference)
    staged: Staged = settings.document_store().stage(policy.max_bytes)
    try:
        form = FormStream(boundary, lambda chunk: policy.write(staged, chunk))
        try:
            async for chunk in request.stream():
                form.write(chunk)
            form.finish()
        except uploads.FileTooLarge:
            staged.discard()
            await _drain(request)
            raise
        except FormParserError:
            raise InvalidInput("Der Inhalt ist kein gültiges multipart/form-data.",
                               "The content is not valid multipart/form-data.",
                               field="file") from None
        if not form.file_seen:
            raise InvalidInput("Es fehlt die Datei (Feld file).", "The file is missing "
                               "(field file).", field="file")
        purpose = uploads.parse_purpose(form.fields.get("purpose"))
        deadline_id = _deadline_id(form.fields.get("deadline_id"))
        inspection = await run_in_threadpool(uploads.inspect, staged, policy)
        async with unit_of_work(request) as session:
            document, name = await run_in_threadpool(
                _file_upload, request, session, token, reference, staged, inspection,
                form.filename, purpose, deadline_id, policy)
        return document_out(document, name, language(request))
    finally:
        staged.discard()


def _file_upload(request: Request, session: Session, token: str | None, reference: str,
                 staged: Staged, inspection: uploads.Inspection, filename: str | None,
                 purpose: DocumentPurpose, deadline_id: int | None,
                 policy: uploads.UploadPolicy) -> tuple[Document, str]:
    actor = current_actor(request, session, token)
    document = uploads.upload_document(session, reference, actor, staged, inspection,
                                       filename=filename or "", purpose=purpose,
                                       policy=policy, deadline_id=deadline_id)
    return document, actor.name


def _readable(actor: Actor) -> None:
    if actor.role == Role.observer:
        raise NotPermitted("Die Begleitung (Beobachterrolle) sieht keine Unterlagen der Akte.",
                           "Observers do not see the documents of a case file.")


@router.get("/documents", response_model=list[DocumentOut],
            summary="The case file: every document and notice, in order, with who and when",
            responses={403: {"description": "observers see no documents"}})
def list_documents(reference: str, request: Request, session: SessionDep,
                   actor: ActorDep) -> list[dict]:
    _readable(actor)
    app = _application(session, reference, actor)
    lang = language(request)
    return [document_out(d, name, lang) for d, name in case_file_with_names(session, app.id)]


@router.get("/documents/{document_id}", response_class=StreamingResponse,
            summary="Download one document of the case file",
            responses={200: {"content": {t: {} for t in DOWNLOAD_TYPES}},
                       403: {"description": "observers see no documents"}})
def download_document(reference: str, document_id: RowId, session: SessionDep,
                      actor: ActorDep, request: Request) -> StreamingResponse:
    _readable(actor)
    app = _application(session, reference, actor)
    document = session.get(Document, document_id)
    store = request.app.state.settings.document_store()
    if document is None or document.application_id != app.id or not store.exists(
            document.sha256):
        raise NotFound(f"Unterlage {document_id} wurde nicht gefunden.",
                       f"Document {document_id} was not found.")
    content = store.open(document.sha256)

    def chunks() -> Iterator[bytes]:
        with content:
            yield from read_chunks(content, 256 * 1024)

    return StreamingResponse(chunks(), media_type=document.content_type, headers={
        "Content-Disposition": uploads.content_disposition(document.filename),
        "Content-Length": str(document.size_bytes),
        "ETag": f'"{document.sha256}"',
        "X-Content-Type-Options": "nosniff",
    })
