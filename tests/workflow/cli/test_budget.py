"""`quartier budget` and `quartier funding-stop`."""

from __future__ import annotations

import json

from tests.workflow.cli.conftest import demo_ref, run


def test_funding_stop_from_the_command_line(cli_env):
    run(cli_env, "funding-stop", "declare", "--call", "ZiQ-DEMO", "--as",
        "admin@quartier.example", "--reason", "Mittel gebunden")
    data = json.loads(run(cli_env, "budget", "--call", "ZiQ-DEMO", "--json").stdout)
    assert data["funding_stop"]["in_force"] and data["funding_stop"]["kind"] == "declared"
    result = run(cli_env, "fire", demo_ref(cli_env, "draft"), "submit", "--as",
                 "traeger1@quartier.example", ok=False)
    assert "Fördermittelstopp" in result.stderr


def test_budget_json_is_the_api_call_with_its_lines(cli_env):
    before = json.loads(run(cli_env, "budget", "--json").stdout)
    run(cli_env, "budget", "change", "--as", "admin@quartier.example", "--year", "2021",
        "--source", "ESF", "--delta", "100000")
    after = json.loads(run(cli_env, "budget", "--json").stdout)
    assert after["code"] == "ZiQ-2021" and after["years"][0]["year"] == 2021
    assert after["years"][0]["available_cents"] - before["years"][0]["available_cents"] \
        == 100_000_00
    [esf] = [ln for ln in after["lines"] if ln["year"] == 2021 and ln["source"] == "ESF"]
    assert esf["budget"] == "3600000.00"
    shown = run(cli_env, "budget").stdout
    assert "3.600.000,00 €" in shown and "Kein Fördermittelstopp." in shown
