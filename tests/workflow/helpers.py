"""Test helpers: snapshots of the whole database to prove a refusal wrote nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import SQLModel

from workflow.db import unit_of_work
from workflow.errors import WorkflowError


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a comparable form."""
    with engine.connect() as conn:
        return {name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
                for name, table in SQLModel.metadata.tables.items()}


def refused(engine: Engine, error: type[WorkflowError], action, *words: str) -> WorkflowError:
    """Run `action(session)` in a unit of work; it must raise `error` and change nothing."""
    before = snapshot(engine)
    with pytest.raises(error) as caught:
        with unit_of_work(engine) as session:
            action(session)
    assert snapshot(engine) == before, "a refused action wrote to the database"
    refusal = caught.value
    assert refusal.de and refusal.en and refusal.de != refusal.en
    for word in words:
        assert word in refusal.de, f"{word!r} not in {refusal.de!r}"
    return refusal
