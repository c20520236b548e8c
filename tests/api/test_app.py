"""The app factory: the request log line with its id (escaped, secrets masked), the start-up
check of the secret, the 500 as a problem, security headers, 415 and Allow."""

from __future__ import annotations

import http.client
import logging
import socket
import threading
import time

import pytest
import uvicorn
from fastapi.testclient import TestClient

from api.app import create_app, loggable_target
from tests.api.conftest import A, api_settings
from workflow.settings import OLD_PUBLIC_SECRET, InsecureSettings, Settings


def test_request_id_is_echoed_or_made_and_logged_once(client: TestClient, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="quartier.api"):
        echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        made = client.get("/healthz")
    assert echoed.headers["X-Request-ID"] == "abc-123"
    generated = made.headers["X-Request-ID"]
    assert len(generated) == 32
    lines = [r.getMessage() for r in caplog.records if r.name == "quartier.api"]
    assert len(lines) == 2
    assert "GET /healthz 200" in lines[0] and "request_id=abc-123" in lines[0]
    assert f"request_id={generated}" in lines[1]


def test_the_old_public_secret_and_short_secrets_are_refused() -> None:
    for environment in ("development", "production"):
        with pytest.raises(InsecureSettings, match="QUARTIER_SECRET_KEY"):
            create_app("sqlite://", settings=Settings(environment=environment,
                                                      secret_key=OLD_PUBLIC_SECRET))
    with pytest.raises(InsecureSettings, match="32 Bytes"):
        create_app("sqlite://", settings=Settings(environment="production", secret_key="s" * 31))
    create_app("sqlite://", settings=Settings(environment="production", secret_key="s" * 32))


def test_openapi_lists_everything_under_api_v1(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {p for p in paths if not p.startswith("/api/v1/")} == {"/healthz", "/readyz"}
    assert client.get("/docs").status_code == 200


def test_a_500_is_a_problem_with_request_id(api_world) -> None:
    """An unhandled error is answered inside the middleware: problem+json with the request id,
    and not re-raised (a re-raised error is what made the server drop the connection)."""
    app = create_app(engine=api_world.engine, settings=api_settings())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaputt")

    with TestClient(app) as client:  # raise_server_exceptions: a re-raise would fail here
        response = client.get("/boom", headers={"X-Request-ID": "r-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["X-Request-ID"] == "r-500"
    assert response.json()["request_id"] == "r-500"
    assert response.json()["type"].endswith("/internal-error")


def test_a_500_keeps_the_connection(api_world) -> None:
    """On a real server: after the 500 the same keep-alive connection answers the next request."""
    app = create_app(engine=api_world.engine, settings=api_settings())

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaputt")

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(100):
            if server.started:
                break
            time.sleep(0.05)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/boom")
        first = connection.getresponse()
        first.read()
        assert first.status == 500 and first.getheader("X-Request-ID")
        assert first.getheader("Connection", "").lower() != "close"
        connection.request("GET", "/healthz")  # the same socket
        second = connection.getresponse()
        assert second.status == 200 and second.read()
        connection.close()
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def test_security_headers(client: TestClient, carrier) -> None:
    for url, headers in ((f"{A}/me", carrier), (f"{A}/calls", carrier), ("/healthz", {}),
                         (f"{A}/nirgendwo", {})):
        response = client.get(url, headers=headers)
        assert response.headers["Cache-Control"] == "no-store", url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    page = client.get("/docs")
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_the_log_line_is_escaped_and_masks_secrets(client: TestClient, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="quartier.api"):
        client.get(f"{A}/calendar/geheim-123.ics")
        # Secrets that no request id (random hex) can contain by chance.
        client.get(f"{A}/nirgendwo%0D%0AGET%20/forged%20200"
                   "?token=tokensecret&Password=passwordsecret&q=1")
    lines = [r.getMessage() for r in caplog.records if r.name == "quartier.api"]
    assert len(lines) == 2
    assert f"GET {A}/calendar/***.ics 404" in lines[0] and "geheim-123" not in lines[0]
    assert "\n" not in lines[1] and "\r" not in lines[1]
    assert f"{A}/nirgendwo\\r\\nGET\\x20/forged\\x20200?token=***&Password=***&q=1 404" in lines[1]
    assert "tokensecret" not in lines[1] and "passwordsecret" not in lines[1]


@pytest.mark.parametrize(("path", "query", "logged"), [
    ("/a\x1b[31m", "", "/a\\x1b[31m"),
    ("/a\\b", "", "/a\\\\b"),
    ("/ä", "access_token=t&x=%0A", "/ä?access_token=***&x=%0A"),
    (f"{A}/calendar/x/y.ics", "", f"{A}/calendar/x/y.ics"),
])
def test_loggable_target(path: str, query: str, logged: str) -> None:
    assert loggable_target(path, query) == logged


def test_wrong_content_type_is_415(client: TestClient, carrier) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded",
                         "multipart/form-data; boundary=x"):
        response = client.post(f"{A}/applications", content=b"call=ZiQ-2021",
                               headers={**carrier, "Content-Type": content_type})
        assert response.status_code == 415, content_type
        assert response.headers["content-type"] == "application/problem+json"
    assert client.post(f"{A}/applications", content=b"{}", headers={
        **carrier, "Content-Type": "application/merge-patch+json"}).status_code == 422
    # the login form stays a form
    assert client.post(f"{A}/auth/token", data={"username": "x", "password": "y"}
                       ).status_code == 401


def test_allow_on_405_names_every_method(client: TestClient, carrier) -> None:
    response = client.delete(f"{A}/applications", headers=carrier)
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert client.head("/healthz").headers["Allow"] == "GET"  # no HEAD routes: none claimed
    response = client.put(f"{A}/admin/calls/ZiQ-2021/funding-stop", headers=carrier)
    assert response.headers["Allow"] == "DELETE, POST"
