"""Issue 15, done-when 3: the observer (G.I.B.) sees only aggregates. Logged in as the observer,
the test visits every page of the portal and every GET answer of the API (the routes come from
the app, so a new one cannot skip the check) and asserts that none contains an application's
reference, the name of a carrier organisation or an assessment text."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import httpx

import api.portal
from tests.portal.conftest import DEMO_PASSWORD, Portal, login
from tests.portal.test_accessibility import demo_facts, fill, portal_get_routes
from workflow import dashboard

OBSERVER = "gib@quartier.example"
SECRET_NOTE = "Vertraulicher Prüfvermerk: Trägerin wirkt unzuverlässig"
_PARAM = re.compile(r"{(\w+)}")


def _forbidden(portal: Portal) -> dict[str, set[str]]:
    with sqlite3.connect(portal.home / "quartier.sqlite3") as db:
        references = {r for (r,) in db.execute("select reference from application "
                                                "where reference is not null")}
        organisations = {n for (n,) in db.execute(
            "select distinct o.name from organisation o join application a "
            "on a.organisation_id = o.id")}
        texts = {t for (t,) in db.execute("select assessment from application where "
                                          "assessment is not null and assessment != ''")}
        texts |= {t for (t,) in db.execute("select summary from assessment where summary != ''")}
    texts.add(SECRET_NOTE)
    return {"reference": references, "organisation": organisations, "assessment": texts}


def _structured_assessment(portal: Portal, reference: str) -> None:
    """A Prüfvermerk with a note the observer must never read."""
    portal.cli("fire", reference, "start_review", "--as", "pruefung@quartier.example")
    token = httpx.post(portal.url + "/api/v1/auth/token", data={
        "username": "pruefung@quartier.example", "password": DEMO_PASSWORD}).json()
    answer = httpx.put(f"{portal.url}/api/v1/applications/{reference}/assessment",
                       headers={"Authorization": f"Bearer {token['access_token']}"},
                       json={"ratings": {"zielgruppe": {"rating": "teilweise",
                                                        "note": SECRET_NOTE}},
                             "summary": SECRET_NOTE})
    assert answer.status_code == 200, answer.text


def _api_urls(portal: Portal, facts: dict[str, Any], reference: str) -> list[str]:
    spec = httpx.get(portal.url + "/openapi.json").json()
    values = {"reference": reference, "code": "ZiQ-2021", "document_id": str(
        facts["document_id"]), "programme": "ZiQ", "module": "B1"}
    urls = []
    for path, operations in spec["paths"].items():
        if "get" not in operations:
            continue
        urls.append(_PARAM.sub(lambda m: values.get(m.group(1), "1"), path))
    return urls


def _leaks(text: str, forbidden: dict[str, set[str]], asked: str = "") -> list[str]:
    """What the answer names that the observer must not read; a reference the observer put
    into the address itself (a refusal or the login page names the address) is no leak."""
    return [f"{kind}: {value}" for kind, found in forbidden.items() for value in found
            if value and value in text and value not in asked]


def test_the_observer_sees_no_single_case(browser_page: Any, portal: Portal) -> None:
    page = browser_page
    facts = demo_facts(portal)
    _structured_assessment(portal, facts["refs"]["submitted"])
    forbidden = _forbidden(portal)
    assert len(forbidden["reference"]) > 100 and len(forbidden["organisation"]) > 20
    login(page, portal, OBSERVER)

    leaks: dict[str, list[str]] = {}
    seen_pages = 0
    for module, path in portal_get_routes():
        urls = fill(module, path, facts, facts["refs"]["approved"])
        if module is api.portal.dashboards and "{" not in path:
            urls = [f"{path}?aufruf={code}" for code in ("ZiQ-2021", "ZiQ-DEMO")]
        for url in urls:
            answer = page.request.get(portal.url + url)
            assert answer.status < 500, f"{url}: {answer.status}"
            if answer.headers.get("content-type", "").startswith(("text/", "application/json")):
                found = _leaks(answer.text(), forbidden, url)
                if found:
                    leaks[url] = found
                seen_pages += answer.status == 200
    # The dashboard itself is the observer's page: it shows figures, in CSV too.
    page.goto(portal.url + "/auswertung?aufruf=ZiQ-2021")
    assert "Anträge nach Kommune" in page.inner_text("main")
    for figure in dashboard.Figure:
        answer = page.request.get(f"{portal.url}/auswertung/ZiQ-2021/{figure.value}.csv")
        assert answer.status == 200
        if found := _leaks(answer.body().decode("utf-8-sig"), forbidden):
            leaks[figure.value] = found
    assert seen_pages >= 4

    token = httpx.post(portal.url + "/api/v1/auth/token", data={
        "username": OBSERVER, "password": DEMO_PASSWORD}).json()["access_token"]
    api_answers = 0
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}) as client:
        for url in _api_urls(portal, facts, facts["refs"]["approved"]):
            answer = client.get(portal.url + url)
            assert answer.status_code < 500, f"{url}: {answer.status_code}"
            api_answers += 1
            if found := _leaks(answer.text, forbidden, url):
                leaks[url] = found
        # The aggregates are the observer's API: each dimension answers, none names a case.
        for by in ("module", "municipality", "state"):
            answer = client.get(f"{portal.url}/api/v1/aggregates", params={"by": by})
            assert answer.status_code == 200, answer.text
            assert answer.json()
            if found := _leaks(answer.text, forbidden):
                leaks[f"aggregates by {by}"] = found
    assert api_answers > 10
    assert leaks == {}, leaks
