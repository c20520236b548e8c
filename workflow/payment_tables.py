"""Tables of calls of funds, payments and SEPA exports (issue 16; imported at the bottom of
workflow.models, so this module imports only sqlmodel/sqlalchemy and states)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, Text
from sqlmodel import Field, SQLModel

from states import FundsCallStatus
from workflow.sqltypes import UTCDateTime


def _ts(**kw: Any) -> Any:
    return Field(sa_column=Column(UTCDateTime(), **kw))


def _money(**kw: Any) -> Any:
    return Field(sa_column=Column(BigInteger, **kw))


class FundsCall(SQLModel, table=True):
    """A call of funds (Mittelabruf): the carrier asks for money of one approved budget year,
    affirming it is needed within two months (ANBest-P no. 1.4). Staff certify it ("sachlich
    richtig"); a second person orders the payment."""

    __tablename__ = "funds_call"
    __table_args__ = (
        CheckConstraint("amount_cents > 0", name="ck_funds_call_positive"),
        Index("ix_funds_call_app_year", "application_id", "year"),
    )
    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id")
    year: int
    amount_cents: int = _money(nullable=False)
    purpose: str = ""  # what the money is for (the payments due)
    needed_by: date  # the last day of the two months the money is needed in
    status: str = Field(default=FundsCallStatus.requested.value, index=True)
    requested_at: datetime = _ts(nullable=False)
    requested_by_id: int = Field(foreign_key="app_user.id")
    checked_at: datetime | None = _ts(nullable=True)
    checked_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    check_note: str | None = None
    ordered_at: datetime | None = _ts(nullable=True)
    ordered_by_id: int | None = Field(default=None, foreign_key="app_user.id")


class Payment(SQLModel, table=True):
    """The payment ordered for a call of funds, with its value date and the payee's account as
    it was when the payment was ordered; exported once as part of a SEPA file."""

    __table_args__ = (CheckConstraint("amount_cents > 0", name="ck_payment_positive"),)
    id: int | None = Field(default=None, primary_key=True)
    funds_call_id: int = Field(foreign_key="funds_call.id", unique=True)
    application_id: int = Field(foreign_key="application.id", index=True)
    year: int
    amount_cents: int = _money(nullable=False)
    value_date: date
    ordered_at: datetime = _ts(nullable=False)
    ordered_by_id: int = Field(foreign_key="app_user.id")
    payee_name: str
    iban: str
    bic: str | None = None
    remittance: str  # the purpose line of the transfer: reference and call
    end_to_end_id: str = Field(unique=True)
    sepa_export_id: int | None = Field(default=None, foreign_key="sepa_export.id", index=True)


class SepaExport(SQLModel, table=True):
    """One pain.001 credit-transfer file for the paying office: the ordered payments not yet
    exported when it was made. The file is kept as it was handed out."""

    __tablename__ = "sepa_export"
    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(unique=True)
    created_at: datetime = _ts(nullable=False)
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    payment_count: int
    total_cents: int = _money(nullable=False)
    debtor_iban: str
    xml: str = Field(sa_column=Column(Text, nullable=False))
