"""`quartier simulate`: the seeded ZiQ programme runs to its last closure on a simulated clock."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from workflow.simulate import simulate


@pytest.fixture(scope="module")
def timeline():
    return simulate()


def test_the_late_final_report_is_reminded_formally_reminded_and_escalated(timeline):
    late = [e for e in timeline if e.reference == "ZiQ-2020-0002"]
    reminders = [(e.step, e.day) for e in late
                 if e.kind == "reminder" and e.deadline_kind == "final_report"]
    assert reminders == [
        ("before_28", date(2022, 6, 2)), ("before_7", date(2022, 6, 23)),
        ("due", date(2022, 6, 30)), ("overdue", date(2022, 7, 7)),
        ("escalation", date(2022, 7, 22))]
    emails = [(e.step, e.text) for e in late if e.kind == "email" and e.step]
    assert [s for s, _ in emails][:5] == ["before_28", "before_7", "due", "overdue",
                                          "escalation"]
    assert "Mahnung" in emails[3][1] and "traeger2@quartier.example" in emails[3][1]
    assert "pruefung2@quartier.example" in emails[4][1]
    assert any("Nachfrist bis 21.07.2022" in e.text for e in late if e.step == "overdue")
    assert any(e.kind == "transition" and "Abgeschlossen" in e.text for e in late)


def test_the_run_goes_from_the_call_opening_to_the_last_closure(timeline):
    assert timeline[0].day >= date(2020, 10, 1)
    last = timeline[-1]
    assert last.reference == "ZiQ-2020-0001" and last.day == date(2023, 7, 10)
    kinds = {e.kind for e in timeline}
    assert kinds == {"transition", "report", "reminder", "deadline", "email"}
    texts = "\n".join(e.line() for e in timeline)
    for expected in ("Frist geöffnet: Verwendungsnachweis", "Frist erfüllt: Zwischennachweis",
                     "Frist geöffnet: Zwischennachweis 2021, fällig am 17.05.2022",
                     "Zurückziehen", "Ablehnen", "request_interim_report_changes",
                     "(verspätet)"):
        assert expected in texts
    # A met deadline gets no more reminders: the punctual project never sees a Mahnung.
    assert not [e for e in timeline if e.reference == "ZiQ-2020-0001" and e.step == "overdue"]


def test_cli_prints_the_timeline():
    env = {**os.environ, "QUARTIER_DATABASE_URL": "sqlite:///:memory:"}
    quartier = Path(sys.executable).with_name("quartier")
    out = subprocess.run([str(quartier), "simulate", "--until", "2021-01-15"], env=env,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    assert "Eskalation" in out and "ZiQ-2020-0004" in out and "Ablehnen" in out
