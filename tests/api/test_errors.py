"""Every refusal is application/problem+json: validation names the field, German by default and
English on request, never a 500 for bad input, the request id in the body."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import (
    PROBLEM,
    Y1,
    A,
    application_body,
)


@pytest.mark.parametrize(("body", "field", "label", "label_en"), [
    ({"amounts": {str(Y1): 50000.5}}, f"amounts.{Y1}", f"Betrag {Y1}", f"amount {Y1}"),
    ({"module_code": None}, "module_code", "Modul", "module"),
    ({"project_start": "morgen"}, "project_start", "Projektbeginn", "project start"),
    ({"colour": "blau"}, "colour", "colour", "colour"),
    ({"own_contribution": [1]}, "own_contribution", "Eigenanteil", "own contribution"),
])
def test_validation_errors_name_the_field(client: TestClient, carrier, body, field, label,
                                          label_en) -> None:
    """The detail names the field as the user knows it; `field` keeps the path for programs."""
    for lang, name, start in (("de", label, "Ungültige Eingabe: "),
                              ("en", label_en, "Invalid input: ")):
        response = client.post(f"{A}/applications", json=application_body(**body),
                               headers={**carrier, "Accept-Language": lang})
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM
        problem = response.json()
        assert problem["type"] == "https://quartier.example/problems/validation-error"
        assert problem["field"] == field and problem["errors"][0]["label"] == name
        assert problem["detail"].startswith(f"{start}{name}: ")
        if field != name:
            assert field not in problem["detail"]


def test_a_broken_body_is_named_as_the_user_knows_it(client: TestClient, carrier) -> None:
    for lang, text in (("de", "Inhalt der Anfrage"), ("en", "request content")):
        detail = client.post(f"{A}/applications", content=b"{kaputt", headers={
            **carrier, "Content-Type": "application/json", "Accept-Language": lang}
        ).json()["detail"]
        assert text in detail and "body" not in detail


@pytest.mark.parametrize(("path", "body", "english"), [
    ("applications", {"amounts": {str(Y1): "-5"}}, f"Requested amount {Y1}: the amount must not"),
    ("applications", {"own_contribution": "viel"}, "Own contribution: 'viel' is not a valid"),
    ("applications", {"amounts": {str(Y1): "1e26"}}, f"Requested amount {Y1}: '1e26' is not"),
])
def test_english_refusals_have_english_labels(client: TestClient, carrier, path, body,
                                              english) -> None:
    response = client.post(f"{A}/{path}", json=application_body(**body),
                           headers={**carrier, "Accept-Language": "en"})
    assert response.status_code == 422, response.text
    assert response.json()["detail"].startswith(english)


def test_english_with_accept_language(client: TestClient, carrier) -> None:
    headers = {**carrier, "Accept-Language": "en-GB,en;q=0.9,de;q=0.5"}
    invalid = client.post(f"{A}/applications", json=application_body(module_code=None),
                          headers=headers).json()
    assert invalid["title"] == "Invalid request" and "module" in invalid["detail"]
    assert "module_code" not in invalid["detail"]
    missing = client.get(f"{A}/applications/ZiQ-2000-0001", headers=headers).json()
    assert missing["title"] == "Not found" and missing["detail"].startswith("Application")
    german = client.get(f"{A}/applications/ZiQ-2000-0001",
                        headers={**carrier, "Accept-Language": "fr, de;q=0.8, en;q=0.1"}).json()
    assert german["title"] == "Nicht gefunden" and german["detail"].startswith("Antrag")


@pytest.mark.parametrize(("method", "url", "kwargs", "status", "type_"), [
    ("POST", f"{A}/applications", {"content": b"{kaputt",
                                   "headers": {"Content-Type": "application/json"}},
     422, "validation-error"),
    ("POST", f"{A}/applications", {"json": application_body(own_contribution="viel")},
     422, "invalid-input"),
    ("POST", f"{A}/applications", {"json": application_body(amounts={"1999": "10"})},
     422, "invalid-input"),
    ("POST", f"{A}/applications", {"json": application_body(call="ZiQ-1900")}, 404, "not-found"),
    ("POST", f"{A}/applications", {"json": application_body(project_end=f"{Y1}-04-01")},
     422, "invalid-input"),
    ("GET", f"{A}/applications?limit=100000", {}, 422, "validation-error"),
    ("GET", f"{A}/applications?state=verloren", {}, 422, "validation-error"),
    ("GET", f"{A}/applications?overdue=vielleicht", {}, 422, "validation-error"),
    ("GET", f"{A}/nirgendwo", {}, 404, "not-found"),
    ("GET", f"{A}/applications/{10**30}", {}, 422, "invalid-input"),
    ("GET", f"{A}/applications?organisation={10**30}", {}, 422, "validation-error"),
    ("GET", f"{A}/applications?offset={10**30}", {}, 422, "validation-error"),
    ("DELETE", f"{A}/calls", {}, 405, "method-not-allowed"),
])
def test_bad_input_is_a_problem_never_500(client: TestClient, carrier, method, url, kwargs,
                                          status, type_) -> None:
    headers = {**carrier, **kwargs.pop("headers", {})}
    response = client.request(method, url, headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["type"].endswith("/" + type_)


def test_problem_carries_request_id(client: TestClient) -> None:
    response = client.get(f"{A}/me", headers={"X-Request-ID": "r-42"})
    assert response.status_code == 401 and response.json()["request_id"] == "r-42"
