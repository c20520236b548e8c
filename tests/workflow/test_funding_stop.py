"""workflow/funding_stop.py and its admin actions: a stop's `since` never moves while it holds."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from notifications.outbox import OutboxMessage
from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused
from workflow import programme_admin
from workflow.db import unit_of_work
from workflow.errors import FundingStopInForce, WrongState
from workflow.models import AdminAudit, Call

LATER = NOW + timedelta(days=3)


def _stop_mails(s) -> int:
    return s.exec(select(func.count()).select_from(OutboxMessage)
                  .where(OutboxMessage.template == "funding_stop")).one()


def _short_world(engine):
    """A call whose money is gone below the minimum grant (automatic stop), with one draft."""
    with unit_of_work(engine) as s:
        w = make_world(s, years={2021: 100_000_00, 2022: 100_000_00}, min_grant_cents=10_000_00)
        application_in(s, w, "draft")
        for year in (2021, 2022):
            programme_admin.change_budget(s, s.get(Call, w.call_id), year, "Landesmittel",
                                          -95_000_00, w.admin, "Kürzung", now=NOW)
    with unit_of_work(engine) as s:
        call = s.get(Call, w.call_id)
        assert call.stop_kind == "automatic" and call.stop_since == NOW
        assert _stop_mails(s) == 1
    return w


def test_automatic_stop_cannot_be_lifted_nor_declared_over(any_engine):
    w = _short_world(any_engine)
    lift = refused(any_engine, FundingStopInForce, lambda s: programme_admin.lift_funding_stop(
        s, s.get(Call, w.call_id), w.admin, now=LATER), "automatische", "Mindestzuwendung",
        "10.000,00 €")
    assert lift.extra["stop_kind"] == "automatic"
    declare = refused(any_engine, WrongState, lambda s: programme_admin.declare_funding_stop(
        s, s.get(Call, w.call_id), "Haushaltssperre", w.admin, now=LATER), "bereits",
        "automatisch", "nichts geändert")
    assert declare.extra["stop_since"].startswith("2020-11-02T09:00:00")
    with unit_of_work(any_engine) as s:
        call = s.get(Call, w.call_id)
        assert (call.stop_kind, call.stop_since) == ("automatic", NOW)
        assert _stop_mails(s) == 1


def test_lifting_a_declared_stop_while_money_is_short_keeps_it_since_then(any_engine):
    with unit_of_work(any_engine) as s:
        w = make_world(s, years={2021: 100_000_00, 2022: 100_000_00}, min_grant_cents=10_000_00)
        application_in(s, w, "draft")
        programme_admin.declare_funding_stop(s, s.get(Call, w.call_id), "Haushaltssperre",
                                             w.admin, now=NOW)
    # While the declared stop holds, the money goes (no automatic stop is set over it).
    with unit_of_work(any_engine) as s:
        for year in (2021, 2022):
            programme_admin.change_budget(s, s.get(Call, w.call_id), year, "Landesmittel",
                                          -95_000_00, w.admin, "Kürzung", now=LATER)
    refused(any_engine, WrongState, lambda s: programme_admin.declare_funding_stop(
        s, s.get(Call, w.call_id), "Noch einmal", w.admin, now=LATER), "bereits", "erklärt")
    with unit_of_work(any_engine) as s:
        call = programme_admin.lift_funding_stop(s, s.get(Call, w.call_id), w.admin, now=LATER)
        assert (call.stop_kind, call.stop_since) == ("automatic", NOW)
    with unit_of_work(any_engine) as s:
        call = s.get(Call, w.call_id)
        assert (call.stop_kind, call.stop_since) == ("automatic", NOW)
        assert _stop_mails(s) == 1  # one stop, one mail, though declared then automatic
        audit = list(s.exec(select(AdminAudit).order_by(AdminAudit.id)))
        assert [(a.action, a.subject) for a in audit] == [
            ("declare_funding_stop", "ZiQ-2021"), ("lift_funding_stop", "ZiQ-2021")]
        assert audit[0].reason == "Haushaltssperre" and audit[0].before == {"funding_stop": None}
        assert audit[1].before["funding_stop"]["kind"] == "declared"
        assert audit[1].after["funding_stop"]["kind"] == "automatic"
        assert audit[1].after["funding_stop"]["since"] == audit[1].before["funding_stop"]["since"]
    # When money comes back, the automatic stop lifts by itself.
    with unit_of_work(any_engine) as s:
        programme_admin.change_budget(s, s.get(Call, w.call_id), 2021, "Landesmittel",
                                      50_000_00, w.admin, "Aufstockung", now=LATER)
    with unit_of_work(any_engine) as s:
        assert s.get(Call, w.call_id).stop_kind is None
