"""Staff's check of a Verwendungsnachweis (issue 16): a rating and a note for each criterion
(states.staff.FINAL_REPORT_CRITERIA), a summary, and the final grant per budget year under the
call's Finanzierungsart, which staff may lower further with a reason (ineligible expenses).
The state stays `report_submitted`; `close` needs a check of the newest submitted version."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, select

from notifications.formatting import money
from states import ACTIONS, STATE_LABELS, ActionName, FinancingKind, State
from states.labels import Label
from states.staff import FINAL_REPORT_CRITERIA, RATING_SCALE
from workflow import final_report
from workflow.applications import load_application
from workflow.assessment import CriterionConfig, ScaleStep, _parse_ratings
from workflow.budget import parse_euros
from workflow.errors import InvalidInput, NotPermitted, WorkflowError, WrongState
from workflow.final_report import CallTerms, YearActuals
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    FinalReportCheck,
    Programme,
    TransitionRecord,
)
from workflow.notices import email_carrier
from workflow.rows import Actor

CHECK = ACTIONS[ActionName.check_final_report]
CRITERIA = [CriterionConfig(c.code, c.label) for c in FINAL_REPORT_CRITERIA]
SCALE = [ScaleStep(r.code, r.value, r.label) for r in RATING_SCALE]
SUMMARY_MAX = 20_000


def final_grant(terms: CallTerms, approved_plan: Mapping[int, int],
                actuals: Mapping[int, YearActuals]) -> dict[int, int]:
    """The final grant per approved budget year (cents): Fehlbedarf = actual expenses less own
    and third-party money received; Anteil = the call's share of the actual expenses;
    Festbetrag = the fixed sum unless the actual expenses are below it. Never above the
    approved amount of the year (nor the call's maximum), never negative."""
    out: dict[int, int] = {}
    for year, approved in approved_plan.items():
        actual = actuals.get(year) or YearActuals()
        expenses = actual.total_expenses
        if terms.financing_kind == FinancingKind.fixed:
            grant = min(terms.fixed_grant_cents or 0, expenses)
        elif terms.financing_kind == FinancingKind.share:
            grant = expenses * (terms.grant_share_bp or 0) // 10_000
        else:
            grant = expenses - actual.own - actual.third_party
        ceiling = approved if terms.max_grant_cents is None else min(approved,
                                                                     terms.max_grant_cents)
        out[year] = max(0, min(grant, ceiling))
    return out


def _lowered(raw: Any, computed: dict[int, int]) -> dict[int, tuple[int, str]]:
    """{"2021": {"amount": euros, "reason": text}}: a final grant below the computed one."""
    if raw in (None, {}):
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidInput("Kürzungen: je Haushaltsjahr Betrag und Begründung angeben.",
                           "Reductions: give amount and reason per budget year.",
                           field="lowered")
    out = {}
    for key, entry in raw.items():
        where = f"lowered.{key}"
        year = int(key) if str(key).isdigit() else None
        if year not in computed:
            raise InvalidInput(f"Für „{str(key)[:20]}“ wurde nichts bewilligt.",
                               f"Nothing was approved for '{str(key)[:20]}'.", field=where)
        if not isinstance(entry, Mapping):
            raise InvalidInput(f"Kürzung {year}: Betrag und Begründung angeben.",
                               f"Reduction {year}: give amount and reason.", field=where)
        try:
            cents = parse_euros(entry.get("amount"), f"Festgesetzte Zuwendung {year}",
                                f"Final grant {year}")
        except WorkflowError as error:
            raise InvalidInput(error.de, error.en, field=f"{where}.amount") from None
        reason = " ".join(str(entry.get("reason") or "").split())
        if cents > computed[year]:
            raise InvalidInput(
                f"Kürzung {year}: Die festgesetzte Zuwendung darf die berechnete "
                f"({money(computed[year])}) nicht übersteigen.",
                f"Reduction {year}: the final grant may not exceed the computed one "
                f"({money(computed[year], 'en')}).", field=f"{where}.amount")
        if not reason:
            raise InvalidInput(f"Kürzung {year}: Bitte begründen (z. B. nicht förderfähige "
                               "Ausgaben).", f"Reduction {year}: give a reason (e.g. "
                               "ineligible expenses).", field=f"{where}.reason")
        out[year] = (cents, reason[:2000])
    return out


def check_final_report(session: Session, reference: int | str, actor: Actor, *,
                       ratings: Any, summary: str | None, lowered: Any = None,
                       now: datetime | None = None) -> FinalReportCheck:
    """Record staff's check of the newest submitted Verwendungsnachweis and fix the final grant
    per year (ApplicationYear.final_grant_cents); history row and carrier email. Refusals write
    nothing."""
    now = now or datetime.now(UTC)
    if not CHECK.allows(actor.role):
        raise NotPermitted(f"„{CHECK.label.de}“ ist nur der Sachbearbeitung und den "
                           "Zeichnungsbefugten erlaubt.",
                           f"'{CHECK.label.en}' is only allowed for reviewers and approvers.")
    if isinstance(reference, Application):
        reference = reference.id
    app = load_application(session, reference, actor)
    if app.state not in {s.value for s in CHECK.in_states}:
        label = STATE_LABELS[State(app.state)]
        raise WrongState(f"Geprüft wird ein eingereichter Verwendungsnachweis (Status: "
                         f"{label.de}).", f"Only a submitted final report is checked (state: "
                         f"{label.en}).", state=app.state)
    report = final_report.newest_submitted(session, app.id)
    parsed = _parse_ratings(ratings, CRITERIA, SCALE)
    summary = (summary or "").strip()
    missing = [c.label for c in CRITERIA if not parsed[c.code]["rating"]]
    if not summary:
        missing.append(Label("Zusammenfassung", "summary"))
    if missing:
        first = next((c.code for c in CRITERIA if not parsed[c.code]["rating"]), None)
        raise InvalidInput(
            f"Die Prüfung ist nicht vollständig; es fehlt: {', '.join(m.de for m in missing)}.",
            f"The check is not complete; missing: {', '.join(m.en for m in missing)}.",
            field=f"ratings.{first}" if first else "summary")
    if len(summary) > SUMMARY_MAX:
        raise InvalidInput(f"Zusammenfassung: höchstens {SUMMARY_MAX} Zeichen.",
                           f"Summary: at most {SUMMARY_MAX} characters.", field="summary")
    content = final_report.content_of(session, report)
    frame = final_report.frame_of(session, app)
    call = session.get(Call, app.call_id)
    computed = final_grant(call, frame.approved, content.years)
    lowered = _lowered(lowered, computed)
    grants = {str(y): {"computed": c, "final": lowered.get(y, (c, ""))[0],
                       "reason": lowered.get(y, (c, ""))[1]} for y, c in sorted(computed.items())}
    check = FinalReportCheck(report_id=report.id, application_id=app.id, author_id=actor.id,
                             at=now, ratings=parsed, summary=summary, grants=grants)
    session.add(check)
    years = {y.year: y for y in session.exec(select(ApplicationYear).where(
        ApplicationYear.application_id == app.id))}
    for year, row in years.items():
        row.final_grant_cents = grants[str(year)]["final"] if str(year) in grants else 0
        session.add(row)
    record = TransitionRecord(
        application_id=app.id, trigger=CHECK.history_trigger, from_state=app.state,
        to_state=app.state, actor_id=actor.id, actor_role=actor.role.value, at=now,
        payload={"final_report_version": report.version,
                 "final_grant_cents": {y: g["final"] for y, g in grants.items()}})
    session.add(record)
    session.flush()
    programme = session.get(Programme, call.programme_id)
    rows = [{"year": int(y), "approved_cents": frame.approved.get(int(y), 0),
             "expenses_cents": content.years.get(int(y), YearActuals()).total_expenses,
             "final_grant_cents": g["final"], "paid_cents": years[int(y)].paid_cents
             if int(y) in years else 0, "reason": g["reason"]} for y, g in grants.items()]
    final_total = sum(g["final"] for g in grants.values())
    paid_total = sum(r["paid_cents"] for r in rows)
    email_carrier(session, app, programme, CHECK.email, record, [], now,
                  extra={"final_grants": rows, "final_total_cents": final_total,
                         "paid_total_cents": paid_total,
                         "overpaid_cents": max(paid_total - final_total, 0),
                         "outstanding_cents": max(final_total - paid_total, 0)})
    return check


def latest_check(session: Session, app_id: int) -> FinalReportCheck | None:
    return session.exec(select(FinalReportCheck).where(
        FinalReportCheck.application_id == app_id).order_by(FinalReportCheck.id.desc())
        .limit(1)).first()


def checked(session: Session, app_id: int) -> bool:
    """Whether the newest submitted version has a check (the guard of `close`)."""
    report = final_report.newest_submitted(session, app_id)
    check = latest_check(session, app_id)
    return report is not None and check is not None and check.report_id == report.id
