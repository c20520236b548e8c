"""The guards of the transition table: each reads a firing and raises the refusal, with the
reason in German and English, when its condition does not hold. Guards write nothing; those
that parse input record what they parsed on the firing for the effects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import select

from notifications import formatting
from notifications.formatting import money
from states import (
    DEADLINE_LABELS,
    SCHEDULED_START,
    ClaimStatus,
    DeadlineKind,
    DeadlineStatus,
    Guard,
    Role,
    StopKind,
)
from states.documents import answering_purposes
from workflow import (
    assessment,
    claims,
    deadlines,
    documents,
    final_report,
    final_report_check,
    finance_plan,
    inputs,
    reminders,
    repository,
)
from workflow.applications import load_application
from workflow.budget import parse_euros
from workflow.claim_tables import RepaymentClaim
from workflow.errors import (
    CallWindowClosed,
    FourEyesViolation,
    FundingStopInForce,
    GuardFailed,
    Incomplete,
    InvalidInput,
    NotFound,
    NotPermitted,
)
from workflow.firing import Firing
from workflow.repository import connection
from workflow.rows import ApplicationRow, YearRow


def local_text(moment: datetime, language: str = "de") -> str:
    """A moment as Berlin's clock shows it: 01.12.2026, 14:00 Uhr / 1 December 2026, 14:00."""
    return formatting.moment(moment if moment.tzinfo else moment.replace(tzinfo=UTC), language)


def own_organisation(f: Firing) -> None:
    if f.actor.role == Role.carrier and f.actor.organisation_id != f.app.organisation_id:
        raise NotFound("Antrag wurde nicht gefunden.", "Application not found.")


def call_window_open(f: Firing) -> None:
    opens, closes = f.call.opens_at, f.call.closes_at
    opens = opens if opens.tzinfo else opens.replace(tzinfo=UTC)
    closes = closes if closes.tzinfo else closes.replace(tzinfo=UTC)
    if f.now < opens:
        raise CallWindowClosed(
            f"Der Förderaufruf ist noch nicht geöffnet; Anträge ab {local_text(opens)}.",
            f"The call is not open yet; applications from {local_text(opens, 'en')}.",
        )
    if f.now > closes:
        raise CallWindowClosed(
            f"Die Einreichungsfrist ist am {local_text(closes)} abgelaufen. "
            "Der Entwurf bleibt erhalten.",
            f"The submission window closed on {local_text(closes, 'en')}. The draft is kept.",
        )


def no_funding_stop(f: Firing) -> None:
    if f.call.stop_kind:
        stop = f.call.stop_since
        since, since_en = (local_text(stop), local_text(stop, "en")) if stop else ("?", "?")
        raise FundingStopInForce(
            f"Seit {since} gilt ein Fördermittelstopp: Die Mittel dieses Aufrufs sind vollständig "
            "gebunden, neue Anträge können nicht eingereicht werden. Ihr Entwurf bleibt erhalten.",
            f"A funding stop has been in force since {since_en}: the call's money is fully "
            "committed and no new applications can be submitted. Your draft is kept.",
            since=f.call.stop_since.isoformat() if f.call.stop_since else None,
        )


REQUIRED_FIELDS = (
    ("title", "Projekttitel", "project title"),
    ("summary", "Kurzbeschreibung", "summary"),
    ("municipality", "Kommune", "municipality"),
    ("quartier", "Quartier", "neighbourhood"),
    ("project_start", "Projektbeginn", "project start"),
    ("project_end", "Projektende", "project end"),
)


def missing_fields(app: ApplicationRow, years: dict[int, YearRow]) -> list[tuple[str, str, str]]:
    """(field, German, English) for every required field that is empty or inconsistent."""
    missing = []
    for name, de, en in REQUIRED_FIELDS:
        value = getattr(app, name)
        if value is None or (isinstance(value, str) and not value.strip()):
            missing.append((name, de, en))
    if sum(r.requested_cents for r in years.values()) <= 0:
        missing.append(
            ("amounts", "beantragte Beträge je Haushaltsjahr", "requested amounts per budget year")
        )
    return missing


def required_fields_complete(f: Firing) -> None:
    missing = missing_fields(f.app, f.years)
    if finance_plan.headings(f.programme.config):
        # The amounts follow from the plan: the plan is what is missing.
        missing = [(finance_plan.FIELD, "Kosten- und Finanzierungsplan",
                    "cost and financing plan") if m[0] == "amounts" else m for m in missing]
    if missing:
        raise Incomplete(
            "Der Antrag ist unvollständig. Es fehlen: " + ", ".join(m[1] for m in missing) + ".",
            "The application is incomplete. Missing: " + ", ".join(m[2] for m in missing) + ".",
            fields=[m[0] for m in missing],
        )


def finance_plan_balanced(f: Firing) -> None:
    """A programme with cost headings: a plan that balances in every budget year of the
    project period (of the call's budget years) and plans no money outside it."""
    heads = finance_plan.headings(f.programme.config)
    start, end = f.app.project_start, f.app.project_end
    if not heads or start is None or end is None:
        return
    lines, budget_years = repository.plan_and_budget_years(connection(f.session), f.app.id,
                                                           f.call.id)
    f.plan_lines = lines  # the notice of the submission lists them
    plan = finance_plan.from_lines(f.call, heads, lines) if lines else None
    period = [y for y in range(start.year, end.year + 1) if y in budget_years]
    found = finance_plan.problems(plan, period)
    if plan is not None and not found and plan.requested() != {
            y: r.requested_cents for y, r in f.years.items()}:
        found = [(None, "Die beantragten Beträge entsprechen nicht mehr dem Plan; bitte den "
                        "Finanzierungsplan erneut speichern")]
    if found:
        found_en = finance_plan.problems(plan, period, "en") or [
            (None, "the requested amounts no longer match the plan; save the finance plan again")]
        raise Incomplete(
            "Der Kosten- und Finanzierungsplan ist nicht ausgeglichen: "
            + "; ".join(r for _, r in found) + ".",
            "The cost and financing plan does not balance: "
            + "; ".join(r for _, r in found_en) + ".",
            field=finance_plan.FIELD, years=[y for y, _ in found if y is not None],
        )


def project_start_not_past(f: Firing) -> None:
    start = f.app.project_start
    if start and start < deadlines.local_date(f.now) and not f.app.early_start_granted:
        raise GuardFailed(
            f"Der Projektbeginn ({formatting.day(start)}) liegt in der Vergangenheit und ein "
            "vorzeitiger Maßnahmebeginn wurde nicht genehmigt.",
            f"The project start ({formatting.day(start, 'en')}) is in the past and no early "
            "start was granted.",
            field="project_start",
        )


def reason_given(f: Firing) -> None:
    if not (f.reason and f.reason.strip()):
        raise InvalidInput(
            f"Für „{f.spec.label.de}“ ist eine Begründung erforderlich.",
            f"'{f.spec.label.en}' needs a reason.",
            field="reason",
        )


def amounts_given(f: Firing) -> None:
    amounts = inputs.amounts_per_year(f.payload, "amounts", "Bewilligungsbetrag", "Grant amount")
    if amounts is None:
        raise InvalidInput(
            "Bitte den vorgeschlagenen Betrag je Haushaltsjahr angeben.",
            "Give the recommended amount per budget year.",
            field="amounts",
        )
    requested = {y: r.requested_cents for y, r in f.years.items()}
    for year, cents in amounts.items():
        if year not in requested:
            raise InvalidInput(
                f"Für {year} wurde nichts beantragt.",
                f"Nothing was requested for {year}.",
                field="amounts",
            )
        if cents > requested[year]:
            raise InvalidInput(
                f"{year}: Der Betrag ({money(cents)}) übersteigt den beantragten "
                f"Betrag ({money(requested[year])}).",
                f"{year}: the amount ({money(cents, 'en')}) exceeds the requested amount "
                f"({money(requested[year], 'en')}).",
                field="amounts",
            )
    total, minimum = sum(amounts.values()), max(f.call.min_grant_cents, 1)
    if total <= 0 or total < f.call.min_grant_cents:
        raise InvalidInput(
            f"Die Gesamtsumme muss mindestens {money(minimum)} betragen.",
            f"The total must be at least {money(minimum, 'en')}.",
            field="amounts",
        )
    f.parsed.amounts = amounts
    f.record_payload["amounts_cents"] = {str(y): c for y, c in sorted(amounts.items())}


def spending_given(f: Firing) -> None:
    spending = inputs.amounts_per_year(f.payload, "spending", "Ausgaben", "Spending")
    approved = {y: r.approved_cents or 0 for y, r in f.years.items() if r.approved_cents}
    if spending is None or set(spending) != set(approved):
        years = ", ".join(str(y) for y in sorted(approved))
        raise InvalidInput(
            "Bitte die tatsächlichen Ausgaben für jedes bewilligte Haushaltsjahr angeben "
            f"({years}).",
            f"Give the actual spending for every approved budget year ({years}).",
            field="spending",
        )
    for year, cents in spending.items():
        if cents > approved[year]:
            raise InvalidInput(
                f"{year}: Die Ausgaben übersteigen den bewilligten Betrag "
                f"({money(approved[year])}).",
                f"{year}: spending exceeds the approved amount ({money(approved[year], 'en')}).",
                field="spending",
            )
    f.parsed.spending = spending
    f.record_payload["spending_cents"] = {str(y): c for y, c in sorted(spending.items())}


def final_report_complete(f: Firing) -> None:
    """The Verwendungsnachweis (payload or draft) is complete and matches the approved plan;
    the spending per year is its actual expenses."""
    app = load_application(f.session, f.app.id)
    content = final_report.submitted_content(f.session, app, f.payload)
    f.parsed.final_report = content
    f.parsed.spending = content.spending()
    f.record_payload["spending_cents"] = {str(y): c for y, c in content.spending().items()}
    f.record_payload["final_report"] = {"sachbericht_chars": len(content.sachbericht),
                                        "belege": len(content.belege)}


def final_report_checked(f: Firing) -> None:
    if not final_report_check.checked(f.session, f.app.id):
        raise GuardFailed(
            "Der Verwendungsnachweis ist noch nicht geprüft: Bitte zuerst die Prüfung erfassen "
            "und die Zuwendung endgültig festsetzen.",
            "The final report has not been checked yet: record the check and fix the final "
            "grant first.", field="final_report_check")


def four_eyes(f: Firing) -> None:
    reviewers = {f.app.case_officer_id} | repository.reviewers(connection(f.session), f.app.id)
    if f.actor.id in reviewers:
        raise FourEyesViolation(
            "Vier-Augen-Prinzip: Wer einen Antrag geprüft hat, darf ihn nicht selbst bewilligen.",
            "Four-eyes principle: whoever reviewed an application may not approve it.",
        )


def assessment_complete(f: Firing) -> None:
    missing = assessment.incomplete_reason(connection(f.session), f.app.id, f.app.call_id)
    if missing is not None:
        raise GuardFailed(
            "Der Prüfvermerk ist noch nicht vollständig; es fehlt: "
            f"{', '.join(m.de for m in missing)}.",
            f"The assessment is not complete yet; missing: {', '.join(m.en for m in missing)}.",
            field="assessment")


def years_fit_project(f: Firing) -> None:
    """Money is committed only for budget years that lie in the project period."""
    start, end = f.app.project_start, f.app.project_end
    for year, row in sorted(f.years.items()):
        if row.approved_cents and start and end and not start.year <= year <= end.year:
            raise GuardFailed(
                f"Das Haushaltsjahr {year} liegt außerhalb des Projektzeitraums "
                f"({formatting.day(start)} bis {formatting.day(end)}).",
                f"The budget year {year} lies outside the project period "
                f"({formatting.day(start, 'en')} to {formatting.day(end, 'en')}).",
                field="amounts",
            )


def money_available(f: Firing) -> None:
    # The money itself is checked, and committed atomically, when the firing is applied.
    if f.call.stop_kind == StopKind.declared:
        raise FundingStopInForce(
            "Für diesen Aufruf gilt ein erklärter Fördermittelstopp; "
            "es kann nichts bewilligt werden.",
            "A funding stop has been declared for this call; nothing can be approved.",
        )


def approval_notice_exists(f: Firing) -> None:
    if f.app.approved_at is None:
        raise GuardFailed("Es liegt kein Zuwendungsbescheid vor.", "There is no grant notice.")


def hearing_done(f: Firing) -> None:
    hearing = f.deadline(DeadlineKind.hearing_reply)
    if (hearing and hearing.status == DeadlineStatus.open
            and deadlines.local_date(f.now) <= hearing.due_date):
        raise GuardFailed(
            "Die Anhörung läuft noch: Der Träger kann bis "
            f"{formatting.day(hearing.due_date)} Stellung nehmen.",
            f"The hearing is still open until {formatting.day(hearing.due_date, 'en')}.",
        )


def no_grace_period_running(f: Firing) -> None:
    """A decision never falls inside a grace period the authority set (a sent Mahnung's)."""
    today = deadlines.local_date(f.now)
    running = reminders.running_grace_periods(connection(f.session), f.deadlines, today)
    if running:
        grace = running[-1]  # the one that runs longest: the decision waits for it
        kind = DeadlineKind(grace.kind)
        label = DEADLINE_LABELS[kind]
        period = f" {grace.period}" if grace.period else ""
        raise GuardFailed(
            f"„{f.spec.label.de}“ ist noch nicht möglich: Für die Frist „{label.de}{period}“ "
            f"(fällig am {formatting.day(grace.due_date)}) läuft die mit der Mahnung vom "
            f"{formatting.day(deadlines.local_date(grace.mahnung_at))} gesetzte Nachfrist bis "
            f"{formatting.day(grace.until)}. Vor ihrem Ablauf wird nicht entschieden.",
            f"'{f.spec.label.en}' is not possible yet: the deadline '{label.en}{period}' "
            f"(due {formatting.day(grace.due_date, 'en')}) has a grace period until "
            f"{formatting.day(grace.until, 'en')}, set by the formal reminder of "
            f"{formatting.day(deadlines.local_date(grace.mahnung_at), 'en')}. No decision "
            "is taken before it ends.",
            deadline=grace.kind, grace_until=grace.until.isoformat(),
        )


def repayment_given(f: Firing) -> None:
    if "repayment" not in f.payload:
        raise InvalidInput(
            "Bitte den Rückforderungsbetrag angeben (0 wenn keiner).",
            "Give the repayment claim (0 if none).",
            field="repayment",
        )
    cents = parse_euros(f.payload["repayment"], "Rückforderung", "Repayment claim")
    if cents > sum(r.approved_cents or 0 for r in f.years.values()):
        raise InvalidInput(
            "Die Rückforderung übersteigt die bewilligte Summe.",
            "The repayment claim exceeds the approved total.",
            field="repayment",
        )
    f.parsed.repayment_cents = cents
    f.record_payload["repayment_cents"] = cents


def no_open_claim(f: Firing) -> None:
    """No case closes while its repayment claim is open, nor while money paid beyond the final
    grant has no claim (the settlement starts the partial revocation first)."""
    open_claim = f.session.exec(select(RepaymentClaim).where(
        RepaymentClaim.application_id == f.app.id,
        RepaymentClaim.status == ClaimStatus.open.value)).first()
    if open_claim is not None:
        raise GuardFailed(
            "Der Fall kann nicht abgeschlossen werden, solange die Rückforderung offen ist "
            f"(fällig am {formatting.day(open_claim.due_on)}).",
            "The case cannot be closed while the repayment claim is open "
            f"(due {formatting.day(open_claim.due_on, 'en')}).", field="claim")
    over = claims.overpaid(claims.year_money(f.session, f.app.id))
    if over:
        raise GuardFailed(
            "Es wurde mehr ausgezahlt als die festgesetzte Zuwendung "
            f"({formatting.money(sum(over.values()))} zu viel): Bitte zuerst abrechnen "
            "(Teilwiderruf mit Anhörung).",
            "More was paid than the final grant "
            f"({formatting.money(sum(over.values()), 'en')} too much): settle first (partial "
            "revocation after a hearing).", field="final_grant")


# ------------------------------------------------------------------ issue 12: 12 and 13


def budget_years_not_over(f: Firing) -> None:
    """No money is committed for a budget year that is already over (Berlin's calendar)."""
    today = deadlines.local_date(f.now)
    over = [year for year, row in sorted(f.years.items())
            if row.approved_cents and year < today.year]
    if over:
        years = ", ".join(str(y) for y in over)
        raise GuardFailed(
            f"Das Haushaltsjahr {years} ist abgelaufen (heute ist der {formatting.day(today)}): "
            "Für ein abgelaufenes Haushaltsjahr können keine Mittel mehr bewilligt werden.",
            f"The budget year {years} is over (today is {formatting.day(today, 'en')}): no "
            "money can be approved for a budget year that has ended.",
            field="amounts", years=over,
        )


def start_date_reached(f: Firing) -> None:
    """A project starts on its start date at the earliest, unless the carrier waives its right
    of appeal (Rechtsbehelfsverzicht): then the notice is final at once and it may start."""
    key = SCHEDULED_START.waiver_key
    waiver = f.payload.get(key)
    if waiver is not None and not isinstance(waiver, bool):
        raise InvalidInput(
            f"{key}: true oder false erwartet.", f"{key}: true or false expected.", field=key)
    if f.app.appeal_waived_at is not None:  # waived before (action waive_appeal): final
        return
    if waiver:
        if f.actor.role != Role.carrier:
            raise NotPermitted(
                "Auf Rechtsbehelfe verzichten kann nur der Träger.",
                "Only the carrier can waive its right of appeal.", field=key)
        f.record_payload[key] = True
        return
    start, today = f.app.project_start, deadlines.local_date(f.now)
    if start is not None and today < start:
        raise GuardFailed(
            f"Das Projekt kann frühestens am {formatting.day(start)} beginnen (Projektbeginn). "
            "Vorher nur, wenn der Träger auf Rechtsbehelfe gegen den Bescheid verzichtet "
            "(Rechtsbehelfsverzicht).",
            f"The project can start on {formatting.day(start, 'en')} (its start date) at the "
            "earliest; earlier only if the carrier waives its right of appeal.",
            field="project_start", project_start=start.isoformat(),
        )
# --- Documents a transition carries (issue 13) --------------------------------------------------


def _carried_documents(f: Firing) -> list:
    """The uploads this firing carries (`documents.carried`), of the purposes that answer the
    deadlines the transition closes."""
    open_ones = [d for d in f.deadlines if d.kind in f.spec.closes
                 and d.status == DeadlineStatus.open]
    deadline = open_ones[0] if open_ones else None
    return documents.carried(
        f.session, f.app.id, [p.value for p in answering_purposes(f.spec.closes)],
        f.payload.get("document_ids"), deadline.id if deadline else None, None, f.spec.label)


def _record_documents(f: Firing, carried: list) -> None:
    if carried:
        f.parsed.document_ids = [d.id for d in carried]
        f.record_payload["document_files"] = documents.named_in_history(carried)


def documents_attached(f: Firing) -> None:
    _record_documents(f, _carried_documents(f))


def documents_or_explanation(f: Firing) -> None:
    carried = _carried_documents(f)
    explanation = f.payload.get("explanation")
    explained = isinstance(explanation, str) and explanation.strip()
    if not carried and not explained:
        raise InvalidInput(
            "Bitte zuerst mindestens eine Unterlage zur Nachforderung hochladen "
            "(purpose=document_request) oder begründen, warum keine vorliegt (explanation).",
            "Upload at least one document for the request first (purpose=document_request) "
            "or explain why there is none (explanation).", field="document_ids")
    if explained:
        f.record_payload["explanation"] = explanation.strip()[:2000]
    _record_documents(f, carried)


GUARDS: dict[Guard, Callable[[Firing], None]] = {
    Guard.own_organisation: own_organisation,
    Guard.call_window_open: call_window_open,
    Guard.no_funding_stop: no_funding_stop,
    Guard.required_fields_complete: required_fields_complete,
    Guard.finance_plan_balanced: finance_plan_balanced,
    Guard.project_start_not_past: project_start_not_past,
    Guard.reason_given: reason_given,
    Guard.amounts_given: amounts_given,
    Guard.spending_given: spending_given,
    Guard.four_eyes: four_eyes,
    Guard.assessment_complete: assessment_complete,
    Guard.money_available: money_available,
    Guard.approval_notice_exists: approval_notice_exists,
    Guard.hearing_done: hearing_done,
    Guard.no_grace_period_running: no_grace_period_running,
    Guard.repayment_given: repayment_given,
    Guard.years_fit_project: years_fit_project,
    Guard.budget_years_not_over: budget_years_not_over,
    Guard.start_date_reached: start_date_reached,
    Guard.documents_attached: documents_attached,
    Guard.documents_or_explanation: documents_or_explanation,
    Guard.no_open_claim: no_open_claim,
    Guard.final_report_complete: final_report_complete,
    Guard.final_report_checked: final_report_checked,
}
assert set(GUARDS) == set(Guard), "every guard in the table needs an implementation"
