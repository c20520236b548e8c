"""The organisation's bank account (issue 16): IBAN, BIC and account holder, checked with
schwifty (checksum, the country's format and, for German accounts, the bank registry). Only
the organisation's admin changes it; every change is in the audit."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from sqlmodel import Session

from states import ACTIONS, ActionName, Role
from workflow.calls_admin import record_change
from workflow.errors import InvalidInput, NotFound, NotPermitted
from workflow.models import Organisation, User
from workflow.rows import Actor

EDIT = ACTIONS[ActionName.edit_bank_account]


def valid_iban(value: str) -> IBAN:
    """The IBAN of `value` (spaces allowed), or a refusal that says what is wrong."""
    text = (value or "").strip()
    if not text:
        raise InvalidInput("Bitte die IBAN angeben.", "Please give the IBAN.", field="iban")
    try:
        return IBAN(text)
    except SchwiftyException as error:
        raise InvalidInput(
            f"„{text[:40]}“ ist keine gültige IBAN (Prüfziffer, Länge oder Aufbau stimmen "
            "nicht). Bitte die IBAN so angeben, wie sie auf dem Kontoauszug steht, z. B. "
            "DE89 3704 0044 0532 0130 00.",
            f"'{text[:40]}' is not a valid IBAN (check digits, length or format are wrong): "
            f"{error}.", field="iban") from None


def valid_bic(value: str) -> BIC:
    text = value.strip()
    try:
        return BIC(text)
    except SchwiftyException as error:
        raise InvalidInput(
            f"„{text[:40]}“ ist keine gültige BIC (8 oder 11 Zeichen, z. B. COBADEFFXXX).",
            f"'{text[:40]}' is not a valid BIC (8 or 11 characters): {error}.",
            field="bic") from None


def bank_account_out(organisation: Organisation) -> dict[str, Any]:
    """The account as the API shows it to the organisation and to staff."""
    iban = IBAN(organisation.iban) if organisation.iban else None
    return {"organisation_id": organisation.id, "organisation_name": organisation.name,
            "iban": organisation.iban, "iban_formatted": iban.formatted if iban else None,
            "bic": organisation.bic,
            "account_holder": organisation.account_holder or organisation.name,
            "bank_name": (iban.bank_name if iban else None) or None}


def own_organisation(session: Session, actor: Actor) -> Organisation:
    if actor.role != Role.carrier or actor.organisation_id is None:
        raise NotPermitted("Nur Träger haben eine eigene Bankverbindung.",
                           "Only carriers have a bank account of their own.")
    organisation = session.get(Organisation, actor.organisation_id)
    if organisation is None:
        raise NotFound("Die Organisation existiert nicht.", "The organisation does not exist.")
    return organisation


def set_bank_account(session: Session, actor: Actor, *, iban: str, bic: str | None = None,
                     account_holder: str | None = None,
                     now: datetime | None = None) -> Organisation:
    """The organisation's admin sets the account payments go to. Refusals write nothing."""
    organisation = own_organisation(session, actor)
    user = session.get(User, actor.id)
    if not EDIT.allows(actor.role) or user is None or not user.organisation_admin:
        raise NotPermitted(
            "Nur die Administratorin oder der Administrator der Organisation ändert die "
            "Bankverbindung.", "Only the organisation's admin changes the bank account.")
    checked = valid_iban(iban)
    bic_text = (bic or "").strip()
    if bic_text:
        code = valid_bic(bic_text)
        if checked.bic is not None and code.country_code != checked.country_code:
            raise InvalidInput("Die BIC gehört nicht zum Land der IBAN.",
                               "The BIC does not belong to the IBAN's country.", field="bic")
        bic_text = str(code)
    else:
        bic_text = str(checked.bic) if checked.bic else ""
    holder = (account_holder or "").strip()
    if len(holder) > 70:  # a SEPA name has at most 70 characters
        raise InvalidInput("Kontoinhaber: höchstens 70 Zeichen.",
                           "Account holder: at most 70 characters.", field="account_holder")
    before = bank_account_out(organisation)
    organisation.iban, organisation.bic = checked.compact, bic_text or None
    organisation.account_holder = holder or None
    session.add(organisation)
    session.flush()
    record_change(session, actor, ActionName.edit_bank_account, "organisation",
                  organisation.name, before, bank_account_out(organisation),
                  now or datetime.now(UTC))
    return organisation
