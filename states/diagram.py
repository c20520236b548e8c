"""The lifecycle as a Mermaid state diagram, generated from the transition table."""

from __future__ import annotations

from states import FINAL_STATES, INITIAL_STATE, STATE_LABELS, TRANSITIONS, State


def mermaid(language: str = "de") -> str:
    """Mermaid `stateDiagram-v2` source for the whole table; labels in `language`."""
    lines = ["stateDiagram-v2"]
    for state in State:
        lines.append(f'    state "{STATE_LABELS[state].in_language(language)}" as {state.value}')
    lines.append(f"    [*] --> {INITIAL_STATE.value}")
    for t in TRANSITIONS:
        roles = ", ".join(sorted(r.value for r in t.roles))
        for source in t.sources:
            dest = t.dest_from(source)
            lines.append(f"    {source.value} --> {dest.value}: {t.trigger} ({roles})")
    for state in State:
        if state in FINAL_STATES:
            lines.append(f"    {state.value} --> [*]")
    return "\n".join(lines) + "\n"
