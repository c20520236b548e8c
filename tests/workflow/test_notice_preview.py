"""The notice preview fires the approval inside a savepoint and undoes it: the PDF the signature
would issue, and not one row changed (money, history, case file, outbox); a signature the engine
refuses (four-eyes) gives the refusal instead."""

from __future__ import annotations

import pytest
from sqlmodel import select

from states import Role
from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused, snapshot
from workflow import notice_preview
from workflow.db import unit_of_work
from workflow.errors import FourEyesViolation
from workflow.models import Application
from workflow.rows import Actor


@pytest.fixture
def world(any_engine):
    with unit_of_work(any_engine) as s:
        return make_world(s)


def test_the_preview_is_the_notice_and_keeps_nothing(any_engine, world) -> None:
    with unit_of_work(any_engine) as s:
        reference = application_in(s, world, "recommended").reference
    before = snapshot(any_engine)
    with unit_of_work(any_engine) as s:
        pdf = notice_preview.approval_notice_preview(s, reference, world.approver, now=NOW)
        state = s.exec(select(Application.state).where(
            Application.reference == reference)).one()
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    assert state == "recommended"
    assert snapshot(any_engine) == before


def test_a_reviewer_approver_gets_the_four_eyes_refusal(any_engine, world) -> None:
    with unit_of_work(any_engine) as s:
        reference = application_in(s, world, "recommended").reference
    # The case officer, acting with an approver's role: four-eyes refuses the signature.
    reviewer_as_approver = Actor(world.reviewer.id, Role.approver, None, world.reviewer.name)
    refused(any_engine, FourEyesViolation,
            lambda s: notice_preview.approval_notice_preview(s, reference, reviewer_as_approver,
                                                             now=NOW),
            "Vier-Augen-Prinzip")
