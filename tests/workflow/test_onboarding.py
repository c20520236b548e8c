"""Onboarding: an organisation registers, an admin confirms or rejects it, the contact chooses a
password from the emailed link; organisation admins invite colleagues; a forgotten password is
reset by a link. Every refusal writes nothing; both databases."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from notifications.outbox import OutboxMessage
from states.accounts import OrganisationStatus, TokenPurpose
from tests.factories import NOW, make_world
from tests.workflow.helpers import refused
from workflow import onboarding, tokens, users
from workflow.db import unit_of_work
from workflow.errors import (
    Conflict,
    InvalidInput,
    InvalidLink,
    LoginFailed,
    NotPermitted,
    WrongState,
)
from workflow.models import AdminAudit, OneTimeToken, Organisation, User

PASSWORD = "Blaue Giraffe tanzt Walzer 7"
LINK = re.compile(r"http://127\.0\.0\.1:8000/passwort-setzen/([A-Za-z0-9_-]+)")


def registration(**overrides: Any) -> dict[str, Any]:
    fields = {"name": "Nachbarschaftshilfe Ückendorf e. V.", "legal_form": "eingetragener_verein",
              "street": "Bochumer Straße 12", "postcode": "45886", "city": "Gelsenkirchen",
              "contact_name": "Aylin Demir", "contact_email": "Aylin.Demir@Nachbarn.example"}
    fields.update(overrides)
    return fields


@pytest.fixture
def world(any_engine):
    with unit_of_work(any_engine) as s:
        return make_world(s)


def mails(engine, template: str) -> list[OutboxMessage]:
    with unit_of_work(engine) as s:
        return list(s.exec(select(OutboxMessage).where(OutboxMessage.template == template)
                           .order_by(OutboxMessage.id)))


def token_in(message: OutboxMessage) -> str:
    found = LINK.search(message.body_text)
    assert found and found.group(0) in message.body_html
    return found.group(1)


def registered(engine) -> int:
    with unit_of_work(engine) as s:
        organisation, _ = onboarding.register(s, registration(), now=NOW)
        return organisation.id


def test_a_registration_waits_with_an_account_without_password(any_engine, world) -> None:
    org_id = registered(any_engine)
    with unit_of_work(any_engine) as s:
        org = s.get(Organisation, org_id)
        assert (org.status, org.registered_at, org.city, org.postcode) == (
            "pending", NOW, "Gelsenkirchen", "45886")
        contact = onboarding.contact_of(s, org)
        assert contact.email == "aylin.demir@nachbarn.example"
        assert contact.password_hash is None and contact.organisation_admin
        assert contact.role == "carrier" and not contact.disabled
    [received] = mails(any_engine, "registration_received")
    assert received.recipient == "aylin.demir@nachbarn.example"
    assert received.subject == "Registrierung eingegangen: Nachbarschaftshilfe Ückendorf e. V."
    assert "Eingetragener Verein (e. V.)" in received.body_text
    assert "Bochumer Straße 12, 45886 Gelsenkirchen" in received.body_html
    # Nothing to click yet: it says the confirmation comes by email.
    assert "http" not in received.body_text
    with unit_of_work(any_engine) as s, pytest.raises(LoginFailed):
        users.authenticate(s, "aylin.demir@nachbarn.example", "")  # no password: no login


@pytest.mark.parametrize(("overrides", "field"), [
    ({"name": "  "}, "name"),
    ({"legal_form": "kapitalgesellschaft"}, "legal_form"),
    ({"street": ""}, "street"),
    ({"postcode": "4588"}, "postcode"),
    ({"postcode": "ABCDE"}, "postcode"),
    ({"city": ""}, "city"),
    ({"contact_name": ""}, "contact_name"),
    ({"contact_email": "aylin-at-nachbarn"}, "contact_email"),
    ({"language": "fr"}, "language"),
    ({"name": "x" * 201}, "name"),
])
def test_a_wrong_registration_names_its_field_and_writes_nothing(engine, overrides,
                                                                  field) -> None:
    refusal = refused(engine, InvalidInput,
                      lambda s: onboarding.register(s, registration(**overrides), now=NOW))
    assert refusal.extra["field"] == field


def test_a_name_or_address_registered_already_is_refused(engine) -> None:
    registered(engine)
    refused(engine, Conflict, lambda s: onboarding.register(
        s, registration(name="NACHBARSCHAFTSHILFE ÜCKENDORF E. V.",
                        contact_email="neu@nachbarn.example"), now=NOW), "bereits registriert")
    refused(engine, Conflict, lambda s: onboarding.register(
        s, registration(name="Andere e. V.", contact_email="aylin.demir@nachbarn.example"),
        now=NOW), "bereits ein Konto")


def test_confirmation_mails_a_one_time_link_and_the_contact_chooses_a_password(
        any_engine, world) -> None:
    org_id = registered(any_engine)
    with unit_of_work(any_engine) as s:
        onboarding.confirm(s, world.admin, org_id, now=NOW, link_hours=72)
    [confirmed] = mails(any_engine, "registration_confirmed")
    token = token_in(confirmed)
    assert "Passwort festlegen" in confirmed.body_text
    with unit_of_work(any_engine) as s:
        org = s.get(Organisation, org_id)
        assert (org.status, org.confirmed_at, org.confirmed_by_id) == (
            "confirmed", NOW, world.admin.id)
        audit = s.exec(select(AdminAudit).where(AdminAudit.subject == org.name)).one()
        assert audit.action == "confirm_organisation" and audit.actor_id == world.admin.id
        assert (audit.before["status"], audit.after["status"]) == ("pending", "confirmed")
        row = s.exec(select(OneTimeToken)).one()
        # Only the hash is stored, never the token itself.
        assert row.token_hash == tokens.digest(token) and token not in row.token_hash
        assert row.purpose == "set_password" and row.expires_at == NOW + timedelta(hours=72)
    with unit_of_work(any_engine) as s:
        user = tokens.redeem(s, token, PASSWORD, NOW + timedelta(hours=1))
        assert user.token_version == 1
    with unit_of_work(any_engine) as s:
        login = users.authenticate(s, "aylin.demir@nachbarn.example", PASSWORD)
        assert login.token_version == 1
    # Single use: the same link again is refused with a clear German reason.
    refused(any_engine, InvalidLink,
            lambda s: tokens.redeem(s, token, "Anderes langes Passwort 99", NOW),
            "bereits verwendet")
    # Decided once: confirming again is refused.
    refused(any_engine, WrongState, lambda s: onboarding.confirm(s, world.admin, org_id),
            "bereits entschieden")


def test_an_expired_or_unknown_link_is_refused_and_a_weak_password_too(engine) -> None:
    world = make_world_in(engine)
    org_id = registered(engine)
    with unit_of_work(engine) as s:
        onboarding.confirm(s, world.admin, org_id, now=NOW, link_hours=1)
    token = token_in(mails(engine, "registration_confirmed")[0])
    refused(engine, InvalidLink, lambda s: tokens.redeem(s, token, PASSWORD,
                                                         NOW + timedelta(hours=1)), "abgelaufen")
    refused(engine, InvalidLink, lambda s: tokens.redeem(s, token + "x", PASSWORD, NOW),
            "ungültig")
    refusal = refused(engine, InvalidInput, lambda s: tokens.redeem(s, token, "aylin demir 1",
                                                                    NOW))
    assert refusal.extra["field"] == "password"


def make_world_in(engine):
    with unit_of_work(engine) as s:
        return make_world(s)


def test_a_newer_link_replaces_the_older_one(engine) -> None:
    world = make_world_in(engine)
    org_id = registered(engine)
    with unit_of_work(engine) as s:
        onboarding.confirm(s, world.admin, org_id, now=NOW)
    first = token_in(mails(engine, "registration_confirmed")[0])
    with unit_of_work(engine) as s:
        onboarding.request_password_reset(s, "aylin.demir@nachbarn.example", now=NOW)
        onboarding.request_password_reset(s, "aylin.demir@nachbarn.example", now=NOW)
    older, newer = (token_in(m) for m in mails(engine, "password_reset"))
    refused(engine, InvalidLink, lambda s: tokens.redeem(s, older, PASSWORD, NOW), "ersetzt")
    with unit_of_work(engine) as s:
        tokens.redeem(s, newer, PASSWORD, NOW)
    # The registration's link is of another purpose and still works once.
    with unit_of_work(engine) as s:
        tokens.redeem(s, first, "Noch ein ganz anderes Passwort 3", NOW)


def test_only_admins_decide_and_a_rejection_disables_and_tells(any_engine, world) -> None:
    org_id = registered(any_engine)
    refused(any_engine, NotPermitted, lambda s: onboarding.confirm(s, world.reviewer, org_id))
    refused(any_engine, InvalidInput,
            lambda s: onboarding.reject(s, world.admin, org_id, "  "), "Begründung")
    with unit_of_work(any_engine) as s:
        onboarding.reject(s, world.admin, org_id, "Kein Sitz in NRW.", now=NOW)
    with unit_of_work(any_engine) as s:
        org = s.get(Organisation, org_id)
        assert (org.status, org.rejection_reason) == ("rejected", "Kein Sitz in NRW.")
        assert onboarding.contact_of(s, org).disabled
        assert [o.id for o in onboarding.organisations(s, "rejected")] == [org_id]
    [rejected] = mails(any_engine, "registration_rejected")
    assert "Kein Sitz in NRW." in rejected.body_text and "http" not in rejected.body_text
    # A rejected organisation's contact gets no reset link.
    with unit_of_work(any_engine) as s:
        onboarding.request_password_reset(s, "aylin.demir@nachbarn.example", now=NOW)
    assert mails(any_engine, "password_reset") == []
    refused(any_engine, WrongState, lambda s: onboarding.confirm(s, world.admin, org_id))


def test_reset_links_go_to_active_accounts_only(engine) -> None:
    world = make_world_in(engine)
    registered(engine)  # pending: no link before the confirmation
    with unit_of_work(engine) as s:
        for address in ("niemand@example.org", "kein-email", "aylin.demir@nachbarn.example",
                        " TRAEGER@example.org "):
            onboarding.request_password_reset(s, address, now=NOW, link_hours=2)
    [reset] = mails(engine, "password_reset")
    assert reset.recipient == world.carrier_email
    assert "Neues Passwort" in reset.subject
    with unit_of_work(engine) as s:
        row = s.exec(select(OneTimeToken)).one()
        assert row.purpose == TokenPurpose.reset_password and row.expires_at == NOW + timedelta(
            hours=2)
        before = s.get(User, world.carrier.id).token_version
    with unit_of_work(engine) as s:
        assert tokens.redeem(s, token_in(reset), PASSWORD, NOW).token_version == before + 1


def test_an_organisation_admin_invites_a_colleague(any_engine, world) -> None:
    refused(any_engine, NotPermitted, lambda s: onboarding.invite(
        s, world.carrier, {"email": "kollegin@example.org", "name": "Kim Kollegin"}),
        "Administrator")
    with unit_of_work(any_engine) as s:
        carrier = s.get(User, world.carrier.id)
        carrier.organisation_admin = True
        s.add(carrier)
    refused(any_engine, NotPermitted, lambda s: onboarding.invite(
        s, world.reviewer, {"email": "kollegin@example.org", "name": "Kim Kollegin"}))
    refused(any_engine, Conflict, lambda s: onboarding.invite(
        s, world.carrier, {"email": "andere@example.org", "name": "Özlem"}), "bereits ein Konto")
    refused(any_engine, InvalidInput, lambda s: onboarding.invite(
        s, world.carrier, {"email": "kollegin@example.org", "name": ""}))
    with unit_of_work(any_engine) as s:
        colleague = onboarding.invite(s, world.carrier, {"email": "Kollegin@example.org",
                                                         "name": "Kim Kollegin"}, now=NOW)
        assert colleague.organisation_id == world.carrier.organisation_id
        assert not colleague.organisation_admin and colleague.password_hash is None
    [invitation] = mails(any_engine, "invitation")
    assert invitation.recipient == "kollegin@example.org"
    assert "Jürgen Weiß hat Sie eingeladen" in " ".join(invitation.body_text.split())
    with unit_of_work(any_engine) as s:
        tokens.redeem(s, token_in(invitation), PASSWORD, NOW)
    with unit_of_work(any_engine) as s:
        users.authenticate(s, "kollegin@example.org", PASSWORD)


def test_an_unknown_status_filter_is_refused(engine) -> None:
    refused(engine, InvalidInput, lambda s: onboarding.organisations(s, "offen"))
    with unit_of_work(engine) as s:
        assert onboarding.organisations(s, OrganisationStatus.pending.value) == []


def test_two_requests_racing_with_one_link_set_one_password(any_engine, world) -> None:
    """The link is used up by a conditional update: of two requests at once, one wins and the
    other is refused, on SQLite and on PostgreSQL."""
    with unit_of_work(any_engine) as s:
        token, _ = tokens.issue(s, s.get(User, world.carrier.id), TokenPurpose.reset_password,
                                NOW, timedelta(hours=1))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(password: str) -> None:
        barrier.wait(timeout=10)
        try:
            # Both read the link unused (on PostgreSQL), then hash for a while, then use it.
            with unit_of_work(any_engine) as s:
                tokens.redeem(s, token, password, NOW)
            outcomes.append("set")
        except InvalidLink:
            outcomes.append("refused")
        except Exception as error:  # noqa: BLE001 (a lock timeout counts as refused too)
            outcomes.append(f"error: {error!r}")

    threads = [threading.Thread(target=attempt, args=(p,))
               for p in ("Erstes sehr langes Passwort 11", "Zweites sehr langes Passwort 22")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[0] == "refused" and sorted(outcomes)[1] == "set", outcomes
    with unit_of_work(any_engine) as s:
        assert s.get(User, world.carrier.id).token_version == 1


def test_a_user_changes_name_language_and_email(engine) -> None:
    world = make_world_in(engine)
    with unit_of_work(engine) as s:
        user = s.get(User, world.carrier.id)
        user.password_hash = users.hash_password(PASSWORD)
        s.add(user)
    refused(engine, InvalidInput, lambda s: users.update_profile(
        s, s.get(User, world.carrier.id), name="", language="de", email=world.carrier_email))
    refused(engine, InvalidInput, lambda s: users.update_profile(
        s, s.get(User, world.carrier.id), name="J", language="fr", email=world.carrier_email))
    refused(engine, Conflict, lambda s: users.update_profile(
        s, s.get(User, world.carrier.id), name="J", language="de", email="andere@example.org",
        password=PASSWORD))
    refusal = refused(engine, InvalidInput, lambda s: users.update_profile(
        s, s.get(User, world.carrier.id), name="J", language="de", email="neu@example.org",
        password="falsch"), "aktuelle Passwort")
    assert refusal.extra["field"] == "current_password"
    with unit_of_work(engine) as s:
        users.update_profile(s, s.get(User, world.carrier.id), name="Jürgen  Weiß-Neu",
                             language="en", email="Neu@Example.org", password=PASSWORD)
    with unit_of_work(engine) as s:
        user = s.get(User, world.carrier.id)
        assert (user.name, user.language, user.email) == ("Jürgen Weiß-Neu", "en",
                                                          "neu@example.org")
