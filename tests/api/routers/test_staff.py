"""Staff work over HTTP (issue 15): the worklist's filters, sort and paging, unknown parameters,
taking and assigning cases, the four-eyes rule following the review acts, the Prüfvermerk, the
observer's aggregates (and nothing else), and the exports read back."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import Engine, update

from api.app import create_app
from api.errors import api_routes
from tests.api.conftest import (
    A,
    ApiWorld,
    amounts,
    api_settings,
    application_in,
    build_world,
    login,
)
from workflow import assessment as wf_assessment
from workflow.db import unit_of_work
from workflow.models import Call, User

CRITERIA = wf_assessment.default_criteria_config()


@pytest.fixture
def aw(any_engine: Engine) -> ApiWorld:
    return build_world(any_engine)


def _ask_for_assessments(aw: ApiWorld) -> None:
    """From now on the call asks for the ZiQ Prüfvermerk (the helpers recommend without)."""
    with unit_of_work(aw.engine) as session:
        session.execute(update(Call).values(assessment_criteria=CRITERIA))


@pytest.fixture
def http(aw: ApiWorld) -> Iterator[TestClient]:
    with TestClient(create_app(engine=aw.engine, settings=api_settings())) as client:
        yield client


def _headers(http: TestClient, aw: ApiWorld) -> dict[str, dict[str, str]]:
    return {role: login(http, email) for role, email in aw.emails.items()}


def _refs(http: TestClient, who: dict[str, str], **params) -> tuple[int, list[str]]:
    page = http.get(f"{A}/applications", params=params, headers=who)
    assert page.status_code == 200, page.text
    body = page.json()
    return body["total"], [a["reference"] for a in body["items"]]


def _complete(ref_amounts: dict[str, str] | None = None) -> dict:
    return {"ratings": {c["code"]: {"rating": "erfuellt", "note": f"Gut: {c['de']}"}
                        for c in CRITERIA},
            "summary": "Das Vorhaben ist förderfähig.", "amounts": ref_amounts or amounts()}


def test_worklist_filters_sorts_pages_and_refuses_unknown_parameters(http, aw) -> None:
    h = _headers(http, aw)
    draft = application_in(aw, "draft")
    first, second, third = (application_in(aw, "submitted") for _ in range(3))
    in_review = application_in(aw, "in_review")  # the reviewer started it: case officer
    assert _refs(http, h["reviewer"]) == (4, [first, second, third, in_review])
    assert draft not in _refs(http, h["admin"])[1]
    assert _refs(http, h["reviewer"], mine=True) == (1, [in_review])
    assert _refs(http, h["reviewer"], unassigned=True) == (3, [first, second, third])
    assert _refs(http, h["reviewer"], sort="reference", order="desc", limit=2) == (
        4, [in_review, third])
    assert _refs(http, h["reviewer"], sort="reference", order="desc", limit=2, offset=2) == (
        4, [second, first])
    # Search reaches the organisation's name.
    org = http.get(f"{A}/applications/{first}", headers=h["reviewer"]).json()["organisation"]
    assert _refs(http, h["reviewer"], q=org[:6])[0] == 4
    line = http.get(f"{A}/applications", params={"mine": True}, headers=h["reviewer"]).json()
    item = line["items"][0]
    assert item["case_officer_id"] == aw.user_ids["reviewer"]
    assert item["case_officer_name"] and item["requested"] == "100000.00"
    assert item["approved"] is None and item["next_due_date"] is None
    # A typo in a filter never shows the unfiltered list.
    wrong = http.get(f"{A}/applications", params={"mein": "true"}, headers=h["reviewer"])
    assert wrong.status_code == 422
    problem = wrong.json()
    assert wrong.headers["content-type"].startswith("application/problem+json")
    assert "mein" in problem["detail"] and problem["detail"].startswith("Unbekannter")
    assert problem["field"] == "mein"
    assert http.get(f"{A}/calls", params={"x": 1}, headers=h["reviewer"]).status_code == 422
    assert http.get(f"{A}/applications/{first}/history", params={"x": 1},
                    headers=h["reviewer"]).status_code == 422
    assert http.get(f"{A}/applications", params={"sort": "gewicht"},
                    headers=h["reviewer"]).status_code == 422
    # Drafts are the carrier's: staff get 404 for them, single GET included.
    assert http.get(f"{A}/applications/{draft}", headers=h["reviewer"]).status_code == 404
    assert http.get(f"{A}/applications/{draft}", headers=h["carrier"]).status_code == 200


def test_sort_by_due_date_puts_cases_without_deadline_last(http, aw) -> None:
    h = _headers(http, aw)
    plain = application_in(aw, "in_review")
    asked = application_in(aw, "in_review")
    http.post(f"{A}/applications/{asked}/transitions/request_documents",
              json={"reason": "Satzung fehlt"}, headers=h["reviewer"])
    for order in ("asc", "desc"):
        assert _refs(http, h["reviewer"], sort="due", order=order)[1] == [asked, plain]
    item = http.get(f"{A}/applications", params={"sort": "due"},
                    headers=h["reviewer"]).json()["items"][0]
    assert date.fromisoformat(item["next_due_date"]) > date.today()


def test_waiting_for_me_shows_what_came_in_since_my_last_act(http, aw) -> None:
    h = _headers(http, aw)
    ref = application_in(aw, "in_review")
    _ask_for_assessments(aw)
    http.post(f"{A}/applications/{ref}/transitions/request_documents",
              json={"reason": "Satzung fehlt"}, headers=h["reviewer"])
    assert _refs(http, h["reviewer"], waiting_for_me=True) == (0, [])
    answered = http.post(f"{A}/applications/{ref}/transitions/provide_documents",
                         json={"payload": {"explanation": "Liegt schon vor."}},
                         headers=h["carrier"])
    assert answered.status_code == 200, answered.text
    assert _refs(http, h["reviewer"], waiting_for_me=True) == (1, [ref])
    assert _refs(http, h["reviewer2"], waiting_for_me=True) == (0, [])
    # My next act on the case clears it.
    saved = http.put(f"{A}/applications/{ref}/assessment", json=_complete(),
                     headers=h["reviewer"])
    assert saved.status_code == 200, saved.text
    assert _refs(http, h["reviewer"], waiting_for_me=True) == (0, [])


def test_take_assign_and_bulk_assign_are_recorded(http, aw) -> None:
    h = _headers(http, aw)
    a, b, c = (application_in(aw, "submitted") for _ in range(3))
    taken = http.post(f"{A}/applications/{a}/take", headers=h["reviewer"])
    assert taken.status_code == 200 and taken.json()["case_officer_id"] == aw.user_ids[
        "reviewer"]
    again = http.post(f"{A}/applications/{a}/take", headers=h["reviewer2"])
    assert again.status_code == 409 and "bereits" in again.json()["detail"]
    assert http.post(f"{A}/applications/{a}/take", headers=h["carrier"]).status_code == 403
    assert http.post(f"{A}/applications/{a}/take", headers=h["observer"]).status_code == 403
    # A reviewer who is not a lead may not assign; the admin may, and a lead.
    body = {"references": [a, b, c], "case_officer_id": aw.user_ids["reviewer2"]}
    refused = http.post(f"{A}/assignments", json=body, headers=h["reviewer"])
    assert refused.status_code == 403 and "Teamleitung" in refused.json()["detail"]
    done = http.post(f"{A}/assignments", json={**body, "reason": "Urlaub"}, headers=h["admin"])
    assert done.status_code == 200, done.text
    assert [e["trigger"] for e in done.json()["changed"]] == ["assign_case"] * 3
    assert _refs(http, h["reviewer2"], mine=True) == (3, [a, b, c])
    history = http.get(f"{A}/applications/{a}/history", headers=h["admin"]).json()
    assert [e["trigger"] for e in history][-2:] == ["take_case", "assign_case"]
    assert history[-1]["payload"] == {"case_officer_before": aw.user_ids["reviewer"],
                                      "case_officer": aw.user_ids["reviewer2"]}
    assert history[-1]["reason"] == "Urlaub"
    with unit_of_work(aw.engine) as session:
        session.execute(update(User).where(User.id == aw.user_ids["reviewer"]).values(lead=True))
    back = http.post(f"{A}/assignments", json={"references": [c], "case_officer_id":
                                               aw.user_ids["reviewer"]}, headers=h["reviewer"])
    assert back.status_code == 200, back.text
    # All or none: one unknown reference and nothing changes.
    bad = http.post(f"{A}/assignments", json={"references": [a, "ZiQ-1999-0001"],
                                              "case_officer_id": None}, headers=h["admin"])
    assert bad.status_code == 404
    assert _refs(http, h["reviewer2"], mine=True) == (2, [a, b])
    # Cases go to staff only.
    carrier_id = aw.user_ids["carrier"]
    wrong = http.post(f"{A}/assignments", json={"references": [a],
                                                "case_officer_id": carrier_id},
                      headers=h["admin"])
    assert wrong.status_code == 422 and wrong.json()["field"] == "case_officer_id"


def test_four_eyes_follows_the_review_acts(http, aw) -> None:
    """An approver who requested documents on a case may not approve it, even after the case
    went to someone else; one who only held the case once and did nothing may."""
    h = _headers(http, aw)
    ref = application_in(aw, "in_review")
    _ask_for_assessments(aw)
    asked = http.post(f"{A}/applications/{ref}/transitions/request_documents",
                      json={"reason": "Satzung fehlt"}, headers=h["approver"])
    assert asked.status_code == 200, asked.text
    http.post(f"{A}/applications/{ref}/transitions/provide_documents",
              json={"payload": {"explanation": "Liegt vor."}}, headers=h["carrier"])
    http.post(f"{A}/assignments", json={"references": [ref],
                                        "case_officer_id": aw.user_ids["reviewer2"]},
              headers=h["admin"])
    assert http.put(f"{A}/applications/{ref}/assessment", json=_complete(),
                    headers=h["reviewer2"]).status_code == 200
    assert http.post(f"{A}/applications/{ref}/transitions/recommend", json={
        "reason": "Förderfähig", "payload": {"amounts": amounts()}},
        headers=h["reviewer2"]).status_code == 200
    options = {t["trigger"]: t for t in http.get(f"{A}/applications/{ref}/transitions",
                                                 headers=h["approver"]).json()}
    assert options["approve"]["available"] is False
    assert options["approve"]["reason"]["type"].endswith("four-eyes")
    refused = http.post(f"{A}/applications/{ref}/transitions/approve", json={},
                        headers=h["approver"])
    assert refused.status_code == 403 and "Vier-Augen" in refused.json()["detail"]


def test_assessment_is_versioned_required_for_recommend_and_hidden_from_carrier(http,
                                                                                 aw) -> None:
    h = _headers(http, aw)
    ref = application_in(aw, "in_review")
    _ask_for_assessments(aw)
    empty = http.get(f"{A}/applications/{ref}/assessment", headers=h["reviewer"]).json()
    assert empty["required"] and empty["version"] == 0 and not empty["complete"]
    assert [c["label"] for c in empty["criteria"]] == [
        "Quartiersbezug", "Zielgruppe", "Wirtschaftlichkeit", "Förderfähigkeit der Ausgaben",
        "Finanzierung gesichert"]
    recommend = {"reason": "Förderfähig", "payload": {"amounts": amounts()}}
    early = http.post(f"{A}/applications/{ref}/transitions/recommend", json=recommend,
                      headers=h["reviewer"])
    assert early.status_code == 409 and "Prüfvermerk" in early.json()["detail"]
    partial = _complete()
    partial["ratings"].pop("zielgruppe")
    first = http.put(f"{A}/applications/{ref}/assessment", json=partial, headers=h["reviewer"])
    assert first.status_code == 200 and first.json()["version"] == 1
    assert first.json()["missing"] == ["Zielgruppe"]
    still = http.post(f"{A}/applications/{ref}/transitions/recommend", json=recommend,
                      headers=h["reviewer"])
    assert still.status_code == 409 and "Zielgruppe" in still.json()["detail"]
    # If-Match names the version read: a stale one is refused, nothing saved.
    stale = http.put(f"{A}/applications/{ref}/assessment", json=_complete(),
                     headers={**h["reviewer"], "If-Match": 'W/"0"'})
    assert stale.status_code == 409
    bad = http.put(f"{A}/applications/{ref}/assessment", json={
        **_complete(), "ratings": {"quartiersbezug": {"rating": "super"}}},
        headers=h["reviewer"])
    assert bad.status_code == 422 and bad.json()["field"] == "ratings.quartiersbezug"
    done = http.put(f"{A}/applications/{ref}/assessment", json=_complete(),
                    headers={**h["reviewer"], "If-Match": 'W/"1"'})
    assert done.status_code == 200 and done.json()["complete"] and done.json()["versions"] == 2
    assert http.post(f"{A}/applications/{ref}/transitions/recommend", json=recommend,
                     headers=h["reviewer"]).status_code == 200
    shown = http.get(f"{A}/applications/{ref}/assessment", headers=h["approver"]).json()
    assert shown["summary"] == "Das Vorhaben ist förderfähig."
    assert shown["criteria"][0]["rating_label"] == "erfüllt"
    for role in ("carrier", "observer"):
        assert http.get(f"{A}/applications/{ref}/assessment",
                        headers=h[role]).status_code == 403
        assert http.put(f"{A}/applications/{ref}/assessment", json=_complete(),
                        headers=h[role]).status_code == 403
    # Nothing of it reaches the carrier anywhere it reads.
    for path in ("", "/history", "/documents"):
        seen = http.get(f"{A}/applications/{ref}{path}", headers=h["carrier"]).text
        assert "Gut: Quartiersbezug" not in seen and "Vorhaben ist förderfähig" not in seen


def test_observer_sees_aggregates_and_no_single_case(http, aw) -> None:
    h = _headers(http, aw)
    refs = [application_in(aw, "submitted"), application_in(aw, "recommended"),
            application_in(aw, "submitted", carrier="other_carrier")]
    in_review = application_in(aw, "in_review")
    _ask_for_assessments(aw)
    http.put(f"{A}/applications/{in_review}/assessment", json=_complete(), headers=h["reviewer"])
    refs.append(in_review)
    by_state = http.get(f"{A}/aggregates", params={"by": "state"}, headers=h["observer"])
    assert by_state.status_code == 200, by_state.text
    groups = {g["key"]: g for g in by_state.json()["groups"]}
    assert groups["submitted"]["applications"] == 2 and groups["submitted"]["label"] == (
        "Eingereicht")
    assert groups["recommended"]["approved"] == "100000.00"
    assert by_state.json()["total"]["applications"] == 4
    assert http.get(f"{A}/aggregates", headers=h["carrier"]).status_code == 403
    refusal = http.get(f"{A}/applications", headers=h["observer"])
    assert refusal.status_code == 403 and "zusammengefasste" in refusal.json()["detail"]
    # Crawl every GET route of the API as the observer, path parameters filled with real
    # values: no reference, no organisation name of a case, no assessment text comes back.
    with unit_of_work(aw.engine) as session:
        from workflow.models import Organisation
        names = [o.name for o in session.query(Organisation).all()]
    secrets = [*refs, *names, "Gut: Quartiersbezug", "Das Vorhaben ist förderfähig"]
    values = {"reference": refs[0], "code": "ZiQ-2021", "document_id": "1", "id": "1",
              "period": "1", "token": "x", "outbox_id": "1"}
    crawled = 0
    for route in api_routes(http.app):
        path = route.path_format
        if "GET" not in getattr(route, "methods", ()) or not path.startswith("/api/"):
            continue
        url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "1"), path)
        for params in ({}, {"by": "municipality"}, {"by": "module"}):
            answer = http.get(url, params=params, headers=h["observer"])
            crawled += 1
            text = answer.text
            if answer.headers.get("content-type", "").startswith("application/problem+json"):
                # A refusal names the path the observer asked for itself; nothing else.
                text = json.dumps({k: v for k, v in answer.json().items() if k != "instance"},
                                  ensure_ascii=False)
            for secret in secrets:
                assert secret not in text, (url, secret)
    assert crawled > 20


def test_exports_read_back_like_the_list(http, aw) -> None:
    h = _headers(http, aw)
    for state in ("submitted", "recommended", "in_review"):
        application_in(aw, state)
    listed = http.get(f"{A}/applications", params={"sort": "reference"},
                      headers=h["reviewer"]).json()["items"]
    xlsx = http.get(f"{A}/exports/worklist", params={"sort": "reference", "format": "xlsx"},
                    headers=h["reviewer"])
    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Aktenzeichen", "Förderaufruf", "Baustein")
    assert [r[0] for r in rows[1:]] == [i["reference"] for i in listed]
    for row, item in zip(rows[1:], listed, strict=True):
        assert row[7] == item["state_label"] and row[3] == item["organisation"]
        assert isinstance(row[10], datetime)  # a date, not text
        assert Decimal(str(row[11])) == Decimal(item["requested"])  # a number
        assert (row[12] is None) == (item["approved"] is None)
    csv = http.get(f"{A}/exports/worklist", params={"format": "csv", "state": "recommended"},
                   headers=h["reviewer"])
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("Aktenzeichen;Förderaufruf") and len(lines) == 2
    assert "100000,00" in lines[1]
    assert http.get(f"{A}/exports/worklist", headers=h["observer"]).status_code == 403
    ledger = http.get(f"{A}/admin/calls/ZiQ-2021/ledger/export", params={"format": "xlsx"},
                      headers=h["admin"])
    assert ledger.status_code == 200
    entries = http.get(f"{A}/admin/calls/ZiQ-2021/ledger", headers=h["admin"]).json()["items"]
    book = list(load_workbook(io.BytesIO(ledger.content)).active.iter_rows(values_only=True))
    assert book[0][0] == "Nr." and [r[0] for r in book[1:]] == [e["id"] for e in entries]
    assert http.get(f"{A}/admin/calls/ZiQ-2021/ledger/export",
                    headers=h["reviewer"]).status_code == 403


def test_criteria_need_a_code_and_a_german_label_each_code_once(http, aw) -> None:
    h = _headers(http, aw)
    ref = application_in(aw, "in_review")
    code = http.get(f"{A}/applications/{ref}", headers=h["admin"]).json()["call"]
    url = f"{A}/admin/calls/{code}/assessment-criteria"
    missing_label = http.put(url, json={"criteria": [{"code": "quartier"}]}, headers=h["admin"])
    assert missing_label.status_code == 422
    twice = http.put(url, json={"criteria": [{"code": "a", "de": "A"}, {"code": "a", "de": "B"}]},
                     headers=h["admin"])
    assert twice.status_code == 422 and "zweimal" in twice.json()["detail"]
    assert twice.json()["field"] == "criteria.1.code"
    # Nothing was written: the Prüfvermerk still reads (the defaults), it did not break.
    shown = http.get(f"{A}/applications/{ref}/assessment", headers=h["admin"])
    assert shown.status_code == 200 and not shown.json()["required"]
    saved = http.put(url, json={"criteria": [{"code": "quartier", "de": "  Quartiers­bezug "}]},
                     headers=h["admin"])
    assert saved.json() == [{"code": "quartier", "de": "Quartiers­bezug", "en": "Quartiers­bezug"}]
    assert http.get(f"{A}/applications/{ref}/assessment",
                    headers=h["admin"]).json()["required"]
