"""The Kosten- und Finanzierungsplan (workflow/finance_plan.py): the grant follows from it under
the call's Finanzierungsart, it sets the requested amounts, and submit wants it balanced."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session, select

from tests.factories import NOW, balanced_plan, draft_fields, make_world
from tests.workflow.helpers import refused
from workflow import drafts, finance_plan
from workflow import engine as wf
from workflow.db import unit_of_work
from workflow.errors import Incomplete, InvalidInput
from workflow.models import Application, ApplicationYear, Call, FinancePlanLine

CENTS = st.integers(min_value=0, max_value=300_000_00)


def euros(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def year_plan(personnel: int, material: int, own: int, third: int) -> dict[str, object]:
    return {"expenses": {"personnel": euros(personnel), "material": euros(material)},
            "own": euros(own), "third_party": euros(third)}


def create(engine: Engine, world, plan: dict, **fields) -> str:
    with unit_of_work(engine) as s:
        return drafts.create_application(
            s, world.carrier, world.call_id, {**draft_fields(), "finance_plan": plan, **fields},
            now=NOW).reference


# ------------------------------------------------------------------ the grant, for all plans

KINDS = {
    "shortfall": {"financing_kind": "shortfall", "max_grant_cents": 120_000_00},
    "share": {"financing_kind": "share", "grant_share_bp": 8_000, "max_grant_cents": 150_000_00},
    "fixed": {"financing_kind": "fixed", "fixed_grant_cents": 40_000_00},
}


def oracle(terms: dict, expenses: int, own: int, third: int) -> int | None:
    """The grant a balanced year gets, or None when the year cannot balance (written from the
    domain text, not from the code)."""
    gap = expenses - own - third
    if expenses <= 0 or gap < 0:
        return None
    if terms["financing_kind"] == "fixed":
        return gap if gap == terms["fixed_grant_cents"] else None
    ceiling = terms["max_grant_cents"]
    if terms["financing_kind"] == "share":
        ceiling = min(ceiling, expenses * terms["grant_share_bp"] // 10_000)
    return gap if gap <= ceiling else None


@pytest.fixture(params=sorted(KINDS))
def financed(request, engine):
    with unit_of_work(engine) as s:
        world = make_world(s, financing=KINDS[request.param])
    return engine, world, KINDS[request.param]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(years=st.tuples(*(st.tuples(CENTS, CENTS, CENTS, CENTS) for _ in range(2))),
       exact=st.booleans())
def test_for_all_plans_balanced_is_accepted_and_requested_is_the_grant(financed, years, exact):
    engine, world, terms = financed
    if exact:  # make the first year balance under Fehlbedarf, so balanced plans are frequent
        p, m, o, t = years[0]
        years = ((p, m, o, max(0, min(t, p + m - o - 1))), years[1])
    plan = {str(year): year_plan(*lines) for year, lines in zip((2021, 2022), years, strict=True)}
    with Session(engine) as s:
        app = drafts.create_application(s, world.carrier, world.call_id,
                                        {**draft_fields(), "finance_plan": plan}, now=NOW)
        grants = {year: oracle(terms, p + m, o, t)
                  for year, (p, m, o, t) in zip((2021, 2022), years, strict=True)}
        requested = {r.year: r.requested_cents for r in s.exec(
            select(ApplicationYear).where(ApplicationYear.application_id == app.id))}
        refusal = wf.check(s, app, "submit", world.carrier, now=NOW)
        accepted = all(g is not None for g in grants.values()) and sum(grants.values()) > 0
        assert (refusal is None) == accepted, refusal and refusal.de
        if accepted:
            assert requested == grants
            assert app.own_contribution_cents == sum(y[2] for y in years)
        else:
            assert isinstance(refusal, Incomplete)
            assert "finance_plan" in (refusal.extra.get("fields") or [refusal.extra["field"]])
        s.rollback()


@given(expenses=CENTS, own=CENTS, third=CENTS, share=st.integers(1, 10_000),
       maximum=st.none() | CENTS)
def test_the_grant_never_exceeds_the_gap_the_share_or_the_maximum(expenses, own, third, share,
                                                                 maximum):
    for kind in ("shortfall", "share"):
        terms = Call(programme_id=1, code="x", title="x", opens_at=NOW, closes_at=NOW,
                     financing_kind=kind, grant_share_bp=share, max_grant_cents=maximum)
        grant = finance_plan.grant_for(terms, expenses, own, third)
        assert 0 <= grant <= max(expenses - own - third, 0)
        assert maximum is None or grant <= maximum
        if kind == "share":
            assert grant * 10_000 <= expenses * share


# ------------------------------------------------------------------ the plan sets the amounts


def test_the_plan_sets_requested_amounts_and_own_contribution(any_engine):
    with unit_of_work(any_engine) as s:
        world = make_world(s)
    ref = create(any_engine, world, {"2021": year_plan(60_000_00, 10_000_00, 5_000_00, 3_000_00),
                                     "2022": year_plan(30_000_00, 0, 1_000_00, 0)})
    with unit_of_work(any_engine) as s:
        app = s.exec(select(Application).where(Application.reference == ref)).one()
        years = {r.year: r.requested_cents for r in s.exec(
            select(ApplicationYear).where(ApplicationYear.application_id == app.id))}
        assert years == {2021: 62_000_00, 2022: 29_000_00}
        assert app.own_contribution_cents == 6_000_00
        lines = s.exec(select(FinancePlanLine).where(FinancePlanLine.application_id == app.id,
                                                     FinancePlanLine.kind == "grant")).all()
        assert {li.year: li.cents for li in lines} == years
        # A new plan replaces the old one; a year left out loses its amount.
        drafts.edit_draft(s, app, world.carrier,
                          {"finance_plan": {"2021": year_plan(50_000_00, 0, 0, 0)}}, now=NOW)
        years = {r.year: r.requested_cents for r in s.exec(
            select(ApplicationYear).where(ApplicationYear.application_id == app.id))}
        assert years == {2021: 50_000_00}
        app = drafts.edit_draft(s, app, world.carrier, {"finance_plan": {
            "2021": year_plan(50_000_00, 0, 0, 0), "2022": year_plan(20_000_00, 0, 0, 0)}},
            now=NOW)
        assert app.own_contribution_cents == 0
    with unit_of_work(any_engine) as s:
        record = wf.fire(s, ref, "submit", world.carrier, now=NOW + timedelta(days=1))
        assert record.to_state == "submitted"


@pytest.mark.parametrize("extra", [{"amounts": {"2021": "5000"}}, {"own_contribution": "10"}])
def test_amounts_beside_a_plan_are_refused(engine, extra):
    with unit_of_work(engine) as s:
        world = make_world(s)
    refused(engine, InvalidInput, lambda s: drafts.create_application(
        s, world.carrier, world.call_id,
        {**draft_fields(), "finance_plan": balanced_plan({"2021": "1000"}), **extra}, now=NOW),
        "Finanzierungsplan", "ergeben sich aus ihm")
    ref = create(engine, world, balanced_plan({"2021": "40000", "2022": "40000"}))
    error = refused(engine, InvalidInput, lambda s: drafts.edit_draft(
        s, s.exec(select(Application).where(Application.reference == ref)).one(),
        world.carrier, extra, now=NOW), "ergeben sich aus ihm")
    assert error.extra["field"] == next(iter(extra))


@pytest.mark.parametrize("plan,words", [
    ({"2030": year_plan(1, 0, 0, 0)}, ["2030", "kein Haushaltsjahr"]),
    ({"20x1": year_plan(1, 0, 0, 0)}, ["kein Haushaltsjahr"]),
    ({"2021": {"expenses": {"catering": "100"}}}, ["unbekannte Ausgabenposition", "catering"]),
    ({"2021": {"expenses": {"personnel": "-5"}}}, ["Personalausgaben", "negativ"]),
    ({"2021": {"expenses": {"personnel": 1.5}}}, ["Text oder ganze Zahl"]),
    ({"2021": {"expenses": {"personnel": "100"}, "grant": "100"}}, ["ergibt sich aus dem Plan"]),
    ({"2021": {"own": "abc"}}, ["Eigenmittel"]),
    ([1, 2], ["je Haushaltsjahr"]),
])
def test_malformed_plans_are_refused_with_the_reason(engine, plan, words):
    with unit_of_work(engine) as s:
        world = make_world(s)
    error = refused(engine, InvalidInput, lambda s: drafts.create_application(
        s, world.carrier, world.call_id, {**draft_fields(), "finance_plan": plan}, now=NOW),
        *words)
    assert error.extra["field"] == "finance_plan"


def test_a_programme_without_cost_headings_takes_no_plan(engine):
    with unit_of_work(engine) as s:
        world = make_world(s, finance_plan=False)
    refused(engine, InvalidInput, lambda s: drafts.create_application(
        s, world.carrier, world.call_id,
        {**draft_fields(), "finance_plan": balanced_plan({"2021": "1000"})}, now=NOW),
        "keine Ausgabenpositionen")


# ------------------------------------------------------------------ the submit guard


def test_an_unbalanced_year_is_named_with_the_difference_and_nothing_is_written(any_engine):
    with unit_of_work(any_engine) as s:
        world = make_world(s, financing={"max_grant_cents": 100_000_00})
    # 2022: 120,000 euros of expenses, 18,000 own money, the grant capped at 100,000.
    ref = create(any_engine, world, {"2021": year_plan(40_000_00, 0, 1_000_00, 0),
                                     "2022": year_plan(100_000_00, 20_000_00, 18_000_00, 0)})
    error = refused(any_engine, Incomplete,
                    lambda s: wf.fire(s, ref, "submit", world.carrier, now=NOW),
                    "2022: Ausgaben 120.000,00 € ≠ Finanzierung 118.000,00 € "
                    "(Differenz 2.000,00 €)")
    assert "2021" not in error.de and error.extra["years"] == [2022]
    assert "2022: expenses €120,000.00 ≠ financing €118,000.00 (difference €2,000.00)" in error.en


def test_every_budget_year_of_the_period_needs_its_plan(engine):
    with unit_of_work(engine) as s:
        world = make_world(s)
    ref = create(engine, world, balanced_plan({"2021": "40000"}))
    refused(engine, Incomplete, lambda s: wf.fire(s, ref, "submit", world.carrier, now=NOW),
            "2022: keine Ausgaben geplant")
    # A project in 2021 only needs no plan for 2022 and may plan nothing for it.
    ref = create(engine, world, balanced_plan({"2021": "40000", "2022": "40000"}),
                 project_end="2021-12-31")
    refused(engine, Incomplete, lambda s: wf.fire(s, ref, "submit", world.carrier, now=NOW),
            "2022: liegt außerhalb des Projektzeitraums")


def test_a_draft_without_plan_misses_the_plan(engine):
    with unit_of_work(engine) as s:
        world = make_world(s)
        ref = drafts.create_application(
            s, world.carrier, world.call_id,
            {k: v for k, v in draft_fields().items() if k != "finance_plan"}, now=NOW).reference
    error = refused(engine, Incomplete,
                    lambda s: wf.fire(s, ref, "submit", world.carrier, now=NOW),
                    "Kosten- und Finanzierungsplan")
    assert "finance_plan" in error.extra["fields"]


def test_plain_amounts_still_work_without_cost_headings(engine):
    with unit_of_work(engine) as s:
        world = make_world(s, finance_plan=False)
        ref = drafts.create_application(
            s, world.carrier, world.call_id, draft_fields(own_contribution="1000"),
            now=NOW).reference
    with unit_of_work(engine) as s:
        assert wf.fire(s, ref, "submit", world.carrier, now=NOW).to_state == "submitted"


@pytest.mark.parametrize("spec,columns", [
    (None, {"financing_kind": "shortfall"}),
    ({"kind": "share", "share_percent": "80", "max": "1000"},
     {"financing_kind": "share", "grant_share_bp": 8000, "max_grant_cents": 100_000}),
    ({"kind": "fixed", "fixed": "25000"}, {"financing_kind": "fixed",
                                           "fixed_grant_cents": 2_500_000}),
])
def test_financing_columns_of_a_call(spec, columns):
    got = finance_plan.financing_columns(spec)
    assert {k: v for k, v in got.items() if v is not None} == columns


@pytest.mark.parametrize("spec,word", [({"kind": "loan"}, "Unbekannte Finanzierungsart"),
                                       ({"kind": "share"}, "Anteil"),
                                       ({"kind": "share", "share_percent": "120"}, "100 Prozent"),
                                       ({"kind": "fixed"}, "Festbetrag")])
def test_financing_without_its_setting_is_refused(spec, word):
    with pytest.raises(InvalidInput) as caught:
        finance_plan.financing_columns(spec)
    assert word in caught.value.de
