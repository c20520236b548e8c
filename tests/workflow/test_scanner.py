"""workflow/scanner.py against a real clamd (Debian's clamav-daemon): the test writes its own
signature database for the EICAR test string (no freshclam download), starts clamd on a unix
socket in a temporary folder with its own configuration, and stops it afterwards. With CI=true
a missing clamd is an error, not a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import A, build_world, count, login
from tests.api.routers.test_documents import (
    PDF,
    UPLOADS,
    blobs,
    requested,
    settings_for,
    upload,
)
from workflow.models import Document
from workflow.scanner import Clamd, ScannerUnreachable

CLAMD = shutil.which("clamd") or "/usr/sbin/clamd"
# The EICAR anti-virus test file: harmless, and every scanner's agreed test signature.
EICAR = (rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")


@pytest.fixture(scope="module")
def clamd(tmp_path_factory) -> Iterator[str]:
    """A real clamd on a unix socket, with a signature database of one: EICAR."""
    if not os.access(CLAMD, os.X_OK):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CLAMD} is missing (apt-get install clamav-daemon; `make test` does)")
        pytest.skip("clamd is not installed (apt-get install clamav-daemon)")
    home = tmp_path_factory.mktemp("clamd")
    database, scratch = home / "db", home / "tmp"
    database.mkdir()
    scratch.mkdir()
    # An extended signature: name, any target type, anywhere in the file, the bytes in hex.
    (database / "eicar.ndb").write_text(f"Eicar-Signature:0:*:{EICAR.hex()}\n")
    socket = home / "clamd.sock"
    config = home / "clamd.conf"
    config.write_text("\n".join([
        f"LocalSocket {socket}", "Foreground yes", f"DatabaseDirectory {database}",
        f"TemporaryDirectory {scratch}", f"LogFile {home / 'clamd.log'}",
        f"PidFile {home / 'clamd.pid'}", "StreamMaxLength 50M", "LogVerbose no", ""]))
    if os.geteuid() == 0:
        config.write_text(config.read_text() + "User root\n")
    process = subprocess.Popen([CLAMD, "--config-file", str(config)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not Clamd(str(socket), timeout=2).ping():
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode() if process.stdout else ""
                log = (home / "clamd.log").read_text() if (home / "clamd.log").exists() else ""
                pytest.fail(f"clamd did not start:\n{output}\n{log}")
            time.sleep(0.1)
        yield str(socket)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_clamd_finds_eicar_and_passes_a_clean_file(clamd: str) -> None:
    scanner = Clamd(clamd)
    found = scanner.scan([b"%PDF-1.4\n", EICAR, b"\n%%EOF\n"])
    assert not found.clean and found.signature.startswith("Eicar-Signature")
    assert scanner.scan([PDF]).clean
    assert scanner.scan([b"x" * 200_000, b"y" * 70_000]).clean  # split into INSTREAM chunks


def test_an_unreachable_scanner_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(ScannerUnreachable):
        Clamd(str(tmp_path / "none.sock"), timeout=1).scan([PDF])
    assert not Clamd("127.0.0.1:1", timeout=1).ping()


def test_an_upload_with_malware_is_refused_and_a_clean_one_filed(clamd, engine, tmp_path) -> None:
    aw = build_world(engine)
    ref = requested(aw)
    store_dir = tmp_path / "documents"
    settings = settings_for(store_dir, environment="production", clamd_socket=clamd)
    with TestClient(create_app(engine=aw.engine, settings=settings)) as http:
        carrier = login(http, aw.emails["carrier"])
        infected = upload(http, ref, carrier, content=b"%PDF-1.4\n" + EICAR + b"\n%%EOF\n")
        assert infected.status_code == 422, infected.text
        assert infected.json()["detail"].startswith("Schadsoftware gefunden: Eicar-Signature")
        assert count(aw, Document, UPLOADS) == 0 and blobs(store_dir) == []
        clean = upload(http, ref, carrier)
        assert clean.status_code == 201 and clean.json()["scan"] == "clean"
        listed = [d for d in http.get(f"{A}/applications/{ref}/documents",
                                      headers=carrier).json() if d["purpose"] == "document_request"]
        assert [d["scan"] for d in listed] == ["clean"]
