"""Drafts: the project period (issue 12, item 1: a started month is no month)."""

from __future__ import annotations

import pytest

from tests.factories import NOW, draft_fields, make_world
from tests.workflow.helpers import refused
from workflow import drafts
from workflow.db import unit_of_work
from workflow.errors import InvalidInput


@pytest.mark.parametrize("start,end", [("2021-01-01", "2021-08-01"), ("2021-01-31", "2021-09-01"),
                                       ("2021-03-01", "2021-10-30")])
def test_a_project_shorter_than_eight_months_is_refused(engine, start, end):
    with unit_of_work(engine) as s:
        w = make_world(s)
    fields = {**draft_fields(), "project_start": start, "project_end": end}
    refused(engine, InvalidInput,
            lambda s: drafts.create_application(s, w.carrier, w.call_id, fields, now=NOW),
            "mindestens 8 Monate")


@pytest.mark.parametrize("start,end", [("2021-01-01", "2021-08-31"), ("2021-01-31", "2021-09-29"),
                                       ("2021-03-01", "2021-10-31")])
def test_eight_full_months_are_enough(engine, start, end):
    with unit_of_work(engine) as s:
        w = make_world(s)
        fields = {**draft_fields(), "project_start": start, "project_end": end}
        app = drafts.create_application(s, w.carrier, w.call_id, fields, now=NOW)
        assert app.project_end.isoformat() == end
