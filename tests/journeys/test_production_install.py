"""A fresh production install, as an operator makes it: `db upgrade`, `seed`, then the first admin
from `quartier users create --role admin` with the password on stdin; a real server on SQLite and
on PostgreSQL. No account exists before, and the old demo password logs in nowhere."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.journeys.conftest import serving
from tests.journeys.test_serve import DEMO_PASSWORD, environment, quartier
from workflow.seed import load_programme_data

ADMIN = "leitung@mags.example"
ADMIN_PASSWORD = "Förderbescheide-im-Frühling-2025"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def production(request, tmp_path: Path) -> tuple[dict[str, str], Path]:
    url = (f"sqlite:///{tmp_path / 'quartier.sqlite3'}" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    env = environment(url, QUARTIER_ENVIRONMENT="production",
                      QUARTIER_SECRET_KEY=secrets.token_urlsafe(32),
                      QUARTIER_LOGIN_FAILURES_PER_ADDRESS="100")
    return env, tmp_path


@pytest.fixture
def server(production) -> Iterator[str]:
    env, home = production
    for args in (("db", "upgrade"), ("seed",)):
        done = quartier(env, *args, cwd=home)
        assert done.returncode == 0, done.stderr
    assert "Keine Konten angelegt" in done.stdout
    log = home / "server.log"
    with serving(env, home, log) as base:
        yield base
    assert DEMO_PASSWORD not in log.read_text() and ADMIN_PASSWORD not in log.read_text()


def test_a_fresh_production_install_has_no_account_until_the_admin_is_created(
        production, server: str) -> None:
    env, home = production
    assert json.loads(quartier(env, "users", "list", "--json", cwd=home).stdout) == []
    demo = quartier(env, "seed", "--demo", cwd=home)
    assert demo.returncode == 1 and "Entwicklungsumgebung" in demo.stderr
    data = load_programme_data()
    demo_emails = [u["email"] for o in data["organisations"] for u in o["users"]] + [
        u["email"] for u in data["staff"]]
    with httpx.Client(base_url=server, timeout=30) as client:
        for email in demo_emails:
            refused = client.post("/api/v1/auth/token",
                                  data={"username": email, "password": DEMO_PASSWORD})
            assert refused.status_code == 401, (email, refused.text)
        assert client.get("/api/v1/calls").status_code == 401
        # The programme and its calls are there for the admin to work with.
        weak = quartier(env, "users", "create", "--role", "admin", "--email", ADMIN, "--name",
                        "Programmleitung", "--password-stdin", cwd=home, input="quartier-demo\n")
        assert weak.returncode == 1 and "zu leicht zu erraten" in weak.stderr
        created = quartier(env, "users", "create", "--role", "admin", "--email", ADMIN,
                           "--name", "Programmleitung", "--password-stdin", cwd=home,
                           input=ADMIN_PASSWORD + "\n")
        assert created.returncode == 0, created.stderr
        logged_in = client.post("/api/v1/auth/token",
                                data={"username": ADMIN, "password": ADMIN_PASSWORD})
        assert logged_in.status_code == 200, logged_in.text
        admin = {"Authorization": f"Bearer {logged_in.json()['access_token']}"}
        assert client.get("/api/v1/me", headers=admin).json()["role"] == "admin"
        assert [c["code"] for c in client.get("/api/v1/calls", headers=admin).json()]
        assert [u["email"] for u in client.get("/api/v1/admin/users",
                                               headers=admin).json()] == [ADMIN]
        last = quartier(env, "users", "disable", ADMIN, cwd=home)
        assert last.returncode == 1 and "letzte aktive" in last.stderr
        assert client.post("/api/v1/auth/logout", headers=admin).status_code == 204
        assert client.get("/api/v1/me", headers=admin).status_code == 401
