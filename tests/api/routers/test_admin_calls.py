"""api/routers/admin.py: programmes, modules and calls over HTTP, every change audited."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from tests.api.conftest import (
    PROBLEM,
    A,
    ApiWorld,
    api_settings,
    application_in,
    build_world,
    count,
    login,
)
from tests.workflow.helpers import snapshot
from workflow.models import AdminAudit

CALL = {"programme": "KiTa", "code": "KiTa-2027", "title": "Kita 2027",
        "opens_at": "2020-01-01T00:00:00+01:00", "closes_at": "2030-06-30T23:59:00+02:00",
        "policy": "reject", "min_grant": "5.000,00", "earliest_project_start": "2027-01-01",
        "min_project_months": 6,
        "budget": [{"year": 2027, "source": "Landesmittel", "amount": "300000"},
                   {"year": 2027, "source": "ESF", "amount": 100000}]}


@pytest.fixture
def both(any_engine: Engine) -> Iterator[tuple[ApiWorld, TestClient, dict[str, str]]]:
    aw = build_world(any_engine)
    with TestClient(create_app(engine=any_engine, settings=api_settings())) as client:
        yield aw, client, login(client, aw.emails["admin"])


def _refused(aw: ApiWorld, response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    for word in words:
        assert word in response.json()["detail"], response.json()["detail"]
    return response.json()


def test_programme_module_and_call_over_http(both) -> None:
    aw, client, admin = both
    made = client.post(f"{A}/admin/programmes", headers=admin, json={
        "code": "KiTa", "name": "Kita-Sozialarbeit", "contact_email": "kita@mags.example",
        "config": {"reminders": [-28, -7, 0]}, "modules": [{"code": "K1", "name": "Beratung"}]})
    assert made.status_code == 201, made.text
    assert made.json()["modules"] == [{"code": "K1", "name": "Beratung"}]
    module = client.post(f"{A}/admin/programmes/KiTa/modules", headers=admin,
                         json={"code": "K2", "name": "Elterncafé"})
    assert module.status_code == 201
    call = client.post(f"{A}/admin/calls", headers=admin, json=CALL)
    assert call.status_code == 201, call.text
    body = call.json()
    assert (body["policy"], body["min_grant"], body["min_project_months"]) == ("reject",
                                                                              "5000.00", 6)
    assert body["years"][0]["budget"] == "400000.00"
    assert body["submission_window"]["open_now"] is True
    edited = client.patch(f"{A}/admin/calls/KiTa-2027", headers=admin,
                          json={"title": "Kita 2027/2028", "policy": "waitlist"})
    assert edited.status_code == 200 and edited.json()["title"] == "Kita 2027/2028"
    closed = client.post(f"{A}/admin/calls/KiTa-2027/close", headers=admin,
                         json={"reason": "Mittel gebunden"})
    assert closed.status_code == 200 and closed.json()["submission_window"]["open_now"] is False
    listed = client.get(f"{A}/admin/programmes", headers=admin).json()
    assert [p["code"] for p in listed] == ["ZiQ", "KiTa"] and listed[1]["calls"] == ["KiTa-2027"]

    audit = client.get(f"{A}/admin/audit", headers=admin).json()
    assert audit["total"] == 5
    assert [e["action"] for e in audit["items"]] == [
        "close_call", "edit_call", "create_call", "add_module", "create_programme"]
    edit = audit["items"][1]
    assert edit["actor_id"] == aw.user_ids["admin"] and edit["action_label"] == (
        "Förderaufruf bearbeiten")
    assert edit["before"] == {"title": "Kita 2027", "policy": "reject"}
    assert edit["after"] == {"title": "Kita 2027/2028", "policy": "waitlist"}
    assert audit["items"][0]["reason"] == "Mittel gebunden"
    kita = client.get(f"{A}/admin/audit", params={"subject": "KiTa"}, headers=admin).json()
    assert [e["subject"] for e in kita["items"]] == ["KiTa/K2", "KiTa"]


def test_refusals_over_http_write_nothing(both) -> None:
    aw, client, admin = both
    before = snapshot(aw.engine)
    _refused(aw, client.post(f"{A}/admin/programmes", headers=admin,
                             json={"code": "ZiQ", "name": "Doppelt"}), 409, "bereits")
    _refused(aw, client.post(f"{A}/admin/programmes/ZiQ/modules", headers=admin,
                             json={"code": "B2", "name": "Doppelt"}), 409, "B2")
    _refused(aw, client.patch(f"{A}/admin/programmes/ZiQ/modules/B7", headers=admin,
                              json={"name": "Neu"}), 404, "Unbekannter Baustein")
    _refused(aw, client.post(f"{A}/admin/calls", headers=admin, json={**CALL}), 404, "KiTa")
    ziq = {**CALL, "programme": "ZiQ"}
    _refused(aw, client.post(f"{A}/admin/calls", headers=admin,
                             json={**ziq, "code": "ZiQ-2021"}), 409, "ZiQ-2021")
    _refused(aw, client.post(f"{A}/admin/calls", headers=admin,
                             json={**ziq, "closes_at": "2019-12-31T00:00:00+01:00"}), 422,
             "bevor es schließt")
    _refused(aw, client.post(f"{A}/admin/calls", headers=admin,
                             json={**ziq, "min_grant": "5,000.00"}), 422, "Mindestzuwendung")
    _refused(aw, client.post(f"{A}/admin/calls", headers=admin,
                             json={**ziq, "policy": "lottery"}), 422)
    english = client.post(f"{A}/admin/calls", json={**ziq, "code": "ZiQ-2021"},
                          headers={**admin, "Accept-Language": "en"})
    assert "already exists" in english.json()["detail"]
    carrier = login(client, aw.emails["carrier"])
    assert client.post(f"{A}/admin/calls", headers=carrier, json=ziq).status_code == 403
    assert snapshot(aw.engine) == before
    assert count(aw, AdminAudit) == 0

    application_in(aw, "submitted")
    before = snapshot(aw.engine)
    refusal = _refused(aw, client.patch(f"{A}/admin/calls/ZiQ-2021", headers=admin,
                                        json={"min_grant": "2000"}), 409,
                       "bereits eingereicht", "Budgetänderung")
    assert refusal["submitted"] == 1
    _refused(aw, client.post(f"{A}/admin/calls/ZiQ-2021/close", headers=admin,
                             json={"reason": " "}), 422)
    assert snapshot(aw.engine) == before
    closed = client.post(f"{A}/admin/calls/ZiQ-2021/close", headers=admin,
                         json={"reason": "Mittel gebunden"})
    assert closed.status_code == 200
    assert count(aw, AdminAudit) == 1


def test_the_finance_plan_headings_over_http(both) -> None:
    aw, client, admin = both
    url = "/api/v1/admin/programmes/ZiQ/finance-plan-headings"
    current = client.get("/api/v1/admin/programmes", headers=admin).json()
    ziq = next(p for p in current if p["code"] == "ZiQ")
    headings = ziq["config"]["finance_plan"]["expense_headings"]
    response = client.put(url, headers=admin, json={"headings": [
        *headings, {"code": "travel", "de": "Reisekosten", "en": "Travel"}]})
    assert response.status_code == 200, response.text
    assert response.json()["config"]["finance_plan"]["expense_headings"][-1] == {
        "code": "travel", "de": "Reisekosten", "en": "Travel"}
    assert count(aw.engine, AdminAudit) >= 1
    response = client.put(url, headers=admin, json={"headings": [{"code": "Reise", "de": "R"}]})
    _refused(aw, response, 422, "kein gültiges Kürzel")
    carrier = login(client, aw.emails["carrier"])
    assert client.put(url, headers=carrier, json={"headings": []}).status_code == 403
