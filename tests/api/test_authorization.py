"""Authorization matrix: every route, every role, own and foreign objects.

Every route of the app must have an entry here (a new endpoint without one fails
`test_matrix_covers_every_route`). Denials are 401, 403 or 404, never 5xx, and change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlmodel import SQLModel, select

import workflow.models  # noqa: F401
from api.app import create_app
from notifications.outbox import OutboxMessage
from states.accounts import TokenPurpose
from states.documents import DocumentPurpose
from tests.api.conftest import (
    PASSWORD,
    Y1,
    Y2,
    ApiWorld,
    api_settings,
    application_body,
    application_in,
    build_world,
    login,
    version_of,
)
from tests.factories import final_report_payload
from tests.workflow.settlement_helpers import fix_final_grant, pay, report
from workflow import (
    budget,
    calendar,
    calls_admin,
    deadlines,
    engine,
    finance_plan,
    onboarding,
    payments,
    programme_admin,
    sepa,
    settlement,
    tokens,
)
from workflow.db import make_engine, unit_of_work
from workflow.documents import record_document
from workflow.models import (
    Application,
    BudgetLine,
    Call,
    Deadline,
    Organisation,
    Programme,
    User,
)
from workflow.payment_tables import Payment
from workflow.reminder_tables import InterimReport
from workflow.security import hash_password

ROLES = ("anonymous", "carrier", "other_carrier", "reviewer", "approver", "admin", "observer")
SPARE_CALL = "ZiQ-SPARE"
PAYING_OFFICE = "DE02120300000000202051"
IBAN = "DE89370400440532013000"


@dataclass
class Env:
    aw: ApiWorld
    client: TestClient
    headers: dict[str, dict[str, str]]
    counter: list[int] = field(default_factory=lambda: [0])

    def unique(self) -> int:
        self.counter[0] += 1
        return self.counter[0]


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> Iterator[Env]:
    db = make_engine(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'q.sqlite3'}")
    SQLModel.metadata.create_all(db)
    aw = build_world(db, budget={Y1: 10**12, Y2: 10**12})  # never runs out of money here
    with unit_of_work(db) as session:
        main = session.get(Call, aw.world.call_id)
        spare = Call(programme_id=main.programme_id, code=SPARE_CALL, title="Reserve",
                     opens_at=main.opens_at, closes_at=main.closes_at, min_grant_cents=0)
        session.add(spare)
        session.flush()
        line = BudgetLine(call_id=spare.id, year=Y1, source="Landesmittel", budget_cents=0,
                          committed_cents=0)
        session.add(line)
        session.flush()
        budget.change_budget(session, line, 500_000_00, datetime.now(UTC), None, "Ansatz")
    settings = api_settings().model_copy(update={"paying_office_iban": PAYING_OFFICE})
    with TestClient(create_app(engine=db, settings=settings)) as client:
        headers = {"anonymous": {}}
        for role in ROLES[1:]:
            headers[role] = login(client, aw.emails[role])
        yield Env(aw, client, headers)
    db.dispose()


# ------------------------------------------------------------------ the matrix

@dataclass
class Req:
    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    watch: str | None = None  # reference whose state and version a denial must not change
    headers: dict[str, str] | None = None  # instead of the role's login (a throwaway account)


@dataclass
class Case:
    expected: dict[str, int]
    request: Callable[[Env, str], Req]


def everyone(status: int, anonymous: int = 401) -> dict[str, int]:
    return {role: (anonymous if role == "anonymous" else status) for role in ROLES}


def reader(ok: int = 200) -> dict[str, int]:
    """Any logged-in user, but a foreign carrier does not see the object."""
    return {**everyone(ok), "other_carrier": 404}


def case_reader(ok: int = 200) -> dict[str, int]:
    """Anyone who may read a single case: not a foreign carrier (404), not the observer, who
    sees aggregates only (403)."""
    return {**reader(ok), "observer": 403}


def carrier_writer(ok: int = 200) -> dict[str, int]:
    return {"anonymous": 401, "carrier": ok, "other_carrier": 404, "reviewer": 403,
            "approver": 403, "admin": 403, "observer": 403}


def admin_only(ok: int = 200) -> dict[str, int]:
    return {**everyone(403), "admin": ok}


def submitted(path: str = "") -> Callable[[Env, str], Req]:
    def build(env: Env, role: str) -> Req:
        ref = application_in(env.aw, "submitted")
        return Req("GET", f"/api/v1/applications/{ref}{path}")
    return build


def fixed(method: str, url: str, **kwargs: Any) -> Callable[[Env, str], Req]:
    return lambda env, role: Req(method, url, kwargs)


def create(env: Env, role: str) -> Req:
    return Req("POST", "/api/v1/applications", {"json": application_body()})


def patch_draft(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "draft")
    return Req("PATCH", f"/api/v1/applications/{ref}", {"json": {"title": "Neu"}}, watch=ref)


def fire(env: Env, role: str) -> Req:
    # Each role tries the step its role is made for; foreign carriers and the rest must fail.
    if role in ("carrier", "other_carrier", "anonymous"):
        ref = application_in(env.aw, "draft")
        trigger = "submit"
    else:
        ref = application_in(env.aw, "submitted")
        trigger = "start_review"
    return Req("POST", f"/api/v1/applications/{ref}/transitions/{trigger}", {"json": {}},
               watch=ref)


def grant_early_start(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "submitted")
    return Req("POST", f"/api/v1/applications/{ref}/early-start",
               {"json": {"reason": "Ferienprogramm"}}, watch=ref)


def waive_appeal(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "approved")
    return Req("POST", f"/api/v1/applications/{ref}/waiver-of-appeal", {}, watch=ref)


def set_notification_date(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "approved")  # approved today
    today = deadlines.local_date(datetime.now(UTC)).isoformat()
    return Req("PUT", f"/api/v1/applications/{ref}/notification-date",
               {"json": {"notified_on": today, "reason": "Zustellung"}}, watch=ref)


def bank_account(env: Env, role: str) -> Req:
    with unit_of_work(env.aw.engine) as session:  # the carriers' contacts are their admins
        for key in ("carrier", "other_carrier"):
            user = session.get(User, env.aw.user_ids[key])
            user.organisation_admin = True
            session.add(user)
    return Req("PUT", f"{A}/me/organisation/bank-account", {"json": {"iban": IBAN}})


def _funds_call(env: Env, checked: bool = False, ordered: bool = False) -> int:
    """A call of funds of a new active (final) application, certified by the second reviewer
    and ordered by the approver if asked; the carrier has a bank account."""
    ref = application_in(env.aw, "active")
    w = env.aw.world
    with unit_of_work(env.aw.engine) as session:
        organisation = session.get(Organisation, w.carrier.organisation_id)
        organisation.iban = IBAN
        session.add(organisation)
        call_id = payments.request_call(session, ref, w.carrier, year=Y1, amount="100",
                                        needed_within_two_months=True).id
        if checked or ordered:
            payments.check_call(session, call_id, w.reviewer2)
        if ordered:
            payments.order_payment(session, call_id, w.approver)
    return call_id


def call_funds(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "active")
    return Req("POST", f"{A}/applications/{ref}/funds-calls", {"json": {
        "year": Y1, "amount": "100", "needed_within_two_months": True}}, watch=ref)


def check_funds_call(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/funds-calls/{_funds_call(env)}/check", {"json": {}})


def order_payment(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/funds-calls/{_funds_call(env, checked=True)}/order",
               {"json": {}})


def sepa_export(env: Env, role: str) -> Req:
    _funds_call(env, ordered=True)
    return Req("POST", f"{A}/payments/sepa-exports")


def sepa_file(env: Env, role: str) -> Req:
    _funds_call(env, ordered=True)
    with unit_of_work(env.aw.engine) as session:
        record = sepa.export(session, env.aw.world.admin, sepa.PayingOffice("Kasse",
                                                                             PAYING_OFFICE))
    return Req("GET", f"{A}/payments/sepa-exports/{record.id}")


def login_as(env: Env, role: str) -> Req:
    email = env.aw.emails.get(role, "niemand@example.org")
    return Req("POST", "/api/v1/auth/token", {"data": {"username": email, "password": PASSWORD}})


def new_user(env: Env, role: str) -> Req:
    return Req("POST", "/api/v1/admin/users", {"json": {
        "email": f"neu{env.unique()}@example.org", "name": "Neu", "role": "reviewer",
        "password": "ein-langes-passwort"}})


def disable_user(env: Env, role: str) -> Req:
    with unit_of_work(env.aw.engine) as session:
        user = User(email=f"weg{env.unique()}@example.org", name="Weg", role="reviewer",
                    password_hash=hash_password("ein-langes-passwort"))
        session.add(user)
        session.flush()
        user_id = user.id
    return Req("POST", f"/api/v1/admin/users/{user_id}/disable")


def throwaway(env: Env, role: str, disabled: bool = False) -> tuple[int, dict[str, str]]:
    """A new account of `role` (for routes that change the account) and its login."""
    email = f"wegwerf{env.unique()}@example.org"
    like = env.aw.actor(role) if role != "anonymous" else None
    with unit_of_work(env.aw.engine) as session:
        user = User(email=email, name="Wegwerf", role=like.role.value if like else "reviewer",
                    organisation_id=like.organisation_id if like else None,
                    password_hash=hash_password(PASSWORD))
        session.add(user)
        session.flush()
        user_id = user.id
    headers = {} if role == "anonymous" or disabled else login(env.client, email)
    if disabled:
        with unit_of_work(env.aw.engine) as session:
            session.get(User, user_id).disabled = True
    return user_id, headers


def own_account(method: str, path: str, **kwargs: Any) -> Callable[[Env, str], Req]:
    def build(env: Env, role: str) -> Req:
        return Req(method, f"{A}{path}", kwargs, headers=throwaway(env, role)[1])
    return build


def other_account(action: str, disabled: bool = False,
                  **kwargs: Any) -> Callable[[Env, str], Req]:
    def build(env: Env, role: str) -> Req:
        user_id = throwaway(env, "reviewer", disabled)[0]
        return Req("POST", f"{A}/admin/users/{user_id}/{action}", kwargs)
    return build


def active(path: str) -> Callable[[Env, str], Req]:
    def build(env: Env, role: str) -> Req:
        ref = application_in(env.aw, "active")
        return Req("GET", f"/api/v1/applications/{ref}{path}")
    return build


def submit_interim(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "active")
    return Req("POST", f"/api/v1/applications/{ref}/interim-reports", {"json": {
        "period": str(Y1), "narrative": "Gut angelaufen.", "spending": {str(Y1): "20000"}}},
        watch=ref)


def review_interim(action: str, body: dict[str, Any]) -> Callable[[Env, str], Req]:
    def build(env: Env, role: str) -> Req:
        ref = application_in(env.aw, "active")
        with unit_of_work(env.aw.engine) as session:
            app = session.exec(select(Application).where(Application.reference == ref)).one()
            deadline = session.exec(select(Deadline).where(
                Deadline.application_id == app.id, Deadline.kind == "interim_report",
                Deadline.period == str(Y1))).one()
            deadline.status = "met"
            session.add(deadline)
            session.add(InterimReport(application_id=app.id, deadline_id=deadline.id,
                                      period=str(Y1), narrative="Bericht",
                                      spending_cents={str(Y1): 20_000_00},
                                      submitted_at=datetime.now(UTC)))
        return Req("POST", f"/api/v1/applications/{ref}/interim-reports/{Y1}/{action}",
                   {"json": body})
    return build


def _requested(env: Env) -> str:
    ref = application_in(env.aw, "in_review")
    with unit_of_work(env.aw.engine) as session:
        engine.fire(session, ref, "request_documents", env.aw.actor("reviewer"),
                    reason="Satzung", payload={"documents": ["Satzung"]})
    return ref


def upload_answer(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/applications/{_requested(env)}/documents", {
        "files": {"file": ("Satzung.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")},
        "data": {"purpose": "document_request"}})


def with_document(download: bool = False) -> Callable[[Env, str], Req]:
    def build(env: Env, role: str) -> Req:
        ref = _requested(env)
        blob = api_settings().document_store().put([b"%PDF-1.4\n%%EOF\n"])
        with unit_of_work(env.aw.engine) as session:
            app = session.exec(select(Application).where(Application.reference == ref)).one()
            document = record_document(session, app.id, blob, filename="Satzung.pdf",
                                       content_type="application/pdf",
                                       purpose=DocumentPurpose.document_request,
                                       actor=env.aw.actor("carrier"), now=datetime.now(UTC))
        path = f"/documents/{document.id}" if download else "/documents"
        return Req("GET", f"{A}/applications/{ref}{path}")
    return build


def calendar_feed(env: Env, role: str) -> Req:
    with unit_of_work(env.aw.engine) as session:
        org = session.get(Organisation, env.aw.world.carrier.organisation_id)
        token = calendar.ensure_token(session, org)
    return Req("GET", f"/api/v1/calendar/{token}.ics")


def requeue_dead(env: Env, role: str) -> Req:
    with unit_of_work(env.aw.engine) as session:
        message = OutboxMessage(template="approval", recipient="traeger@example.org",
                                language="de", context={}, status="dead", attempts=8)
        session.add(message)
        session.flush()
        message_id = message.id
    return Req("POST", f"/api/v1/admin/mail/{message_id}/requeue")


def take(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/applications/{application_in(env.aw, 'submitted')}/take")


def assign(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/assignments", {"json": {
        "references": [application_in(env.aw, "submitted")],
        "case_officer_id": env.aw.user_ids["reviewer"]}})


def write_assessment(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "in_review")
    return Req("PUT", f"{A}/applications/{ref}/assessment", {"json": {
        "ratings": {"zielgruppe": {"rating": "erfuellt", "note": "passt"}}}})


def lift_stop(env: Env, role: str) -> Req:
    with unit_of_work(env.aw.engine) as session:
        call = session.exec(select(Call).where(Call.code == SPARE_CALL)).one()
        if not call.stop_kind:  # declaring over a stop in force is refused
            programme_admin.declare_funding_stop(session, call, "Haushaltssperre",
                                                 env.aw.world.admin)
    return Req("DELETE", f"/api/v1/admin/calls/{SPARE_CALL}/funding-stop")


def declare_stop(env: Env, role: str) -> Req:
    with unit_of_work(env.aw.engine) as session:
        call = session.exec(select(Call).where(Call.code == SPARE_CALL)).one()
        if call.stop_kind:  # declaring over a stop in force is refused
            programme_admin.lift_funding_stop(session, call, env.aw.world.admin)
    return Req("POST", f"/api/v1/admin/calls/{SPARE_CALL}/funding-stop",
               {"json": {"reason": "Haushaltssperre"}})


def new_programme(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/admin/programmes",
               {"json": {"code": f"P{env.unique()}", "name": "Programm"}})


def new_module(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/admin/programmes/ZiQ/modules",
               {"json": {"code": f"M{env.unique()}", "name": "Baustein"}})


def _call_fields(env: Env) -> dict[str, Any]:
    return {"code": f"ZiQ-NEU-{env.unique()}", "title": "Neu",
            "opens_at": "2020-01-01T00:00:00+01:00", "closes_at": "2099-01-01T00:00:00+01:00",
            "budget": [{"year": Y1, "source": "Landesmittel", "amount": "1000"}]}


def new_call(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/admin/calls", {"json": {"programme": "ZiQ", **_call_fields(env)}})


def existing_call(env: Env) -> str:
    """A call of its own for each request (edited or closed once)."""
    fields = _call_fields(env)
    with unit_of_work(env.aw.engine) as session:
        calls_admin.create_call(session, env.aw.world.admin, "ZiQ", fields)
    return fields["code"]


def edit_call(env: Env, role: str) -> Req:
    return Req("PATCH", f"{A}/admin/calls/{existing_call(env)}", {"json": {"title": "Anders"}})


def close_call(env: Env, role: str) -> Req:
    return Req("POST", f"{A}/admin/calls/{existing_call(env)}/close",
               {"json": {"reason": "Vorzeitig"}})


def registration(env: Env, role: str) -> Req:
    n = env.unique()
    return Req("POST", f"{A}/public/registrations", {"json": {
        "name": f"Verein {n} e. V.", "legal_form": "eingetragener_verein", "street": "Weg 1",
        "postcode": "45879", "city": "Gelsenkirchen", "contact_name": "Kim Neu",
        "contact_email": f"neu{n}@verein.example"}})


def decide_registration(action: str, **kwargs: Any) -> Callable[[Env, str], Req]:
    def build(env: Env, role: str) -> Req:
        n = env.unique()
        with unit_of_work(env.aw.engine) as session:
            org, _ = onboarding.register(session, {
                "name": f"Entscheidung {n} e. V.", "legal_form": "stiftung", "street": "Weg 2",
                "postcode": "45879", "city": "Essen", "contact_name": "Lou Neu",
                "contact_email": f"entscheidung{n}@verein.example"})
            org_id = org.id
        return Req("POST", f"{A}/admin/organisations/{org_id}/{action}", kwargs)
    return build


def reset_link(env: Env, role: str) -> Req:
    user_id = throwaway(env, role)[0]
    with unit_of_work(env.aw.engine) as session:
        token, _ = tokens.issue(session, session.get(User, user_id),
                                TokenPurpose.reset_password, datetime.now(UTC), timedelta(hours=1))
    return Req("POST", f"{A}/auth/password-reset/confirm",
               {"json": {"token": token, "new_password": "ganz-neues-geheimnis-17"}})


def invitation(env: Env, role: str) -> Req:
    if role == "carrier":  # the carrier is its organisation's admin; other carriers are not
        with unit_of_work(env.aw.engine) as session:
            session.get(User, env.aw.user_ids["carrier"]).organisation_admin = True
    return Req("POST", f"{A}/me/invitations", {"json": {
        "email": f"eingeladen{env.unique()}@example.org", "name": "Eingeladen"}})


# ------------------------------------------------------------ the Verwendungsnachweis, settlement

CHECK_BODY = {"ratings": {c: {"rating": "erfuellt", "note": "ok"}
                          for c in ("sachbericht", "finanzplan", "belegliste", "zweck")},
              "summary": "Nachweis schlüssig."}


def save_final_report(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "active")
    return Req("PUT", f"{A}/applications/{ref}/final-report",
               {"json": {"sachbericht": final_report_payload({})["sachbericht"]}}, watch=ref)


def submit_final_report(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "active")
    body = final_report_payload({str(Y1): "40000", str(Y2): "45000"})
    return Req("POST", f"{A}/applications/{ref}/final-report/submit", {"json": body}, watch=ref)


def import_belegliste(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "active")
    csv = ("Datum;Empfänger/Einzahler;Zweck;Betrag;Kostenposition;Jahr\r\n"
           f"31.03.{Y1};Lohnbüro;Gehalt;30.000,00;Personalausgaben;{Y1}\r\n").encode("cp1252")
    return Req("POST", f"{A}/applications/{ref}/final-report/belegliste",
               {"files": {"file": ("belege.csv", csv, "text/csv")}}, watch=ref)


def check_report(env: Env, role: str) -> Req:
    ref = application_in(env.aw, "report_submitted")
    return Req("POST", f"{A}/applications/{ref}/final-report/check", {"json": CHECK_BODY},
               watch=ref)


def _overpaid(env: Env) -> str:
    """A case paid 30.000 € of year 1, reported with 20.000 € spent and checked: 10.000 € too
    much was paid."""
    ref = application_in(env.aw, "active")
    w = env.aw.world
    now = datetime.now(UTC)
    with unit_of_work(env.aw.engine) as session:
        organisation = session.get(Organisation, w.carrier.organisation_id)
        organisation.iban = IBAN
        session.add(organisation)
        programme = session.exec(select(Programme).where(Programme.code == "ZiQ")).one()
        programme.config = {**(programme.config or {}), "repayment_account": {
            "holder": "Landeskasse Düsseldorf", "iban": "DE02300500000001234567",
            "bic": "WELADEDDXXX", "bank": "Helaba"}}
        session.add(programme)
        session.flush()
        pay(session, w, ref, Y1, "30000", now=now)
        report(session, w, ref, {str(Y1): "20000", str(Y2): "0"}, now=now)
        fix_final_grant(session, ref, {Y1: 20_000_00, Y2: 0}, world=w, now=now)
    return ref


def settle_case(env: Env, role: str) -> Req:
    ref = _overpaid(env)
    return Req("POST", f"{A}/applications/{ref}/settlement",
               {"json": {"reason": "Ausgaben nicht belegt"}}, watch=ref)


def _claimed(env: Env) -> str:
    """The over-paid case after the hearing and the partial revocation: a claim of 10.000 €."""
    ref = _overpaid(env)
    w = env.aw.world
    with unit_of_work(env.aw.engine) as session:
        settlement.settle(session, ref, w.reviewer, reason="Ausgaben nicht belegt")
        engine.fire(session, ref, "answer_hearing", w.carrier, reason="Einverstanden")
        engine.fire(session, ref, "revoke_partially", w.approver, reason="Teilwiderruf")
    return ref


def claimed(path: str) -> Callable[[Env, str], Req]:
    def build(env: Env, role: str) -> Req:
        return Req("GET", f"{A}/applications/{_claimed(env)}{path}")
    return build


def repay(env: Env, role: str) -> Req:
    ref = _claimed(env)
    return Req("POST", f"{A}/applications/{ref}/claim/repayments",
               {"json": {"amount": "1000.00"}}, watch=ref)


def late_use(env: Env, role: str) -> Req:
    ref = _claimed(env)
    with unit_of_work(env.aw.engine) as session:
        app = session.exec(select(Application).where(Application.reference == ref)).one()
        payment = session.exec(select(Payment).where(Payment.application_id == app.id)).one()
        payment.value_date -= timedelta(days=100)  # paid long ago: used more than two months later
        session.add(payment)
        used_on = (payment.value_date + timedelta(days=90)).isoformat()
    return Req("POST", f"{A}/applications/{ref}/claim/late-uses",
               {"json": {"payment_id": payment.id, "used_on": used_on}}, watch=ref)


def expense_headings(env: Env, role: str) -> Req:
    with unit_of_work(env.aw.engine) as session:
        programme = session.exec(select(Programme).where(Programme.code == "ZiQ")).one()
        headings = [{"code": h.code, "de": h.de, "en": h.en}
                    for h in finance_plan.headings(programme.config)]
    return Req("PUT", f"{A}/admin/programmes/ZiQ/finance-plan-headings",
               {"json": {"headings": headings}})


A = "/api/v1"
MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/openapi.json"): Case(everyone(200, 200), fixed("GET", "/openapi.json")),
    ("GET", "/docs"): Case(everyone(200, 200), fixed("GET", "/docs")),
    ("GET", "/docs/oauth2-redirect"): Case(everyone(200, 200),
                                           fixed("GET", "/docs/oauth2-redirect")),
    ("GET", "/redoc"): Case(everyone(200, 200), fixed("GET", "/redoc")),
    ("GET", "/healthz"): Case(everyone(200, 200), fixed("GET", "/healthz")),
    ("GET", "/readyz"): Case(everyone(200, 200), fixed("GET", "/readyz")),
    ("POST", f"{A}/auth/token"): Case(everyone(200), login_as),
    ("GET", f"{A}/me"): Case(everyone(200), fixed("GET", f"{A}/me")),
    ("POST", f"{A}/auth/logout"): Case(everyone(204), own_account("POST", "/auth/logout")),
    ("POST", f"{A}/me/password"): Case(everyone(200), own_account(
        "POST", "/me/password", json={"current_password": PASSWORD,
                                      "new_password": "ganz-neues-geheimnis-17"})),
    ("GET", f"{A}/calls"): Case(everyone(200), fixed("GET", f"{A}/calls")),
    ("GET", f"{A}/calls/{{code}}"): Case(everyone(200), fixed("GET", f"{A}/calls/ZiQ-2021")),
    # A call's public status: anyone, without a login.
    ("GET", f"{A}/public/calls"): Case(everyone(200, 200), fixed("GET", f"{A}/public/calls")),
    ("GET", f"{A}/public/calls/{{code}}"):
        Case(everyone(200, 200), fixed("GET", f"{A}/public/calls/ZiQ-2021")),
    ("POST", f"{A}/applications"): Case({**carrier_writer(201), "other_carrier": 201}, create),
    ("GET", f"{A}/applications"): Case({**everyone(200), "observer": 403},
                                       fixed("GET", f"{A}/applications")),
    ("GET", f"{A}/applications/{{reference}}"): Case(case_reader(), submitted()),
    ("PATCH", f"{A}/applications/{{reference}}"): Case(carrier_writer(), patch_draft),
    ("GET", f"{A}/applications/{{reference}}/history"): Case(case_reader(), submitted("/history")),
    ("GET", f"{A}/applications/{{reference}}/deadlines"): Case(case_reader(),
                                                              submitted("/deadlines")),
    ("GET", f"{A}/applications/{{reference}}/transitions"):
        Case(case_reader(), submitted("/transitions")),
    ("POST", f"{A}/applications/{{reference}}/transitions/{{trigger}}"):
        Case({**carrier_writer(), "reviewer": 200, "approver": 200}, fire),
    # Vorzeitiger Maßnahmebeginn: staff who review may grant it.
    ("POST", f"{A}/applications/{{reference}}/early-start"):
        Case({**admin_only(403), "anonymous": 401, "reviewer": 200, "approver": 200},
             grant_early_start),
    # Finality (issue 16): the carrier waives its right of appeal; staff set the notification.
    ("POST", f"{A}/applications/{{reference}}/waiver-of-appeal"):
        Case(carrier_writer(), waive_appeal),
    ("PUT", f"{A}/applications/{{reference}}/notification-date"):
        Case({**admin_only(403), "anonymous": 401, "reviewer": 200, "approver": 200},
             set_notification_date),
    # Money after the approval (issue 16): the carriers' bank accounts, calls of funds, their
    # check and the order (staff), the SEPA export (staff and admins).
    ("GET", f"{A}/me/organisation/bank-account"):
        Case({**everyone(403), "anonymous": 401, "carrier": 200, "other_carrier": 200},
             fixed("GET", f"{A}/me/organisation/bank-account")),
    ("PUT", f"{A}/me/organisation/bank-account"):
        Case({**everyone(403), "anonymous": 401, "carrier": 200, "other_carrier": 200},
             bank_account),
    ("GET", f"{A}/applications/{{reference}}/funds-calls"):
        Case(case_reader(), active("/funds-calls")),
    ("POST", f"{A}/applications/{{reference}}/funds-calls"):
        Case(carrier_writer(201), call_funds),
    ("POST", f"{A}/funds-calls/{{call_id}}/check"):
        Case({**admin_only(403), "anonymous": 401, "reviewer": 200, "approver": 200},
             check_funds_call),
    ("POST", f"{A}/funds-calls/{{call_id}}/order"):
        Case({**admin_only(403), "anonymous": 401, "reviewer": 200, "approver": 200},
             order_payment),
    ("GET", f"{A}/funds-calls"):
        Case({**everyone(200), "carrier": 403, "other_carrier": 403, "observer": 403},
             fixed("GET", f"{A}/funds-calls")),
    ("POST", f"{A}/payments/sepa-exports"):
        Case({**everyone(403), "anonymous": 401, "reviewer": 201, "approver": 201,
              "admin": 201}, sepa_export),
    ("GET", f"{A}/payments/sepa-exports/{{export_id}}"):
        Case({**everyone(403), "anonymous": 401, "reviewer": 200, "approver": 200,
              "admin": 200}, sepa_file),
    ("GET", f"{A}/admin/calls/{{code}}/ledger"):
        Case(admin_only(), fixed("GET", f"{A}/admin/calls/ZiQ-2021/ledger")),
    ("POST", f"{A}/admin/calls/{{code}}/budget-changes"):
        Case(admin_only(), fixed("POST", f"{A}/admin/calls/{SPARE_CALL}/budget-changes",
                                 json={"year": Y1, "source": "Landesmittel", "delta": "1000"})),
    ("POST", f"{A}/admin/calls/{{code}}/funding-stop"): Case(admin_only(), declare_stop),
    ("DELETE", f"{A}/admin/calls/{{code}}/funding-stop"): Case(admin_only(), lift_stop),
    # Programmes, modules and calls (workflow/calls_admin.py).
    ("GET", f"{A}/admin/programmes"): Case(admin_only(), fixed("GET", f"{A}/admin/programmes")),
    ("POST", f"{A}/admin/programmes"): Case(admin_only(201), new_programme),
    ("POST", f"{A}/admin/programmes/{{code}}/modules"): Case(admin_only(201), new_module),
    ("PATCH", f"{A}/admin/programmes/{{code}}/modules/{{module}}"):
        Case(admin_only(), fixed("PATCH", f"{A}/admin/programmes/ZiQ/modules/B2",
                                 json={"name": "Gesundes Aufwachsen"})),
    ("POST", f"{A}/admin/calls"): Case(admin_only(201), new_call),
    ("PATCH", f"{A}/admin/calls/{{code}}"): Case(admin_only(), edit_call),
    ("POST", f"{A}/admin/calls/{{code}}/close"): Case(admin_only(), close_call),
    ("GET", f"{A}/admin/audit"): Case(admin_only(), fixed("GET", f"{A}/admin/audit")),
    ("GET", f"{A}/admin/users"): Case(admin_only(), fixed("GET", f"{A}/admin/users")),
    ("POST", f"{A}/admin/users"): Case(admin_only(201), new_user),
    ("POST", f"{A}/admin/users/{{user_id}}/disable"): Case(admin_only(), disable_user),
    ("POST", f"{A}/admin/users/{{user_id}}/enable"):
        Case(admin_only(), other_account("enable", disabled=True)),
    ("POST", f"{A}/admin/users/{{user_id}}/reset-password"):
        Case(admin_only(), other_account("reset-password")),
    ("GET", f"{A}/admin/mail"): Case(admin_only(), fixed("GET", f"{A}/admin/mail")),
    ("GET", f"{A}/admin/mail/dead"): Case(admin_only(), fixed("GET", f"{A}/admin/mail/dead")),
    ("POST", f"{A}/admin/mail/{{outbox_id}}/requeue"): Case(admin_only(), requeue_dead),
    ("GET", f"{A}/workflow/diagram"): Case(everyone(200), fixed("GET", f"{A}/workflow/diagram")),
    # Interim reports and reminders (workflow/reports.py, workflow/reminders.py).
    ("GET", f"{A}/applications/{{reference}}/interim-reports"):
        Case(case_reader(), active("/interim-reports")),
    # The carrier passes authorization; the business rule then refuses before the year's end.
    ("POST", f"{A}/applications/{{reference}}/interim-reports"):
        Case(carrier_writer(409), submit_interim),
    ("POST", f"{A}/applications/{{reference}}/interim-reports/{{period}}/accept"):
        Case({**admin_only(403), "reviewer": 200, "approver": 200},
             review_interim("accept", {"note": "In Ordnung"})),
    ("POST", f"{A}/applications/{{reference}}/interim-reports/{{period}}/request-changes"):
        Case({**admin_only(403), "reviewer": 200, "approver": 200},
             review_interim("request-changes", {"reason": "Belege fehlen"})),
    ("GET", f"{A}/applications/{{reference}}/reminders"): Case(case_reader(), active("/reminders")),
    # The case file (api/routers/documents.py): observers see no documents; staff upload only
    # `other`, so a document request's answer is the carrier's.
    ("GET", f"{A}/applications/{{reference}}/documents"):
        Case({**reader(), "observer": 403}, with_document()),
    ("POST", f"{A}/applications/{{reference}}/documents"):
        Case(carrier_writer(201), upload_answer),
    ("GET", f"{A}/applications/{{reference}}/documents/{{document_id}}"):
        Case({**reader(), "observer": 403}, with_document(download=True)),
    # Onboarding (api/routers/accounts.py): registering and asking for a reset link need no
    # login, nor does choosing a password with a link (the link is the credential).
    ("POST", f"{A}/public/registrations"): Case(everyone(201, 201), registration),
    ("GET", f"{A}/admin/organisations"):
        Case(admin_only(), fixed("GET", f"{A}/admin/organisations")),
    ("POST", f"{A}/admin/organisations/{{organisation_id}}/confirm"):
        Case(admin_only(), decide_registration("confirm")),
    ("POST", f"{A}/admin/organisations/{{organisation_id}}/reject"):
        Case(admin_only(), decide_registration("reject", json={"reason": "Nicht in NRW"})),
    ("POST", f"{A}/auth/password-reset"):
        Case(everyone(202, 202), fixed("POST", f"{A}/auth/password-reset",
                                       json={"email": "niemand@example.org"})),
    ("POST", f"{A}/auth/password-reset/confirm"): Case(everyone(200, 200), reset_link),
    ("POST", f"{A}/me/invitations"): Case({**everyone(403), "carrier": 201}, invitation),
    # Staff work (issue 15): taking and assigning cases, the Prüfvermerk (never the carrier's
    # or the observer's), aggregates (not the carrier's), exports.
    ("POST", f"{A}/applications/{{reference}}/take"):
        Case({**everyone(403), "reviewer": 200, "approver": 200}, take),
    ("POST", f"{A}/assignments"): Case(admin_only(), assign),
    ("GET", f"{A}/applications/{{reference}}/assessment"):
        Case({**everyone(200), "carrier": 403, "other_carrier": 403, "observer": 403},
             submitted("/assessment")),
    ("PUT", f"{A}/applications/{{reference}}/assessment"):
        Case({**everyone(403), "reviewer": 200, "approver": 200}, write_assessment),
    ("PUT", f"{A}/admin/calls/{{code}}/assessment-criteria"): Case(admin_only(), fixed(
        "PUT", f"{A}/admin/calls/{SPARE_CALL}/assessment-criteria", json={"criteria": [
            {"code": "quartiersbezug", "de": "Quartiersbezug", "en": "Neighbourhood"}]})),
    ("GET", f"{A}/aggregates"):
        Case({**everyone(200), "carrier": 403, "other_carrier": 403},
             fixed("GET", f"{A}/aggregates")),
    ("GET", f"{A}/exports/worklist"):
        Case({**everyone(200), "observer": 403}, fixed("GET", f"{A}/exports/worklist")),
    ("GET", f"{A}/admin/calls/{{code}}/ledger/export"):
        Case(admin_only(), fixed("GET", f"{A}/admin/calls/ZiQ-2021/ledger/export")),
    # The Verwendungsnachweis and the settlement (issue 16): the carrier writes and submits its
    # report, staff check it, settle, record repayments and late uses; claims are staff's.
    ("GET", f"{A}/applications/{{reference}}/final-report"):
        Case(case_reader(), active("/final-report")),
    ("PUT", f"{A}/applications/{{reference}}/final-report"):
        Case(carrier_writer(), save_final_report),
    ("POST", f"{A}/applications/{{reference}}/final-report/submit"):
        Case(carrier_writer(), submit_final_report),
    ("POST", f"{A}/applications/{{reference}}/final-report/belegliste"):
        Case(carrier_writer(), import_belegliste),
    ("POST", f"{A}/applications/{{reference}}/final-report/check"):
        Case({**everyone(403), "reviewer": 200, "approver": 200}, check_report),
    ("GET", f"{A}/applications/{{reference}}/settlement"):
        Case(case_reader(), active("/settlement")),
    ("POST", f"{A}/applications/{{reference}}/settlement"):
        Case({**everyone(403), "reviewer": 200, "approver": 200}, settle_case),
    ("GET", f"{A}/applications/{{reference}}/claim"): Case(case_reader(), claimed("/claim")),
    ("POST", f"{A}/applications/{{reference}}/claim/repayments"):
        Case({**everyone(403), "reviewer": 201, "approver": 201}, repay),
    ("POST", f"{A}/applications/{{reference}}/claim/late-uses"):
        Case({**everyone(403), "reviewer": 201, "approver": 201}, late_use),
    ("GET", f"{A}/claims"):
        Case({**everyone(403), "reviewer": 200, "approver": 200}, fixed("GET", f"{A}/claims")),
    ("GET", f"{A}/exports/claims"):
        Case({**everyone(403), "reviewer": 200, "approver": 200},
             fixed("GET", f"{A}/exports/claims")),
    ("PUT", f"{A}/admin/programmes/{{code}}/finance-plan-headings"):
        Case(admin_only(), expense_headings),
    # A secret URL for calendar programs: the token is the credential, no login.
    ("GET", f"{A}/calendar/{{token}}.ics"): Case(everyone(200, 200), calendar_feed),
}


def app_routes() -> set[tuple[str, str]]:
    """Every API route; the portal's pages say who may see them through their own dependencies
    (tests/api/portal, tests/portal)."""
    app = create_app("sqlite://", settings=api_settings())
    return {(method, rc.path) for rc in iter_route_contexts(app.routes)
            for method in (rc.methods or ()) if method != "HEAD"
            and not getattr(getattr(rc.original_route, "endpoint", None), "__module__",
                            "").startswith("api.portal")}


def test_matrix_covers_every_route() -> None:
    routes = app_routes()
    assert routes - set(MATRIX) == set(), "routes without an authorization matrix entry"
    assert set(MATRIX) - routes == set(), "matrix entries for routes that do not exist"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_for_role(env: Env, route: tuple[str, str], role: str) -> None:
    case = MATRIX[route]
    req = case.request(env, role)
    before = version_of(env.aw.engine, req.watch) if req.watch else None
    headers = env.headers[role] if req.headers is None else req.headers
    response = env.client.request(req.method, req.url, headers=headers, **req.kwargs)
    expected = case.expected[role]
    assert response.status_code == expected, (route, role, response.text[:300])
    if expected in (401, 403, 404) or (expected >= 400 and role != "carrier"):
        assert expected in (401, 403, 404)
        assert response.headers["content-type"].startswith("application/problem+json")
        problem = response.json()
        assert problem["status"] == expected and problem["type"].startswith("https://")
        if req.watch:
            assert version_of(env.aw.engine, req.watch) == before, "a denial changed something"


def test_no_carrier_sees_another_organisations_applications(env: Env) -> None:
    own = application_in(env.aw, "submitted")
    foreign = application_in(env.aw, "submitted", carrier="other_carrier")
    client, carrier = env.client, env.headers["carrier"]
    def found(ref: str) -> set[str]:
        return {a["reference"] for a in client.get(f"{A}/applications", params={"q": ref},
                                                   headers=carrier).json()["items"]}
    assert found(own) == {own} and found(foreign) == set()
    other_org = env.aw.world.other_carrier.organisation_id
    found = client.get(f"{A}/applications", params={"organisation": other_org, "q": foreign},
                       headers=carrier).json()
    assert found["total"] == 0 and found["items"] == []
    # Someone else's application looks exactly like one that does not exist.
    hidden = client.get(f"{A}/applications/{foreign}", headers=carrier).json()
    missing = client.get(f"{A}/applications/ZiQ-1999-9999", headers=carrier).json()
    assert (hidden["status"], hidden["type"], hidden["title"]) == (
        missing["status"], missing["type"], missing["title"]) == (404, hidden["type"],
                                                                  "Nicht gefunden")
    for path in ("", "/history", "/deadlines", "/transitions"):
        assert client.get(f"{A}/applications/{foreign}{path}", headers=carrier).status_code == 404
    staff = client.get(f"{A}/applications", params={"q": foreign},
                       headers=env.headers["reviewer"]).json()
    assert [a["reference"] for a in staff["items"]] == [foreign]


def test_disabled_users_token_stops_working(env: Env) -> None:
    client = env.client
    created = client.post(f"{A}/admin/users", headers=env.headers["admin"], json={
        "email": "bald-weg@example.org", "name": "Bald weg", "role": "observer",
        "password": "ein-langes-passwort"})
    assert created.status_code == 201, created.text
    token = login(client, "bald-weg@example.org", "ein-langes-passwort")
    assert client.get(f"{A}/me", headers=token).status_code == 200
    disabled = client.post(f"{A}/admin/users/{created.json()['id']}/disable",
                           headers=env.headers["admin"])
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    refused = client.get(f"{A}/me", headers=token)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    again = client.post(f"{A}/auth/token", data={"username": "bald-weg@example.org",
                                                 "password": "ein-langes-passwort"})
    assert again.status_code == 401


@pytest.mark.parametrize("token", ["", "kein-token", "a.b.c"])
def test_bad_tokens_are_401(env: Env, token: str) -> None:
    response = env.client.get(f"{A}/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
