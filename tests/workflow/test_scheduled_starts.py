"""The worker's pass of scheduled starts: approved projects start on their start date by
themselves, exactly those due, once, even with two passes at the same time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from sqlmodel import select

from notifications.outbox import OutboxMessage
from tests.factories import application_in, draft_fields, make_world
from workflow import drafts
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.models import Application, TransitionRecord
from workflow.scheduled_starts import run_start_pass

BEFORE = datetime(2021, 1, 15, 9, tzinfo=UTC)
PASS_AT = datetime(2021, 3, 1, 6, 0, tzinfo=UTC)  # 07:00 in Berlin on 1 March 2021


def _approved_starting(session, world, start: str) -> str:
    """An application approved before its start, whose project starts on `start`."""
    app = drafts.create_application(session, world.carrier, world.call_id,
                                    draft_fields(project_start=start, project_end="2022-12-31"),
                                    now=BEFORE)
    for who, trigger, payload in (("carrier", "submit", None), ("reviewer", "start_review", None),
                                  ("reviewer", "recommend",
                                   {"amounts": {"2021": "50000", "2022": "50000"}}),
                                  ("approver", "approve", None)):
        wf.fire(session, app, trigger, getattr(world, who), payload=payload, reason="ok",
                now=BEFORE)
    return app.reference


def _world_with_starts(engine) -> dict[str, str]:
    with unit_of_work(engine) as s:
        world = make_world(s)
        refs = {start: _approved_starting(s, world, start)
                for start in ("2021-02-01", "2021-03-01", "2021-03-02")}
        refs["review"] = application_in(s, world, "in_review", now=BEFORE).reference
    return refs


def _states(engine) -> dict[str, str]:
    with unit_of_work(engine) as s:
        return {a.reference: a.state for a in s.exec(select(Application))}


def test_the_pass_starts_exactly_the_projects_due_and_a_second_run_does_nothing(
        any_engine) -> None:
    refs = _world_with_starts(any_engine)
    summary = run_start_pass(any_engine, PASS_AT)
    assert sorted(summary.started) == sorted([refs["2021-02-01"], refs["2021-03-01"]])
    assert summary.refused == {} and summary.today.isoformat() == "2021-03-01"
    states = _states(any_engine)
    assert states[refs["2021-02-01"]] == states[refs["2021-03-01"]] == "active"
    assert states[refs["2021-03-02"]] == "approved" and states[refs["review"]] == "in_review"
    with unit_of_work(any_engine) as s:
        starts = s.exec(select(TransitionRecord).where(TransitionRecord.trigger == "start")).all()
        assert len(starts) == 2 and all(r.actor_role == "system" and r.at == PASS_AT
                                        for r in starts)
        assert len(s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "project_started")).all()) == 2
    again = run_start_pass(any_engine, PASS_AT.replace(hour=12))
    assert again.started == [] and _states(any_engine) == states


def test_two_passes_at_once_start_each_project_once(any_engine) -> None:
    refs = _world_with_starts(any_engine)
    results, errors = [], []

    def one_pass() -> None:
        try:
            results.append(run_start_pass(any_engine, PASS_AT))
        except Exception as error:  # noqa: BLE001 (the test reports it)
            errors.append(error)

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    started = [ref for summary in results for ref in summary.started]
    assert sorted(started) == sorted([refs["2021-02-01"], refs["2021-03-01"]])
    with unit_of_work(any_engine) as s:
        assert len(s.exec(select(TransitionRecord).where(
            TransitionRecord.trigger == "start")).all()) == 2
        assert len(s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "project_started")).all()) == 2
