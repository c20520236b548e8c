"""`quartier documents list|upload|download|sweep`, and the worker's orphan sweep."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import SQLModel

from states.documents import DocumentPurpose
from tests.api.conftest import build_world, count
from tests.api.routers.test_documents import ELF, PDF, UPLOADS, requested
from workflow.applications import load_application
from workflow.cli import server
from workflow.db import make_engine, unit_of_work
from workflow.documents import record_document
from workflow.models import Document
from workflow.rows import Actor
from workflow.settings import get_settings
from workflow.storage import FileStore


def test_upload_list_and_download_from_the_command_line(quartier, sqlite_url, tmp_path) -> None:
    engine = make_engine(sqlite_url)
    SQLModel.metadata.create_all(engine)
    aw = build_world(engine)
    ref = requested(aw)
    env = {"QUARTIER_DATABASE_URL": sqlite_url,
           "QUARTIER_DOCUMENTS_DIR": str(tmp_path / "data" / "documents")}
    answer = tmp_path / "Stellungnahme Ämter.pdf"
    answer.write_bytes(PDF)
    carrier, reviewer = aw.emails["carrier"], aw.emails["reviewer"]
    uploaded = json.loads(quartier("documents", "upload", ref, str(answer), "--as", carrier,
                                   "--json", **env).stdout)
    assert uploaded["filename"] == "Stellungnahme Ämter.pdf" and uploaded["deadline_id"]
    listed = json.loads(quartier("documents", "list", ref, "--as", reviewer, "--json",
                                 **env).stdout)
    assert [d["id"] for d in listed if d["purpose"] not in ("notice", "application")] == [
        uploaded["id"]]
    assert "Stellungnahme Ämter.pdf" in quartier("documents", "list", ref, "--as", reviewer,
                                                 **env).stdout
    target = tmp_path / "out.pdf"
    quartier("documents", "download", ref, str(uploaded["id"]), "--as", reviewer, "-o",
             str(target), **env)
    assert target.read_bytes() == PDF
    other = quartier("documents", "download", ref, str(uploaded["id"]), "--as",
                     aw.emails["other_carrier"], "-o", str(tmp_path / "x"), ok=False, **env)
    assert other.exit_code == 1 and "nicht gefunden" in other.output

    program = tmp_path / "bescheid.pdf"
    program.write_bytes(ELF)
    refused = quartier("documents", "upload", ref, str(program), "--as", carrier, ok=False,
                       **env)
    assert refused.exit_code == 1 and "Fehler: Dateityp nicht erlaubt" in refused.output
    assert count(aw, Document, UPLOADS) == 1
    engine.dispose()


def _orphans(engine, store: FileStore) -> tuple[str, str, str]:
    """A referenced blob, an old orphan and a fresh orphan (all three old enough but one)."""
    aw = build_world(engine)
    ref = requested(aw)
    kept = store.put([b"%PDF-1.4 kept"])
    old = store.put([b"%PDF-1.4 old orphan"])
    fresh = store.put([b"%PDF-1.4 fresh orphan"])
    with unit_of_work(engine) as session:
        app = load_application(session, ref)
        record_document(session, app.id, kept, filename="a.pdf", content_type="application/pdf",
                        purpose=DocumentPurpose.other,
                        actor=Actor(aw.user_ids["reviewer"], aw.actor("reviewer").role),
                        now=datetime.now(UTC))
    hours_ago = time.time() - 48 * 3600
    for blob in (kept, old):
        os.utime(store.path(blob.sha256), (hours_ago, hours_ago))
    return kept.sha256, old.sha256, fresh.sha256


def test_sweep_deletes_old_orphans_only(quartier, engine, sqlite_url, tmp_path) -> None:
    store = FileStore(tmp_path / "data" / "documents")
    kept, old, fresh = _orphans(engine, store)
    env = {"QUARTIER_DATABASE_URL": sqlite_url,
           "QUARTIER_DOCUMENTS_DIR": str(tmp_path / "data" / "documents")}
    result = json.loads(quartier("documents", "sweep", "--json", **env).stdout)
    assert result == {"deleted": [old]}
    assert store.exists(kept) and store.exists(fresh) and not store.exists(old)


def test_the_worker_sweeps_orphans(any_engine, tmp_path, monkeypatch) -> None:
    store = FileStore(tmp_path / "data" / "documents")
    kept, old, fresh = _orphans(any_engine, store)
    monkeypatch.setenv("QUARTIER_DOCUMENTS_DIR", str(tmp_path / "data" / "documents"))
    get_settings.cache_clear()
    try:
        [sweep] = [job for job in server.worker_jobs() if job.name == "orphan sweep"]
    finally:
        get_settings.cache_clear()
    sweep.fn(any_engine, datetime.now(UTC))
    assert store.exists(kept) and store.exists(fresh) and not store.exists(old)
    assert Path(store.path(kept)).read_bytes() == b"%PDF-1.4 kept"
