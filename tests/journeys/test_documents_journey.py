"""Issue 13, done-when 1, over a real `quartier serve`: a carrier uploads a PDF answer to a
document request; the reviewer lists and downloads it (the same bytes); another carrier gets
404; a 30 MB file over the 20 MB limit gets 413 and nothing is stored; a renamed executable
named .pdf is refused by its content."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import httpx

from tests.api.conftest import build_world, count
from tests.api.routers.test_documents import ELF, PDF, UPLOADS, blobs, requested
from tests.journeys.conftest import QUARTIER, serving
from workflow.db import make_engine
from workflow.models import Document

MB = 1024 * 1024


def test_uploads_over_a_real_server(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'quartier.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIER_")}
    env.update(QUARTIER_DATABASE_URL=url, QUARTIER_ENVIRONMENT="development",
               QUARTIER_DATA_DIR=str(tmp_path / "data"),
               QUARTIER_DOCUMENTS_DIR=str(tmp_path / "data" / "documents"),
               QUARTIER_SECRET_KEY="s" * 48)
    done = subprocess.run([QUARTIER, "db", "upgrade"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    engine = make_engine(url)
    aw = build_world(engine)
    ref = requested(aw)
    store = tmp_path / "data" / "documents"
    answer = PDF + b"%" + os.urandom(2048).hex().encode() + b"\n"
    with serving(env, tmp_path, tmp_path / "serve.log") as base, \
            httpx.Client(base_url=base, timeout=120) as http:
        def login(role: str) -> dict[str, str]:
            response = http.post("/api/v1/auth/token", data={
                "username": aw.emails[role], "password": "richtig-geheim-42"})
            assert response.status_code == 200, response.text
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        carrier, reviewer, other = login("carrier"), login("reviewer"), login("other_carrier")
        documents = f"/api/v1/applications/{ref}/documents"
        created = http.post(documents, headers=carrier, data={"purpose": "document_request"},
                            files={"file": ("Finanzierungsplan.pdf", answer, "application/pdf")})
        assert created.status_code == 201, created.text
        document = created.json()
        provided = http.post(f"/api/v1/applications/{ref}/transitions/provide_documents",
                             headers=carrier, json={})
        assert provided.status_code == 200, provided.text
        assert provided.json()["transition"]["payload"]["document_files"] == [
            {"id": document["id"], "filename": "Finanzierungsplan.pdf"}]

        listed = [d for d in http.get(documents, headers=reviewer).json()
                  if d["purpose"] not in ("notice", "application")]  # filed by Quartier
        assert [(d["id"], d["filename"], d["purpose"]) for d in listed] == [
            (document["id"], "Finanzierungsplan.pdf", "document_request")]
        downloaded = http.get(f"{documents}/{document['id']}", headers=reviewer)
        assert downloaded.status_code == 200 and downloaded.content == answer
        assert downloaded.headers["content-type"] == "application/pdf"
        assert http.get(f"{documents}/{document['id']}", headers=other).status_code == 404

        before = sorted(blobs(store))
        too_large = http.post(documents, headers=carrier, data={"purpose": "other"},
                              files={"file": ("gross.pdf", b"%PDF-1.4\n" + b"0" * (30 * MB),
                                              "application/pdf")})
        assert too_large.status_code == 413, too_large.text
        assert too_large.headers["content-type"] == "application/problem+json"
        assert "Die Datei ist zu groß: höchstens 20 MB" in too_large.json()["detail"]
        renamed = http.post(documents, headers=carrier, data={"purpose": "other"},
                            files={"file": ("bescheid.pdf", ELF, "application/pdf")})
        assert renamed.status_code == 415, renamed.text
        assert "application/x-" in renamed.json()["detail"]
        assert sorted(blobs(store)) == before
        assert count(aw, Document, UPLOADS) == 1
    engine.dispose()
