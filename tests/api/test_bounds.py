"""Bounded input: bodies over the limit are refused before authentication, lists and strings have
bounds, and amounts too large for any programme are a 4xx problem, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.conftest import (
    PROBLEM,
    Y1,
    Y2,
    A,
    ApiWorld,
    amounts,
    api_settings,
    application_body,
    application_in,
    login,
)

TWO_MB = b'{"title": "' + b"x" * 2_000_000 + b'"}'


def test_a_2mb_body_is_413_before_authentication(client: TestClient) -> None:
    """No token is sent: the size is refused first, by Content-Length, before reading it."""
    response = client.post(f"{A}/applications", content=TWO_MB,
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/payload-too-large")
    assert "X-Request-ID" in response.headers


def test_a_streamed_body_is_counted_and_refused_before_authentication(client: TestClient) -> None:
    def chunks():
        for _ in range(40):
            yield b"x" * 65536  # no Content-Length: chunked

    response = client.post(f"{A}/applications", content=chunks(),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 413, response.text
    assert response.headers["content-type"] == PROBLEM


def test_the_limit_is_a_setting(api_world: ApiWorld) -> None:
    settings = api_settings().model_copy(update={"max_body_bytes": 100})
    with TestClient(create_app(engine=api_world.engine, settings=settings)) as small:
        response = small.post(f"{A}/applications", json={"title": "x" * 200})
        assert response.status_code == 413
        assert small.post(f"{A}/applications", json={}).status_code == 401


@pytest.mark.parametrize("payload", [
    {"documents": ["Satzung"] * 101},
    {"documents": ["x" * 201]},
    {"amounts": {str(year): "1" for year in range(2030, 2041)}},
])
def test_lists_and_strings_are_bounded(client: TestClient, api_world: ApiWorld,
                                       payload: dict[str, Any]) -> None:
    ref = application_in(api_world, "in_review")
    reviewer = login(client, api_world.emails["reviewer"])
    response = client.post(f"{A}/applications/{ref}/transitions/request_documents",
                           json={"reason": "Bitte nachreichen", "payload": payload},
                           headers=reviewer)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("/validation-error")


def test_a_reason_is_bounded(client: TestClient, api_world: ApiWorld) -> None:
    ref = application_in(api_world, "in_review")
    reviewer = login(client, api_world.emails["reviewer"])
    response = client.post(f"{A}/applications/{ref}/transitions/reject",
                           json={"reason": "x" * 5001}, headers=reviewer)
    assert response.status_code == 422


HUGE = ["1e26", str(10**26), 10**30, "9" * 31, -(10**30)]


@pytest.mark.parametrize("value", HUGE)
def test_huge_amounts_in_create_are_4xx(client: TestClient, carrier, value: Any) -> None:
    for body in (application_body(amounts={str(Y1): value}),
                 application_body(own_contribution=value)):
        response = client.post(f"{A}/applications", json=body,
                               headers={**carrier, "Idempotency-Key": f"k-{value!s:.20}"})
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == PROBLEM


def test_an_integer_of_5000_digits_is_4xx(client: TestClient, carrier) -> None:
    """Python refuses to turn ints of more than 4,300 digits into text: never let one that far."""
    plain = application_body(own_contribution="1000")  # plain amounts: "50000" is one of them
    raw = json.dumps(plain).replace('"50000"', "9" * 5000, 1).encode()
    response = client.post(f"{A}/applications", content=raw,
                           headers={**carrier, "Content-Type": "application/json",
                                    "Idempotency-Key": "huge"})
    assert response.status_code == 400, response.text  # the JSON parser refuses it
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("value", HUGE)
def test_huge_amounts_in_recommend_are_4xx(client: TestClient, api_world: ApiWorld,
                                           value: Any) -> None:
    ref = application_in(api_world, "in_review")
    reviewer = login(client, api_world.emails["reviewer"])
    response = client.post(f"{A}/applications/{ref}/transitions/recommend",
                           json={"reason": "ok", "payload": {"amounts": {str(Y1): value}}},
                           headers=reviewer)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("value", ["1e26", 10**30, "9" * 41])
def test_huge_interim_spending_is_4xx(client: TestClient, api_world: ApiWorld, carrier,
                                      value: Any) -> None:
    ref = application_in(api_world, "active")
    response = client.post(f"{A}/applications/{ref}/interim-reports",
                           json={"period": str(Y1), "narrative": "Bericht",
                                 "spending": {str(Y1): value, str(Y2): "0"}}, headers=carrier)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("delta", ["1e26", "-1e26", 10**30, -(10**30), "9" * 31, "--5", "+-5",
                                   "-" + "9" * 31])
def test_huge_or_malformed_budget_changes_are_4xx(client: TestClient, api_world: ApiWorld,
                                                  delta: Any) -> None:
    admin = login(client, api_world.emails["admin"])
    response = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes",
                           json={"year": Y1, "source": "Landesmittel", "delta": delta},
                           headers={**admin, "Idempotency-Key": f"b-{delta!s:.30}"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM


def test_a_signed_budget_change_still_works(client: TestClient, api_world: ApiWorld) -> None:
    admin = login(client, api_world.emails["admin"])
    lines = client.get(f"{A}/calls/ZiQ-2021", headers=admin).json()["years"]
    before = next(y for y in lines if y["year"] == Y1)["budget"]
    for delta in ("-2.500,50", "+2500.50", -1, 1):
        response = client.post(f"{A}/admin/calls/ZiQ-2021/budget-changes",
                               json={"year": Y1, "source": _source(client, admin),
                                     "delta": delta}, headers=admin)
        assert response.status_code == 200, response.text
    after = next(y for y in response.json()["years"] if y["year"] == Y1)["budget"]
    assert after == before


def _source(client: TestClient, headers: dict[str, str]) -> str:
    ledger = client.get(f"{A}/admin/calls/ZiQ-2021/ledger", headers=headers).json()["items"]
    return ledger[0]["source"]


def test_an_overlong_if_match_is_412_not_500(client: TestClient, api_world: ApiWorld,
                                             carrier) -> None:
    ref = application_in(api_world, "draft")
    for method, url, body in (("PATCH", f"{A}/applications/{ref}", {"title": "Neu"}),
                              ("POST", f"{A}/applications/{ref}/transitions/submit", {})):
        response = client.request(method, url, json=body,
                                  headers={**carrier, "If-Match": f'W/"{"1" * 4500}"'})
        assert response.status_code == 412, response.text
        assert response.headers["content-type"] == PROBLEM


def test_a_non_ascii_digit_reference_is_404(client: TestClient, carrier) -> None:
    response = client.get(f"{A}/applications/%C2%B2", headers=carrier)
    assert response.status_code == 404 and response.headers["content-type"] == PROBLEM


def test_amounts_still_parse(client: TestClient, carrier) -> None:
    body = application_body(amounts=amounts("50.000,00", "25000"))
    response = client.post(f"{A}/applications", json=body, headers=carrier)
    assert response.status_code == 201, response.text
    years = {y["year"]: y["requested"] for y in response.json()["years"]}
    assert years == {Y1: "50000.00", Y2: "25000.00"}


@pytest.mark.parametrize("text", ["\u0085", "\ufeff", " \x1c\x1f ", "\u00a0\u2028", "\t\n"])
def test_a_reason_of_white_space_alone_is_refused_by_every_reading_of_it(text: str) -> None:
    """Schemathesis (ECMAScript's \\s) took U+0085 for a visible character, pydantic (Rust's
    Unicode \\s) did not: VISIBLE names the characters both count as white space."""
    import re

    from pydantic import TypeAdapter, ValidationError

    from api.schemas import VISIBLE, Reason

    with pytest.raises(ValidationError):
        TypeAdapter(Reason).validate_python(text)
    assert not re.search(VISIBLE, text)
    assert TypeAdapter(Reason).validate_python(text + "ü") == text + "ü"
