"""Rows as the API and the command line show them: JSON-ready dicts of one shape each.

Money is a string of euros and cents ("50000.00"), never a float; labels in the asked language.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import Session, select

from notifications.formatting import moment, parse_moment
from notifications.outbox import OutboxMessage, aware
from states import (
    DEADLINE_LABELS,
    EXPENSE,
    ROLE_LABELS,
    STATE_LABELS,
    DeadlineKind,
    DeadlineStatus,
    Role,
    State,
)
from states.actions import CallStatus
from workflow import budget, deadlines, payments
from workflow.finality import finality_of
from workflow.models import (
    Application,
    ApplicationYear,
    Call,
    Deadline,
    FinancePlanLine,
    InterimReport,
    Organisation,
    Programme,
    ReminderSent,
    TransitionRecord,
    User,
)
from workflow.repository import connection


def euros(cents: int | None) -> str | None:
    """Cents as a plain euro string with two decimals: 5000050 -> "50000.50"."""
    if cents is None:
        return None
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def user_out(user: User, lang: str = "de") -> dict[str, Any]:
    return {"id": user.id, "email": user.email, "name": user.name, "role": user.role,
            "role_label": ROLE_LABELS[Role(user.role)].in_language(lang),
            "organisation_id": user.organisation_id, "language": user.language,
            "disabled": user.disabled, "organisation_admin": user.organisation_admin}


def application_summary(app: Application, call_code: str, organisation: str,
                        lang: str) -> dict[str, Any]:
    return {
        "id": app.id, "reference": app.reference, "call": call_code,
        "module_code": app.module_code, "organisation_id": app.organisation_id,
        "organisation": organisation, "municipality": app.municipality,
        "quartier": app.quartier, "title": app.title, "state": app.state,
        "state_label": STATE_LABELS[State(app.state)].in_language(lang),
        "version": app.version, "received_at": app.received_at, "updated_at": app.updated_at,
    }


_APP = Application.__table__.c  # type: ignore[attr-defined]
_YEAR = ApplicationYear.__table__.c  # type: ignore[attr-defined]
_CALL = Call.__table__  # type: ignore[attr-defined]
_ORG = Organisation.__table__  # type: ignore[attr-defined]
# One statement for the whole ApplicationOut: the row as committed, call code, organisation name
# and one row per budget year (none for an application without years). Plain Core, no ORM.
_APPLICATION_VIEW = (
    select(*(_APP[name] for name in (
        "id", "reference", "module_code", "organisation_id", "municipality", "quartier", "title",
        "state", "version", "received_at", "updated_at", "summary", "project_start",
        "project_end", "own_contribution_cents", "early_start_granted", "case_officer_id",
        "approved_by_id", "assessment", "approved_at", "waitlisted_at", "repayment_claim_cents",
        "notified_on", "appeal_waived_at", "created_at")),
        _CALL.c.code.label("call_code"), _ORG.c.name.label("organisation_name"),
        _YEAR.year, _YEAR.requested_cents, _YEAR.approved_cents, _YEAR.spent_cents)
    .select_from(Application.__table__  # type: ignore[attr-defined]
                 .join(_CALL, _CALL.c.id == _APP.call_id)
                 .outerjoin(_ORG, _ORG.c.id == _APP.organisation_id)
                 .outerjoin(ApplicationYear.__table__,  # type: ignore[attr-defined]
                            _YEAR.application_id == _APP.id))
    .where(_APP.id == bindparam("application_id"))
    .order_by(_YEAR.year)
)


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _as_is(value: Any) -> Any:
    return value


def application_out(session: Session, application_id: int, lang: str,
                    iso: bool = False) -> dict[str, Any]:
    """ApplicationOut of the application as it stands in the session's transaction, read with
    one statement. `iso`: dates as ISO strings (as the JSON encoder writes them), JSON-ready."""
    rows = connection(session).execute(_APPLICATION_VIEW, {"application_id": application_id}).all()
    a, when = rows[0], (_iso if iso else _as_is)
    return {
        **application_summary(a, a.call_code, a.organisation_name or "", lang),
        "received_at": when(a.received_at), "updated_at": when(a.updated_at),
        "summary": a.summary, "project_start": when(a.project_start),
        "project_end": when(a.project_end), "own_contribution": euros(a.own_contribution_cents),
        "early_start_granted": a.early_start_granted, "case_officer_id": a.case_officer_id,
        "approved_by_id": a.approved_by_id, "assessment": a.assessment,
        "approved_at": when(a.approved_at), "waitlisted_at": when(a.waitlisted_at),
        "repayment_claim": euros(a.repayment_claim_cents), "created_at": when(a.created_at),
        "finality": finality_of(a).as_dict(deadlines.local_date(datetime.now(UTC)), iso=iso),
        "years": [{"year": y.year, "requested": euros(y.requested_cents),
                   "approved": euros(y.approved_cents), "spent": euros(y.spent_cents)}
                  for y in rows if y.year is not None],
        "finance_plan": finance_plan_out(session, application_id),
    }


_PLAN = FinancePlanLine.__table__.c  # type: ignore[attr-defined]
_PLAN_VIEW = (select(_PLAN.year, _PLAN.kind, _PLAN.heading, _PLAN.cents)
              .where(_PLAN.application_id == bindparam("application_id"))
              .order_by(_PLAN.year, _PLAN.id))


def finance_plan_out(session: Session, application_id: int) -> dict[str, Any] | None:
    """The stored plan per budget year in euros (expenses by heading, financing lines, sums and
    the difference), or None when the application has none."""
    rows = connection(session).execute(_PLAN_VIEW, {"application_id": application_id}).all()
    if not rows:
        return None
    years: dict[int, dict[str, Any]] = {}
    for year, kind, heading, cents in rows:
        y = years.setdefault(year, {"expenses": {}, "own": 0, "third_party": 0, "grant": 0})
        if kind == EXPENSE:
            y["expenses"][heading] = cents
        else:
            y[kind] = cents
    out = {}
    for year, y in sorted(years.items()):
        spent = sum(y["expenses"].values())
        financed = y["own"] + y["third_party"] + y["grant"]
        out[str(year)] = {"expenses": {h: euros(c) for h, c in y["expenses"].items()},
                          **{k: euros(y[k]) for k in ("own", "third_party", "grant")},
                          "total_expenses": euros(spent), "total_financing": euros(financed),
                          "difference": euros(spent - financed)}
    return out


def history_entry(record: TransitionRecord, actor_name: str | None,
                  iso: bool = False) -> dict[str, Any]:
    """HistoryEntry of a record; `iso`: JSON-ready (the payload is JSON already)."""
    return {"id": record.id, "trigger": record.trigger, "from_state": record.from_state,
            "to_state": record.to_state, "actor_id": record.actor_id, "actor_name": actor_name,
            "actor_role": record.actor_role, "at": _iso(record.at) if iso else record.at,
            "reason": record.reason, "late": record.late, "payload": record.payload or {}}


def deadline_out(deadline: Deadline, today: date, lang: str) -> dict[str, Any]:
    return {"kind": deadline.kind,
            "label": DEADLINE_LABELS[DeadlineKind(deadline.kind)].in_language(lang),
            "period": deadline.period, "due_date": deadline.due_date, "status": deadline.status,
            "overdue": deadline.status == DeadlineStatus.open and deadline.due_date < today,
            "opened_at": deadline.opened_at, "closed_at": deadline.closed_at}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def call_status(session: Session, call: Call, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    programme = session.get(Programme, call.programme_id)
    opens, closes = _aware(call.opens_at), _aware(call.closes_at)
    paid = payments.totals_by_year(payments.ledger_by_line(session, call.id))
    return {
        "code": call.code, "title": call.title, "programme": programme.name if programme else "",
        "policy": call.policy, "min_grant": euros(call.min_grant_cents),
        "earliest_project_start": call.earliest_project_start,
        "min_project_months": call.min_project_months,
        "submission_window": {"opens_at": opens, "closes_at": closes,
                              "open_now": opens <= now <= closes},
        "funding_stop": {"in_force": bool(call.stop_kind), "kind": call.stop_kind,
                         "since": call.stop_since, "reason": call.stop_reason},
        "years": [{"year": y.year, "budget": euros(y.budget_cents),
                   "committed": euros(y.committed_cents), "available": euros(y.available_cents),
                   "available_cents": y.available_cents,
                   "paid": euros(paid.get(y.year, {}).get("paid_cents", 0)),
                   "repaid": euros(paid.get(y.year, {}).get("repaid_cents", 0))}
                  for y in budget.years(session, call.id).values()],
    }


def report_out(report: InterimReport) -> dict[str, Any]:
    return {"id": report.id, "period": report.period, "status": report.status,
            "narrative": report.narrative,
            "spending": {y: euros(int(c)) for y, c in report.spending_cents.items()},
            "late": report.late, "submitted_at": report.submitted_at,
            "reviewed_at": report.reviewed_at, "review_note": report.review_note}


def reminder_out(row: ReminderSent) -> dict[str, Any]:
    return {"deadline_id": row.deadline_id, "due_date": row.due_date, "step": row.step,
            "status": row.status, "scheduled_on": row.scheduled_on, "at": row.at,
            "recipient": row.recipient, "grace_until": row.grace_until}


def outbox_out(message: OutboxMessage) -> dict[str, Any]:
    return {"id": message.id, "status": message.status, "attempts": message.attempts,
            "template": message.template, "recipient": message.recipient,
            "language": message.language, "subject": message.subject,
            "message_id": message.message_id, "application_id": message.application_id,
            "created_at": aware(message.created_at),
            "next_attempt_at": aware(message.next_attempt_at),
            "sent_at": aware(message.sent_at), "last_error": message.last_error}


# ------------------------------------------------------------------ public call status (no login)


def _berlin(moment_: datetime | None) -> datetime | None:
    """A moment in Berlin time, its offset shown (+01:00, +02:00)."""
    return None if moment_ is None else parse_moment(moment_)


def public_call_status(session: Session, call: Call, now: datetime | None = None) -> dict[str, Any]:
    """What anyone may read about a call without logging in: window, funding stop and the status
    in plain words. No ids, no policy, no money: those are for the authority."""
    now = now or datetime.now(UTC)
    programme = session.get(Programme, call.programme_id)
    opens, closes = _aware(call.opens_at), _aware(call.closes_at)
    since = _aware(call.stop_since) if call.stop_since else None
    in_force = bool(call.stop_kind)
    if in_force:
        status = CallStatus.funding_stop
        de = f"Fördermittelstopp seit {moment(since, 'de') if since else '–'}: "
        en = f"Funding stop since {moment(since, 'en') if since else '–'}: "
        if now > closes:
            de += f"die Einreichungsfrist ist am {moment(closes, 'de')} abgelaufen."
            en += f"the submission window closed on {moment(closes, 'en')}."
        else:
            de += "Anträge können derzeit nicht eingereicht werden."
            en += "applications cannot be submitted at present."
    elif now < opens:
        status = CallStatus.not_yet_open
        de = f"Anträge können ab {moment(opens, 'de')} eingereicht werden."
        en = f"Applications can be submitted from {moment(opens, 'en')}."
    elif now > closes:
        status = CallStatus.closed
        de = f"Die Einreichungsfrist ist am {moment(closes, 'de')} abgelaufen."
        en = f"The submission window closed on {moment(closes, 'en')}."
    else:
        status = CallStatus.open
        de = f"Anträge können bis {moment(closes, 'de')} eingereicht werden."
        en = f"Applications can be submitted until {moment(closes, 'en')}."
    return {
        "code": call.code, "title": call.title, "programme": programme.name if programme else "",
        "open_now": opens <= now <= closes,
        "submission_window": {"opens_at": _berlin(opens), "closes_at": _berlin(closes)},
        "funding_stop": {"in_force": in_force, "kind": call.stop_kind, "since": _berlin(since),
                         "reason": call.stop_reason},
        "status": status.value, "status_label": {"de": de, "en": en},
    }
