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
