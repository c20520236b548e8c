"""Money after the approval (issue 16): the carrier's bank account, calls of funds, their check
and the order of the payment (four-eyes), the SEPA export. Each handler parses, makes one
workflow call and presents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, StringConstraints
from sqlmodel import select

from api.deps import CaseReaderDep, LanguageDep, SessionDep, UnitOfWorkRoute, WriterDep
from api.schemas import VISIBLE, Money, RowId, Strict
from states import FundsCallStatus, Role
from workflow import bank_account, payments, sepa
from workflow.errors import NotPermitted
from workflow.models import Application
from workflow.payment_tables import FundsCall, Payment
from workflow.sepa import PayingOffice

router = APIRouter(prefix="/api/v1", tags=["payments"], route_class=UnitOfWorkRoute)
XML = "application/xml"
FOUR_EYES = {403: {"description": "Not permitted for this role, or the four-eyes principle: "
                                  "whoever certified the call may not order its payment"}}


class BankAccountIn(Strict):
    iban: Annotated[str, StringConstraints(min_length=15, max_length=42,
                                           pattern=r"^[A-Za-z]{2}[0-9]{2}[A-Za-z0-9 ]+$")]
    bic: Annotated[str, StringConstraints(max_length=11,
                                          pattern=r"^([A-Za-z0-9]{8}|[A-Za-z0-9]{11})?$")] \
        | None = None
    account_holder: Annotated[str, StringConstraints(max_length=70)] | None = None


class BankAccountOut(BaseModel):
    organisation_id: int
    organisation_name: str
    iban: str | None
    iban_formatted: str | None
    bic: str | None
    account_holder: str
    bank_name: str | None


class FundsCallIn(Strict):
    year: int = Field(ge=1900, le=2200)
    amount: Money
    needed_within_two_months: Literal[True] = Field(
        description="The carrier affirms the money is needed within two months of the payment "
                    "for payments due (ANBest-P no. 1.4)")
    purpose: Annotated[str, StringConstraints(max_length=500)] = ""


class CheckIn(Strict):
    note: Annotated[str, StringConstraints(max_length=500, pattern=VISIBLE)] | None = None


class OrderIn(Strict):
    value_date: date | None = Field(default=None, description="Default: the next working day")


class PaymentOut(BaseModel):
    id: int
    amount: str
    value_date: date
    payee_name: str
    iban: str
    bic: str | None
    remittance: str
    end_to_end_id: str
    sepa_export_id: int | None
    exported: bool


class FundsCallOut(BaseModel):
    id: int
    reference: str | None
    year: int
    amount: str
    purpose: str
    needed_by: date
    status: FundsCallStatus
    status_label: str
    requested_at: datetime
    requested_by: str | None
    checked_at: datetime | None
    checked_by: str | None
    check_note: str | None
    ordered_at: datetime | None
    ordered_by: str | None
    payment: PaymentOut | None


class YearMoneyOut(BaseModel):
    year: int
    approved: str
    committed: str
    paid: str
    called_open: str
    callable: str


class FundsCallsOut(BaseModel):
    reference: str
    years: list[YearMoneyOut]
    items: list[FundsCallOut]


def _out(session: SessionDep, call: FundsCall, lang: str) -> dict[str, Any]:
    app, calls = payments.calls_of(session, call.application_id, None)
    payment = next((p for c, p in calls if c.id == call.id), None)
    return payments.call_out(session, call, payment, lang, app.reference)


@router.get("/me/organisation/bank-account", response_model=BankAccountOut,
            summary="The bank account of one's organisation (carriers)")
def get_bank_account(session: SessionDep, actor: WriterDep) -> dict[str, Any]:
    return bank_account.bank_account_out(bank_account.own_organisation(session, actor))


@router.put("/me/organisation/bank-account", response_model=BankAccountOut,
            summary="Set the organisation's bank account (the organisation's admin); the IBAN "
                    "is checked (checksum, format, bank)")
def put_bank_account(body: BankAccountIn, session: SessionDep,
                     actor: WriterDep) -> dict[str, Any]:
    organisation = bank_account.set_bank_account(session, actor, iban=body.iban, bic=body.bic,
                                                 account_holder=body.account_holder)
    return bank_account.bank_account_out(organisation)


@router.get("/applications/{reference}/funds-calls", response_model=FundsCallsOut,
            summary="The calls of funds of an application, with approved, committed, paid, "
                    "open and callable money per budget year")
def list_calls(reference: str, session: SessionDep, actor: CaseReaderDep,
               lang: LanguageDep) -> dict[str, Any]:
    app, calls = payments.calls_of(session, reference, actor)
    return {"reference": app.reference, "years": payments.money_of(session, app),
            "items": [payments.call_out(session, c, p, lang, app.reference) for c, p in calls]}


@router.post("/applications/{reference}/funds-calls", response_model=FundsCallOut,
             status_code=201,
             summary="Call funds of an approved budget year (Mittelabruf; carrier), only once "
                     "the notice is final and within committed less paid and open calls")
def request_call(reference: str, body: FundsCallIn, session: SessionDep, actor: WriterDep,
                 lang: LanguageDep) -> dict[str, Any]:
    call = payments.request_call(session, reference, actor, year=body.year, amount=body.amount,
                                 needed_within_two_months=body.needed_within_two_months,
                                 purpose=body.purpose)
    return _out(session, call, lang)


@router.post("/funds-calls/{call_id}/check", response_model=FundsCallOut,
             summary='Certify a call of funds as factually correct ("sachlich richtig"; staff)')
def check_call(call_id: RowId, session: SessionDep,
               actor: WriterDep, lang: LanguageDep, body: CheckIn | None = None
               ) -> dict[str, Any]:
    call = payments.check_call(session, call_id, actor, note=body.note if body else None)
    return _out(session, call, lang)


@router.post("/funds-calls/{call_id}/order", response_model=FundsCallOut, responses=FOUR_EYES,
             summary="Order the payment of a certified call (staff; not the person who "
                     "certified it): the payment with its value date, the ledger's paid entry")
def order_payment(call_id: RowId, session: SessionDep,
                  actor: WriterDep, lang: LanguageDep, body: OrderIn | None = None
                  ) -> dict[str, Any]:
    payment = payments.order_payment(session, call_id, actor,
                                     value_date=body.value_date if body else None)
    return _out(session, session.get(FundsCall, payment.funds_call_id), lang)


def _staff(actor: Any) -> None:
    if actor.role not in sepa.EXPORT.roles:
        raise NotPermitted("Nur die Verwaltung sieht die Mittelabrufe aller Träger.",
                           "Only staff see the calls of funds of all carriers.")


@router.get("/funds-calls", response_model=list[FundsCallOut],
            summary="Calls of funds of all applications (staff), by status")
def all_calls(session: SessionDep, actor: CaseReaderDep, lang: LanguageDep,
              status: FundsCallStatus | None = None,
              limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    _staff(actor)
    query = (select(FundsCall, Payment, Application.reference)
             .join(Application, Application.id == FundsCall.application_id)
             .outerjoin(Payment, Payment.funds_call_id == FundsCall.id))
    if status:
        query = query.where(FundsCall.status == status.value)
    rows = session.exec(query.order_by(FundsCall.id).limit(limit)).all()
    return [payments.call_out(session, c, p, lang, ref) for c, p, ref in rows]


def _xml(record: Any, status: int) -> Response:
    return Response(record.xml.encode("utf-8"), status_code=status, media_type=XML, headers={
        "Content-Disposition": f'attachment; filename="{sepa.filename(record)}"',
        "X-Sepa-Export-Id": str(record.id), "X-Sepa-Payment-Count": str(record.payment_count),
        "X-Sepa-Total": payments.euros_text(record.total_cents)})


@router.post("/payments/sepa-exports", status_code=201, response_class=Response,
             responses={201: {"content": {XML: {}}, "description": "The pain.001.001.03 file"}},
             summary="Export every ordered payment not exported yet as a SEPA credit-transfer "
                     "file (pain.001.001.03, validated against its XSD); marks them exported")
def export_payments(request: Request, session: SessionDep, actor: WriterDep) -> Response:
    _staff(actor)
    record = sepa.export(session, actor, PayingOffice.of(request.app.state.settings))
    return _xml(record, 201)


@router.get("/payments/sepa-exports/{export_id}", response_class=Response,
            responses={200: {"content": {XML: {}}, "description": "The pain.001.001.03 file"}},
            summary="A SEPA file made earlier, as it was handed out (staff)")
def get_export(export_id: RowId, session: SessionDep,
               actor: CaseReaderDep) -> Response:
    if actor.role == Role.carrier:
        _staff(actor)
    return _xml(sepa.find(session, actor, export_id), 200)
