"""The case file: document rows name stored blobs; blobs no row names are found for the sweeper."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from states.documents import DocumentPurpose
from tests.factories import NOW, application_in, make_world
from workflow import documents
from workflow.storage import FileStore


def test_a_document_row_names_its_blob_and_the_case_file_lists_in_order(any_engine, tmp_path):
    store = FileStore(tmp_path)
    with Session(any_engine) as session:
        world = make_world(session)
        app = application_in(session, world, "submitted")
        plan = store.put([b"%PDF-1.7 Finanzierungsplan"])
        statute = store.put([b"%PDF-1.7 Satzung"])
        later = documents.record_document(
            session, app.id, statute, filename="Satzung.pdf", content_type="application/pdf",
            purpose=DocumentPurpose.document_request, actor=world.carrier,
            now=NOW + timedelta(days=2))
        first = documents.record_document(
            session, app.id, plan, filename="Finanzierungsplan 2021.pdf",
            content_type="application/pdf", purpose=DocumentPurpose.document_request,
            actor=world.carrier, now=NOW + timedelta(days=1))
        session.commit()
        listed = documents.case_file(session, app.id)
    # The submission filed the application itself as a PDF first (workflow.bescheide).
    assert listed[0].purpose == DocumentPurpose.application
    listed = listed[1:]
    assert [d.id for d in listed] == [first.id, later.id]
    assert listed[0].sha256 == plan.sha256 and listed[0].size_bytes == plan.size
    assert listed[0].uploaded_by_id == world.carrier.id
    assert listed[0].uploaded_at == NOW + timedelta(days=1)


def test_blobs_of_rolled_back_uploads_are_unreferenced(any_engine, tmp_path):
    store = FileStore(tmp_path)
    with Session(any_engine) as session:
        world = make_world(session)
        app = application_in(session, world, "submitted")
        session.commit()
        kept = store.put([b"kept"])
        documents.record_document(
            session, app.id, kept, filename="a.pdf", content_type="application/pdf",
            purpose=DocumentPurpose.other, actor=world.carrier, now=NOW)
        session.commit()
        orphan = store.put([b"orphan"])
        documents.record_document(
            session, app.id, orphan, filename="b.pdf", content_type="application/pdf",
            purpose=DocumentPurpose.other, actor=world.carrier, now=NOW)
        session.rollback()
        future = datetime.now(UTC) + timedelta(minutes=1)
        assert list(documents.unreferenced_blobs(session, store, future)) == [orphan.sha256]
        past = datetime.now(UTC) - timedelta(hours=1)
        assert list(documents.unreferenced_blobs(session, store, past)) == []
