from pathlib import Path

from states import STATE_LABELS, TRANSITIONS, State, lifecycle
from states.diagram import mermaid


def test_every_state_and_transition_appears():
    text = mermaid()
    for state in State:
        assert f'"{STATE_LABELS[state].de}" as {state.value}' in text
    for t in TRANSITIONS:
        for source in t.sources:
            assert f"{source.value} --> {t.dest_from(source).value}: {t.trigger}" in text


def test_diagram_follows_the_table(monkeypatch):
    extra = lifecycle._t("escalate", lifecycle.State.active, lifecycle.State.closed,
                         {lifecycle.Role.admin}, lifecycle.Label("Eskalieren", "Escalate"))
    monkeypatch.setattr("states.diagram.TRANSITIONS", TRANSITIONS + (extra,))
    assert "active --> closed: escalate (admin)" in mermaid()
    monkeypatch.undo()
    assert "escalate" not in mermaid()


def test_readme_shows_the_current_diagram():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")
    assert "```mermaid\n" + mermaid() + "```" in readme


def test_english_labels():
    assert '"Waiting list" as waitlisted' in mermaid("en")
