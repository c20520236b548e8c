"""The budget: never over-committed, under concurrent approvals on SQLite and PostgreSQL."""

from __future__ import annotations

import multiprocessing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from tests.factories import NOW, application_in, make_world
from tests.workflow.approval_race import approve_all, process_main
from tests.workflow.helpers import refused
from workflow import applications, budget, programme_admin
from workflow import engine as wf
from workflow.db import make_engine, unit_of_work
from workflow.errors import InvalidInput
from workflow.models import Application, BudgetLine, Call, LedgerEntry

AMOUNT = {"2021": "20000", "2022": "10000"}
ROOM_FOR = 7


def _race_world(engine, policy: str, n: int = 20) -> tuple[object, list[str]]:
    with unit_of_work(engine) as s:
        w = make_world(s, policy=policy, min_grant_cents=1_000_00,
                       years={2021: ROOM_FOR * 20_000_00, 2022: ROOM_FOR * 10_000_00 + 5_000_00},
                       sources=("Landesmittel", "ESF"))
        refs = [application_in(s, w, "recommended", amounts=AMOUNT).reference for _ in range(n)]
    return w, refs


def assert_ledger_consistent(engine, call_id: int) -> None:
    with Session(engine) as s:
        for line in s.exec(select(BudgetLine).where(BudgetLine.call_id == call_id)):
            committed, budget_total = s.exec(select(
                func.coalesce(func.sum(LedgerEntry.committed_delta_cents), 0),
                func.coalesce(func.sum(LedgerEntry.budget_delta_cents), 0),
            ).where(LedgerEntry.budget_line_id == line.id)).one()
            assert committed == line.committed_cents
            assert budget_total == line.budget_cents
            assert 0 <= line.committed_cents <= line.budget_cents


def assert_exactly_seven(engine, w, outcomes: dict[str, str], loser_state: str) -> None:
    assert sorted(set(outcomes.values())) == sorted({"approved", loser_state}), outcomes
    assert list(outcomes.values()).count("approved") == ROOM_FOR
    with Session(engine) as s:
        years = budget.years(s, w.call_id)
        assert years[2021].committed_cents == ROOM_FOR * 20_000_00
        assert years[2022].committed_cents == ROOM_FOR * 10_000_00
        states = s.exec(select(Application.state, func.count()).group_by(Application.state)).all()
        expected_loser = "recommended" if loser_state == "refused" else loser_state
        assert dict(states) == {"approved": ROOM_FOR, expected_loser: 20 - ROOM_FOR}
    assert_ledger_consistent(engine, w.call_id)


@pytest.mark.parametrize("policy,loser", [("waitlist", "waitlisted"), ("reject", "refused")])
def test_twenty_threads_on_sqlite_approve_exactly_seven(engine, sqlite_url, policy, loser):
    w, refs = _race_world(engine, policy)
    outcomes = approve_all(sqlite_url, refs, w.approver)
    assert_exactly_seven(engine, w, outcomes, loser)


@pytest.mark.postgres
def test_twenty_connections_from_four_processes_on_postgres(pg_engine, pg_url):
    w, refs = _race_world(pg_engine, "waitlist")
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    chunks = [refs[i::4] for i in range(4)]
    procs = [ctx.Process(target=process_main, args=(pg_url, chunk, w.approver, queue))
             for chunk in chunks]
    for p in procs:
        p.start()
    outcomes: dict[str, str] = {}
    for _ in procs:
        outcomes.update(queue.get(timeout=120))
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert len(outcomes) == 20
    assert_exactly_seven(pg_engine, w, outcomes, "waitlisted")


@pytest.mark.postgres
def test_database_refuses_overcommit_directly(pg_engine):
    """Even a write that bypasses the engine cannot push committed above budget (CHECK)."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError
    with unit_of_work(pg_engine) as s:
        make_world(s)
    with pytest.raises(IntegrityError):
        with unit_of_work(pg_engine) as s:
            s.execute(text("UPDATE budget_line SET committed_cents = budget_cents + 1"))


def test_stale_object_is_refused_on_postgres_race(pg_engine):
    """Two transactions loaded the same version; the later write is refused (version check)."""
    from workflow.errors import StaleVersion
    with unit_of_work(pg_engine) as s:
        w = make_world(s)
        ref = application_in(s, w, "submitted").reference
    with Session(pg_engine) as slow:
        app = applications.load_application(slow, ref)  # transaction A reads version N
        with unit_of_work(pg_engine) as fast:  # transaction B changes the row and commits
            wf.fire(fast, ref, "start_review", w.reviewer, now=NOW)
        with pytest.raises(StaleVersion):
            wf.fire(slow, app, "withdraw", w.carrier, reason="x", now=NOW)
        slow.rollback()
    with Session(pg_engine) as s:
        assert applications.load_application(s, ref).state == "in_review"


def test_budget_cut_below_committed_is_refused(engine):
    with unit_of_work(engine) as s:
        w = make_world(s, years={2021: 100_000_00, 2022: 100_000_00})
        application_in(s, w, "approved")
    refused(engine, InvalidInput, lambda s: programme_admin.change_budget(
        s, s.get(Call, w.call_id), 2021, "Landesmittel", -60_000_00, w.admin, "Kürzung", now=NOW),
        "nicht unter die bereits gebundenen")


def test_automatic_stop_and_lift_with_reoffer_in_order_of_receipt(engine):
    with unit_of_work(engine) as s:
        w = make_world(s, years={2021: 100_000_00, 2022: 100_000_00}, min_grant_cents=10_000_00)
        first = application_in(s, w, "approved", amounts={"2021": "95000", "2022": "50000"})
        waiting = [application_in(s, w, "recommended", amounts={"2021": "30000", "2022": "1000"})
                   for _ in range(3)]
        for app in waiting:
            assert wf.fire(s, app, "approve", w.approver, now=NOW).to_state == "waitlisted"
        draft = application_in(s, w, "draft")
        call = s.get(Call, w.call_id)
        assert call.stop_kind is None  # 2022 still has 50.000 € left
        programme_admin.change_budget(s, call, 2022, "Landesmittel", -45_000_00, w.admin,
                                      "Kürzung", now=NOW)
        call = s.get(Call, w.call_id)
        assert call.stop_kind == "automatic" and call.stop_since is not None
        ref_first, refs_waiting, ref_draft = first.reference, [a.reference for a in waiting], \
            draft.reference
    with unit_of_work(engine) as s:
        from workflow.errors import FundingStopInForce
        with pytest.raises(FundingStopInForce):
            wf.fire(s, ref_draft, "submit", w.carrier, now=NOW)
    # Money comes back through budget increases.
    with unit_of_work(engine) as s:
        programme_admin.change_budget(s, s.get(Call, w.call_id), 2021, "Landesmittel",
                                      60_000_00, w.admin,
                         "Aufstockung", now=NOW)
        programme_admin.change_budget(s, s.get(Call, w.call_id), 2022, "Landesmittel",
                                      45_000_00, w.admin,
                         "Aufstockung", now=NOW)
    with unit_of_work(engine) as s:
        assert s.get(Call, w.call_id).stop_kind is None
        states = [applications.load_application(s, r).state for r in refs_waiting]
        # 65.000 € free in 2021: the first two in order of receipt are offered again.
        assert states == ["recommended", "recommended", "waitlisted"]
        assert applications.load_application(s, ref_first).state == "approved"
    assert_ledger_consistent(engine, w.call_id)


@settings(max_examples=40, deadline=None)
@given(st.decimals(min_value=0, max_value=10**9, places=2))
def test_parse_euros_round_trips(value):
    cents = budget.parse_euros(str(value))
    assert cents == int(value * 100)
    text = budget.format_euros(cents)
    assert budget.parse_euros(text) == cents


def test_seed_ledger_is_consistent(sqlite_url):
    from datetime import UTC, datetime

    from sqlmodel import SQLModel

    from workflow import seed
    eng = make_engine(sqlite_url)
    SQLModel.metadata.create_all(eng)
    with unit_of_work(eng) as s:
        call = seed.seed(s, datetime(2020, 10, 1, tzinfo=UTC))
        call_id = call.id
    assert_ledger_consistent(eng, call_id)
