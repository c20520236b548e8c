"""Guards' refusals: German by default, and the English text formats money and dates the
English way (issue 10)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.factories import NOW, application_in, make_world
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.errors import CallWindowClosed, InvalidInput


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
