"""`quartier simulate`: a programme year of the ZiQ 2021/2022 call on a simulated clock. The
money runs out, the automatic stop comes, the waiting list fills and moves when money comes back,
and no date of the run breaks a rule of DOMAIN.md."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from states import WAITING_LIST, DeadlineKind, ReminderStatus
from workflow.db import make_engine
from workflow.deadlines import add_months, local_date, next_working_day
from workflow.models import Application, ApplicationYear, Call, Deadline, TransitionRecord
from workflow.reminder_tables import ReminderSent
from workflow.simulate import simulate

STAFF_DECISIONS = {"reject", "revoke", "approve", "close", "request_report_changes",
                   "open_hearing", "recommend"}


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One whole run on a SQLite file that stays for inspection."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('sim') / 'sim.sqlite3'}")
    result = simulate(engine=engine)
    with Session(engine) as session:
        yield result, session
    engine.dispose()


def records(session: Session, trigger: str) -> list[TransitionRecord]:
    return list(session.exec(select(TransitionRecord).where(TransitionRecord.trigger == trigger)
                             .order_by(TransitionRecord.id)))


def test_the_money_runs_out_the_stop_comes_and_lifts_when_money_comes_back(run):
    result, session = run
    stops = [e for e in result.entries if e.kind == "funding_stop"]
    assert [e.text.startswith("Fördermittelstopp (automatisch") for e in stops] == [True, False]
    assert stops[1].text == "Fördermittelstopp aufgehoben"
    approvals = [r for r in records(session, "approve") if r.to_state == "approved"]
    first_funded = approvals[:110]
    assert datetime.fromisoformat(stops[0].at) == aware(first_funded[-1].at)
    # The stop lifted on the day of the revocation: the money came back from it.
    [revoked] = records(session, "revoke")
    assert stops[1].day == local_date(aware(revoked.at))
    assert revoked.payload["repayment_cents"] == 12_500_00


def test_the_waiting_list_fills_and_moves_in_order_of_receipt(run):
    result, session = run
    waitlisted = records(session, "waitlist")
    assert len(waitlisted) == 12
    offered = records(session, WAITING_LIST.offer_again)
    assert len(offered) == 2  # after the revocation, and after the under-spend
    receipt = {a.id: aware(a.received_at) for a in session.exec(select(Application))
               if a.received_at}
    order = sorted((r.application_id for r in waitlisted), key=receipt.get)
    assert [r.application_id for r in offered] == order[:2]
    for r in offered:
        app = session.get(Application, r.application_id)
        assert app.state == "closed"  # approved after the offer, carried out, closed
    [early] = [r for r in records(session, "close") if r.reason and "Minderausgabe" in r.reason]
    assert local_date(aware(offered[1].at)) == local_date(aware(early.at))
    assert result.summary["states"]["waitlisted"] == 10


def test_the_summary_counts_states_money_and_reminders(run):
    result, _ = run
    summary = result.summary
    assert summary["applications"] == 150 == sum(summary["states"].values())
    assert set(summary["states"]) >= {"closed", "waitlisted", "rejected", "withdrawn",
                                      "revoked", "draft"}
    assert summary["committed_cents"] > 15_000_000_00
    assert summary["released_cents"] > 0 and summary["repaid_cents"] == 12_500_00
    assert list(summary["reminders"]) == ["before_28", "before_7", "due", "overdue",
                                          "escalation"]
    assert {e.kind for e in result.entries} == {"transition", "report", "reminder", "deadline",
                                                "email", "funding_stop"}


def test_every_submission_lies_in_the_window_and_before_the_stop(run):
    result, session = run
    call = session.exec(select(Call).where(Call.code == "ZiQ-2021")).one()
    stop = datetime.fromisoformat(next(e.at for e in result.entries if e.kind == "funding_stop"))
    submits = records(session, "submit")
    assert len(submits) == 144
    for r in submits:
        assert aware(call.opens_at) <= aware(r.at) <= aware(call.closes_at)
        assert aware(r.at) < stop
    # The late ones were refused: they are still drafts, and were told of the stop.
    drafts = session.exec(select(Application).where(Application.state == "draft")).all()
    assert len(drafts) == 6


def test_approvals_commit_only_running_years_of_the_project_period(run):
    _, session = run
    for r in records(session, "approve"):
        if r.to_state != "approved":
            continue
        app = session.get(Application, r.application_id)
        years = session.exec(select(ApplicationYear).where(
            ApplicationYear.application_id == app.id)).all()
        for y in years:
            if y.approved_cents:
                assert y.year >= local_date(aware(r.at)).year, app.reference
                assert app.project_start.year <= y.year <= app.project_end.year
        assert local_date(aware(r.at)) < app.project_start  # no project starts unapproved


def test_projects_start_on_their_start_date_and_run_eight_months(run):
    _, session = run
    for r in records(session, "start"):
        app = session.get(Application, r.application_id)
        assert local_date(aware(r.at)) >= app.project_start, app.reference
    for app in session.exec(select(Application)):
        assert app.project_start >= date(2021, 1, 1)
        assert add_months(app.project_start, 8) <= app.project_end + timedelta(days=1)


def test_due_dates_are_working_days_and_interim_reports_fall_on_30_april(run):
    _, session = run
    reopened = {r.application_id for r in records(session, "request_interim_report_changes")}
    interim = 0
    for d in session.exec(select(Deadline)):
        assert next_working_day(d.due_date) == d.due_date
        if d.kind == DeadlineKind.interim_report and d.application_id not in reopened:
            assert d.due_date == next_working_day(date(int(d.period) + 1, 4, 30)) \
                == date(2022, 5, 2)
            interim += 1
    assert interim > 50


def test_reminders_go_out_at_their_steps(run):
    _, session = run
    sent = session.exec(select(ReminderSent).where(
        ReminderSent.status == ReminderStatus.sent)).all()
    assert Counter(s.step for s in sent)["overdue"] > 5
    for s in sent:
        assert local_date(aware(s.at)) == s.scheduled_on
        if s.step.startswith("before_"):
            assert s.scheduled_on == s.due_date - timedelta(days=int(s.step.split("_")[1]))
        elif s.step == "due":
            assert s.scheduled_on == s.due_date
        elif s.step == "overdue":
            assert s.scheduled_on == s.due_date + timedelta(days=7)
            assert s.grace_until == next_working_day(s.scheduled_on + timedelta(days=14))
        else:
            assert s.scheduled_on == s.grace_until + timedelta(days=1)


def test_no_decision_falls_inside_a_grace_period(run):
    _, session = run
    mahnungen = session.exec(select(ReminderSent).where(ReminderSent.step == "overdue",
                                                        ReminderSent.status == "sent")).all()
    deadlines = {d.id: d for d in session.exec(select(Deadline))}
    decisions = [r for r in session.exec(select(TransitionRecord))
                 if r.trigger in STAFF_DECISIONS and r.actor_role in ("reviewer", "approver")]
    checked = 0
    for m in mahnungen:
        deadline = deadlines[m.deadline_id]
        for r in decisions:
            if r.application_id != m.application_id:
                continue
            at = aware(r.at)
            still_open = deadline.closed_at is None or aware(deadline.closed_at) > at
            inside = m.scheduled_on <= local_date(at) <= m.grace_until
            assert not (still_open and inside), (r.trigger, r.application_id)
            checked += 1
    assert checked > 0


def test_cli_prints_timeline_and_summary_without_a_progress_bar_in_a_pipe():
    env = {**os.environ, "QUARTIER_DATABASE_URL": "sqlite:///:memory:"}
    quartier = Path(sys.executable).with_name("quartier")
    done = subprocess.run([str(quartier), "simulate", "--until", "2021-09-30"], env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    out = done.stdout
    assert "Fördermittelstopp (automatisch" in out and "Fördermittelstopp aufgehoben" in out
    assert "Erneut zur Bewilligung vorlegen" in out and "Warteliste" in out
    assert "Anträge nach Status" in out and "Erinnerungen nach Stufe" in out
    assert "Widerrufen" in out and "12.500,00 €" in out
    assert done.stderr == ""
    data = json.loads(subprocess.run(
        [str(quartier), "simulate", "--until", "2020-12-31", "--json"], env=env,
        capture_output=True, text=True, timeout=120, check=True).stdout)
    assert data["summary"]["applications"] > 100 and data["timeline"][0]["day"] >= "2020-10-01"
