"""Money after the approval in the portal (issue 16): the organisation's bank account, the
carrier's waiver of appeal and calls of funds on the case page, and the staff's payments page
(/zahlungen: check "sachlich richtig", order by a second person, the SEPA export). Every rule is
the engine's (workflow.payments, workflow.finality); a page shows its reasons."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session, select

from api.deps import SessionDep
from api.portal import case_view
from api.portal.base import (
    CarrierDep,
    FormDep,
    StaffDep,
    form_errors,
    form_values,
    page,
    portal_router,
    redirect,
    refused,
)
from api.portal.i18n import _, request_language
from api.portal.organisations import organisation_page
from api.schemas import RowId
from notifications import formatting
from states import (
    ACTIONS,
    FUNDS_NEEDED_WITHIN_MONTHS,
    ActionName,
    FundsCallStatus,
)
from workflow import bank_account, deadlines, finality, payments, queries, repository, sepa
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import Application
from workflow.payment_tables import FundsCall, Payment
from workflow.repository import connection
from workflow.rows import Actor
from workflow.sepa import PayingOffice

router = portal_router()
WAIVE = ACTIONS[ActionName.waive_appeal]
CALL = ACTIONS[ActionName.call_funds]
PAYMENTS_URL = "/zahlungen"


# ------------------------------------------------------------------ what pages show


def year_money(session: Session, app: Application) -> list[dict[str, int]]:
    """Per budget year of the application: approved, committed, called, paid, repaid, open and
    callable money, in cents."""
    out = []
    for year, approved, committed, called, paid, repaid in repository.year_money(
            connection(session), app.id):
        out.append({"year": year, "approved": approved or 0, "committed": committed,
                    "called": called, "paid": paid, "repaid": repaid, "open": called - paid,
                    "callable": max(committed - called, 0)})
    return out


def calls_with_payments(session: Session, app: Application, language: str
                        ) -> list[dict[str, Any]]:
    """The application's calls of funds, oldest first, as the pages list them."""
    _app, calls = payments.calls_of(session, app.id, None)
    return [_call_row(session, call, payment, language) for call, payment in calls]


def _call_row(session: Session, call: FundsCall, payment: Payment | None,
              language: str) -> dict[str, Any]:
    out = payments.call_out(session, call, payment, language)
    out["amount_cents"] = call.amount_cents
    return out


def money_section(session: Session, app: Application, language: str, today: date,
                  staff: bool = False) -> dict[str, Any] | None:
    """What the case pages show of finality, calls and payments; None before the approval."""
    if app.approved_at is None:
        return None
    state = finality.finality_of(app)
    return {"finality": state, "final": state.is_final(today), "staff": staff,
            "may_waive": app.appeal_waived_at is None and not state.is_final(today)
            and app.state in {s.value for s in WAIVE.in_states},
            "may_call": app.state in {s.value for s in CALL.in_states},
            "years": year_money(session, app),
            "calls": calls_with_payments(session, app, language)}


# ------------------------------------------------------------------ the carrier's bank account


@router.post("/organisation/bankverbindung")
def save_bank_account(request: Request, session: SessionDep, actor: CarrierDep,
                      form: FormDep) -> Response:
    """The organisation's admin sets the account payments go to (IBAN checked by schwifty)."""
    values = form_values(form)
    try:
        bank_account.set_bank_account(session, actor, iban=values.get("iban", ""),
                                      bic=values.get("bic"),
                                      account_holder=values.get("account_holder"))
    except WorkflowError as refusal:
        refused(session)
        return organisation_page(request, session, actor, bank_values=values,
                                 bank_errors=form_errors(refusal, request_language(request)),
                                 status=refusal.status)
    return redirect(request, "/organisation#bankverbindung", flash=_(
        request, "Die Bankverbindung Ihrer Organisation ist gespeichert."))


# ------------------------------------------------------------------ the carrier's case


def _case_url(reference: str) -> str:
    return f"/antraege/{reference}"


def _waiver_page(request: Request, session: Session, app: Application,
                 errors: dict[str, str] | None = None, status: int = 200) -> Response:
    return page(request, "portal/case/waiver.html", {
        "app": app, "money": money_section(session, app, request_language(request),
                                           queries.today()),
        "errors": errors or {}}, status_code=status)


@router.get("/antraege/{reference}/rechtsbehelfsverzicht")
def waiver_form(reference: str, request: Request, session: SessionDep,
                actor: CarrierDep) -> Response:
    return _waiver_page(request, session, case_view.application_of(session, reference, actor))


@router.post("/antraege/{reference}/rechtsbehelfsverzicht")
def waive(reference: str, request: Request, session: SessionDep, actor: CarrierDep,
          form: FormDep) -> Response:
    """The waiver of appeal, once the carrier has confirmed it (the notice is final at once)."""
    app = case_view.application_of(session, reference, actor)
    try:
        if form.get("bestaetigt") != "ja":
            raise InvalidInput(
                "Bitte bestätigen Sie, dass Sie auf Rechtsbehelfe gegen den Bescheid verzichten.",
                "Please confirm that you waive your right of appeal against the notice.",
                field="bestaetigt")
        finality.waive_appeal(session, app.id, actor)
    except WorkflowError as refusal:
        refused(session)
        app = case_view.application_of(session, reference, actor)
        return _waiver_page(request, session, app,
                            form_errors(refusal, request_language(request)), refusal.status)
    return redirect(request, _case_url(reference) + "#zahlungen", flash=_(
        request, "Sie haben auf Rechtsbehelfe verzichtet. Der Bescheid ist bestandskräftig; "
                 "Sie können jetzt Mittel abrufen. Eine Bestätigung kommt per E-Mail."))


def _call_page(request: Request, session: Session, app: Application,
               values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
               status: int = 200) -> Response:
    today = queries.today()
    money = money_section(session, app, request_language(request), today)
    years = money["years"] if money else []
    return page(request, "portal/case/funds_call.html", {
        "app": app, "money": money,
        "year_options": [(str(y["year"]), str(y["year"])) for y in years if y["committed"]],
        "needed_by": deadlines.add_months(today, FUNDS_NEEDED_WITHIN_MONTHS),
        "values": values or {}, "errors": errors or {}}, status_code=status)


@router.get("/antraege/{reference}/mittelabruf")
def call_form(reference: str, request: Request, session: SessionDep,
              actor: CarrierDep) -> Response:
    return _call_page(request, session, case_view.application_of(session, reference, actor))


FIELDS = {"amount": "betrag", "year": "jahr", "purpose": "zweck",
          "needed_within_two_months": "benoetigt"}


@router.post("/antraege/{reference}/mittelabruf")
def call_funds(reference: str, request: Request, session: SessionDep, actor: CarrierDep,
               form: FormDep) -> Response:
    """The carrier calls funds of a budget year; a refusal keeps what was typed and shows the
    engine's reason next to its field."""
    app = case_view.application_of(session, reference, actor)
    values = form_values(form)
    try:
        year = values.get("jahr", "")
        if not (year.isdigit() and len(year) == 4):
            raise InvalidInput("Haushaltsjahr: bitte ein Jahr wählen.",
                               "Budget year: please choose a year.", field="year")
        payments.request_call(session, app.id, actor, year=int(year),
                              amount=values.get("betrag", ""),
                              needed_within_two_months=values.get("benoetigt") == "ja",
                              purpose=values.get("zweck"))
    except WorkflowError as refusal:
        refused(session)
        app = case_view.application_of(session, reference, actor)
        errors = {FIELDS.get(k, k): v
                  for k, v in form_errors(refusal, request_language(request)).items()}
        return _call_page(request, session, app, values, errors, refusal.status)
    return redirect(request, _case_url(reference) + "#zahlungen", flash=_(
        request, "Ihr Mittelabruf ist eingegangen. Die Bewilligungsbehörde prüft ihn; eine "
                 "Bestätigung kommt per E-Mail."))


# ------------------------------------------------------------------ staff: /zahlungen


def _waiting(session: Session, status: FundsCallStatus, language: str) -> list[dict[str, Any]]:
    rows = session.exec(select(FundsCall, Application)
                        .join(Application, Application.id == FundsCall.application_id)
                        .where(FundsCall.status == status.value).order_by(FundsCall.id)).all()
    out = []
    for call, app in rows:
        row = _call_row(session, call, None, language)
        room = next((y for y in year_money(session, app) if y["year"] == call.year), None)
        row.update(reference=app.reference, title=app.title, checked_by_id=call.checked_by_id,
                   room=room)
        out.append(row)
    return out


def _unexported(session: Session) -> list[tuple[Payment, str | None]]:
    return list(session.exec(select(Payment, Application.reference)
                             .join(Application, Application.id == Payment.application_id)
                             .where(Payment.sepa_export_id.is_(None))  # type: ignore[union-attr]
                             .order_by(Payment.id)).all())


def payments_page(request: Request, session: Session, actor: Actor,
                  errors: dict[str, str] | None = None, status: int = 200) -> Response:
    language = request_language(request)
    return page(request, "portal/staff/payments.html", {
        "to_check": _waiting(session, FundsCallStatus.requested, language),
        "to_order": _waiting(session, FundsCallStatus.checked, language),
        "unexported": _unexported(session), "me": actor.id,
        "check_label": ACTIONS[ActionName.check_funds_call].label.in_language(language),
        "order_label": ACTIONS[ActionName.order_payment].label.in_language(language),
        "may_decide": ACTIONS[ActionName.check_funds_call].allows(actor.role),
        "errors": errors or {}}, status_code=status)


@router.get(PAYMENTS_URL)
def payments_overview(request: Request, session: SessionDep, actor: StaffDep) -> Response:
    return payments_page(request, session, actor)


def _refused(request: Request, session: Session, actor: Actor, call_id: int,
             refusal: WorkflowError) -> Response:
    refused(session)
    return payments_page(request, session, actor,
                         {f"abruf-{call_id}": refusal.message(request_language(request))},
                         refusal.status)


@router.post(PAYMENTS_URL + "/{call_id}/pruefen")
def check(call_id: RowId, request: Request, session: SessionDep, actor: StaffDep,
          form: FormDep) -> Response:
    """Certify the call as factually correct ("sachlich richtig")."""
    try:
        payments.check_call(session, call_id, actor, note=str(form.get("vermerk") or "") or None)
    except WorkflowError as refusal:
        return _refused(request, session, actor, call_id, refusal)
    return redirect(request, PAYMENTS_URL, flash=_(
        request, "Der Mittelabruf ist sachlich richtig gezeichnet; eine zweite Person ordnet "
                 "die Auszahlung an."))


@router.post(PAYMENTS_URL + "/{call_id}/anordnen")
def order(call_id: RowId, request: Request, session: SessionDep, actor: StaffDep,
          form: FormDep) -> Response:
    """Order the payment (not by whoever certified the call: the engine refuses it)."""
    raw = str(form.get(f"valuta-{call_id}") or "").strip()
    try:
        try:
            value_date = date.fromisoformat(raw) if raw else None
        except ValueError:
            raise InvalidInput("Valutadatum: bitte ein Datum angeben (TT.MM.JJJJ).",
                               "Value date: please give a date.", field="value_date") from None
        payment = payments.order_payment(session, call_id, actor, value_date=value_date)
    except WorkflowError as refusal:
        return _refused(request, session, actor, call_id, refusal)
    return redirect(request, PAYMENTS_URL, flash=_(
        request, "Die Auszahlung ist angeordnet (Valuta %(day)s).",
        day=formatting.day(payment.value_date, request_language(request))))


@router.post(PAYMENTS_URL + "/sepa-export")
def export(request: Request, session: SessionDep, actor: StaffDep, form: FormDep) -> Response:
    """The pain.001 file of every ordered payment not exported yet, as a download."""
    try:
        record = sepa.export(session, actor, PayingOffice.of(request.app.state.settings))
    except WorkflowError as refusal:
        refused(session)
        return payments_page(request, session, actor,
                             {"export": refusal.message(request_language(request))},
                             refusal.status)
    return Response(record.xml.encode("utf-8"), media_type="application/xml", headers={
        "Content-Disposition": f'attachment; filename="{sepa.filename(record)}"'})


def staff_money_section(session: Session, app: Application, language: str
                        ) -> dict[str, Any] | None:
    """The staff case page's "Mittelabrufe und Zahlungen"."""
    return money_section(session, app, language, queries.today(), staff=True)
