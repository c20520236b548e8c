"""workflow/uploads.py and documents in the workflow: the door's helpers (types from the content,
file names, Content-Disposition), and final reports and hearing replies carrying documents,
named in the history row; a refused transition attaches nothing."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from states.documents import DocumentPurpose
from tests.factories import NOW, application_in, final_report_payload, make_world
from workflow import documents, uploads
from workflow import engine as wf
from workflow.errors import InvalidInput
from workflow.models import Deadline, Document
from workflow.storage import FileStore


def _zip(entries: list[tuple[str, str]], first_stored: bool = False) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, (name, text) in enumerate(entries):
            if first_stored and n == 0:
                z.writestr(zipfile.ZipInfo(name), text, compress_type=zipfile.ZIP_STORED)
            else:
                z.writestr(name, text)
    return out.getvalue()


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack(
            "!I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


OOXML = [("[Content_Types].xml", "<Types/>"), ("_rels/.rels", "<Relationships/>")]
SAMPLES = {
    "application/pdf": b"%PDF-1.7\n%%EOF\n",
    "image/png": _png(),
    "image/jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                  + b"\x00" * 64 + b"\xff\xd9",
    "application/vnd.oasis.opendocument.text": _zip(
        [("mimetype", "application/vnd.oasis.opendocument.text"), ("content.xml", "<x/>")],
        first_stored=True),
    "application/vnd.oasis.opendocument.spreadsheet": _zip(
        [("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
         ("content.xml", "<x/>")], first_stored=True),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _zip(
        [*OOXML, ("word/document.xml", "<w/>")]),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _zip(
        [*OOXML, ("xl/workbook.xml", "<x/>")]),
    "application/zip": _zip([("notes.txt", "hallo")]),
}


@pytest.mark.parametrize("expected", sorted(SAMPLES))
def test_the_type_comes_from_the_content(expected: str, tmp_path) -> None:
    path = tmp_path / "upload.pdf"  # the name says PDF for all of them
    path.write_bytes(SAMPLES[expected])
    assert uploads.detect_type(path) == expected


def test_the_default_allow_list_is_the_seven_types_and_no_zip() -> None:
    from workflow.settings import Settings
    allowed = set(Settings().upload_allowed_types)
    assert allowed == set(SAMPLES) - {"application/zip"} == set(uploads.TYPE_NAMES)


@pytest.mark.parametrize(("name", "ascii_name", "encoded"), [
    ("Satzung.pdf", "Satzung.pdf", "Satzung.pdf"),
    ("Übersicht März.pdf", "Ubersicht Marz.pdf", "%C3%9Cbersicht%20M%C3%A4rz.pdf"),
    ('a";b\r\nSet-Cookie: x.pdf', "a__b__Set-Cookie_ x.pdf",
     "a%22%3Bb%0D%0ASet-Cookie%3A%20x.pdf"),
    ("計画.pdf", ".pdf", "%E8%A8%88%E7%94%BB.pdf"),
])
def test_content_disposition_is_safe_for_any_name(name, ascii_name, encoded) -> None:
    header = uploads.content_disposition(name)
    assert header == f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{encoded}"
    assert "\r" not in header and "\n" not in header


def test_file_names_lose_folders_and_control_characters() -> None:
    assert uploads.safe_filename("C:\\Users\\x\\Plan\x00.pdf") == "Plan.pdf"
    assert uploads.safe_filename("../../etc/passwd") == "passwd"
    assert uploads.safe_filename("") == "unbenannt"
    assert uploads.megabytes(20 * 1024 * 1024) == "20 MB"
    assert uploads.megabytes(512 * 1024) == "0,5 MB" and uploads.megabytes(
        512 * 1024, "en") == "0.5 MB"


def _upload(session, store, app, world, purpose, name="Beleg.pdf", deadline_id=None):
    blob = store.put([b"%PDF-1.7 " + name.encode()])
    return documents.record_document(session, app.id, blob, filename=name,
                                     content_type="application/pdf", purpose=purpose,
                                     actor=world.carrier, now=NOW, deadline_id=deadline_id)


def test_a_final_report_carries_its_documents_and_names_them(any_engine, tmp_path) -> None:
    store = FileStore(tmp_path)
    with Session(any_engine) as session:
        world = make_world(session)
        app = application_in(session, world, "active")
        report = _upload(session, store, app, world, DocumentPurpose.final_report,
                         "Verwendungsnachweis.pdf")
        misfit = _upload(session, store, app, world, DocumentPurpose.document_request)
        session.commit()
        with pytest.raises(InvalidInput, match="passt nicht"):
            wf.fire(session, app, "submit_final_report", world.carrier, reason="Nachweis",
                    payload=final_report_payload({"2021": "40000", "2022": "45000"},
                                                 document_ids=[misfit.id]), now=NOW)
        session.rollback()
        assert session.get(Document, misfit.id).transition_id is None
        record = wf.fire(session, app, "submit_final_report", world.carrier, reason="Nachweis",
                         payload=final_report_payload({"2021": "40000", "2022": "45000"}),
                         now=NOW)
        assert record.payload["document_files"] == [
            {"id": report.id, "filename": "Verwendungsnachweis.pdf"}]
        session.commit()
        assert session.get(Document, report.id).transition_id == record.id


def test_a_hearing_reply_carries_named_documents(any_engine, tmp_path) -> None:
    store = FileStore(tmp_path)
    with Session(any_engine) as session:
        world = make_world(session)
        app = application_in(session, world, "active")
        wf.fire(session, app, "open_hearing", world.reviewer, reason="Mittel zweckwidrig",
                now=NOW)
        hearing = session.exec(select(Deadline).where(Deadline.application_id == app.id,
                                                      Deadline.kind == "hearing_reply")).one()
        reply = _upload(session, store, app, world, DocumentPurpose.hearing_reply,
                        "Stellungnahme.pdf", deadline_id=hearing.id)
        other = _upload(session, store, app, world, DocumentPurpose.other, "Anlage.pdf")
        record = wf.fire(session, app, "answer_hearing", world.carrier, reason="Siehe Anlage",
                         payload={"document_ids": [reply.id, other.id]},
                         now=NOW + timedelta(days=1))
        assert [d["id"] for d in record.payload["document_files"]] == [reply.id, other.id]
        session.commit()
        assert {session.get(Document, i).transition_id for i in (reply.id, other.id)} == {
            record.id}


def test_provide_documents_takes_only_answers_uploaded_since_the_request(any_engine,
                                                                         tmp_path) -> None:
    store = FileStore(tmp_path)
    with Session(any_engine) as session:
        world = make_world(session)
        app = application_in(session, world, "in_review")
        early = _upload(session, store, app, world, DocumentPurpose.document_request)
        early.uploaded_at = NOW - timedelta(days=1)
        session.add(early)
        session.flush()
        wf.fire(session, app, "request_documents", world.reviewer, reason="Satzung",
                payload={"documents": ["Satzung"]}, now=NOW)
        with pytest.raises(InvalidInput, match="hochladen"):
            wf.fire(session, app, "provide_documents", world.carrier, now=NOW)
        answer = _upload(session, store, app, world, DocumentPurpose.document_request,
                         "Satzung.pdf")
        record = wf.fire(session, app, "provide_documents", world.carrier, now=NOW)
        assert record.payload["document_files"] == [{"id": answer.id, "filename": "Satzung.pdf"}]


def test_an_upload_whose_transaction_fails_leaves_a_blob_the_sweeper_removes(any_engine,
                                                                              tmp_path) -> None:
    store = FileStore(tmp_path)
    policy = uploads.UploadPolicy(1024, 10 * 1024, frozenset({"application/pdf"}), None, False)
    with Session(any_engine) as session:
        world = make_world(session)
        app = application_in(session, world, "submitted")
        session.commit()
        staged = store.stage(policy.max_bytes)
        staged.write(b"%PDF-1.7 rolled back")
        inspection = uploads.inspect(staged, policy)
        document = uploads.upload_document(session, app.reference, world.carrier, staged,
                                           inspection, filename="x.pdf",
                                           purpose=DocumentPurpose.other, policy=policy, now=NOW)
        sha256 = document.sha256
        session.rollback()  # e.g. the commit failed
        assert store.exists(sha256) and session.exec(
            select(Document).where(Document.sha256 == sha256)).all() == []
        later = NOW.replace(year=NOW.year + 10)
        assert documents.sweep_orphans(session, store, later, timedelta(hours=1)) == [sha256]
        assert not store.exists(sha256) and list(store.blobs()) == []
