"""A real `quartier serve` on a migrated, seeded SQLite file, shared by the journeys of a module."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

QUARTIER = shutil.which("quartier", path=str(Path(sys.executable).parent)) or "quartier"
DEMO_PASSWORD = "quartier-demo"


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    log: Path
    home: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(env: dict[str, str], home: Path, log: Path,
            port: int | None = None) -> Iterator[str]:
    """`quartier serve` on a (free) port until /readyz answers; its base URL; stopped afterwards."""
    port = port or free_port()
    with log.open("w") as out:
        process = subprocess.Popen([QUARTIER, "serve", "--port", str(port)], env=env, cwd=home,
                                   stdout=out, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not become ready\n" + log.read_text()
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    """`quartier db upgrade`, `quartier seed` (development), then `quartier serve` until /readyz."""
    home = tmp_path_factory.mktemp("live")
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIER_")}
    env.update(QUARTIER_DATABASE_URL=f"sqlite:///{home / 'quartier.sqlite3'}",
               QUARTIER_ENVIRONMENT="development")
    for args in (("db", "upgrade"), ("seed",)):
        done = subprocess.run([QUARTIER, *args], env=env, cwd=home, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    log = home / "serve.log"
    with serving(env, home, log) as base:
        yield LiveServer(base, log, home)
