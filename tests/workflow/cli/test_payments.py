"""`quartier payments`: finality of the approval notice from the command line."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine

from tests.factories import application_in, make_world
from workflow.db import unit_of_work


@pytest.fixture
def ref(engine: Engine) -> str:
    with unit_of_work(engine) as s:  # approved on 2 November 2020
        return application_in(s, make_world(s), "approved").reference


def test_finality_notification_date_and_waiver(quartier, sqlite_url, ref) -> None:
    env = {"QUARTIER_DATABASE_URL": sqlite_url}
    shown = quartier("--now", "2020-11-09T09:00", "payments", "finality", ref, "--as",
                     "pruefung@example.org", **env).stdout
    assert "Bekanntgabe: 02.11.2020" in shown and "Rechtsbehelfsfrist bis 02.12.2020" in shown
    assert "noch nicht bestandskräftig ab 03.12.2020" in shown

    refused = quartier("--now", "2020-11-09T09:00", "payments", "notification-date", ref,
                       "--as", "pruefung@example.org", "--on", "2020-11-05", ok=False, **env)
    assert refused.exit_code == 1 and "Fehler: Für „Bekanntgabedatum" in refused.output
    bad = quartier("--now", "2020-11-09T09:00", "payments", "notification-date", ref, "--as",
                   "pruefung@example.org", "--on", "5.11.2020", "--reason", "x", ok=False, **env)
    assert bad.exit_code == 1 and "JJJJ-MM-TT" in bad.output
    out = quartier("--now", "2020-11-09T09:00", "payments", "notification-date", ref, "--as",
                   "pruefung@example.org", "--on", "2020-11-05", "--reason", "Rückschein",
                   **env).stdout
    assert "Bekanntgabe: 05.11.2020" in out and "bis 07.12.2020" in out

    by_staff = quartier("--now", "2020-11-09T09:00", "payments", "waive-appeal", ref, "--as",
                        "pruefung@example.org", ok=False, **env)
    assert by_staff.exit_code == 1 and "nur dem Träger" in by_staff.output
    waived = json.loads(quartier("--now", "2020-11-09T09:00", "payments", "waive-appeal", ref,
                                 "--as", "traeger@example.org", "--json", **env).stdout)
    assert waived["transition"]["trigger"] == "waive_appeal"
    final = json.loads(quartier("--now", "2020-11-09T09:00", "payments", "finality", ref,
                                "--as", "traeger@example.org", "--json", **env).stdout)
    assert final["final"] is True and final["final_on"] == "2020-11-09"


def test_call_check_order_sepa_and_the_budget(quartier, sqlite_url, engine, tmp_path) -> None:
    from tests.workflow.test_payments import funded
    with unit_of_work(engine) as s:
        _, active = funded(s)  # final at once: the carrier waived its appeal with the start
    env = {"QUARTIER_DATABASE_URL": sqlite_url,
           "QUARTIER_PAYING_OFFICE_IBAN": "DE02120300000000202051"}
    at = ("--now", "2020-11-02T10:00")
    unsure = quartier(*at, "payments", "call", active, "--year", "2021", "--amount", "30000",
                      "--as", "traeger@example.org", ok=False, **env)
    assert unsure.exit_code == 1 and "zwei Monaten" in unsure.output
    called = quartier(*at, "payments", "call", active, "--year", "2021", "--amount",
                      "30.000,00", "--needed-within-two-months", "--as", "traeger@example.org",
                      "--json", **env).stdout
    call = json.loads(called)
    assert call["amount"] == "30000.00" and call["status"] == "requested"
    checked = quartier(*at, "payments", "check", str(call["id"]), "--as",
                       "pruefung@example.org", **env).stdout
    assert "Sachlich richtig gezeichnet" in checked and "Sabine Prüfer" in checked
    same = quartier(*at, "payments", "order", str(call["id"]), "--as", "pruefung@example.org",
                    ok=False, **env)
    assert same.exit_code == 1 and "Vier-Augen-Prinzip" in same.output
    ordered = quartier(*at, "payments", "order", str(call["id"]), "--as",
                       "zeichnung@example.org", **env).stdout
    assert "Valuta 03.11.2020" in ordered and "DE89370400440532013000" in ordered
    listed = quartier(*at, "payments", "calls", active, "--as", "traeger@example.org",
                      **env).stdout
    assert "30000.00" in listed and "20000.00" in listed
    out = tmp_path / "sepa.xml"
    exported = quartier(*at, "payments", "sepa", "--as", "admin@example.org", "-o", str(out),
                        **env).stdout
    assert "1 Zahlung(en), zusammen 30.000,00 €" in exported
    assert "<InstdAmt Ccy=\"EUR\">30000.00</InstdAmt>" in out.read_text(encoding="utf-8")
    shown = quartier(*at, "budget", **env).stdout
    assert "Ausgezahlt" in shown and "30.000,00 €" in shown
    lines = json.loads(quartier(*at, "budget", "--json", **env).stdout)["lines"]
    assert [ln["paid"] for ln in lines if ln["year"] == 2021] == ["30000.00"]
