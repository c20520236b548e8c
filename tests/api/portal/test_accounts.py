"""The account pages over HTTP (api/portal/accounts.py, api/portal/organisations.py): register,
confirm in the admin's page, choose a password from the link, forgotten password, profile,
password change, the organisation's page with invitations. Refusals show the engine's German
reason next to the field, keep what was typed and write nothing."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from notifications.outbox import OutboxMessage
from tests.api.conftest import PASSWORD, ApiWorld
from tests.workflow.helpers import snapshot
from workflow.db import unit_of_work
from workflow.models import Organisation, User

NEW = "Blaue Giraffe tanzt Walzer 7"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code in (200, 410), response.text
    return CSRF.search(response.text).group(1)


def post(client: TestClient, path: str, data: dict[str, Any], form_page: str | None = None):
    token = csrf(client, form_page or path)
    return client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)


def log_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = post(client, "/anmelden", {"email": email, "password": password})
    assert response.status_code == 303, response.text


def registration(**overrides: str) -> dict[str, str]:
    fields = {"name": "Stadtteilbüro Horst e. V.", "legal_form": "eingetragener_verein",
              "street": "Essener Straße 3", "postcode": "45899", "city": "Gelsenkirchen",
              "contact_name": "Mara Horst", "contact_email": "mara@stadtteilbuero.example",
              "language": "de"}
    fields.update(overrides)
    return fields


def outbox(aw: ApiWorld, template: str) -> list[OutboxMessage]:
    with unit_of_work(aw.engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.template == template)
                           .order_by(OutboxMessage.id)))


def link_path(message: OutboxMessage) -> str:
    found = re.search(r"http://127\.0\.0\.1:8000(/passwort-setzen/[A-Za-z0-9_-]+)",
                      message.body_text)
    assert found, message.body_text
    return found.group(1)


def test_register_confirm_and_choose_the_password(client: TestClient,
                                                   api_world: ApiWorld) -> None:
    page = client.get("/registrieren")
    assert page.status_code == 200 and '<h1 class="kern-heading-large">' in page.text
    assert 'for="postcode"' in page.text and "Eingetragener Verein (e. V.)" in page.text
    before = snapshot(api_world.engine)
    wrong = post(client, "/registrieren", registration(postcode="4589"))
    assert wrong.status_code == 422
    assert 'id="postcode-error"' in wrong.text and "fünf Ziffern" in wrong.text
    assert 'href="#postcode"' in wrong.text  # in the summary at the top, linked to the field
    assert 'value="Stadtteilbüro Horst e. V."' in wrong.text  # what was typed stays
    assert snapshot(api_world.engine) == before
    done = post(client, "/registrieren", registration())
    assert done.status_code == 303 and done.headers["location"] == "/registrieren/danke"
    assert "Vielen Dank" in client.get("/registrieren/danke").text
    assert len(outbox(api_world, "registration_received")) == 1

    admin = TestClient(client.app)
    log_in(admin, api_world.emails["admin"])
    listing = admin.get("/verwaltung/organisationen")
    assert listing.status_code == 200 and "Stadtteilbüro Horst e. V." in listing.text
    with unit_of_work(api_world.engine) as s:
        org_id = s.exec(select(Organisation.id).where(
            Organisation.name == "Stadtteilbüro Horst e. V.")).one()
    empty = post(admin, "/verwaltung/organisationen",
                 {"organisation": str(org_id), "entscheidung": "ablehnen",
                  f"grund-{org_id}": " "})
    assert empty.status_code == 422 and f'id="grund-{org_id}-error"' in empty.text
    confirmed = post(admin, "/verwaltung/organisationen",
                     {"organisation": str(org_id), "entscheidung": "bestaetigen"})
    assert confirmed.status_code == 303
    assert "ist bestätigt" in admin.get("/verwaltung/organisationen").text

    path = link_path(outbox(api_world, "registration_confirmed")[0])
    contact = TestClient(client.app)
    form = contact.get(path)
    assert form.status_code == 200 and "mara@stadtteilbuero.example" in form.text
    mismatch = post(contact, path, {"password": NEW, "password_repeat": NEW + "x"})
    assert mismatch.status_code == 422 and "stimmen nicht überein" in mismatch.text
    weak = post(contact, path, {"password": "kurz", "password_repeat": "kurz"})
    assert weak.status_code == 422 and "mindestens 12 Zeichen" in weak.text
    chosen = post(contact, path, {"password": NEW, "password_repeat": NEW})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/antraege"
    assert "Mara Horst" in contact.get("/konto").text  # logged in
    used = contact.get(path)
    assert used.status_code == 410 and "bereits verwendet" in used.text
    assert 'href="/passwort-vergessen"' in used.text


def test_only_admins_see_the_registrations(client: TestClient, api_world: ApiWorld) -> None:
    assert client.get("/verwaltung/organisationen",
                      follow_redirects=False).status_code == 303  # to /anmelden
    log_in(client, api_world.emails["carrier"])
    assert client.get("/verwaltung/organisationen").status_code == 403


def test_forgotten_password_answers_the_same_and_mails_a_link(
        client: TestClient, api_world: ApiWorld) -> None:
    assert client.get("/passwort-vergessen").status_code == 200
    unknown = post(client, "/passwort-vergessen", {"email": "niemand@example.org"})
    known = post(client, "/passwort-vergessen", {"email": api_world.emails["carrier"]})
    assert unknown.status_code == known.status_code == 303
    assert unknown.headers["location"] == known.headers["location"] == "/passwort-vergessen"
    [mail] = outbox(api_world, "password_reset")
    path = link_path(mail)
    chosen = post(client, path, {"password": NEW, "password_repeat": NEW})
    assert chosen.status_code == 303
    log_in(TestClient(client.app), api_world.emails["carrier"], NEW)
    empty = post(client, "/passwort-vergessen", {"email": ""})
    assert empty.status_code == 422 and 'id="email-error"' in empty.text


def test_the_profile_sets_the_language_of_the_portal(client: TestClient,
                                                       api_world: ApiWorld) -> None:
    log_in(client, api_world.emails["carrier"])
    page = client.get("/konto")
    assert page.status_code == 200 and "Mein Konto" in page.text
    changed = post(client, "/konto", {"name": "Jürgen Weiß", "language": "en",
                                      "email": api_world.emails["carrier"]})
    assert changed.status_code == 303
    english = client.get("/konto")
    assert '<html lang="en">' in english.text and "My account" in english.text
    before = snapshot(api_world.engine)
    refused = post(client, "/konto", {"name": "Jürgen Weiß", "language": "en",
                                      "email": "neu@example.org"})
    assert refused.status_code == 422 and 'id="current_password-error"' in refused.text
    assert "current password" in refused.text and 'value="neu@example.org"' in refused.text
    assert snapshot(api_world.engine) == before


def test_changing_the_password_keeps_this_login_and_ends_the_others(
        client: TestClient, api_world: ApiWorld) -> None:
    log_in(client, api_world.emails["reviewer"])
    other = TestClient(client.app)
    log_in(other, api_world.emails["reviewer"])
    wrong = post(client, "/konto/passwort", {"current_password": "falsch",
                                             "new_password": NEW, "new_password_repeat": NEW})
    assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.text
    weak = post(client, "/konto/passwort", {"current_password": PASSWORD,
                                            "new_password": "pruefung123",
                                            "new_password_repeat": "pruefung123"})
    assert weak.status_code == 422 and 'id="new_password-error"' in weak.text
    done = post(client, "/konto/passwort", {"current_password": PASSWORD, "new_password": NEW,
                                            "new_password_repeat": NEW})
    assert done.status_code == 303
    assert client.get("/konto").status_code == 200
    assert other.get("/konto", follow_redirects=False).status_code == 303  # logged out


def test_an_organisation_admin_invites_on_the_organisation_page(
        client: TestClient, api_world: ApiWorld) -> None:
    log_in(client, api_world.emails["carrier"])
    page = client.get("/organisation")
    assert page.status_code == 200 and "Träger 1 e.V." in page.text
    assert 'action="/organisation"' not in page.text  # not the organisation's admin
    with unit_of_work(api_world.engine) as s:
        s.get(User, api_world.user_ids["carrier"]).organisation_admin = True
    assert 'action="/organisation"' in client.get("/organisation").text
    taken = post(client, "/organisation", {"name": "Özlem", "email": api_world.emails[
        "other_carrier"], "language": "de"})
    assert taken.status_code == 409 and "bereits ein Konto" in taken.text
    invited = post(client, "/organisation", {"name": "Kim Kollegin",
                                             "email": "kim@example.org", "language": "de"})
    assert invited.status_code == 303
    page = client.get("/organisation")
    assert "Kim Kollegin" in page.text and "Eingeladen, noch kein Passwort" in page.text
    path = link_path(outbox(api_world, "invitation")[0])
    colleague = TestClient(client.app)
    assert "Willkommen" in colleague.get(path).text
    assert post(colleague, path, {"password": NEW, "password_repeat": NEW}).status_code == 303
    assert client.get("/organisation").text.count(">Aktiv<") == 2
