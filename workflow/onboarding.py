"""Onboarding: an organisation registers, the programme administration confirms (or rejects) it,
its contact chooses a password from an emailed link; an organisation's admin invites colleagues;
anyone asks for a link to reset a forgotten password. Each step writes its email to the outbox in
the caller's transaction; confirmations and rejections are audited."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, select

from notifications.outbox import enqueue
from notifications.render import language_of
from states import ACTIONS, ActionName, Role
from states.accounts import (
    LEGAL_FORMS,
    ORGANISATION_STATUS_LABELS,
    REGISTRATION_RECEIVED_EMAIL,
    REGISTRATION_REJECTED_EMAIL,
    OrganisationStatus,
    TokenPurpose,
)
from workflow import tokens, users
from workflow.calls_admin import record_change
from workflow.errors import Conflict, InvalidInput, NotFound, NotPermitted, WrongState
from workflow.models import Organisation, User, utcnow
from workflow.repository import connection
from workflow.rows import Actor

_POSTCODE = re.compile(r"^\d{5}$")
MAX_TEXT = 200
_ORGS = Organisation.__table__.c  # type: ignore[attr-defined]
_USERS = User.__table__.c  # type: ignore[attr-defined]


def _text(fields: dict[str, Any], field: str, de: str, en: str, *, required: bool = True,
          longest: int = MAX_TEXT) -> str:
    value = fields.get(field)
    value = " ".join(str(value).split()) if value is not None else ""
    if required and not value:
        raise InvalidInput(f"Bitte {de} angeben.", f"Please give {en}.", field=field)
    if len(value) > longest:
        raise InvalidInput(f"{de[0].upper()}{de[1:]}: höchstens {longest} Zeichen.",
                           f"{en[0].upper()}{en[1:]}: at most {longest} characters.", field=field)
    return value


def _language(fields: dict[str, Any]) -> str:
    language = fields.get("language") or "de"
    if language not in ("de", "en"):
        raise InvalidInput("Sprache: de oder en.", "Language: de or en.", field="language")
    return language


def _email_free(session: Session, email: str, field: str = "email") -> None:
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        raise Conflict(f"Für {email} gibt es bereits ein Konto. Bitte melden Sie sich an oder "
                       "nutzen Sie „Passwort vergessen“.",
                       f"An account for {email} exists already. Please log in or use "
                       "'Forgot password'.", field=field)


def registration_fields(fields: dict[str, Any]) -> dict[str, str]:
    """The checked fields of a registration (InvalidInput naming the first wrong field)."""
    checked = {
        "name": _text(fields, "name", "den Namen der Organisation", "the organisation's name"),
        "legal_form": _text(fields, "legal_form", "die Rechtsform", "the legal form"),
        "street": _text(fields, "street", "Straße und Hausnummer", "street and number"),
        "postcode": _text(fields, "postcode", "die Postleitzahl", "the postcode", longest=5),
        "city": _text(fields, "city", "den Ort", "the city"),
        "contact_name": _text(fields, "contact_name", "den Namen der Ansprechperson",
                              "the contact person's name"),
        "contact_email": users.valid_email(str(fields.get("contact_email") or ""),
                                           "contact_email"),
        "language": _language(fields),
    }
    if checked["legal_form"] not in LEGAL_FORMS:
        raise InvalidInput(
            f"Unbekannte Rechtsform „{checked['legal_form']}“ (möglich: "
            f"{', '.join(LEGAL_FORMS)}).",
            f"Unknown legal form '{checked['legal_form']}' (possible: {', '.join(LEGAL_FORMS)}).",
            field="legal_form")
    if not _POSTCODE.match(checked["postcode"]):
        raise InvalidInput("Die Postleitzahl hat fünf Ziffern.", "The postcode has five digits.",
                           field="postcode")
    return checked


def register(session: Session, fields: dict[str, Any], now: datetime | None = None
             ) -> tuple[Organisation, User]:
    """A new organisation (pending) and its contact's carrier account (no password yet, the
    organisation's admin); the contact is told by email that the registration arrived."""
    now = now or utcnow()
    checked = registration_fields(fields)
    name = checked["name"]
    # Compared in Python: SQLite's lower() knows only ASCII ("Ü" stays "Ü").
    if any(" ".join(known.split()).casefold() == name.casefold()
           for known in session.exec(select(Organisation.name))):
        raise Conflict(f"Eine Organisation „{name}“ ist bereits registriert.",
                       f"An organisation '{name}' is registered already.", field="name")
    _email_free(session, checked["contact_email"], "contact_email")
    organisation = Organisation(
        name=name, kind=LEGAL_FORMS[checked["legal_form"]].de, municipality=checked["city"],
        legal_form=checked["legal_form"], street=checked["street"],
        postcode=checked["postcode"], city=checked["city"],
        contact_name=checked["contact_name"], contact_email=checked["contact_email"],
        status=OrganisationStatus.pending.value, registered_at=now,
        calendar_token=secrets.token_urlsafe(24))
    session.add(organisation)
    session.flush()
    contact = User(email=checked["contact_email"], name=checked["contact_name"],
                   role=Role.carrier.value, organisation_id=organisation.id,
                   language=checked["language"], password_hash=None, organisation_admin=True,
                   created_at=now)
    session.add(contact)
    session.flush()
    language = language_of(contact.language)
    enqueue(connection(session), template=REGISTRATION_RECEIVED_EMAIL, recipient=contact.email,
            language=language, now=now,
            context=tokens.account_context(session, contact, organisation,
                                           **address_context(organisation, language)))
    return organisation, contact


def address_context(organisation: Organisation, language: str) -> dict[str, str]:
    return {"legal_form": LEGAL_FORMS[organisation.legal_form].in_language(language)
            if organisation.legal_form in LEGAL_FORMS else organisation.kind,
            "address": f"{organisation.street}, {organisation.postcode} {organisation.city}"}


# ------------------------------------------------------------------ confirmation by an admin


def organisations(session: Session, status: str | None = None) -> list[Organisation]:
    """Organisations, the oldest registration first; only those of `status` when given."""
    query = select(Organisation).order_by(Organisation.registered_at, Organisation.id)
    if status is not None:
        if status not in {s.value for s in OrganisationStatus}:
            raise InvalidInput(
                f"Unbekannter Status „{status}“ (möglich: "
                f"{', '.join(s.value for s in OrganisationStatus)}).",
                f"Unknown status '{status}' (possible: "
                f"{', '.join(s.value for s in OrganisationStatus)}).", field="status")
        query = query.where(Organisation.status == status)
    return list(session.exec(query))


def find_organisation(session: Session, key: int | str) -> Organisation:
    if isinstance(key, int) or str(key).isdigit():
        organisation = session.get(Organisation, int(key))
    else:
        organisation = session.exec(select(Organisation).where(Organisation.name == key)).first()
    if organisation is None:
        raise NotFound(f"Organisation {key} wurde nicht gefunden.",
                       f"Organisation {key} was not found.")
    return organisation


def contact_of(session: Session, organisation: Organisation) -> User | None:
    """The organisation's admin account (the registered contact)."""
    return session.exec(select(User).where(User.organisation_id == organisation.id,
                                           User.organisation_admin == True)  # noqa: E712
                        .order_by(User.id)).first()


def _allowed(action: ActionName, actor: Actor) -> None:
    if not ACTIONS[action].allows(actor.role):
        label = ACTIONS[action].label
        raise NotPermitted(f"Nur die Programmverwaltung darf das ({label.de}).",
                           f"Only programme administration may do this ({label.en}).")


def snapshot(organisation: Organisation) -> dict[str, Any]:
    """An organisation as the audit records it."""
    return {"name": organisation.name, "legal_form": organisation.legal_form,
            "street": organisation.street, "postcode": organisation.postcode,
            "city": organisation.city, "contact_name": organisation.contact_name,
            "contact_email": organisation.contact_email, "status": organisation.status}


def _decide(session: Session, actor: Actor, key: int | str, action: ActionName,
            status: OrganisationStatus, now: datetime, reason: str | None
            ) -> tuple[Organisation, dict[str, Any]]:
    """Move a pending organisation to `status` (once: a decided one stays as it is)."""
    _allowed(action, actor)
    organisation = find_organisation(session, key)
    before = snapshot(organisation)
    decided = session.execute(
        update(Organisation).where(_ORGS.id == organisation.id,
                                   _ORGS.status == OrganisationStatus.pending.value)
        .values(status=status.value, confirmed_at=now, confirmed_by_id=actor.id,
                rejection_reason=reason).execution_options(synchronize_session=False))
    if decided.rowcount != 1:
        label = ORGANISATION_STATUS_LABELS[OrganisationStatus(organisation.status)]
        raise WrongState(
            f"Die Registrierung von „{organisation.name}“ ist bereits entschieden "
            f"({label.de}).",
            f"The registration of '{organisation.name}' is decided already ({label.en}).")
    session.refresh(organisation)
    record_change(session, actor, action, "organisation", organisation.name, before,
                  snapshot(organisation), now, reason)
    return organisation, before


def confirm(session: Session, actor: Actor, key: int | str, now: datetime | None = None,
            link_hours: float | None = None) -> Organisation:
    """Confirm a registration: its contact gets an email with a one-time link to choose a
    password (valid QUARTIER_ONBOARDING_LINK_HOURS)."""
    now = now or utcnow()
    organisation, _ = _decide(session, actor, key, ActionName.confirm_organisation,
                              OrganisationStatus.confirmed, now, None)
    contact = contact_of(session, organisation)
    if contact is not None and not contact.disabled:
        tokens.send_link(session, contact, TokenPurpose.set_password, now,
                         tokens.lifetime_of(TokenPurpose.set_password, link_hours), by=actor.id)
    return organisation


def reject(session: Session, actor: Actor, key: int | str, reason: str,
           now: datetime | None = None) -> Organisation:
    """Reject a registration with a reason: its accounts are disabled, the contact is told."""
    now = now or utcnow()
    reason = _text({"reason": reason}, "reason", "eine Begründung", "a reason", longest=2000)
    organisation, _ = _decide(session, actor, key, ActionName.reject_organisation,
                              OrganisationStatus.rejected, now, reason)
    contact = contact_of(session, organisation)
    session.execute(update(User).where(_USERS.organisation_id == organisation.id)
                    .values(disabled=True, token_version=_USERS.token_version + 1)
                    .execution_options(synchronize_session=False))
    if contact is not None:
        language = language_of(contact.language)
        enqueue(connection(session), template=REGISTRATION_REJECTED_EMAIL,
                recipient=contact.email, language=language, now=now,
                context=tokens.account_context(session, contact, organisation, reason=reason))
    return organisation


# ------------------------------------------------------------------ passwords and colleagues


def request_password_reset(session: Session, email: str, now: datetime | None = None,
                           link_hours: float | None = None) -> None:
    """Email a link to choose a new password to the account with this address, if there is an
    active one (of a confirmed organisation); the caller answers the same either way."""
    now = now or utcnow()
    try:
        address = users.valid_email(email)
    except InvalidInput:
        return
    user = session.exec(select(User).where(User.email == address)).first()
    if user is None or user.disabled:
        return
    if user.organisation_id is not None:
        organisation = session.get(Organisation, user.organisation_id)
        if organisation is None or organisation.status != OrganisationStatus.confirmed:
            return
    tokens.send_link(session, user, TokenPurpose.reset_password, now,
                     tokens.lifetime_of(TokenPurpose.reset_password, link_hours))


def invite(session: Session, actor: Actor, fields: dict[str, Any], now: datetime | None = None,
           link_hours: float | None = None) -> User:
    """An organisation's admin invites a colleague of the same organisation: a carrier account
    without a password, and an email with the link to choose one."""
    now = now or utcnow()
    inviter = session.get(User, actor.id)
    if (actor.role != Role.carrier or inviter is None or not inviter.organisation_admin
            or inviter.organisation_id is None):
        raise NotPermitted(
            "Nur die Administratorin oder der Administrator der Organisation lädt Kolleginnen "
            "und Kollegen ein.", "Only the organisation's admin invites colleagues.")
    email = users.valid_email(str(fields.get("email") or ""))
    name = _text(fields, "name", "den Namen", "the name")
    language = _language(fields)
    _email_free(session, email)
    colleague = User(email=email, name=name, role=Role.carrier.value,
                     organisation_id=inviter.organisation_id, language=language,
                     password_hash=None, organisation_admin=False, created_at=now)
    session.add(colleague)
    session.flush()
    tokens.send_link(session, colleague, TokenPurpose.invitation, now,
                     tokens.lifetime_of(TokenPurpose.invitation, link_hours), by=actor.id,
                     inviter_name=inviter.name)
    return colleague


def colleagues(session: Session, organisation_id: int) -> list[User]:
    return list(session.exec(select(User).where(User.organisation_id == organisation_id)
                             .order_by(User.id)))


def organisation_out(organisation: Organisation, lang: str = "de",
                     contact: User | None = None) -> dict[str, Any]:
    """An organisation as the API and the pages show it."""
    status = OrganisationStatus(organisation.status)
    form = LEGAL_FORMS.get(organisation.legal_form)
    return {
        "id": organisation.id, "name": organisation.name,
        "legal_form": organisation.legal_form,
        "legal_form_label": form.in_language(lang) if form else organisation.kind,
        "street": organisation.street, "postcode": organisation.postcode,
        "city": organisation.city, "contact_name": organisation.contact_name,
        "contact_email": organisation.contact_email, "status": status.value,
        "status_label": ORGANISATION_STATUS_LABELS[status].in_language(lang),
        "registered_at": organisation.registered_at, "confirmed_at": organisation.confirmed_at,
        "rejection_reason": organisation.rejection_reason,
        "contact_user_id": contact.id if contact else None,
    }
