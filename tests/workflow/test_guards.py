"""Guards' refusals: German by default, and the English text formats money and dates the
English way (issue 10)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.errors import CallWindowClosed, FourEyesViolation, GuardFailed, InvalidInput
from workflow.models import Application


def test_too_high_recommendation_names_the_amounts_in_each_language(engine):
    with unit_of_work(engine) as s:
        w = make_world(s)
        ref = application_in(s, w, "in_review").reference
    with pytest.raises(InvalidInput) as caught, unit_of_work(engine) as s:
        wf.fire(s, ref, "recommend", w.reviewer, reason="ok",
                payload={"amounts": {"2021": "9.000.000,00"}}, now=NOW)
    assert "9.000.000,00 €" in caught.value.de
    assert "€9,000,000.00" in caught.value.en and "9.000.000,00" not in caught.value.en


def test_closed_window_names_the_moment_in_each_language(engine):
    with unit_of_work(engine) as s:
        w = make_world(s, closes_at=datetime(2020, 10, 30, 23, 0, tzinfo=UTC))
        ref = application_in(s, w, "draft").reference
    with pytest.raises(CallWindowClosed) as caught, unit_of_work(engine) as s:
        wf.fire(s, ref, "submit", w.carrier, now=NOW)
    # 23:00 UTC is midnight in Berlin (winter time): the next day on the German clock.
    assert "31.10.2020, 00:00" in caught.value.de
    assert "31\u00a0October\u00a02020, 00:00" in caught.value.en


def test_whoever_requested_documents_may_not_approve(engine):
    """Issue 12, item 5: every review act counts for four-eyes, not only start and recommend."""
    with unit_of_work(engine) as s:
        w = make_world(s)
        ref = application_in(s, w, "in_review").reference
        wf.fire(s, ref, "request_documents", w.approver, reason="Satzung fehlt", now=NOW)
        wf.fire(s, ref, "provide_documents", w.carrier, reason="anbei", now=NOW,
                payload={"explanation": "Liegt bei"})
        wf.fire(s, ref, "recommend", w.reviewer, reason="ok",
                payload={"amounts": {"2021": "1000", "2022": "1000"}}, now=NOW)
    refused(engine, FourEyesViolation,
            lambda s: wf.fire(s, ref, "approve", w.approver, now=NOW), "Vier-Augen")


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_no_money_for_a_year_outside_the_project_period(db, request):
    """Issue 12, item 13: a 2021-only project gets no 2022 money."""
    eng = request.getfixturevalue("engine" if db == "sqlite" else "pg_engine")
    with unit_of_work(eng) as s:
        w = make_world(s)
        app = application_in(s, w, "recommended")
        ref = app.reference
        drafts_end = date(2021, 12, 31)
        s.execute(update(Application).where(Application.id == app.id)
                  .values(project_end=drafts_end).execution_options(synchronize_session=False))
    refusal = refused(eng, GuardFailed,
                      lambda s: wf.fire(s, ref, "approve", w.approver, now=NOW),
                      "2022", "außerhalb des Projektzeitraums")
    assert "31\u00a0December\u00a02021" in refusal.en
