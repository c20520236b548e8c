"""Uploads into the case file, and the checks at the door: size per file and per application,
the type as the content shows it (libmagic, never the name or the client's header), the
allow-list, and the virus scan (clamd). A refused file leaves nothing: it is discarded from the
staging area before it reaches the store, and no row is written.

The order matters for the database: the content streams into a staged file and is checked
*before* any transaction begins (on SQLite a writing transaction holds the write lock); the
row is then written in one short unit of work, after the blob was kept in the store. If that
transaction fails, the blob is an orphan for the sweeper (`documents.sweep_orphans`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import magic
from sqlalchemy import func
from sqlmodel import Session, select

from states import DeadlineStatus, Role, State
from states.documents import ANSWERS, STAFF_UPLOAD_PURPOSES, UPLOAD_PURPOSES, DocumentPurpose
from workflow.applications import load_application
from workflow.documents import record_document
from workflow.errors import InvalidInput, NotPermitted, WorkflowError, WrongState
from workflow.models import Application, Deadline, Document
from workflow.rows import Actor
from workflow.scanner import Clamd, ScannerUnreachable
from workflow.settings import Settings
from workflow.storage import BlobTooLarge, Staged, read_chunks

# The short names users know the allowed types by.
TYPE_NAMES = {
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
}
MAX_FILENAME = 200


class FileTooLarge(WorkflowError):
    status, type, title = 413, "file-too-large", "Datei zu groß"


class FileTypeNotAllowed(WorkflowError):
    status, type, title = 415, "file-type-not-allowed", "Dateityp nicht erlaubt"


class MalwareFound(WorkflowError):
    status, type, title = 422, "malware-found", "Schadsoftware gefunden"


class ScannerUnavailable(WorkflowError):
    status, type, title = 503, "scanner-unavailable", "Virenprüfung nicht verfügbar"


def megabytes(size: int, language: str = "de") -> str:
    """Bytes as MB (MiB) for people: 20 MB, 0,5 MB (0.5 MB in English)."""
    text = f"{size / (1024 * 1024):.1f}".removesuffix(".0")
    return (text if language == "en" else text.replace(".", ",")) + " MB"


@dataclass(frozen=True)
class UploadPolicy:
    """The checks at the door, from the settings."""

    max_bytes: int
    max_bytes_per_application: int
    allowed_types: frozenset[str]
    scanner: Clamd | None
    scanner_required: bool  # outside development, unless QUARTIER_UPLOADS_WITHOUT_SCANNER

    @classmethod
    def of(cls, settings: Settings) -> UploadPolicy:
        scanner = (Clamd(settings.clamd_socket, settings.clamd_timeout_seconds)
                   if settings.clamd_socket else None)
        return cls(settings.upload_max_bytes, settings.upload_max_bytes_per_application,
                   frozenset(settings.upload_allowed_types), scanner,
                   settings.environment != "development" and not settings.uploads_without_scanner)

    def admit_uploads(self) -> None:
        """Refuse every upload while a scanner is required but none is configured."""
        if self.scanner is None and self.scanner_required:
            raise ScannerUnavailable(
                "Hochladen ist derzeit nicht möglich: Es ist kein Virenscanner eingerichtet "
                "(QUARTIER_CLAMD_SOCKET). Es wurde nichts gespeichert.",
                "Uploads are not possible: no virus scanner is configured "
                "(QUARTIER_CLAMD_SOCKET). Nothing was stored.")

    def too_large(self) -> FileTooLarge:
        return FileTooLarge(
            f"Die Datei ist zu groß: höchstens {megabytes(self.max_bytes)} je Datei. "
            "Es wurde nichts gespeichert.",
            f"The file is too large: at most {megabytes(self.max_bytes, 'en')} per file. "
            "Nothing was stored.", max_bytes=self.max_bytes)

    def write(self, staged: Staged, chunk: bytes) -> None:
        """One chunk of the file into the staging area; past the limit FileTooLarge."""
        try:
            staged.write(chunk)
        except BlobTooLarge:
            raise self.too_large() from None


@dataclass(frozen=True)
class Inspection:
    content_type: str
    scan: str  # "clean" when the scanner checked it, "" when none is configured


def detect_type(path: Path) -> str:
    """The MIME type the content shows (libmagic tells DOCX, XLSX, ODT and ODS from a ZIP)."""
    return magic.from_file(str(path), mime=True)


def inspect(staged: Staged, policy: UploadPolicy) -> Inspection:
    """Type and virus checks of a completely staged file; raises the refusal (the caller
    discards the staged file)."""
    staged.finish()
    if staged.size == 0:
        raise InvalidInput("Die Datei ist leer. Es wurde nichts gespeichert.",
                           "The file is empty. Nothing was stored.", field="file")
    detected = detect_type(staged.path)
    if detected not in policy.allowed_types:
        allowed = ", ".join(sorted(TYPE_NAMES.get(t, t) for t in policy.allowed_types))
        raise FileTypeNotAllowed(
            f"Dateityp nicht erlaubt: Der Inhalt ist „{detected}“ (am Inhalt erkannt, nicht am "
            f"Dateinamen). Erlaubt sind: {allowed}. Es wurde nichts gespeichert.",
            f"File type not allowed: the content is '{detected}' (detected from the content, "
            f"not the file name). Allowed: {allowed}. Nothing was stored.",
            detected_type=detected)
    if policy.scanner is None:
        policy.admit_uploads()
        return Inspection(detected, "")
    try:
        with open(staged.path, "rb") as content:
            result = policy.scanner.scan(read_chunks(content, 256 * 1024))
    except ScannerUnreachable:
        raise ScannerUnavailable(
            "Die Virenprüfung ist gerade nicht erreichbar; die Datei wurde nicht gespeichert. "
            "Bitte später erneut versuchen.",
            "The virus scanner cannot be reached; the file was not stored. Please retry "
            "later.") from None
    if not result.clean:
        raise MalwareFound(
            f"Schadsoftware gefunden: {result.signature}. Die Datei wurde nicht gespeichert.",
            f"Malware found: {result.signature}. The file was not stored.",
            signature=result.signature)
    return Inspection(detected, "clean")


def safe_filename(name: str | None) -> str:
    """The uploader's file name without folders and control characters (at most 200)."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C").strip().strip(".")
    return base[:MAX_FILENAME] or "unbenannt"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the UTF-8 name (RFC 6266, RFC 5987): safe for
    any name (no quote, semicolon, CR or LF reaches the header unencoded)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = re.sub(r"[^A-Za-z0-9._ ()-]", "_", ascii_name).strip() or "dokument"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def parse_purpose(value: str | None) -> DocumentPurpose:
    try:
        purpose = DocumentPurpose(value or "")
    except ValueError:
        purpose = None
    if purpose not in UPLOAD_PURPOSES:
        allowed = ", ".join(sorted(p.value for p in UPLOAD_PURPOSES))
        raise InvalidInput(f"purpose: „{(value or '')[:40]}“ ist kein Zweck für eine Unterlage "
                           f"(erlaubt: {allowed}).",
                           f"purpose: '{(value or '')[:40]}' is not a document purpose "
                           f"(allowed: {allowed}).", field="purpose")
    return purpose


def check_uploader(actor: Actor, purpose: DocumentPurpose) -> None:
    """Carriers upload for their purposes, staff only `other`; observers and admins never."""
    if actor.role == Role.carrier:
        return
    if actor.role in (Role.reviewer, Role.approver) and purpose in STAFF_UPLOAD_PURPOSES:
        return
    if actor.role in (Role.reviewer, Role.approver):
        raise NotPermitted(
            "Die Sachbearbeitung lädt nur sonstige Unterlagen hoch (purpose=other); "
            "Antworten und Nachweise reicht der Träger ein.",
            "Staff upload only other documents (purpose=other); answers and reports are the "
            "carrier's.")
    raise NotPermitted("Nur der Träger und die Sachbearbeitung dürfen Unterlagen hochladen.",
                       "Only the carrier and staff may upload documents.")


def _answered_deadline(session: Session, app: Application, purpose: DocumentPurpose,
                       deadline_id: int | None) -> int | None:
    """The deadline the upload answers: the named one (of this application, of a kind the
    purpose answers, open), or the open one of those kinds; None for `other` without one."""
    kinds = ANSWERS[purpose]
    query = select(Deadline).where(Deadline.application_id == app.id)
    if deadline_id is not None:
        deadline = session.exec(query.where(Deadline.id == deadline_id)).first()
        if deadline is None or (kinds and deadline.kind not in kinds):
            raise InvalidInput(f"deadline_id: Frist {deadline_id} gehört nicht zu diesem Antrag "
                               "oder passt nicht zum Zweck der Unterlage.",
                               f"deadline_id: deadline {deadline_id} is not one of this "
                               "application's or does not fit the purpose.", field="deadline_id")
        if kinds and deadline.status != DeadlineStatus.open:
            raise WrongState(f"Die Frist {deadline_id} ist bereits erledigt.",
                             f"Deadline {deadline_id} has already been met.")
        return deadline.id
    if not kinds:
        return None
    deadline = session.exec(query.where(Deadline.kind.in_([k.value for k in kinds]),
                                        Deadline.status == DeadlineStatus.open)
                            .order_by(Deadline.due_date, Deadline.id)).first()
    if deadline is None:
        raise WrongState(
            "Zu diesem Antrag ist keine passende Frist offen (keine Nachforderung, kein "
            "Nachweis oder keine Anhörung); als sonstige Unterlage (purpose=other) hochladen.",
            "No fitting deadline is open for this application (no document request, report or "
            "hearing); upload it as another document (purpose=other).")
    return deadline.id


def _lock_application(session: Session, app_id: int) -> None:
    """Uploads of one application one after the other (the per-application limit); SQLite's
    writing transaction holds the database's write lock already."""
    session.exec(select(Application.id).where(Application.id == app_id).with_for_update())


def upload_document(session: Session, reference: int | str, actor: Actor, staged: Staged,
                    inspection: Inspection, *, filename: str, purpose: DocumentPurpose,
                    policy: UploadPolicy, deadline_id: int | None = None,
                    now: datetime | None = None) -> Document:
    """Keep a checked, staged file in the store and file it in the application's case file,
    in the caller's unit of work; every refusal comes before the blob is kept."""
    now = now or datetime.now(UTC)
    check_uploader(actor, purpose)
    app = load_application(session, reference, actor)
    if actor.role != Role.carrier and State(app.state) == State.draft:
        raise WrongState("Ein Entwurf ist nur für den Träger sichtbar.",
                         "A draft is the carrier's alone.", state=app.state)
    answered = _answered_deadline(session, app, purpose, deadline_id)
    _lock_application(session, app.id)
    held = session.exec(select(func.coalesce(func.sum(Document.size_bytes), 0)).where(
        Document.application_id == app.id,
        Document.purpose.in_([p.value for p in UPLOAD_PURPOSES]))).one()
    limit = policy.max_bytes_per_application
    if int(held) + staged.size > limit:
        raise FileTooLarge(
            f"Für diesen Antrag sind höchstens {megabytes(limit)} Unterlagen erlaubt; "
            f"{megabytes(int(held))} sind schon hochgeladen. Es wurde nichts gespeichert.",
            f"This application may hold at most {megabytes(limit, 'en')} of documents; "
            f"{megabytes(int(held), 'en')} are uploaded already. Nothing was stored.",
            max_bytes_per_application=limit)
    blob = staged.keep()
    return record_document(session, app.id, blob, filename=safe_filename(filename),
                           content_type=inspection.content_type, purpose=purpose, actor=actor,
                           now=now, deadline_id=answered, scan=inspection.scan)
