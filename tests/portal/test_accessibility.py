"""axe-core over every page the portal registers: each GET route, logged out and logged in as
the role the page is for, at desktop width and at 320 px; zero WCAG 2.1 A/AA violations. The
routes come from the app itself, so a new page cannot skip the check; a path parameter this test
does not know how to fill fails it."""

from __future__ import annotations

import re
import sqlite3
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.routing import APIRoute

import api.portal
from tests.portal.conftest import Portal, axe, login
from workflow.dashboard import Figure

WIDTHS = (1280, 320)
_PARAM = re.compile(r"{(\w+)}")
# Files, not pages: documents, the dashboard's figures and the ledger as CSV.
DOWNLOAD = re.compile(r"/dokumente/|^/auswertung/[^/]+/[a-z]+\.csv$|/mittelbuch\.csv$|/export$")


def portal_get_routes() -> list[tuple[Any, str]]:
    """(module, path) of every GET page of every portal router."""
    found = []
    for module in api.portal.ROUTERS:
        for route in module.router.routes:
            if isinstance(route, APIRoute) and "GET" in route.methods:
                found.append((module, route.path))
    return found


def demo_facts(portal: Portal) -> dict[str, Any]:
    """References and ids of the seeded demo data (read from the portal's SQLite file)."""
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        refs = dict(db.execute(
            "select a.state, a.reference from application a join call c on c.id = a.call_id "
            "where c.code = 'ZiQ-DEMO'").fetchall())
        document = db.execute("select d.id from document d join application a on "
                              "a.id = d.application_id where a.reference = ?",
                              (refs["approved"],)).fetchone()
    return {"refs": refs, "document_id": document[0] if document else None}


def fill(module: Any, path: str, facts: dict[str, Any], reference: str) -> list[str]:
    """The concrete URLs to visit for one route."""
    params = _PARAM.findall(path)
    urls = [path]
    for name in params:
        if name == "reference":
            values = [reference]
        elif name == "document_id":
            values = [str(facts["document_id"])]
        elif name == "token":
            values = ["abgelaufen-oder-unbekannt"]
        elif name == "step":
            values = list(module.STEPS)
        elif name == "code":
            values = ["ZiQ-DEMO"]
        elif name == "figure":
            values = [figure.value for figure in Figure]
        elif name == "fmt":
            values = ["csv"]
        else:
            pytest.fail(f"{path}: the accessibility crawl does not know how to fill {{{name}}}")
        urls = [u.replace("{" + name + "}", v) for u in urls for v in values]
    return urls


def _persona_reference(path: str, facts: dict[str, Any]) -> tuple[str, str]:
    """Who visits the route (email) and which of their applications fits it."""
    refs = facts["refs"]
    if path.startswith("/zeichnung"):
        return "zeichnung@quartier.example", refs["recommended"]
    if path.startswith("/pruefung"):
        # The reviewer's own case (documents requested: forms, deadlines); the case file of
        # the approved one (it has the notice to download).
        if "/dokumente/" in path:
            return "pruefung@quartier.example", refs["approved"]
        return "pruefung@quartier.example", refs["documents_requested"]
    if path.startswith("/zahlungen"):
        return "pruefung@quartier.example", refs["approved"]
    if path.startswith("/verwaltung"):
        return "admin@quartier.example", refs["approved"]
    if path.startswith("/auswertung"):
        return "gib@quartier.example", refs["approved"]
    if "/bearbeiten" in path or "/vorschau" in path or "/eingang" in path:
        return "traeger1@quartier.example", refs["draft"]
    if "/unterlagen" in path:
        return "traeger3@quartier.example", refs["documents_requested"]
    return "traeger1@quartier.example", refs["approved"]


def test_every_portal_page_has_no_wcag_violation(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    facts = demo_facts(portal)
    routes = portal_get_routes()
    assert len(routes) >= 3
    violations: dict[str, Any] = {}
    checked: set[str] = set()

    def check(label: str) -> None:
        key = f"{label}:{urlsplit(page.url).path}"  # the login page once, whatever its ?weiter=
        if key in checked:
            return
        checked.add(key)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            found = axe(page)
            if found:
                violations[f"{page.url} @{width}px ({label})"] = found

    # Logged out: every route (most send the visitor to the login page; it is checked once).
    for module, path in routes:
        _, reference = _persona_reference(path, facts)
        for url in fill(module, path, facts, reference):
            if "/dokumente/" in path:
                continue  # a file, not a page (logged out it is the login page, checked anyway)
            page.goto(portal.url + url)
            check("abgemeldet")
    # Logged in, as the role each page is for.
    by_persona: dict[str, list[str]] = {}
    downloads: list[str] = []
    for module, path in routes:
        email, reference = _persona_reference(path, facts)
        by_persona.setdefault(email, []).extend(fill(module, path, facts, reference))
    # A page that shows more to another role: the admin's worklist has the bulk assignment.
    by_persona.setdefault("admin@quartier.example", []).append("/pruefung?ansicht=alle")
    for email, urls in by_persona.items():
        page.context.clear_cookies()
        login(page, portal, email)
        for url in urls:
            probe = page.request.get(portal.url + url)
            if not probe.headers.get("content-type", "").startswith("text/html"):
                downloads.append(url)  # a file (a notice): nothing for axe to read
                continue
            response = page.goto(portal.url + url)
            assert response is not None and response.status < 500, f"{url}: {response.status}"
            check(email)
    assert violations == {}, "\n".join(
        f"{where}: {[(v['id'], v['nodes']) for v in found]}" for where, found in violations.items())
    assert all(DOWNLOAD.search(url) for url in downloads), downloads
    assert len(checked) >= len(routes)
