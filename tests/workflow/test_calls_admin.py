"""workflow/calls_admin.py: programmes, modules and calls by programme administration, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from tests.factories import NOW, application_in, make_world
from tests.workflow.helpers import refused
from workflow import budget, calls_admin
from workflow.db import unit_of_work
from workflow.errors import Conflict, InvalidInput, NotFound, NotPermitted, WrongState
from workflow.models import AdminAudit, Call, LedgerEntry, Module

CALL = {"code": "ZiQ-2027", "title": "ZiQ 2027", "opens_at": "2027-01-01T00:00",
        "closes_at": "2027-06-30T23:59+02:00", "policy": "reject", "min_grant": "10.000,00",
        "earliest_project_start": "2027-07-01", "min_project_months": 8,
        "budget": [{"year": 2027, "source": "Landesmittel", "amount": "500000"},
                   {"year": 2027, "source": "ESF", "amount": "250.000,50"},
                   {"year": 2028, "source": "Landesmittel", "amount": 400000, "priority": 0}]}


@pytest.fixture
def world(any_engine):
    with unit_of_work(any_engine) as s:
        return make_world(s)


def _audit(s) -> list[AdminAudit]:
    return list(s.exec(select(AdminAudit).order_by(AdminAudit.id)))


def test_programme_module_and_call_are_created_and_audited(any_engine, world):
    with unit_of_work(any_engine) as s:
        calls_admin.create_programme(s, world.admin, {
            "code": "KiTa", "name": "Kita-Sozialarbeit", "purpose": "Familien stärken",
            "contact_name": "MAGS", "contact_email": "kita@mags.example",
            "config": {"deadlines": {"hearing_reply": {"dunning": False}}},
            "modules": [{"code": "K1", "name": "Beratung"}]}, now=NOW)
        calls_admin.add_module(s, world.admin, "KiTa", {"code": "K2", "name": "Elterncafé"},
                               now=NOW)
        call = calls_admin.create_call(s, world.admin, "KiTa", CALL, now=NOW)
        assert call.opens_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)  # Berlin midnight
        assert (call.policy, call.min_grant_cents, call.min_project_months) == (
            "reject", 10_000_00, 8)
        lines = budget.budget_lines(s, call.id)
        assert [(ln.year, ln.source, ln.priority, ln.budget_cents) for ln in lines] == [
            (2027, "Landesmittel", 0, 500_000_00), (2027, "ESF", 1, 250_000_50),
            (2028, "Landesmittel", 0, 400_000_00)]
    with unit_of_work(any_engine) as s:
        audit = _audit(s)
        assert [(a.action, a.subject) for a in audit] == [
            ("create_programme", "KiTa"), ("add_module", "KiTa/K2"),
            ("create_call", "ZiQ-2027")]
        assert all(a.actor_id == world.admin.id and a.at == NOW for a in audit)
        assert audit[0].before is None and audit[0].after["modules"] == [
            {"code": "K1", "name": "Beratung"}]
        assert audit[2].after["min_grant"] == "10000.00"
        assert audit[2].after["budget"][1] == {"year": 2027, "source": "ESF", "priority": 1,
                                               "amount": "250000.50"}
        ledger = s.exec(select(func.count()).select_from(LedgerEntry)).one()
        assert ledger == 2 + 3  # the world's two opening budgets and the three new lines


@pytest.mark.parametrize(("change", "error", "words"), [
    ({"code": "ZiQ-2021"}, Conflict, ("ZiQ-2021", "bereits")),
    ({"closes_at": "2026-12-31T00:00"}, InvalidInput, ("öffnen, bevor es schließt",)),
    ({"min_grant": 10.5}, InvalidInput, ("Mindestzuwendung",)),
    ({"min_grant": "10,000.00"}, InvalidInput, ("kein gültiger Betrag",)),
    ({"policy": "lottery"}, InvalidInput, ("lottery", "waitlist")),
    ({"budget": [{"year": 1999, "source": "ESF", "amount": "1"}]}, InvalidInput, ("2000",)),
    ({"budget": [{"year": 2027, "source": "ESF", "amount": "1"},
                 {"year": 2027, "source": "ESF", "amount": "2"}]}, InvalidInput, ("doppelt",)),
    ({"opens_at": "morgen"}, InvalidInput, ("ISO 8601",)),
    ({"code": "Zi Q/2027"}, InvalidInput, ("Kürzel",)),
])
def test_invalid_calls_are_refused_and_write_nothing(any_engine, world, change, error, words):
    refused(any_engine, error, lambda s: calls_admin.create_call(
        s, world.admin, "ZiQ", {**CALL, **change}, now=NOW), *words)


def test_duplicates_unknown_codes_and_roles_are_refused(any_engine, world):
    refused(any_engine, Conflict, lambda s: calls_admin.create_programme(
        s, world.admin, {"code": "ZiQ", "name": "Noch einmal"}, now=NOW), "ZiQ", "bereits")
    refused(any_engine, Conflict, lambda s: calls_admin.add_module(
        s, world.admin, "ZiQ", {"code": "B1", "name": "Doppelt"}, now=NOW), "B1", "bereits")
    refused(any_engine, NotFound, lambda s: calls_admin.rename_module(
        s, world.admin, "ZiQ", "B9", "Neu", now=NOW), "Unbekannter Baustein", "B1, B2")
    refused(any_engine, NotFound, lambda s: calls_admin.create_call(
        s, world.admin, "XYZ", CALL, now=NOW), "XYZ")
    refused(any_engine, NotPermitted, lambda s: calls_admin.create_call(
        s, world.reviewer, "ZiQ", CALL, now=NOW), "Programmverwaltung")
    with unit_of_work(any_engine) as s:
        calls_admin.rename_module(s, world.admin, "ZiQ", "B1", "Aktive Nachbarschaft", now=NOW)
    with unit_of_work(any_engine) as s:
        module = s.exec(select(Module).where(Module.code == "B1")).one()
        assert module.name == "Aktive Nachbarschaft"
        [record] = _audit(s)
        assert (record.before, record.after) == ({"code": "B1", "name": "Baustein B1"},
                                                 {"code": "B1", "name": "Aktive Nachbarschaft"})


def test_a_call_is_edited_only_before_submissions(any_engine, world):
    with unit_of_work(any_engine) as s:
        application_in(s, world, "draft")  # drafts do not stop editing
        calls_admin.edit_call(s, world.admin, "ZiQ-2021", {
            "title": "ZiQ 2021/2022 (neu)", "policy": "reject", "min_grant": "2000",
            "budget": [{"year": 2021, "source": "Landesmittel", "amount": "900000"},
                       {"year": 2022, "source": "ESF", "amount": "100000"}]}, now=NOW)
    with unit_of_work(any_engine) as s:
        call = s.get(Call, world.call_id)
        assert (call.title, call.policy, call.min_grant_cents) == (
            "ZiQ 2021/2022 (neu)", "reject", 2000_00)
        years = budget.years(s, call.id)
        assert (years[2021].budget_cents, years[2022].budget_cents) == (900_000_00,
                                                                        1_100_000_00)
        [record] = _audit(s)
        assert record.action == "edit_call"
        assert set(record.before) == {"title", "policy", "min_grant", "budget"}
        assert record.before["policy"] == "waitlist" and record.after["policy"] == "reject"
        application_in(s, world, "submitted")
    refusal = refused(any_engine, WrongState, lambda s: calls_admin.edit_call(
        s, world.admin, "ZiQ-2021", {"title": "Zu spät"}, now=NOW), "bereits eingereicht",
        "Budgetänderung")
    assert refusal.extra["submitted"] == 1


def test_close_early_with_a_reason(any_engine, world):
    later = NOW + timedelta(days=1)
    refused(any_engine, InvalidInput, lambda s: calls_admin.close_call(
        s, world.admin, "ZiQ-2021", "  ", now=later), "Begründung")
    with unit_of_work(any_engine) as s:
        application_in(s, world, "submitted")  # closing early is allowed after submissions
        calls_admin.close_call(s, world.admin, "ZiQ-2021", "Mittel gebunden", now=later)
    with unit_of_work(any_engine) as s:
        assert s.get(Call, world.call_id).closes_at == later
        [record] = _audit(s)
        assert (record.action, record.reason) == ("close_call", "Mittel gebunden")
        assert record.before == {"closes_at": "2030-12-31T00:00:00+00:00"}
        assert record.after == {"closes_at": later.isoformat()}
    refused(any_engine, WrongState, lambda s: calls_admin.close_call(
        s, world.admin, "ZiQ-2021", "Noch einmal", now=later + timedelta(hours=1)),
        "bereits seit")


def test_the_audit_reads_newest_first_per_subject(any_engine, world):
    with unit_of_work(any_engine) as s:
        calls_admin.add_module(s, world.admin, "ZiQ", {"code": "B3", "name": "Drei"}, now=NOW)
        calls_admin.create_call(s, world.admin, "ZiQ", CALL, now=NOW)
    with unit_of_work(any_engine) as s:
        page = calls_admin.audit_page(s, world.admin, limit=10)
        assert page.total == 2 and [a.action for a in page.items] == ["create_call",
                                                                       "add_module"]
        only = calls_admin.audit_page(s, world.admin, subject="ZiQ")
        assert [a.subject for a in only.items] == ["ZiQ/B3"]
        assert calls_admin.audit_out(page.items[0], "en")["action_label"] == "Create a call"
    refused(any_engine, NotPermitted, lambda s: calls_admin.audit_page(s, world.carrier))


def test_a_call_takes_its_financing_and_criteria_and_the_audit_shows_them(any_engine, world):
    fields = {**CALL, "financing_kind": "share", "grant_share_percent": "62,5",
              "max_grant": "90.000,00",
              "assessment_criteria": "Quartiersbezug | Neighbourhood focus\nZielgruppe"}
    with unit_of_work(any_engine) as s:
        call = calls_admin.create_call(s, world.admin, "ZiQ", fields, now=NOW)
        assert (call.financing_kind, call.grant_share_bp, call.max_grant_cents) == (
            "share", 6250, 90_000_00)
        assert call.assessment_criteria == [
            {"code": "quartiersbezug", "de": "Quartiersbezug", "en": "Neighbourhood focus"},
            {"code": "zielgruppe", "de": "Zielgruppe", "en": "Zielgruppe"}]
    with unit_of_work(any_engine) as s:
        after = _audit(s)[-1].after
        assert (after["financing_kind"], after["grant_share_percent"]) == ("share", "62.5")


@pytest.mark.parametrize(("extra", "field", "word"), [
    ({"financing_kind": "share"}, "grant_share_percent", "Anteil"),
    ({"financing_kind": "fixed"}, "fixed_grant", "Festbetrag"),
    ({"financing_kind": "share", "grant_share_percent": "120"}, "grant_share_percent", "100"),
    ({"financing_kind": "gießkanne"}, "financing_kind", "unbekannt"),
    ({"assessment_criteria": "Zielgruppe\nZielgruppe"}, "assessment_criteria", "doppelt"),
])
def test_a_financing_or_criteria_mistake_is_refused_next_to_its_field(any_engine, world, extra,
                                                                      field, word):
    refusal = refused(any_engine, InvalidInput, lambda s: calls_admin.create_call(
        s, world.admin, "ZiQ", {**CALL, **extra}, now=NOW), word)
    assert refusal.extra["field"] == field
