"""The case file (Akte): recording documents of an application and listing them.

The content is put into the store first (`workflow.storage`, outside any transaction); the row
that names it is written in the caller's unit of work, so a rolled-back transaction leaves a blob
no row names, which `unreferenced_blobs` finds for the sweeper.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, update
from sqlmodel import Session, select

from states.documents import DOCUMENT_PURPOSE_LABELS, DocumentPurpose
from states.labels import Label
from workflow import repository
from workflow.errors import InvalidInput
from workflow.models import Deadline, Document, User
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


def sweep_orphans(session: Session, store: Store, now: datetime,
                  grace: timedelta) -> list[str]:
    """Delete the blobs no document row names that are older than `grace` (an upload whose
    transaction failed, a notice rolled back); the checksums deleted. Each blob's age is looked
    at again just before it goes, so one stored again meanwhile stays."""
    deleted = []
    cutoff = (now - grace).timestamp()
    for sha256 in list(unreferenced_blobs(session, store, now - grace)):
        if store.modified(sha256) is None or store.modified(sha256) >= cutoff:
            continue
        store.delete(sha256)
        deleted.append(sha256)
    return deleted


def stored_documents_for(session: Session, application_id: int,
                         ids: list[int]) -> dict[int, Document]:
    """The documents of one application among `ids`, by id."""
    if not ids:
        return {}
    rows = session.exec(select(Document).where(Document.application_id == application_id,
                                               Document.id.in_(ids)))
    return {d.id: d for d in rows}


def unattached_answers(session: Session, application_id: int, purposes: list[str],
                       deadline_id: int, since: datetime | None = None) -> list[Document]:
    """Uploads not yet part of a step that answer the deadline `deadline_id`: those naming it,
    and those naming none uploaded since it opened (`since`, by default its opening)."""
    opened = since if since is not None else (
        select(Deadline.opened_at).where(Deadline.id == deadline_id).scalar_subquery())
    query = select(Document).where(
        Document.application_id == application_id, Document.transition_id.is_(None),
        Document.purpose.in_(purposes),
        or_(Document.deadline_id == deadline_id,
            and_(Document.deadline_id.is_(None), Document.uploaded_at >= opened)))
    return list(session.exec(query.order_by(Document.id)))


def attach(session: Session, document_ids: list[int], transition_id: int) -> None:
    """The documents become part of the transition that carried them."""
    if document_ids:
        session.execute(update(Document).where(Document.id.in_(document_ids))
                        .values(transition_id=transition_id))
        for document_id in document_ids:
            repository.sync(session, Document, document_id, {"transition_id": transition_id})


def case_file_with_names(session: Session,
                         application_id: int) -> list[tuple[Document, str | None]]:
    """The case file with each uploader's name (None: generated by Quartier)."""
    documents = case_file(session, application_id)
    ids = {d.uploaded_by_id for d in documents if d.uploaded_by_id is not None}
    names = dict(session.execute(select(User.id, User.name).where(User.id.in_(ids))).all()) \
        if ids else {}
    return [(d, names.get(d.uploaded_by_id)) for d in documents]


def document_out(document: Document, uploader: str | None, language: str = "de") -> dict:
    """One document as the API and `--json` show it."""
    label = DOCUMENT_PURPOSE_LABELS[DocumentPurpose(document.purpose)]
    return {"id": document.id, "purpose": document.purpose,
            "purpose_label": label.en if language == "en" else label.de,
            "filename": document.filename, "content_type": document.content_type,
            "size_bytes": document.size_bytes, "sha256": document.sha256,
            "uploaded_by_id": document.uploaded_by_id, "uploaded_by": uploader,
            "uploaded_at": document.uploaded_at, "deadline_id": document.deadline_id,
            "transition_id": document.transition_id, "scan": document.scan}


def carried(session: Session, application_id: int, purposes: list[str], raw_ids: object,
            deadline_id: int | None, since: datetime | None, step: Label) -> list[Document]:
    """The uploads a step (`step` names it) carries: those named in `raw_ids` (of this
    application, not yet part of a step, of one of `purposes` or `other`), or, when none are
    named, every upload of `purposes` that answers the open deadline `deadline_id`."""
    if raw_ids is None:
        if deadline_id is None:
            return []
        return unattached_answers(session, application_id, purposes, deadline_id, since)
    if not isinstance(raw_ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**31 for i in raw_ids):
        raise InvalidInput("document_ids: bitte eine Liste von Dokumentnummern angeben.",
                           "document_ids: give a list of document ids.", field="document_ids")
    ids = list(dict.fromkeys(raw_ids))
    found = stored_documents_for(session, application_id, ids)
    for document_id in ids:
        document = found.get(document_id)
        if document is None:
            raise InvalidInput(f"document_ids: Unterlage {document_id} gehört nicht zu diesem "
                               "Antrag.", f"document_ids: document {document_id} is not one of "
                               "this application's.", field="document_ids")
        if document.transition_id is not None or document.purpose not in [*purposes, "other"]:
            raise InvalidInput(
                f"document_ids: Unterlage {document_id} („{document.filename}“) gehört schon "
                f"zu einem anderen Vorgang oder passt nicht zu „{step.de}“.",
                f"document_ids: document {document_id} ('{document.filename}') already belongs "
                f"to another step or does not fit '{step.en}'.", field="document_ids")
    return [found[i] for i in ids]


def named_in_history(carried_documents: list[Document]) -> list[dict[str, object]]:
    """How a history row names the documents it carries."""
    return [{"id": d.id, "filename": d.filename} for d in carried_documents]
