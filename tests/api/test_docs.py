"""api/docs.py: Swagger UI and ReDoc from the package's own assets, off outside development, and
an OpenAPI document that tells every problem a route answers."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from states import TRANSITIONS
from tests.api.conftest import ApiWorld, api_settings, login

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}


@pytest.mark.parametrize("page", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_pages_reference_only_the_app(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    urls = re.findall(r'(?:src|href|data-openapi-url)="([^"]*)"', response.text)
    assert urls
    for url in urls:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url
    assert "<script>" not in response.text  # no inline script: the CSP allows none
    assert "http://" not in response.text and "https://" not in response.text


def test_the_init_scripts_load_nothing_from_elsewhere(client: TestClient) -> None:
    for script in ("swagger-init.js", "redoc-init.js"):
        response = client.get(f"/static/docs/{script}")
        assert response.status_code == 200 and "http" not in response.text
    assert "validatorUrl: null" in client.get("/static/docs/swagger-init.js").text


@pytest.mark.parametrize("url", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"])
def test_production_hides_the_docs(api_world: ApiWorld, url: str) -> None:
    settings = api_settings().model_copy(update={"environment": "production"})
    with TestClient(create_app(engine=api_world.engine, settings=settings)) as client:
        assert client.get(url).status_code == 404


def test_production_may_serve_the_spec_to_admins(api_world: ApiWorld) -> None:
    settings = api_settings().model_copy(update={"environment": "production",
                                                 "openapi_for_admins": True})
    with TestClient(create_app(engine=api_world.engine, settings=settings)) as client:
        assert client.get("/openapi.json").status_code == 401
        carrier = login(client, api_world.emails["carrier"])
        assert client.get("/openapi.json", headers=carrier).status_code == 403
        admin = login(client, api_world.emails["admin"])
        spec = client.get("/openapi.json", headers=admin)
        assert spec.status_code == 200 and "paths" in spec.json()
        assert client.get("/docs").status_code == 404


@pytest.fixture
def spec(client: TestClient) -> dict:
    return client.get("/openapi.json").json()


def _statuses(spec: dict, path: str, method: str) -> set[int]:
    return {int(s) for s in spec["paths"][path][method]["responses"] if int(s) >= 400}


def test_every_refusal_is_a_documented_problem(spec: dict) -> None:
    assert "HTTPValidationError" not in json.dumps(spec)
    problem = spec["components"]["schemas"]["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]
    assert problem["additionalProperties"] is True
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    schema = response["content"]["application/problem+json"]["schema"]
                    assert schema == PROBLEM_REF, (path, method, status)
            # Everything under /api/v1 needs a login but the calendar feed (its token is the
            # credential), the public status of calls, registrations and password-reset links.
            if path.startswith("/api/v1/") and "calendar" not in path \
                    and not path.startswith("/api/v1/public/") \
                    and not path.startswith("/api/v1/auth/password-reset"):
                assert 401 in _statuses(spec, path, method), (path, method)


@pytest.mark.parametrize(("path", "method", "statuses"), [
    ("/api/v1/applications/{reference}/transitions/{trigger}", "post",
     {400, 401, 403, 404, 409, 412, 413, 415, 422, 503}),
    ("/api/v1/applications/{reference}", "patch",
     {400, 401, 403, 404, 409, 412, 413, 415, 422, 503}),
    ("/api/v1/applications/{reference}", "get", {401, 403, 404, 422, 503}),
    ("/api/v1/applications", "post", {400, 401, 403, 404, 409, 413, 415, 422, 503}),
    ("/api/v1/applications", "get", {401, 403, 422, 503}),
    ("/api/v1/calls", "get", {401, 422, 503}),
    ("/api/v1/public/calls", "get", {422, 503}),
    ("/api/v1/public/calls/{code}", "get", {404, 422, 503}),
    ("/api/v1/admin/calls/{code}/budget-changes", "post",
     {400, 401, 403, 404, 409, 413, 415, 422, 503}),
    ("/api/v1/auth/token", "post", {400, 401, 409, 413, 422, 429, 503}),
    ("/readyz", "get", {503}),
    ("/api/v1/calendar/{token}.ics", "get", {404, 422, 503}),
])
def test_routes_document_their_statuses(spec: dict, path: str, method: str,
                                        statuses: set[int]) -> None:
    assert _statuses(spec, path, method) == statuses


def test_triggers_are_an_enum(spec: dict) -> None:
    operation = spec["paths"]["/api/v1/applications/{reference}/transitions/{trigger}"]["post"]
    trigger = next(p for p in operation["parameters"] if p["name"] == "trigger")
    assert trigger["schema"]["enum"] == list(dict.fromkeys(t.trigger for t in TRANSITIONS))


def test_unknown_trigger_is_still_the_engines_refusal(client: TestClient, carrier) -> None:
    response = client.post("/api/v1/applications/ZiQ-2021-0001/transitions/zaubern",
                           headers=carrier)
    assert response.status_code in (404, 422)
    assert response.headers["content-type"] == "application/problem+json"


def test_headers_are_text_or_absent_never_null(spec: dict) -> None:
    """An optional header is documented as its text's schema: a client that fills in `null`
    would send the text "null" (schemathesis did, for If-Match)."""
    headers = [(path, method, parameter) for path, operations in spec["paths"].items()
               for method, operation in operations.items()
               for parameter in operation.get("parameters", []) if parameter["in"] == "header"]
    assert {p["name"] for _, _, p in headers} >= {"If-Match", "Idempotency-Key"}
    for path, method, parameter in headers:
        assert "anyOf" not in parameter["schema"], (path, method, parameter)
        assert parameter["schema"]["type"] == "string" and parameter["schema"]["pattern"]
