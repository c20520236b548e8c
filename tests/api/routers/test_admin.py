"""api/routers/admin.py: funding stop, budget changes and the ledger, accounts, the diagram."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import (
    Y2,
    A,
    ApiWorld,
    application_in,
    login,
    version_of,
)


def test_funding_stop_and_budget_change(client: TestClient, api_world: ApiWorld, carrier) -> None:
    admin = login(client, api_world.emails["admin"])
    draft = application_in(api_world, "draft")
    declared = client.post(f"{A}/admin/calls/ZiQ-2021/funding-stop",
                           json={"reason": "Haushaltssperre"}, headers=admin)
    assert declared.status_code == 200
    stop = client.get(f"{A}/calls/ZiQ-2021", headers=carrier).json()["funding_stop"]
    assert stop["in_force"] is True and stop["kind"] == "declared"
    assert stop["reason"] == "Haushaltssperre" and stop["since"]
    refused = client.post(f"{A}/applications/{draft}/transitions/submit", json={},
                          headers=carrier)
    assert refused.status_code == 409 and refused.json()["type"].endswith("/funding-stop")
    assert "Fördermittelstopp" in refused.json()["detail"]
    assert version_of(api_world.engine, draft) == ("draft", 1)
    lifted = client.delete(f"{A}/admin/calls/ZiQ-2021/funding-stop", headers=admin).json()
    assert lifted["funding_stop"]["in_force"] is False
    again = client.delete(f"{A}/admin/calls/ZiQ-2021/funding-stop", headers=admin)
    assert again.status_code == 409

    cut = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                      json={"year": Y2, "source": "Landesmittel", "delta": "-2500.50"})
    assert cut.status_code == 200, cut.text
    assert {y["year"]: y["available"] for y in cut.json()["years"]}[Y2] == "997499.50"
    too_much = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                           json={"year": Y2, "source": "Landesmittel", "delta": "-2000000"})
    assert too_much.status_code == 422
    no_line = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                          json={"year": Y2, "source": "ESF", "delta": "10"})
    assert no_line.status_code == 404
    floaty = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes", headers=admin,
                         json={"year": Y2, "source": "Landesmittel", "delta": 10.5})
    assert floaty.status_code == 422
    ledger = client.get(f"{A}/admin/calls/ZiQ-2021/ledger", headers=admin).json()
    assert ledger["items"][-1]["budget_delta"] == "-2500.50"
    assert ledger["total"] == 3  # two opening budgets and the cut


def test_admin_user_validation(client: TestClient, api_world: ApiWorld) -> None:
    admin = login(client, api_world.emails["admin"])
    base = {"email": "neu@example.org", "name": "Neu", "role": "carrier",
            "password": "lang-genug-1"}
    no_org = client.post(f"{A}/admin/users", json=base, headers=admin)
    assert no_org.status_code == 422 and no_org.json()["field"] == "organisation_id"
    org = api_world.world.carrier.organisation_id
    ok = client.post(f"{A}/admin/users", json={**base, "organisation_id": org}, headers=admin)
    assert ok.status_code == 201 and ok.json()["organisation_id"] == org
    twice = client.post(f"{A}/admin/users", json={**base, "organisation_id": org}, headers=admin)
    assert twice.status_code == 409
    short = client.post(f"{A}/admin/users", json={**base, "password": "kurz"}, headers=admin)
    assert short.status_code == 422 and short.json()["field"] == "password"
    system = client.post(f"{A}/admin/users", json={**base, "role": "system"}, headers=admin)
    assert system.status_code == 422
    listed = client.get(f"{A}/admin/users", headers=admin).json()
    assert "password_hash" not in listed[0] and len(listed) == 8


def test_workflow_diagram(client: TestClient, carrier) -> None:
    text = client.get(f"{A}/workflow/diagram", headers=carrier).text
    assert text.startswith("stateDiagram-v2") and "approve (approver)" in text
    english = client.get(f"{A}/workflow/diagram", headers={**carrier, "Accept-Language": "en"})
    assert 'state "Draft" as draft' in english.text
