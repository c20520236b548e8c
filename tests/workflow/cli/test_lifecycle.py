"""`quartier workflow diagram|table`."""

from __future__ import annotations

import json


def test_diagram_command_prints_the_table(quartier):
    out = quartier("workflow", "diagram").stdout
    assert out.startswith("stateDiagram-v2") and "recommended --> approved: approve" in out


def test_transition_table(quartier):
    rows = json.loads(quartier("workflow", "table", "--json").stdout)
    assert {"trigger": "approve", "dest": "approved"}.items() <= next(
        r for r in rows if r["trigger"] == "approve").items()
    assert "recommended" in quartier("workflow", "table").stdout
