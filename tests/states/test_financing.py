"""states/financing.py: the Finanzierungsarten and financing lines as data."""

from __future__ import annotations

from states import (
    CARRIER_FINANCING,
    DEFAULT_FINANCING,
    FINANCING,
    FINANCING_LABELS,
    INPUT_GUARDS,
    TRANSITIONS_BY_TRIGGER,
    FinancingKind,
    FinancingLine,
    Guard,
)


def test_every_kind_says_what_it_means_in_both_languages():
    assert set(FINANCING) == set(FinancingKind)
    assert DEFAULT_FINANCING == FinancingKind.shortfall  # ZiQ: Fehlbedarfsfinanzierung
    for financing in FINANCING.values():
        assert financing.label.de != financing.label.en
        assert financing.meaning.de and financing.meaning.en
    assert FINANCING[FinancingKind.share].needs_share
    assert FINANCING[FinancingKind.fixed].needs_fixed


def test_the_carrier_types_own_and_third_party_money_and_the_grant_follows():
    assert set(FINANCING_LABELS) == set(FinancingLine)
    assert FinancingLine.grant not in CARRIER_FINANCING
    assert FINANCING_LABELS[FinancingLine.grant].de == "Beantragte Zuwendung"


def test_submit_checks_the_plan_before_anyone_types_anything():
    submit = TRANSITIONS_BY_TRIGGER["submit"]
    assert Guard.finance_plan_balanced in submit.guards
    # Not an input guard: `check` and the pages ask it before the carrier presses submit.
    assert Guard.finance_plan_balanced not in INPUT_GUARDS
