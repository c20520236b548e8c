"""The SEPA export (issue 16): the ordered payments not yet exported, as one pain.001.001.03
credit-transfer file for the paying office, built and validated against the XSD by sepaxml.
Each payment is exported once: the export marks them with a conditional UPDATE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sepaxml import SepaTransfer
from sqlalchemy import update
from sqlmodel import Session, select

from states import ACTIONS, ActionName
from workflow.bank_account import valid_bic, valid_iban
from workflow.errors import Conflict, GuardFailed, NotFound, NotPermitted
from workflow.models import Application, TransitionRecord
from workflow.payment_tables import Payment, SepaExport
from workflow.rows import Actor
from workflow.settings import Settings

EXPORT = ACTIONS[ActionName.export_payments]
SCHEMA = "pain.001.001.03"


@dataclass(frozen=True)
class PayingOffice:
    """The debtor of the transfers (QUARTIER_PAYING_OFFICE_NAME, _IBAN, _BIC)."""

    name: str
    iban: str | None
    bic: str | None = None

    @classmethod
    def of(cls, settings: Settings) -> PayingOffice:
        return cls(settings.paying_office_name, settings.paying_office_iban,
                   settings.paying_office_bic)


def _allowed(actor: Actor) -> None:
    if not EXPORT.allows(actor.role):
        raise NotPermitted(f"„{EXPORT.label.de}“ ist nur der Verwaltung erlaubt.",
                           f"'{EXPORT.label.en}' is only allowed for staff.")


def _debtor(office: PayingOffice) -> dict[str, object]:
    if not office.iban:
        raise GuardFailed(
            "Die Bankverbindung der Zahlstelle ist nicht eingerichtet "
            "(QUARTIER_PAYING_OFFICE_IBAN).",
            "The paying office's bank account is not configured (QUARTIER_PAYING_OFFICE_IBAN).",
            field="paying_office_iban")
    iban = valid_iban(office.iban)
    config: dict[str, object] = {"name": office.name, "IBAN": iban.compact, "batch": True,
                                 "currency": "EUR"}
    bic = valid_bic(office.bic) if office.bic else iban.bic
    if bic:
        config["BIC"] = str(bic)
    return config


def export(session: Session, actor: Actor, office: PayingOffice,
           now: datetime | None = None) -> SepaExport:
    """One file of every ordered payment not exported yet; refused (409) when there is none."""
    now = now or datetime.now(UTC)
    _allowed(actor)
    config = _debtor(office)
    payments = list(session.exec(select(Payment).where(Payment.sepa_export_id.is_(None))
                                 .order_by(Payment.id).with_for_update()))
    if not payments:
        raise Conflict("Es gibt keine angeordneten Zahlungen, die noch nicht ausgegeben wurden.",
                       "There are no ordered payments that have not been exported yet.")
    transfer = SepaTransfer(config, schema=SCHEMA, clean=True)
    for payment in payments:
        entry: dict[str, object] = {
            "name": payment.payee_name, "IBAN": payment.iban, "amount": payment.amount_cents,
            "execution_date": payment.value_date, "description": payment.remittance,
            "endtoend_id": payment.end_to_end_id}
        if payment.bic:
            entry["BIC"] = payment.bic
        transfer.add_payment(entry)
    xml = transfer.export(validate=True).decode("utf-8")  # raises if not valid against the XSD
    record = SepaExport(message_id=transfer.msg_id, created_at=now, created_by_id=actor.id,
                        payment_count=len(payments),
                        total_cents=sum(p.amount_cents for p in payments),
                        debtor_iban=str(config["IBAN"]), xml=xml)
    session.add(record)
    session.flush()
    ids = [p.id for p in payments]
    marked = session.execute(
        update(Payment).where(Payment.id.in_(ids), Payment.sepa_export_id.is_(None))
        .values(sepa_export_id=record.id).execution_options(synchronize_session=False))
    if marked.rowcount != len(ids):
        raise Conflict("Die Zahlungen wurden gleichzeitig ausgegeben. Bitte erneut versuchen.",
                       "The payments were exported at the same time. Please retry.")
    for payment in payments:
        app = session.get(Application, payment.application_id)
        session.add(TransitionRecord(
            application_id=app.id, trigger=EXPORT.history_trigger, from_state=app.state,
            to_state=app.state, actor_id=actor.id, actor_role=actor.role.value, at=now,
            payload={"payment_id": payment.id, "funds_call_id": payment.funds_call_id,
                     "sepa_export_id": record.id, "message_id": record.message_id,
                     "amount_cents": payment.amount_cents,
                     "value_date": payment.value_date.isoformat()}))
        session.refresh(payment)
    session.flush()
    return record


def find(session: Session, actor: Actor, export_id: int) -> SepaExport:
    _allowed(actor)
    record = session.get(SepaExport, export_id)
    if record is None:
        raise NotFound(f"SEPA-Datei {export_id} wurde nicht gefunden.",
                       f"SEPA file {export_id} was not found.")
    return record


def filename(record: SepaExport) -> str:
    return f"sepa-{record.created_at:%Y%m%d}-{record.id}.xml"
