"""The engine: the whole journey, history, deadlines, emails, and every kind of refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from notifications.outbox import OutboxMessage
from states import STATE_LABELS, TRANSITIONS, State
from tests.factories import (
    NOW,
    application_in,
    check_final_report,
    draft_fields,
    final_report_payload,
    make_world,
)
from tests.workflow.helpers import refused
from workflow import applications, budget, drafts, programme_admin
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.errors import (
    CallWindowClosed,
    FourEyesViolation,
    FundingStopInForce,
    GuardFailed,
    Incomplete,
    InsufficientFunds,
    InvalidInput,
    NotFound,
    NotPermitted,
    StaleVersion,
    UnknownTrigger,
    WrongState,
)
from workflow.models import (
    Application,
    Deadline,
    LedgerEntry,
    StateWriteForbidden,
    TransitionRecord,
)


@pytest.fixture
def world(engine):
    with unit_of_work(engine) as s:
        return make_world(s)


def _app(s, ref):
    return applications.load_application(s, ref)


def test_whole_journey_releases_underspend(any_engine):
    with unit_of_work(any_engine) as s:
        w = make_world(s)
        app = drafts.create_application(
            s, w.carrier, w.call_id, draft_fields({"2021": "60000", "2022": "20000"}), now=NOW
        )
        ref = app.reference
    steps = [
        (w.carrier, "submit", None, None),
        (w.reviewer, "start_review", None, None),
        (w.reviewer, "request_documents", {"documents": ["Satzung"]}, "Satzung fehlt"),
        (w.carrier, "provide_documents", {"explanation": "Satzung liegt bei"}, "anbei"),
        (w.reviewer, "recommend", {"amounts": {"2021": "55000", "2022": "20000"}}, "ok"),
        (w.approver, "approve", None, None),
        (w.carrier, "start", {"waiver_of_appeal": True}, None),  # before the start date
        (w.carrier, "submit_final_report", final_report_payload({"2021": "50000", "2022": "18000"}),
         "VN"),
        (w.reviewer, "close", None, "geprüft"),
    ]
    for i, (actor, trigger, payload, reason) in enumerate(steps):
        with unit_of_work(any_engine) as s:
            if trigger == "close":
                check_final_report(s, ref, w.reviewer, now=NOW + timedelta(days=i))
            wf.fire(
                s, ref, trigger, actor, payload=payload, reason=reason, now=NOW + timedelta(days=i)
            )
    with unit_of_work(any_engine) as s:
        app = _app(s, ref)
        assert app.state == "closed" and app.version == 1 + len(steps)
        years = budget.years(s, w.call_id)
        assert years[2021].committed_cents == 50_000_00
        assert years[2022].committed_cents == 18_000_00
        kinds = [
            e.kind
            for e in s.exec(
                select(LedgerEntry)
                .where(LedgerEntry.application_id == app.id)
                .order_by(LedgerEntry.id)
            )
        ]
        assert kinds == ["commit", "commit", "release", "release"]
        hist = applications.history(s, app)
        triggers = [st[1] for st in steps]
        assert [h.trigger for h in hist] == ["create", *triggers[:-1], "check_final_report",
                                             "close"]
        assert all(h.from_state == prev.to_state for prev, h in zip(hist, hist[1:], strict=False))
        templates = [m.template for m in s.exec(select(OutboxMessage).order_by(OutboxMessage.id))]
        assert templates == [
            t
            for t in (
                "receipt_confirmation",
                "documents_requested",
                "documents_received",
                "case_officer_notice",  # the case officer hears of the documents
                "approval",
                "project_started",
                "report_received",
                "case_officer_notice",  # ... and of the final report
                "final_report_checked",
                "closure",
            )
        ]
        statuses = {d.kind: d.status for d in s.exec(select(Deadline))}
        assert statuses["document_request"] == "met"
        assert statuses["final_report"] == "met"


def test_reference_number_and_received_time(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "submitted")
        assert app.reference == f"ZiQ-2020-{app.id:04d}"
        assert app.received_at is not None


def test_late_documents_are_marked_late(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "in_review")
        wf.fire(s, app, "request_documents", world.reviewer, reason="Satzung", now=NOW)
        record = wf.fire(s, app, "provide_documents", world.carrier,
                         payload={"explanation": "Verspätet"}, now=NOW + timedelta(days=30))
        assert record.late is True


def test_request_documents_deadline_moves_to_working_day(engine, world):
    # 2020-12-11 + 14 days = 2020-12-25 (Christmas, Friday) -> 2020-12-28 (Monday)
    with unit_of_work(engine) as s:
        app = application_in(s, world, "in_review")
        wf.fire(
            s,
            app,
            "request_documents",
            world.reviewer,
            reason="x",
            now=datetime(2020, 12, 11, 10, tzinfo=UTC),
        )
        due = s.exec(select(Deadline.due_date).where(Deadline.kind == "document_request")).one()
        assert due.isoformat() == "2020-12-28"


def test_approval_opens_report_deadlines(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "approved")
        rows = {
            (d.kind, d.period): d.due_date.isoformat()
            for d in s.exec(select(Deadline).where(Deadline.application_id == app.id))
        }
        # project 2021-03-01..2022-12-31: interim for 2021 due 30.04.2022 (Sat) -> 02.05.2022;
        # final six months after the end: 30.06.2023.
        assert rows == {
            ("interim_report", "2021"): "2022-05-02",
            ("final_report", ""): "2023-06-30",
        }


# ------------------------------------------------------------------ refusals


def test_unknown_trigger(engine, world):
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "draft").reference
    refused(
        engine,
        UnknownTrigger,
        lambda s: wf.fire(s, ref, "explode", world.carrier, now=NOW),
        "Unbekannte Aktion",
    )


@pytest.mark.parametrize("actor_key", ["reviewer", "approver", "admin", "observer"])
def test_wrong_role_is_refused(engine, world, actor_key):
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "draft").reference
    refused(
        engine,
        NotPermitted,
        lambda s: wf.fire(s, ref, "submit", getattr(world, actor_key), now=NOW),
        "nicht erlaubt",
    )


def test_foreign_carrier_does_not_see_the_application(engine, world):
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "draft").reference
    refused(
        engine,
        NotFound,
        lambda s: wf.fire(s, ref, "submit", world.other_carrier, now=NOW),
        "nicht gefunden",
    )


def test_wrong_state_is_refused(engine, world):
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "draft").reference
    refusal = refused(
        engine,
        WrongState,
        lambda s: wf.fire(s, ref, "approve", world.approver, now=NOW),
        "Entwurf",
        "nicht möglich",
    )
    assert "Draft" in refusal.en


def test_four_eyes(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "submitted")
        wf.fire(s, app, "start_review", world.approver, now=NOW)
        wf.fire(
            s,
            app,
            "recommend",
            world.approver,
            reason="ok",
            payload={"amounts": {"2021": "1000", "2022": "1000"}},
            now=NOW,
        )
        ref = app.reference
    refused(
        engine,
        FourEyesViolation,
        lambda s: wf.fire(s, ref, "approve", world.approver, now=NOW),
        "Vier-Augen",
    )


def test_stale_version(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "submitted")
        ref, version = app.reference, app.version
    refused(
        engine,
        StaleVersion,
        lambda s: wf.fire(
            s, ref, "start_review", world.reviewer, expected_version=version - 1, now=NOW
        ),
        "Version",
    )


def test_concurrent_change_is_detected(engine, world):
    """Two sessions load the same version; the second write is refused, not applied."""
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "submitted").reference
    with unit_of_work(engine) as s:
        seen_version = applications.load_application(s, ref).version  # what a client loaded earlier
    with unit_of_work(engine) as s:
        wf.fire(s, ref, "start_review", world.reviewer, now=NOW)
    refused(
        engine,
        StaleVersion,
        lambda s: wf.fire(
            s, ref, "reject", world.reviewer, reason="x", expected_version=seen_version, now=NOW
        ),
        "geändert",
    )
    with unit_of_work(engine) as s:
        assert _app(s, ref).state == "in_review"


def test_funding_stop_refuses_submission_and_keeps_draft(engine, world):
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "draft").reference
        call = s.get(__import__("workflow.models", fromlist=["Call"]).Call, world.call_id)
        programme_admin.declare_funding_stop(s, call, "Mittel erschöpft", world.admin, now=NOW)
    refused(
        engine,
        FundingStopInForce,
        lambda s: wf.fire(s, ref, "submit", world.carrier, now=NOW),
        "Fördermittelstopp",
        "Entwurf bleibt erhalten",
    )
    with unit_of_work(engine) as s:
        assert _app(s, ref).state == "draft"


def test_call_window_closed(engine):
    with unit_of_work(engine) as s:
        w = make_world(s, closes_at=datetime(2020, 11, 1, tzinfo=UTC))
        ref = application_in(s, w, "draft").reference
    refused(
        engine,
        CallWindowClosed,
        lambda s: wf.fire(s, ref, "submit", w.carrier, now=NOW),
        "Einreichungsfrist",
    )


def test_call_not_open_yet(engine):
    with unit_of_work(engine) as s:
        w = make_world(s, opens_at=datetime(2021, 1, 1, tzinfo=UTC))
        ref = application_in(s, w, "draft").reference
    refused(
        engine,
        CallWindowClosed,
        lambda s: wf.fire(s, ref, "submit", w.carrier, now=NOW),
        "noch nicht geöffnet",
    )


def test_incomplete_application(engine, world):
    with unit_of_work(engine) as s:
        ref = drafts.create_application(
            s, world.carrier, world.call_id, {"module_code": "B1"}, now=NOW
        ).reference
    refusal = refused(
        engine,
        Incomplete,
        lambda s: wf.fire(s, ref, "submit", world.carrier, now=NOW),
        "unvollständig",
        "Projekttitel",
    )
    assert "finance_plan" in refusal.extra["fields"]  # the ZiQ world plans its amounts


def test_project_start_in_the_past(engine, world):
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "draft").reference
    refused(
        engine,
        GuardFailed,
        lambda s: wf.fire(s, ref, "submit", world.carrier, now=datetime(2021, 6, 1, tzinfo=UTC)),
        "Vergangenheit",
    )


def test_missing_money_under_reject_policy(engine):
    with unit_of_work(engine) as s:
        w = make_world(s, policy="reject", years={2021: 80_000_00, 2022: 80_000_00})
        app = application_in(s, w, "recommended", amounts={"2021": "90000", "2022": "10000"})
        ref = app.reference
    refusal = refused(
        engine,
        InsufficientFunds,
        lambda s: wf.fire(s, ref, "approve", w.approver, now=NOW),
        "2021",
        "10.000,00 €",
    )
    assert refusal.extra["missing"] == {"2021": 10_000_00}


def test_missing_money_under_waitlist_policy(engine):
    with unit_of_work(engine) as s:
        w = make_world(s, years={2021: 80_000_00, 2022: 80_000_00})
        app = application_in(s, w, "recommended", amounts={"2021": "90000", "2022": "10000"})
        record = wf.fire(s, app, "approve", w.approver, now=NOW)
        assert record.trigger == "waitlist" and app.state == "waitlisted"
        assert budget.years(s, w.call_id)[2021].committed_cents == 0


@pytest.mark.parametrize(
    "payload,reason,words",
    [
        ({"amounts": {"2021": "-5"}}, "ok", ["negativ"]),
        # "12.345" is German for twelve thousand (issue 11); three decimals need a comma.
        ({"amounts": {"2021": "12,345"}}, "ok", ["Nachkommastellen"]),
        ({"amounts": {"2021": "abc"}}, "ok", ["kein gültiger Betrag"]),
        ({"amounts": {"2021": 1.5}}, "ok", ["Text oder ganze Zahl"]),
        ({"amounts": {"2030": "100"}}, "ok", ["2030"]),
        ({"amounts": {"2021": "999999"}}, "ok", ["übersteigt"]),
        ({"amounts": {"2021": "100"}}, "ok", ["mindestens"]),
        ({}, "ok", ["Betrag je Haushaltsjahr"]),
        ({"amounts": {"2021": "1000"}}, None, ["Begründung"]),
    ],
)
def test_invalid_recommendation(engine, world, payload, reason, words):
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "in_review").reference
    refused(
        engine,
        InvalidInput,
        lambda s: wf.fire(
            s, ref, "recommend", world.reviewer, payload=payload, reason=reason, now=NOW
        ),
        *words,
    )


@pytest.mark.parametrize(
    "fields,words",
    [
        ({"project_start": "2021-13-01"}, ["kein Datum"]),
        ({"project_start": "2020-06-01"}, ["frühestens"]),
        ({"project_end": "2021-02-01"}, ["nach dem Projektbeginn"]),
        ({"project_end": "2021-05-31"}, ["mindestens 8 Monate"]),
        ({"module_code": "B9"}, ["Unbekannter Baustein"]),
        ({"amounts": {"2025": "100"}}, ["kein Haushaltsjahr"]),
        ({"colour": "red"}, ["Unbekannte Felder"]),
    ],
)
def test_invalid_draft_fields(engine, world, fields, words):
    refused(
        engine,
        InvalidInput,
        lambda s: drafts.create_application(
            s, world.carrier, world.call_id, draft_fields(**fields), now=NOW
        ),
        *words,
    )


def test_spending_without_a_report_is_refused(engine, world):
    """Issue 16: two numbers and no Sachbericht are no Verwendungsnachweis."""
    with unit_of_work(engine) as s:
        ref = application_in(s, world, "active").reference
    refused(
        engine,
        InvalidInput,
        lambda s: wf.fire(
            s,
            ref,
            "submit_final_report",
            world.carrier,
            reason="VN",
            payload={"spending": {"2021": "0", "2022": "0"}},
            now=NOW,
        ),
        "Verwendungsnachweis ausfüllen",
    )


def test_revoke_waits_for_the_hearing(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "active")
        wf.fire(s, app, "open_hearing", world.reviewer, reason="Zweckverfehlung", now=NOW)
        ref = app.reference
    refused(
        engine,
        GuardFailed,
        lambda s: wf.fire(
            s,
            ref,
            "revoke",
            world.approver,
            reason="Widerruf",
            payload={"repayment": "1000"},
            now=NOW + timedelta(days=1),
        ),
        "Anhörung läuft noch",
    )
    with unit_of_work(engine) as s:
        wf.fire(s, ref, "answer_hearing", world.carrier, reason="Stellungnahme", now=NOW)
        wf.fire(
            s,
            ref,
            "revoke",
            world.approver,
            reason="Widerruf",
            payload={"repayment": "1000"},
            now=NOW + timedelta(days=2),
        )
        app = _app(s, ref)
        assert app.state == "revoked" and app.repayment_claim_cents == 1000_00
        assert budget.years(s, world.call_id)[2021].committed_cents == 0


def test_only_the_engine_writes_the_state(engine, world):
    from sqlmodel import Session

    with Session(engine) as s:
        app = application_in(s, world, "draft")
        s.flush()
        app.state = "approved"
        with pytest.raises(StateWriteForbidden):
            s.flush()
        s.rollback()


def test_available_triggers_say_why_not(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "draft")
        options = wf.available_triggers(s, app, world.carrier, now=NOW)
        assert options["submit"] is None
        assert "nicht möglich" in options["close"].de or "nicht erlaubt" in options["close"].de


def test_every_transition_has_german_and_english_labels():
    for t in TRANSITIONS:
        assert t.label.de and t.label.en
    for state in State:
        assert STATE_LABELS[state].de and STATE_LABELS[state].en


def test_history_rows_name_actor_and_payload(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "recommended")
        rec = s.exec(select(TransitionRecord).where(TransitionRecord.trigger == "recommend")).one()
        assert rec.actor_id == world.reviewer.id and rec.actor_role == "reviewer"
        assert rec.payload["amounts_cents"] == {"2021": 50_000_00, "2022": 50_000_00}
        assert s.get(Application, app.id).assessment == "Förderfähig"


def test_late_final_report_is_marked_late(engine, world):
    with unit_of_work(engine) as s:
        app = application_in(s, world, "active")
        record = wf.fire(s, app, "submit_final_report", world.carrier, reason="VN",
                         payload=final_report_payload({"2021": "1000", "2022": "1000"}),
                         now=datetime(2023, 8, 1, tzinfo=UTC))  # due 30.06.2023
        assert record.late is True
