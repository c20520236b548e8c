"""The settlement over HTTP (issue 16): the settlement view (paid less final grant per year, the
claim with its balance on a day), settle, record a repayment or a late use, all claims as JSON,
CSV or XLSX. Each handler parses, makes one workflow call and presents."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field, StringConstraints

from api.deps import CaseReaderDep, LanguageDep, SessionDep, UnitOfWorkRoute, WriterDep
from api.schemas import VISIBLE, IsoDay, Money, Reason, Strict
from states import ClaimStatus
from workflow import deadlines, exports, settlement
from workflow.claim_tables import RepaymentClaim
from workflow.errors import NotFound

router = APIRouter(prefix="/api/v1", tags=["settlement"], route_class=UnitOfWorkRoute)
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {t: {} for t in exports.MEDIA_TYPES.values()}}}


class SettleIn(Strict):
    reason: Reason | None = Field(
        default=None, description="Grounds of the intended partial revocation (needed when more "
                                  "was paid than the final grant: they go into the hearing)")


class RepaymentIn(Strict):
    amount: Money
    value_date: date | None = Field(default=None, description="Default: today (Berlin)")
    note: Annotated[str, StringConstraints(max_length=500, pattern=VISIBLE)] | None = None


class LateUseIn(Strict):
    payment_id: int = Field(ge=1, le=2**31 - 1)
    used_on: date
    amount: Money | None = Field(default=None, description="Default: the whole payment")


class YearOut(BaseModel):
    year: int
    approved: str
    committed: str
    paid: str
    repaid: str
    final_grant: str | None
    unpaid: str
    difference: str | None
    overpaid: str


class ClaimYearOut(BaseModel):
    year: int
    principal: str
    repaid: str


class BalanceOut(BaseModel):
    on: date
    principal_open: str
    interest: str
    late_use_interest: str
    interest_paid: str
    interest_open: str
    open: str


class RepaymentOut(BaseModel):
    id: int
    amount: str
    value_date: date
    costs: str
    interest: str
    principal: str
    note: str
    recorded_at: datetime
    recorded_by: str | None


class AccountOut(BaseModel):
    holder: str
    iban: str
    bic: str
    bank: str


class ClaimOut(BaseModel):
    id: int
    reference: str | None
    basis: str
    basis_label: str
    status: ClaimStatus
    status_label: str
    principal: str
    effective_on: date
    due_on: date
    interest_rule: str
    years: list[ClaimYearOut]
    balance: BalanceOut
    repayments: list[RepaymentOut]
    account: AccountOut
    paid_at: datetime | None


class SettlementOut(BaseModel):
    reference: str | None
    state: str
    state_label: str
    years: list[YearOut]
    unpaid: str
    overpaid: str
    final_grant_complete: bool
    claim: ClaimOut | None


@router.get("/applications/{reference}/settlement", response_model=SettlementOut,
            summary="The settlement: paid less final grant per budget year, and the repayment "
                    "claim with its balance (§ 49a VwVfG interest) on the day `on`")
def get_settlement(reference: str, session: SessionDep, actor: CaseReaderDep,
                   lang: LanguageDep, on: IsoDay | None = None) -> dict[str, Any]:
    return settlement.view(session, reference, actor, on=on, lang=lang)


@router.post("/applications/{reference}/settlement", response_model=SettlementOut,
             summary="Settle a checked final report (staff): unpaid commitment goes back to the "
                     "budget; money paid beyond the final grant opens the hearing on a partial "
                     "revocation, otherwise the case closes")
def settle(reference: str, session: SessionDep, actor: WriterDep, lang: LanguageDep,
           body: SettleIn | None = None) -> dict[str, Any]:
    settlement.settle(session, reference, actor, reason=body.reason if body else None)
    return settlement.view(session, reference, actor, lang=lang)


@router.get("/applications/{reference}/claim", response_model=ClaimOut,
            summary="The repayment claim with its balance on the day `on` (default today)")
def get_claim(reference: str, session: SessionDep, actor: CaseReaderDep, lang: LanguageDep,
              on: IsoDay | None = None) -> dict[str, Any]:
    out = settlement.view(session, reference, actor, on=on, lang=lang)
    if out["claim"] is None:
        raise NotFound("Für diesen Antrag gibt es keine Rückforderung.",
                       "There is no repayment claim for this application.")
    return out["claim"]


@router.post("/applications/{reference}/claim/repayments", response_model=ClaimOut,
             status_code=201,
             summary="Record a repayment received (staff): interest first, then principal "
                     "(§ 367 BGB); the claim is paid when its balance reaches 0")
def record_repayment(reference: str, body: RepaymentIn, session: SessionDep, actor: WriterDep,
                     lang: LanguageDep) -> dict[str, Any]:
    repayment = settlement.record_repayment(session, reference, actor, amount=body.amount,
                                            value_date=body.value_date, note=body.note)
    claim = session.get(RepaymentClaim, repayment.claim_id)
    return settlement.claim_out(session, claim, repayment.value_date, lang)


@router.post("/applications/{reference}/claim/late-uses", response_model=ClaimOut,
             status_code=201,
             summary="Record that a payment was used later than two months after it was paid "
                     "(staff): § 49a (4) VwVfG interest joins the claim")
def record_late_use(reference: str, body: LateUseIn, session: SessionDep, actor: WriterDep,
                    lang: LanguageDep) -> dict[str, Any]:
    use = settlement.record_late_use(session, reference, actor, payment_id=body.payment_id,
                                     used_on=body.used_on, amount=body.amount)
    claim = settlement.claim_of(session, use.application_id)
    return settlement.claim_out(session, claim, deadlines.local_date(use.recorded_at), lang)


@router.get("/claims", response_model=list[ClaimOut],
            summary="All repayment claims with their balance on the day `on` (staff)")
def all_claims(session: SessionDep, actor: CaseReaderDep, lang: LanguageDep,
               on: IsoDay | None = None, status: ClaimStatus | None = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict[str, Any]]:
    settlement.require_staff(actor)
    day = on or settlement.today()
    return settlement.all_claims(session, day, status, lang)[:limit]


@router.get("/exports/claims", response_class=Response, responses=EXPORT_RESPONSES,
            summary="All repayment claims with their balance on the day `on`, as CSV or XLSX")
def export_claims(session: SessionDep, actor: CaseReaderDep, on: IsoDay | None = None,
                  format: exports.ExportFormat = exports.ExportFormat.xlsx) -> Response:
    settlement.require_staff(actor)
    day = on or settlement.today()
    table = exports.claims_table(session, day)
    return Response(exports.render(table, format), media_type=exports.MEDIA_TYPES[format],
                    headers={"Content-Disposition":
                             f'attachment; filename="rueckforderungen-{day}.{format.value}"'})
