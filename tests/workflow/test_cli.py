"""The command line: the whole ZiQ journey on a real SQLite file, and errors that exit non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUARTIER = [sys.executable, "-m", "workflow.cli"]


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*QUARTIER, *args], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def cli_env(tmp_path) -> dict[str, str]:
    env = {**os.environ, "QUARTIER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    run(env, "db", "upgrade")
    run(env, "seed")
    return env


def available(env: dict[str, str]) -> dict[int, int]:
    data = json.loads(run(env, "budget", "--json").stdout)
    return {y["year"]: y["available_cents"] for y in data["years"]}


def test_journey_script_returns_underspend_to_the_budget(cli_env, tmp_path):
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
    # approved 55.000 + 20.000, spent 50.000 + 18.000: the budget keeps only what was spent.
    assert before[2021] - after[2021] == 50_000_00
    assert before[2022] - after[2022] == 18_000_00
    listing = json.loads(run(cli_env, "applications", "list", "--json", "--state", "closed").stdout)
    assert len(listing) == 2


def test_refusal_prints_reason_and_exits_nonzero(cli_env):
    result = run(cli_env, "fire", "ZiQ-2020-0004", "approve", "--as",
                 "pruefung2@quartier.example", ok=False)
    assert result.returncode == 1
    assert "Fehler:" in result.stderr and "Error:" in result.stderr


def test_four_eyes_from_the_command_line(cli_env):
    # ZiQ-2020-0002 is submitted; the approver reviews it and then may not approve it.
    env = {**cli_env}
    run(env, "--now", "2020-11-20T10:00:00+01:00", "fire", "ZiQ-2020-0002", "start_review",
        "--as", "zeichnung@quartier.example")
    run(env, "--now", "2020-11-21T10:00:00+01:00", "fire", "ZiQ-2020-0002", "recommend",
        "--as", "zeichnung@quartier.example", "--reason", "ok", "--amount", "2021=40000",
        "--amount", "2022=40000")
    result = run(env, "fire", "ZiQ-2020-0002", "approve", "--as", "zeichnung@quartier.example",
                 ok=False)
    assert result.returncode == 1 and "Vier-Augen" in result.stderr


def test_history_and_show_as_json(cli_env):
    history = json.loads(run(cli_env, "applications", "history", "ZiQ-2020-0006", "--json").stdout)
    assert [h["trigger"] for h in history][-2:] == ["submit_final_report", "close"]
    shown = json.loads(run(cli_env, "applications", "show", "ZiQ-2020-0006", "--json").stdout)
    assert shown["state"] == "closed"


def test_diagram_command_prints_the_table(cli_env):
    out = run(cli_env, "workflow", "diagram").stdout
    assert out.startswith("stateDiagram-v2") and "recommended --> approved: approve" in out


def test_funding_stop_from_the_command_line(cli_env):
    run(cli_env, "funding-stop", "declare", "--as", "admin@quartier.example", "--reason",
        "Mittel gebunden")
    data = json.loads(run(cli_env, "budget", "--json").stdout)
    assert data["funding_stop"]["in_force"] and data["funding_stop"]["kind"] == "declared"
    result = run(cli_env, "fire", "ZiQ-2020-0001", "submit", "--as", "traeger1@quartier.example",
                 ok=False)
    assert "Fördermittelstopp" in result.stderr
