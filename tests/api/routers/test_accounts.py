"""api/routers/accounts.py: registration without login, the admin's confirmation and rejection,
password reset by an emailed link (throttled, same answer for every address), invitations;
the emails go out through a real SMTP server with the link to the portal."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from api.app import create_app
from notifications.outbox import OutboxMessage
from notifications.worker import deliver_due
from tests.api.conftest import PROBLEM, A, ApiWorld, api_settings, login
from tests.notifications.conftest import mail_settings, smtp_port, smtp_server  # noqa: F401
from workflow.db import unit_of_work
from workflow.models import AdminAudit, OneTimeToken, Organisation, User

PUBLIC = "https://portal.quartier.example"
NEW = "Blaue Giraffe tanzt Walzer 7"


def body(**overrides: Any) -> dict[str, Any]:
    fields = {"name": "Familienzentrum Hassel gGmbH", "legal_form": "ggmbh",
              "street": "Valentinstraße 2", "postcode": "45896", "city": "Gelsenkirchen",
              "contact_name": "Jonas Berg", "contact_email": "jonas.berg@fz-hassel.example"}
    fields.update(overrides)
    return fields


def outbox(aw: ApiWorld, template: str) -> list[OutboxMessage]:
    with unit_of_work(aw.engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.template == template)
                           .order_by(OutboxMessage.id)))


def token_of(message: OutboxMessage, base: str = "http://127.0.0.1:8000") -> str:
    found = re.search(re.escape(base) + r"/passwort-setzen/([A-Za-z0-9_-]+)", message.body_text)
    assert found, message.body_text
    return found.group(1)


def test_registration_confirmation_and_the_first_password(
        client: TestClient, api_world: ApiWorld) -> None:
    response = client.post(f"{A}/public/registrations", json=body())
    assert response.status_code == 201, response.text
    org = response.json()["organisation"]
    assert (org["status"], org["status_label"]) == ("pending", "Wartet auf Bestätigung")
    assert org["legal_form_label"] == "Gemeinnützige GmbH (gGmbH)"
    assert "Registrierung ist eingegangen" in response.json()["message"]
    assert len(outbox(api_world, "registration_received")) == 1

    admin = login(client, api_world.emails["admin"])
    pending = client.get(f"{A}/admin/organisations", params={"status": "pending"},
                         headers=admin).json()
    assert [o["name"] for o in pending] == ["Familienzentrum Hassel gGmbH"]
    carrier = login(client, api_world.emails["carrier"])
    assert client.get(f"{A}/admin/organisations", headers=carrier).status_code == 403
    assert client.get(f"{A}/admin/organisations", params={"status": "offen"},
                      headers=admin).status_code == 422

    confirmed = client.post(f"{A}/admin/organisations/{org['id']}/confirm", headers=admin)
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    again = client.post(f"{A}/admin/organisations/{org['id']}/confirm", headers=admin)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert "bereits entschieden" in again.json()["detail"]

    token = token_of(outbox(api_world, "registration_confirmed")[0])
    weak = client.post(f"{A}/auth/password-reset/confirm",
                       json={"token": token, "new_password": "kurz"})
    assert weak.status_code == 422 and weak.json()["field"] == "password"
    chosen = client.post(f"{A}/auth/password-reset/confirm",
                         json={"token": token, "new_password": NEW})
    assert chosen.status_code == 200, chosen.text
    me = client.get(f"{A}/me", headers={
        "Authorization": f"Bearer {chosen.json()['access_token']}"}).json()
    assert me["email"] == "jonas.berg@fz-hassel.example" and me["organisation_admin"]
    used = client.post(f"{A}/auth/password-reset/confirm",
                       json={"token": token, "new_password": NEW},
                       headers={"Accept-Language": "en"})
    assert used.status_code == 410 and "used already" in used.json()["detail"]
    login(client, "jonas.berg@fz-hassel.example", NEW)
    with unit_of_work(api_world.engine) as s:
        assert s.exec(select(AdminAudit).where(
            AdminAudit.action == "confirm_organisation")).one().subject == org["name"]


def test_a_wrong_registration_is_a_problem_and_writes_nothing(
        client: TestClient, api_world: ApiWorld) -> None:
    response = client.post(f"{A}/public/registrations", json=body(postcode="123"))
    assert response.status_code == 422 and response.headers["content-type"] == PROBLEM
    assert response.json()["field"] == "postcode" and "fünf Ziffern" in response.json()["detail"]
    unknown = client.post(f"{A}/public/registrations", json={**body(), "iban": "DE00"})
    assert unknown.status_code == 422
    taken = client.post(f"{A}/public/registrations",
                        json=body(contact_email=api_world.emails["carrier"]))
    assert taken.status_code == 409 and taken.json()["field"] == "contact_email"
    with unit_of_work(api_world.engine) as s:
        assert s.exec(select(Organisation).where(Organisation.status == "pending")).all() == []


def test_a_rejection_needs_a_reason_and_tells_the_contact(
        client: TestClient, api_world: ApiWorld) -> None:
    org = client.post(f"{A}/public/registrations", json=body()).json()["organisation"]
    admin = login(client, api_world.emails["admin"])
    assert client.post(f"{A}/admin/organisations/{org['id']}/reject", json={"reason": " "},
                       headers=admin).status_code == 422
    rejected = client.post(f"{A}/admin/organisations/{org['id']}/reject",
                           json={"reason": "Kein Träger der Jugendhilfe."}, headers=admin)
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert "Kein Träger der Jugendhilfe." in outbox(api_world, "registration_rejected")[0].body_text
    assert client.post(f"{A}/admin/organisations/999999/confirm",
                       headers=admin).status_code == 404


def test_password_reset_answers_the_same_for_any_address_and_is_throttled(
        client: TestClient, api_world: ApiWorld) -> None:
    known = client.post(f"{A}/auth/password-reset", json={"email": api_world.emails["carrier"]})
    unknown = client.post(f"{A}/auth/password-reset", json={"email": "niemand@example.org"})
    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    [mail] = outbox(api_world, "password_reset")
    assert mail.recipient == api_world.emails["carrier"]
    old = login(client, api_world.emails["carrier"])
    chosen = client.post(f"{A}/auth/password-reset/confirm",
                         json={"token": token_of(mail), "new_password": NEW})
    assert chosen.status_code == 200
    # Choosing the password ends every earlier login.
    assert client.get(f"{A}/me", headers=old).status_code == 401
    with unit_of_work(api_world.engine) as s:
        assert s.exec(select(OneTimeToken)).one().used_at is not None
    for _ in range(8):  # ten requests per address within the window (api_settings' default)
        assert client.post(f"{A}/auth/password-reset",
                           json={"email": "niemand@example.org"}).status_code == 202
    throttled = client.post(f"{A}/auth/password-reset", json={"email": "x@example.org"})
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    # Logins count apart: the carrier still logs in.
    login(client, api_world.emails["carrier"], NEW)


def test_an_organisation_admin_invites_a_colleague(client: TestClient,
                                                   api_world: ApiWorld) -> None:
    carrier = login(client, api_world.emails["carrier"])
    invitation = {"email": "kollegin@example.org", "name": "Kim Kollegin"}
    refused = client.post(f"{A}/me/invitations", json=invitation, headers=carrier)
    assert refused.status_code == 403 and "Administrator" in refused.json()["detail"]
    with unit_of_work(api_world.engine) as s:
        user = s.get(User, api_world.user_ids["carrier"])
        user.organisation_admin = True
        s.add(user)
    invited = client.post(f"{A}/me/invitations", json=invitation, headers=carrier)
    assert invited.status_code == 201, invited.text
    assert invited.json()["organisation_id"] == api_world.actor("carrier").organisation_id
    [mail] = outbox(api_world, "invitation")
    client.post(f"{A}/auth/password-reset/confirm",
                json={"token": token_of(mail), "new_password": NEW}).raise_for_status()
    login(client, "kollegin@example.org", NEW)


def test_the_emails_arrive_by_smtp_with_the_portal_link(
        api_world: ApiWorld, smtp_server, mail_settings) -> None:  # noqa: F811
    app = create_app(engine=api_world.engine,
                     settings=api_settings().model_copy(update={"public_url": PUBLIC}))
    with TestClient(app) as client:
        org = client.post(f"{A}/public/registrations", json=body()).json()["organisation"]
        admin = login(client, api_world.emails["admin"])
        client.post(f"{A}/admin/organisations/{org['id']}/confirm",
                    headers=admin).raise_for_status()
        deliver_due(api_world.engine, mail_settings)
        messages = {m["Subject"]: m for m in smtp_server.messages()}
        confirmed = messages["Registrierung bestätigt: Familienzentrum Hassel gGmbH"]
        text = confirmed.get_body(("plain",)).get_content()
        html = confirmed.get_body(("html",)).get_content()
        token = re.search(re.escape(PUBLIC) + r"/passwort-setzen/([A-Za-z0-9_-]+)", text).group(1)
        assert f'<a href="{PUBLIC}/passwort-setzen/{token}">Passwort festlegen</a>' in html
        assert "Registrierung eingegangen: Familienzentrum Hassel gGmbH" in messages
        client.post(f"{A}/auth/password-reset/confirm",
                    json={"token": token, "new_password": NEW}).raise_for_status()


def test_registrations_are_throttled_per_client_address(client: TestClient,
                                                        api_world: ApiWorld) -> None:
    for n in range(10):  # every registration counts, refused ones too
        response = client.post(f"{A}/public/registrations",
                               json=body(name=f"Verein {n} e. V.", contact_email=f"v{n}@x.example",
                                         postcode="1" if n == 0 else "45896"))
        assert response.status_code == (422 if n == 0 else 201), response.text
    throttled = client.post(f"{A}/public/registrations",
                            json=body(name="Noch einer e. V.", contact_email="n@x.example"))
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert throttled.headers["content-type"] == PROBLEM
