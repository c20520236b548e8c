"""`quartier applications …` and `quartier fire`: the whole ZiQ journey on a real SQLite file,
JSON in the API's shapes, and refusals that exit 1."""

from __future__ import annotations

import json
import subprocess
import sys

from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import api_settings
from tests.workflow.cli.conftest import ROOT, demo_ref, run
from workflow.db import make_engine


def available(env: dict[str, str]) -> dict[int, int]:
    data = json.loads(run(env, "budget", "--call", "ZiQ-DEMO", "--json").stdout)
    return {y["year"]: y["available_cents"] for y in data["years"]}


def test_journey_script_settles_and_pays_the_final_grant(cli_env, tmp_path):
    wrapper = tmp_path / "quartier"
    wrapper.write_text(f"#!/bin/sh\nexec {sys.executable} -m workflow.cli \"$@\"\n")
    wrapper.chmod(0o755)
    before = available(cli_env)
    result = subprocess.run(["bash", str(ROOT / "scripts" / "journey.sh")],
                            env={**cli_env, "QUARTIER": str(wrapper)}, cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Vier-Augen" in result.stderr or "nicht erlaubt" in result.stderr
    after = available(cli_env)
    # Approved 55.000 + 20.000, final grant 50.000 + 18.000, nothing called before: the
    # settlement gives back what is above the final grant, which stays committed and is paid
    # as the Schlusszahlung (certified by the reviewer, ordered by the approver).
    y1, y2 = sorted(after)
    assert (before[y1] - after[y1], before[y2] - after[y2]) == (50_000_00, 18_000_00)
    assert "Zuwendung" in result.stdout and "Schlusszahlung" in result.stdout
    assert result.stdout.count("Auszahlung angeordnet") >= 2, result.stdout
    listing = json.loads(run(cli_env, "applications", "list", "--json", "--state", "closed").stdout)
    assert [a["title"] for a in listing if a["call"] == "ZiQ-DEMO"] == [
        "Quartierseltern Chorweiler"]


def test_refusal_prints_reason_and_exits_nonzero(cli_env):
    result = run(cli_env, "fire", demo_ref(cli_env, "recommended"), "approve", "--as",
                 "pruefung2@quartier.example", ok=False)
    assert result.returncode == 1
    assert "Fehler:" in result.stderr and "Error:" in result.stderr


def test_four_eyes_from_the_command_line(cli_env):
    # The submitted demo application: the approver reviews it and then may not approve it.
    env, ref = {**cli_env}, demo_ref(cli_env, "submitted")
    years = sorted(available(cli_env))
    run(env, "fire", ref, "start_review", "--as", "zeichnung@quartier.example")
    run(env, "fire", ref, "recommend", "--as", "zeichnung@quartier.example", "--reason", "ok",
        "--amount", f"{years[0]}=40000", "--amount", f"{years[1]}=40000")
    result = run(env, "fire", ref, "approve", "--as", "zeichnung@quartier.example", ok=False)
    assert result.returncode == 1 and "Vier-Augen" in result.stderr


def test_history_and_show_as_json(cli_env):
    closed = demo_ref(cli_env, "closed", call="ZiQ-2021")
    history = json.loads(run(cli_env, "applications", "history", closed, "--json").stdout)
    assert [h["trigger"] for h in history][-3:] == ["submit_final_report", "check_final_report",
                                                    "close"]
    shown = json.loads(run(cli_env, "applications", "show", closed, "--json").stdout)
    assert shown["state"] == "closed"


def test_show_and_history_as_json_are_the_api_bodies(cli_env):
    ref = demo_ref(cli_env, "recommended")
    shown = json.loads(run(cli_env, "applications", "show", ref, "--json").stdout)
    history = json.loads(run(cli_env, "applications", "history", ref, "--json").stdout)
    english = json.loads(run(cli_env, "--lang", "en", "applications", "show", ref,
                             "--json").stdout)
    engine = make_engine(cli_env["QUARTIER_DATABASE_URL"])
    try:
        with TestClient(create_app(engine=engine, settings=api_settings())) as client:
            token = client.post("/api/v1/auth/token", data={
                "username": "pruefung@quartier.example", "password": "quartier-demo"})
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            base = f"/api/v1/applications/{ref}"
            assert shown == client.get(base, headers=headers).json()
            assert history == client.get(f"{base}/history", headers=headers).json()
            assert english == client.get(base, headers={**headers,
                                                        "Accept-Language": "en"}).json()
    finally:
        engine.dispose()
    assert shown["own_contribution"] == "5000.00" and shown["state_label"] != english[
        "state_label"]


def test_a_refusal_with_json_is_a_problem_on_stdout(cli_env):
    result = run(cli_env, "fire", demo_ref(cli_env, "recommended"), "approve", "--as",
                 "pruefung2@quartier.example", "--json", ok=False)
    assert result.returncode == 1
    assert "Fehler:" in result.stderr and "Error:" in result.stderr
    problem = json.loads(result.stdout)
    assert problem["type"] == "https://quartier.example/problems/not-permitted"
    assert problem["status"] == 403 and problem["title"] == "Keine Berechtigung"
    assert "nicht erlaubt" in problem["detail"]
    missing = run(cli_env, "--lang", "en", "applications", "show", "ZiQ-1999-0001", "--json",
                  ok=False)
    assert missing.returncode == 1
    assert json.loads(missing.stdout) == {
        "type": "https://quartier.example/problems/not-found", "title": "Nicht gefunden",
        "status": 404, "detail": "Application ZiQ-1999-0001 was not found."}


def test_bad_input_is_refused_in_both_languages(cli_env):
    result = run(cli_env, "fire", demo_ref(cli_env, "recommended"), "approve", "--as",
                 "zeichnung@quartier.example", "--amount", "2021", "--json", ok=False)
    assert result.returncode == 1 and "JAHR=BETRAG" in result.stderr
    assert "YEAR=AMOUNT" in result.stderr
    assert json.loads(result.stdout)["type"].endswith("/invalid-input")


def test_fire_as_json_is_the_api_fire_result(cli_env):
    fired = json.loads(run(cli_env, "fire", demo_ref(cli_env, "submitted"), "start_review",
                           "--as", "pruefung@quartier.example", "--json").stdout)
    assert fired["transition"]["trigger"] == "start_review"
    assert fired["transition"]["to_state"] == "in_review"
    assert fired["application"]["state"] == "in_review"
    assert fired["application"]["years"][0]["requested"].endswith(".00")


def test_tables_are_never_cut(cli_env):
    listing = run(cli_env, "applications", "list").stdout
    # The longest organisation and title are printed whole on one line, however narrow the
    # terminal (typer's runner and a pipe both have none).
    draft = demo_ref(cli_env, "draft")
    line = next(row for row in listing.splitlines() if row.startswith(draft))
    assert "Caritasverband für die Stadt Gelsenkirchen e.V." in line
    assert "120.000,00 €" in line
    assert "…" not in listing


def test_a_finance_plan_from_a_json_file(cli_env, tmp_path):
    y1, y2 = sorted(available(cli_env))
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({str(y1): {"expenses": {"personnel": "30000"}, "own": "2000"},
                                str(y2): {"expenses": {"personnel": "30000", "fees": "1000"},
                                          "own": "1000", "third_party": "5000"}}))
    created = json.loads(run(
        cli_env, "applications", "create", "--as", "traeger2@quartier.example", "--call",
        "ZiQ-DEMO", "--module", "B2", "--title", "Bewegte Kita", "--summary", "Sport",
        "--quartier", "Marxloh", "--start", f"{y1}-03-01", "--end", f"{y2}-12-31",
        "--finance-plan", str(plan), "--json").stdout)
    assert [y["requested"] for y in created["years"]] == ["28000.00", "25000.00"]
    assert created["own_contribution"] == "3000.00"
    ref = created["reference"]
    # An unbalanced plan (own money above the expenses) is saved; submit names the year.
    plan.write_text(json.dumps({str(y1): {"expenses": {"personnel": "30000"}, "own": "2000"},
                                str(y2): {"expenses": {"rent": "1000"}, "own": "1500"}}))
    human = run(cli_env, "applications", "finance-plan", ref, str(plan), "--as",
                "traeger2@quartier.example").stdout
    assert f"{y2}: Ausgaben 1.000,00 €, Finanzierung 1.500,00 €" in human
    assert "nicht ausgeglichen (Differenz 500,00 €)" in human
    refused = run(cli_env, "fire", ref, "submit", "--as", "traeger2@quartier.example", ok=False)
    assert refused.returncode == 1
    assert f"{y2}: Ausgaben 1.000,00 € ≠ Finanzierung 1.500,00 € (Differenz 500,00 €)" in (
        refused.stderr)
    beside = run(cli_env, "applications", "create", "--as", "traeger2@quartier.example",
                 "--call", "ZiQ-DEMO", "--module", "B2", "--title", "X", "--finance-plan",
                 str(plan), "--amount", f"{y1}=5000", ok=False)
    assert beside.returncode == 1 and "Finanzierungsplan" in beside.stderr
    missing = run(cli_env, "applications", "finance-plan", ref, str(tmp_path / "nope.json"),
                  "--as", "traeger2@quartier.example", ok=False)
    assert missing.returncode == 1 and "nicht lesbar" in missing.stderr
