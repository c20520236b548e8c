"""The case file (Akte): recording documents of an application and listing them.

The content is put into the store first (`workflow.storage`, outside any transaction); the row
that names it is written in the caller's unit of work, so a rolled-back transaction leaves a blob
no row names, which `unreferenced_blobs` finds for the sweeper.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlmodel import Session, select

from states.documents import DocumentPurpose
from workflow.models import Document
from workflow.rows import Actor
from workflow.storage import Store, StoredBlob


def record_document(
    session: Session,
    application_id: int,
    blob: StoredBlob,
    *,
    filename: str,
    content_type: str,
    purpose: DocumentPurpose,
    actor: Actor | None,
    now: datetime,
    deadline_id: int | None = None,
    transition_id: int | None = None,
    scan: str = "",
) -> Document:
    """A document row for a stored blob, in the caller's transaction (flushed, so it has an id)."""
    document = Document(
        application_id=application_id,
        purpose=purpose.value,
        filename=filename,
        content_type=content_type,
        size_bytes=blob.size,
        sha256=blob.sha256,
        uploaded_by_id=actor.id if actor is not None else None,
        uploaded_at=now,
        deadline_id=deadline_id,
        transition_id=transition_id,
        scan=scan,
    )
    session.add(document)
    session.flush()
    return document


def case_file(session: Session, application_id: int) -> list[Document]:
    """Every document of an application, in the order they came in."""
    return list(session.exec(
        select(Document).where(Document.application_id == application_id)
        .order_by(Document.uploaded_at, Document.id)))


def unreferenced_blobs(session: Session, store: Store, older_than: datetime) -> Iterator[str]:
    """Blobs in the store that no document row names and that were written before
    `older_than` (younger ones may belong to an upload whose transaction is still running)."""
    cutoff = older_than.timestamp()
    for sha256, modified in store.blobs():
        if modified >= cutoff:
            continue
        if session.exec(select(Document.id).where(Document.sha256 == sha256).limit(1)).first():
            continue
        yield sha256
