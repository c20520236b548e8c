"""Vorzeitiger Maßnahmebeginn: staff grant it with a reason; it lets a past project start pass at
submission, creates no right to funding, and every refusal writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from notifications.outbox import OutboxMessage
from notifications.render import render
from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused
from workflow import applications, early_start
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.errors import Conflict, GuardFailed, InvalidInput, NotPermitted, WrongState
from workflow.models import TransitionRecord

AFTER_START = datetime(2021, 4, 1, 9, 0, tzinfo=UTC)  # the drafts' project start is 2021-03-01


@pytest.fixture
def world(any_engine):
    with unit_of_work(any_engine) as s:
        return make_world(s)


def _draft(engine, world) -> str:
    with unit_of_work(engine) as s:
        return application_in(s, world, "draft").reference


def test_granted_early_start_lets_a_past_project_start_pass(any_engine, world) -> None:
    ref = _draft(any_engine, world)
    refused(any_engine, GuardFailed,
            lambda s: wf.fire(s, ref, "submit", world.carrier, now=AFTER_START),
            "vorzeitiger Maßnahmebeginn wurde nicht genehmigt")
    with unit_of_work(any_engine) as s:
        record = early_start.grant_early_start(s, ref, world.reviewer,
                                               reason="Schulstart im März", now=NOW)
        assert record.trigger == "grant_early_start" and record.actor_id == world.reviewer.id
    with unit_of_work(any_engine) as s:
        app = applications.load_application(s, ref)
        assert app.early_start_granted and app.early_start_granted_at == NOW
        assert app.state == "draft" and app.version == 2
        row = s.exec(select(TransitionRecord).where(
            TransitionRecord.trigger == "grant_early_start")).one()
        assert (row.reason, row.actor_role, row.at) == ("Schulstart im März", "reviewer", NOW)
        assert row.payload["right_to_funding"] is False
        mail = s.exec(select(OutboxMessage).where(
            OutboxMessage.template == "early_start_granted")).one()
        assert mail.recipient == world.carrier_email
        text = " ".join(render(mail.template, mail.language, mail.context).text.split())
        assert "keinen Rechtsanspruch auf eine Förderung" in text and "Schulstart" in text
    with unit_of_work(any_engine) as s:
        wf.fire(s, ref, "submit", world.carrier, now=AFTER_START)
        assert applications.load_application(s, ref).state == "submitted"


def test_granted_on_a_submitted_application_in_review(any_engine, world) -> None:
    with unit_of_work(any_engine) as s:
        ref = application_in(s, world, "in_review").reference
    with unit_of_work(any_engine) as s:
        early_start.grant_early_start(s, ref, world.approver, reason="Ferienprogramm", now=NOW)
        assert applications.load_application(s, ref).early_start_granted


@pytest.mark.parametrize("who", ["carrier", "observer", "admin"])
def test_only_staff_grant_it(engine, who) -> None:
    with unit_of_work(engine) as s:
        w = make_world(s)
        ref = application_in(s, w, "draft").reference
    refused(engine, NotPermitted,
            lambda s: early_start.grant_early_start(s, ref, getattr(w, who), reason="x", now=NOW),
            "Sachbearbeitung")


@pytest.mark.parametrize("state", ["recommended", "approved"])
def test_not_after_the_case_left_review(engine, state) -> None:
    with unit_of_work(engine) as s:
        w = make_world(s)
        ref = application_in(s, w, state).reference
    refused(engine, WrongState,
            lambda s: early_start.grant_early_start(s, ref, w.reviewer, reason="x", now=NOW),
            "vor der Entscheidung")


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_needs_a_reason(engine, reason) -> None:
    with unit_of_work(engine) as s:
        w = make_world(s)
        ref = application_in(s, w, "draft").reference
    refused(engine, InvalidInput,
            lambda s: early_start.grant_early_start(s, ref, w.reviewer, reason=reason, now=NOW),
            "Begründung")


def test_granted_once(any_engine, world) -> None:
    ref = _draft(any_engine, world)
    with unit_of_work(any_engine) as s:
        early_start.grant_early_start(s, ref, world.reviewer, reason="erstens", now=NOW)
    refused(any_engine, Conflict,
            lambda s: early_start.grant_early_start(s, ref, world.approver, reason="noch mal",
                                                    now=NOW),
            "bereits", "02.11.2020")
