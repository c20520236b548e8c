"""`quartier serve` on a real uvicorn against a migrated, seeded SQLite file; `quartier users`."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.journeys.conftest import serving
from workflow.seed import load_programme_data

QUARTIER = shutil.which("quartier", path=str(Path(sys.executable).parent)) or "quartier"
DEMO_PASSWORD = "quartier-demo"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIER_")}
    return {**env, "QUARTIER_DATABASE_URL": database_url, "QUARTIER_ENVIRONMENT": "development",
            **extra}


def quartier(env: dict[str, str], *args: str, cwd: Path,
             input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([QUARTIER, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120, input=input)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> tuple[dict[str, str], Path]:
    """A SQLite file prepared the way an operator does it: `db upgrade`, then `seed`."""
    home = tmp_path_factory.mktemp("serve")
    env = environment(f"sqlite:///{home / 'quartier.sqlite3'}")
    for args in (("db", "upgrade"), ("seed",)):
        done = quartier(env, *args, cwd=home)
        assert done.returncode == 0, done.stderr
    return env, home


@pytest.fixture
def server(seeded) -> Iterator[tuple[str, Path]]:
    env, home = seeded
    log = home / f"server-{secrets.token_hex(4)}.log"  # one per server of this home
    with serving(env, home, log) as base:
        yield base, log


def token(client: httpx.Client, email: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token",
                           data={"username": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def test_serve_runs_a_journey_over_the_network(server) -> None:
    base, log = server
    with httpx.Client(base_url=base, timeout=30) as client:
        reviewer = token(client, "pruefung@quartier.example")
        carrier = token(client, "traeger2@quartier.example")
        stranger = token(client, "traeger1@quartier.example")
        observer = token(client, "gib@quartier.example")

        listed = client.get("/api/v1/applications", params={"state": "submitted"},
                            headers=reviewer).json()["items"]
        ref = next(a["reference"] for a in listed if a["call"] == "ZiQ-DEMO")
        detail = client.get(f"/api/v1/applications/{ref}", headers=reviewer)
        assert detail.status_code == 200 and detail.json()["state"] == "submitted"
        assert client.get(f"/api/v1/applications/{ref}",
                          headers=stranger).status_code == 404
        assert client.post(f"/api/v1/applications/{ref}/transitions/start_review",
                           json={}, headers=observer).status_code == 403

        started = client.post(f"/api/v1/applications/{ref}/transitions/start_review",
                              json={}, headers={**reviewer, "If-Match": detail.headers["ETag"],
                                                "X-Request-ID": "netz-1"})
        assert started.status_code == 200, started.text
        assert started.headers["X-Request-ID"] == "netz-1"
        assert started.json()["application"]["state"] == "in_review"
        again = client.post(f"/api/v1/applications/{ref}/transitions/start_review",
                            json={}, headers={**reviewer, "If-Match": detail.headers["ETag"]})
        assert again.status_code == 412

        mine = client.get("/api/v1/applications", params={"state": "in_review"},
                          headers=carrier).json()
        assert ref in [a["reference"] for a in mine["items"]]
        call = client.get("/api/v1/calls/ZiQ-2021", headers=carrier).json()
        assert [y["year"] for y in call["years"]] == [2021, 2022]
        assert client.get("/docs").status_code == 200

    output = log.read_text()
    port = base.rsplit(":", 1)[1]
    assert f"http://127.0.0.1:{port}/docs" in output
    data = load_programme_data()
    for email in [u["email"] for o in data["organisations"] for u in o["users"]] + [
            u["email"] for u in data["staff"]]:
        assert email in output
    assert DEMO_PASSWORD in output
    assert "request_id=netz-1" in output and "/transitions/start_review 200" in output


def test_serve_refuses_a_short_or_the_old_public_secret(seeded) -> None:
    env, home = seeded
    for environment, key in (("production", "x" * 31),
                             ("development", "change-me-development-only")):
        done = quartier({**env, "QUARTIER_ENVIRONMENT": environment,
                         "QUARTIER_SECRET_KEY": key}, "serve", "--port", str(free_port()),
                        cwd=home)
        assert done.returncode == 1
        assert "QUARTIER_SECRET_KEY" in done.stderr and "startet nicht" in done.stderr


def test_users_create_list_disable(seeded) -> None:
    env, home = seeded
    created = quartier(env, "users", "create", "--email", "neu@quartier.example", "--name",
                       "Neue Prüferin", "--role", "reviewer", "--password-stdin", cwd=home,
                       input="ein-gutes-passwort\n")
    assert created.returncode == 0, created.stderr
    carrier = quartier(env, "users", "create", "--email", "verein@quartier.example", "--name",
                       "Verein", "--role", "carrier", "--password-stdin",
                       "--organisation", "Stadt Hagen – Fachbereich Jugend", cwd=home,
                       input="ein-gutes-passwort\n")
    assert carrier.returncode == 0, carrier.stderr
    twice = quartier(env, "users", "create", "--email", "neu@quartier.example", "--name", "X",
                     "--role", "reviewer", "--password-stdin", cwd=home,
                     input="ein-gutes-passwort\n")
    assert twice.returncode == 1 and "bereits" in twice.stderr
    on_argv = quartier(env, "users", "create", "--email", "argv@quartier.example", "--name",
                       "X", "--role", "reviewer", "--password", "ein-gutes-passwort", cwd=home)
    assert on_argv.returncode == 2 and "--password" in on_argv.stderr
    disabled = quartier(env, "users", "disable", "neu@quartier.example", cwd=home)
    assert disabled.returncode == 0, disabled.stderr
    listed = json.loads(quartier(env, "users", "list", "--json", cwd=home).stdout)
    by_email = {u["email"]: u for u in listed}
    assert by_email["neu@quartier.example"]["disabled"] is True
    assert by_email["verein@quartier.example"]["organisation_id"] is not None
    assert by_email["pruefung@quartier.example"]["disabled"] is False
