"""`quartier organisations list|confirm|reject` on a real seeded SQLite file, as a process: the
confirmation queues the contact's email with the link (under QUARTIER_PUBLIC_URL)."""

from __future__ import annotations

import json

from sqlmodel import select

from tests.workflow.cli.conftest import run
from workflow import onboarding
from workflow.db import make_engine, unit_of_work
from workflow.models import AdminAudit, OutboxMessage


def _register(url: str, name: str, email: str) -> int:
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as s:
            org, _ = onboarding.register(s, {
                "name": name, "legal_form": "eingetragener_verein", "street": "Weg 1",
                "postcode": "44137", "city": "Dortmund", "contact_name": "Lea Lange",
                "contact_email": email})
            return org.id
    finally:
        engine.dispose()


def test_list_confirm_and_reject(cli_env) -> None:
    url = cli_env["QUARTIER_DATABASE_URL"]
    env = {**cli_env, "QUARTIER_PUBLIC_URL": "https://foerderung.example.org"}
    first = _register(url, "Kinderhaus Nord e. V.", "lea@kinderhaus.example")
    _register(url, "Spielplatzverein Süd e. V.", "info@spielplatz.example")
    listed = json.loads(run(env, "organisations", "list", "--status", "pending", "--json").stdout)
    assert [o["name"] for o in listed] == ["Kinderhaus Nord e. V.", "Spielplatzverein Süd e. V."]
    assert "Wartet auf Bestätigung" in run(env, "organisations", "list").stdout
    refused = run(env, "organisations", "confirm", str(first), "--as",
                  "traeger1@quartier.example", ok=False)
    assert refused.returncode == 1 and "Programmverwaltung" in refused.stderr
    done = run(env, "organisations", "confirm", str(first), "--as", "admin@quartier.example")
    assert "lea@kinderhaus.example erhält den Link" in done.stdout
    run(env, "organisations", "reject", "Spielplatzverein Süd e. V.", "--as",
        "admin@quartier.example", "--reason", "Doppelte Registrierung")
    again = run(env, "organisations", "reject", str(first), "--as", "admin@quartier.example",
                "--reason", "x", ok=False)
    assert again.returncode == 1 and "bereits entschieden" in again.stderr
    engine = make_engine(url)
    try:
        with unit_of_work(engine) as s:
            mail = s.exec(select(OutboxMessage).where(
                OutboxMessage.template == "registration_confirmed")).one()
            assert "https://foerderung.example.org/passwort-setzen/" in mail.body_text
            actions = sorted(a.action for a in s.exec(select(AdminAudit).where(
                AdminAudit.subject_kind == "organisation")))
            assert actions == ["confirm_organisation", "reject_organisation"]
    finally:
        engine.dispose()
