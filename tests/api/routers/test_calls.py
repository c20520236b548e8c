"""api/routers/calls.py: the public status of calls."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.conftest import (
    Y1,
    Y2,
    A,
)


def test_calls_show_the_public_status(client: TestClient, carrier) -> None:
    calls = client.get(f"{A}/calls", headers=carrier).json()
    assert [c["code"] for c in calls] == ["ZiQ-2021"]
    call = calls[0]
    assert call["submission_window"]["open_now"] is True
    assert call["funding_stop"] == {"in_force": False, "kind": None, "since": None,
                                    "reason": None}
    assert call["years"] == [
        {"year": Y1, "budget": "1000000.00", "committed": "0.00", "available": "1000000.00",
         "available_cents": 100_000_000, "paid": "0.00", "repaid": "0.00"},
        {"year": Y2, "budget": "1000000.00", "committed": "0.00", "available": "1000000.00",
         "available_cents": 100_000_000, "paid": "0.00", "repaid": "0.00"}]
    assert client.get(f"{A}/calls/ZiQ-1900", headers=carrier).status_code == 404
