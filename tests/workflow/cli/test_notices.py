"""`quartier notices list|show`: a notice of the case file as a PDF file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlmodel import SQLModel

from tests.factories import application_in, make_world
from tests.workflow.cli.conftest import Quartier
from workflow import bescheide
from workflow.db import make_engine, unit_of_work
from workflow.storage import FileStore


def approved(tmp_path: Path) -> tuple[str, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'notices.sqlite3'}"
    documents = tmp_path / "documents"
    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    with bescheide.using_store(FileStore(documents)), unit_of_work(engine) as s:
        world = make_world(s)
        reference = application_in(s, world, "approved").reference
    engine.dispose()
    return reference, {"QUARTIER_DATABASE_URL": url, "QUARTIER_DOCUMENTS_DIR": str(documents)}


def test_show_writes_the_zuwendungsbescheid_of_the_case_file(quartier: Quartier, tmp_path):
    reference, env = approved(tmp_path)
    listed = json.loads(quartier("notices", "list", reference, "--json", **env).stdout)
    assert [n["filename"] for n in listed] == [f"Antrag {reference}.pdf",
                                               f"Zuwendungsbescheid {reference}.pdf"]
    out = tmp_path / "bescheid.pdf"
    quartier("notices", "show", reference, "--kind", "zuwendungsbescheid", "--pdf", str(out),
             **env)
    assert out.read_bytes().startswith(b"%PDF-")
    assert hashlib.sha256(out.read_bytes()).hexdigest() == listed[1]["sha256"]
    latest = tmp_path / "latest.pdf"
    quartier("notices", "show", reference, "--pdf", str(latest), **env)
    assert latest.read_bytes() == out.read_bytes()


def test_show_refuses_a_notice_the_case_file_lacks(quartier: Quartier, tmp_path):
    reference, env = approved(tmp_path)
    out = tmp_path / "none.pdf"
    result = quartier("notices", "show", reference, "--kind", "ablehnungsbescheid",
                      "--pdf", str(out), ok=False, **env)
    assert result.exit_code == 1
    assert f"Fehler: Zum Antrag {reference} liegt kein ablehnungsbescheid vor." in result.output
    assert not out.exists()
    unknown = quartier("notices", "show", reference, "--kind", "mahnung", "--pdf", str(out),
                       ok=False, **env)
    assert unknown.exit_code == 1 and "Unbekannte Bescheidart „mahnung“" in unknown.output
    assert not out.exists()
