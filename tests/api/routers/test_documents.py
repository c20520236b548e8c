"""api/routers/documents.py: uploads into the case file with the checks at the door, the case
file and downloads under the application's object-level rules, documents in transitions."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import col, select

from api.app import create_app
from tests.api.conftest import A, ApiWorld, application_in, build_world, count, login
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.models import Deadline, Document, TransitionRecord
from workflow.settings import Settings
from workflow.storage import FileStore

# What carriers and staff upload; the case file also holds the notices Quartier files itself
# (the application PDF on submit, the Bescheide).
UPLOADS = col(Document.purpose).not_in(("notice", "application"))

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 200
LIMIT = 64 * 1024


def settings_for(documents: Path, **overrides) -> Settings:
    values = {"environment": "development", "secret_key": "test-secret-" + "x" * 40,
              "documents_dir": str(documents), "upload_max_bytes": LIMIT,
              "upload_max_bytes_per_application": 3 * LIMIT, **overrides}
    return Settings(**values)


@pytest.fixture
def aw(any_engine: Engine) -> ApiWorld:
    return build_world(any_engine)


@pytest.fixture
def store_dir(tmp_path: Path) -> Path:
    return tmp_path / "documents"


@pytest.fixture
def http(aw: ApiWorld, store_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(engine=aw.engine, settings=settings_for(store_dir))) as client:
        yield client


def requested(aw: ApiWorld) -> str:
    """An application of `carrier` with an open document request."""
    ref = application_in(aw, "in_review")
    with unit_of_work(aw.engine) as session:
        wf.fire(session, ref, "request_documents", aw.actor("reviewer"),
                reason="Satzung fehlt", payload={"documents": ["Satzung"]})
    return ref


def upload(http: TestClient, ref: str, headers: dict, content: bytes = PDF,
           name: str = "Satzung.pdf", purpose: str = "document_request", **fields):
    return http.post(f"{A}/applications/{ref}/documents", headers=headers,
                     files={"file": (name, content, "application/pdf")},
                     data={"purpose": purpose, **fields})


def blobs(store_dir: Path) -> list[Path]:
    return [p for p in store_dir.rglob("*") if p.is_file()] if store_dir.exists() else []


def test_carrier_uploads_an_answer_staff_list_and_download_it(http, aw, store_dir) -> None:
    ref = requested(aw)
    carrier = login(http, aw.emails["carrier"])
    name = 'Satzung "neu";\r\nX-Evil: 1 Öffnung.pdf'
    created = upload(http, ref, carrier, name=name)
    assert created.status_code == 201, created.text
    document = created.json()
    assert document["content_type"] == "application/pdf" and document["size_bytes"] == len(PDF)
    assert document["deadline_id"] is not None and document["purpose_label"] == \
        "Nachgereichte Unterlage"
    assert FileStore(store_dir).exists(document["sha256"])

    reviewer = login(http, aw.emails["reviewer"])
    listed = [d for d in http.get(f"{A}/applications/{ref}/documents", headers=reviewer).json()
              if d["purpose"] not in ("notice", "application")]
    assert [d["id"] for d in listed] == [document["id"]]
    assert listed[0]["uploaded_by"] and listed[0]["uploaded_at"]
    got = http.get(f"{A}/applications/{ref}/documents/{document['id']}", headers=reviewer)
    assert got.status_code == 200 and got.content == PDF
    disposition = got.headers["content-disposition"]
    assert "\r" not in disposition and "\n" not in disposition
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''Satzung%20%22neu%22%3BX-Evil%3A%201%20%C3%96ffnung.pdf" in disposition
    assert got.headers["x-content-type-options"] == "nosniff"

    other = login(http, aw.emails["other_carrier"])
    for path in (f"/documents/{document['id']}", "/documents"):
        assert http.get(f"{A}/applications/{ref}{path}", headers=other).status_code == 404
    observer = login(http, aw.emails["observer"])
    assert http.get(f"{A}/applications/{ref}/documents", headers=observer).status_code == 403
    assert upload(http, ref, observer).status_code == 403
    assert upload(http, ref, other).status_code == 404


def test_refused_files_leave_nothing(http, aw, store_dir) -> None:
    ref = requested(aw)
    carrier = login(http, aw.emails["carrier"])
    too_large = upload(http, ref, carrier, content=b"%PDF-1.4\n" + b"0" * (LIMIT + 10))
    assert too_large.status_code == 413, too_large.text
    assert too_large.headers["content-type"] == "application/problem+json"
    assert "zu groß" in too_large.json()["detail"]
    elf = upload(http, ref, carrier, content=ELF, name="rechnung.pdf")
    assert elf.status_code == 415 and "application/x-" in elf.json()["detail"]
    assert elf.json()["detected_type"].startswith("application/x-")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a.txt", "hallo")
    plain_zip = upload(http, ref, carrier, content=archive.getvalue(), name="a.docx")
    assert plain_zip.status_code == 415 and "application/zip" in plain_zip.json()["detail"]
    assert count(aw, Document, UPLOADS) == 0 and blobs(store_dir) == []


def test_office_documents_are_told_apart_from_a_zip(http, aw) -> None:
    ref = requested(aw)
    carrier = login(http, aw.emails["carrier"])
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w", zipfile.ZIP_DEFLATED) as z:
        for part in ("[Content_Types].xml", "_rels/.rels", "word/document.xml"):
            z.writestr(part, "<x/>" * 20)
    created = upload(http, ref, carrier, content=docx.getvalue(), name="plan.docx")
    assert created.status_code == 201, created.text
    assert created.json()["content_type"] == (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def test_the_limit_per_application(http, aw, store_dir) -> None:
    ref = requested(aw)
    carrier = login(http, aw.emails["carrier"])
    for n in range(3):
        body = b"%PDF-1.4\n" + bytes([n]) * (LIMIT - 20)
        assert upload(http, ref, carrier, content=body).status_code == 201
    before = sorted(blobs(store_dir))
    refused = upload(http, ref, carrier, content=b"%PDF-1.4\n" + b"m" * 100)
    assert refused.status_code == 413 and "Für diesen Antrag" in refused.json()["detail"]
    assert count(aw, Document, UPLOADS) == 3 and sorted(blobs(store_dir)) == before


def test_who_uploads_what(http, aw) -> None:
    ref = requested(aw)
    reviewer = login(http, aw.emails["reviewer"])
    assert upload(http, ref, reviewer).status_code == 403
    assert upload(http, ref, reviewer, purpose="other").status_code == 201
    carrier = login(http, aw.emails["carrier"])
    wrong = upload(http, ref, carrier, purpose="hearing_reply")
    assert wrong.status_code == 409 and "keine passende Frist" in wrong.json()["detail"]
    assert upload(http, ref, carrier, purpose="notice").status_code == 422
    draft = application_in(aw, "draft")
    assert upload(http, draft, carrier, purpose="other").status_code == 201


def test_provide_documents_needs_an_upload_or_an_explanation(http, aw) -> None:
    ref = requested(aw)
    carrier = login(http, aw.emails["carrier"])
    path = f"{A}/applications/{ref}/transitions/provide_documents"
    refused = http.post(path, json={}, headers=carrier)
    assert refused.status_code == 422 and "hochladen" in refused.json()["detail"]
    assert count(aw, TransitionRecord, TransitionRecord.trigger == "provide_documents") == 0
    document = upload(http, ref, carrier).json()
    done = http.post(path, json={}, headers=carrier)
    assert done.status_code == 200, done.text
    payload = done.json()["transition"]["payload"]
    assert payload["document_files"] == [{"id": document["id"], "filename": "Satzung.pdf"}]
    listed = [d for d in http.get(f"{A}/applications/{ref}/documents", headers=carrier).json()
              if d["id"] == document["id"]]
    assert listed[0]["transition_id"] == done.json()["transition"]["id"]


def test_provide_documents_with_an_explanation_and_named_documents(http, aw) -> None:
    ref = requested(aw)
    carrier = login(http, aw.emails["carrier"])
    path = f"{A}/applications/{ref}/transitions/provide_documents"
    explained = http.post(path, json={"payload": {"explanation": "Liegt erst im Mai vor."}},
                          headers=carrier)
    assert explained.status_code == 200
    assert explained.json()["transition"]["payload"]["explanation"] == "Liegt erst im Mai vor."
    second = requested_again(aw, ref)
    other = upload(http, ref, carrier, purpose="other").json()
    named = http.post(path, json={"payload": {"document_ids": [other["id"] + 999]}},
                      headers=carrier)
    assert named.status_code == 422 and "gehört nicht zu diesem Antrag" in named.json()["detail"]
    answer = upload(http, ref, carrier, deadline_id=str(second)).json()
    done = http.post(path, json={"payload": {"document_ids": [answer["id"], other["id"]]}},
                     headers=carrier)
    assert done.status_code == 200, done.text
    files = done.json()["transition"]["payload"]["document_files"]
    assert [f["id"] for f in files] == [answer["id"], other["id"]]


def requested_again(aw: ApiWorld, ref: str) -> int:
    with unit_of_work(aw.engine) as session:
        wf.fire(session, ref, "request_documents", aw.actor("reviewer"), reason="Noch etwas",
                payload={"documents": ["Haushaltsplan"]})
        deadline = session.exec(select(Deadline).where(
            Deadline.kind == "document_request", Deadline.status == "open")).one()
        return deadline.id


def test_scanner_rules(aw, store_dir) -> None:
    ref = requested(aw)
    production = settings_for(store_dir, environment="production")
    with TestClient(create_app(engine=aw.engine, settings=production)) as http:
        carrier = login(http, aw.emails["carrier"])
        refused = upload(http, ref, carrier)
        assert refused.status_code == 503 and "kein Virenscanner" in refused.json()["detail"]
    unreachable = settings_for(store_dir, clamd_socket=str(store_dir.parent / "no-clamd.sock"))
    with TestClient(create_app(engine=aw.engine, settings=unreachable)) as http:
        carrier = login(http, aw.emails["carrier"])
        refused = upload(http, ref, carrier)
        assert refused.status_code == 503 and "nicht erreichbar" in refused.json()["detail"]
    assert count(aw, Document, UPLOADS) == 0 and blobs(store_dir) == []
    allowed = settings_for(store_dir, environment="production", uploads_without_scanner=True)
    with TestClient(create_app(engine=aw.engine, settings=allowed)) as http:
        carrier = login(http, aw.emails["carrier"])
        assert upload(http, ref, carrier).status_code == 201


def test_the_body_limit_protects_other_routes_but_not_uploads_below_their_limit(
        aw, store_dir) -> None:
    ref = requested(aw)
    settings = settings_for(store_dir, max_body_bytes=4096)
    with TestClient(create_app(engine=aw.engine, settings=settings)) as http:
        carrier = login(http, aw.emails["carrier"])
        big = upload(http, ref, carrier, content=b"%PDF-1.4\n" + b"1" * (LIMIT - 100))
        assert big.status_code == 201, big.text
        other_route = http.post(f"{A}/applications/{ref}/transitions/provide_documents",
                                headers={**carrier, "Content-Type": "application/json"},
                                content=b'{"reason": "' + b"x" * 5000 + b'"}')
        assert other_route.status_code == 413


def test_a_broken_multipart_body_is_refused_not_a_server_error(http, aw, store_dir) -> None:
    ref = requested(aw)
    carrier = login(http, aw.emails["carrier"])
    broken = http.post(f"{A}/applications/{ref}/documents", headers={
        **carrier, "Content-Type": "multipart/form-data; boundary=xyz"},
        content=b"--xyz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n%PDF\r\n--q")
    assert broken.status_code == 422 and "multipart" in broken.json()["detail"]
    not_multipart = http.post(f"{A}/applications/{ref}/documents", headers=carrier,
                              json={"purpose": "other"})
    assert not_multipart.status_code == 415
    no_file = http.post(f"{A}/applications/{ref}/documents", headers=carrier,
                        files={"purpose": (None, "other")})
    assert no_file.status_code == 422 and "Datei" in no_file.json()["detail"]
    assert count(aw, Document, UPLOADS) == 0 and blobs(store_dir) == []
