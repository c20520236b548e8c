"""The cost headings of a programme (workflow/finance_headings.py): an admin sets them
(audited), a bad row is refused with its number and nothing written, and a heading that a
submitted plan uses cannot be removed while its label can change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from tests.factories import NOW, make_world
from tests.workflow.test_finance_plan import create, year_plan
from workflow import engine as wf
from workflow import finance_headings, finance_plan
from workflow.db import unit_of_work
from workflow.errors import Conflict, InvalidInput, NotPermitted
from workflow.models import AdminAudit, Programme


def _headings(engine) -> list[tuple[str, str, str]]:
    with Session(engine) as s:
        programme = s.exec(select(Programme).where(Programme.code == "ZiQ")).one()
        return [(h.code, h.de, h.en) for h in finance_plan.headings(programme.config)]


def test_an_admin_sets_the_headings_and_the_change_is_audited(any_engine):
    with unit_of_work(any_engine) as s:
        world = make_world(s)
    before = _headings(any_engine)
    with unit_of_work(any_engine) as s:
        finance_headings.set_expense_headings(s, world.admin, "ZiQ", [
            *({"code": c, "de": de, "en": en} for c, de, en in before),
            {"code": "travel", "de": "  Reisekosten ", "en": ""}], now=NOW)
    assert _headings(any_engine) == [*before, ("travel", "Reisekosten", "Reisekosten")]
    with Session(any_engine) as s:
        audit = s.exec(select(AdminAudit).where(
            AdminAudit.action == "set_expense_headings")).one()
        assert audit.subject == "ZiQ" and audit.actor_id == world.admin.id
        assert [h["code"] for h in audit.after["expense_headings"]][-1] == "travel"
        assert len(audit.before["expense_headings"]) == len(before)


@pytest.mark.parametrize(("rows", "field", "words"), [
    ([{"code": "Personal", "de": "Personal"}], "headings.0.code", "kein gültiges Kürzel"),
    ([{"code": "a", "de": "A"}, {"code": "a", "de": "B"}], "headings.1.code", "mehrfach"),
    ([{"code": "a", "de": "   "}], "headings.0.de", "deutsche Bezeichnung"),
    ([{"code": "a", "de": "x" * 121}], "headings.0.de", "länger als 120"),
])
def test_bad_rows_are_refused_naming_the_row_and_nothing_is_written(engine, rows, field, words):
    with unit_of_work(engine) as s:
        world = make_world(s)
    before = _headings(engine)
    with pytest.raises(InvalidInput) as refusal, unit_of_work(engine) as s:
        finance_headings.set_expense_headings(s, world.admin, "ZiQ", rows, now=NOW)
    assert refusal.value.extra["field"] == field
    assert words in refusal.value.message("de")
    assert _headings(engine) == before


def test_only_programme_administration_sets_headings(engine):
    with unit_of_work(engine) as s:
        world = make_world(s)
    with pytest.raises(NotPermitted), unit_of_work(engine) as s:
        finance_headings.set_expense_headings(s, world.reviewer, "ZiQ", [], now=NOW)


def test_a_heading_a_submitted_plan_uses_stays_but_may_be_renamed(any_engine):
    with unit_of_work(any_engine) as s:
        world = make_world(s)
    ref = create(any_engine, world, {"2021": year_plan(60_000_00, 10_000_00, 5_000_00, 0),
                                     "2022": year_plan(30_000_00, 0, 0, 0)})
    with unit_of_work(any_engine) as s:
        wf.fire(s, ref, "submit", world.carrier, now=NOW + timedelta(days=1))
    before = _headings(any_engine)
    without_material = [{"code": c, "de": de, "en": en} for c, de, en in before
                        if c != "material"]
    with pytest.raises(Conflict) as refusal, unit_of_work(any_engine) as s:
        finance_headings.set_expense_headings(s, world.admin, "ZiQ", without_material, now=NOW)
    assert "Sachausgaben" in refusal.value.message("de") and "(1)" in refusal.value.message("de")
    assert _headings(any_engine) == before
    renamed = [{"code": c, "de": "Sachkosten" if c == "material" else de, "en": en}
               for c, de, en in before]
    with unit_of_work(any_engine) as s:
        finance_headings.set_expense_headings(s, world.admin, "ZiQ", renamed, now=NOW)
    assert ("material", "Sachkosten", "Material costs") in _headings(any_engine)
    # An unused heading can go.
    with unit_of_work(any_engine) as s:
        finance_headings.set_expense_headings(
            s, world.admin, "ZiQ", [r for r in renamed if r["code"] != "investment"], now=NOW)
    assert "investment" not in {c for c, _, _ in _headings(any_engine)}
