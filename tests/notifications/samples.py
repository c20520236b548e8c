"""Sample contexts for every email kind, shaped like what the engine and the reminders pass."""

from __future__ import annotations

from typing import Any

BASE: dict[str, Any] = {
    "programme_name": "Zusammen im Quartier – Kinder stärken – Zukunft sichern",
    "programme_code": "ZiQ",
    "contact_name": "MAGS NRW",
    "contact_email": "ziq@mags.example",
    "reference": "ZiQ-2021-0042",
    "title": "Stadtteilmütter <Schalke> & Söhne",
    "recipient_name": "Jürgen Weiß",
    "state": "approved",
    "state_label": "Bewilligt",
}

TRANSITION: dict[str, Any] = {
    **BASE,
    "trigger": "approve",
    "reason": "Förderfähig; Größenordnung angemessen.",
    "at": "2020-11-02T09:00:00+00:00",
    "case_officer_name": "Sabine Prüfer",
    "case_officer_email": "pruefung@example.org",
    "documents": ["Satzung des Trägers", "Finanzierungsplan (überarbeitet)"],
    "years": [
        {"year": 2021, "requested_cents": 50_000_00, "approved_cents": 45_000_00,
         "spent_cents": 40_000_00},
        {"year": 2022, "requested_cents": 50_000_00, "approved_cents": 50_000_00,
         "spent_cents": 0},
    ],
    "approved_total_cents": 95_000_00,
    "released_cents": 5_000_00,
    "repayment_cents": 1_234_50,
    "deadlines": [
        {"kind": "interim_report", "period": "2021", "due_date": "2022-05-02",
         "label": "Zwischennachweis"},
        {"kind": "final_report", "period": "", "due_date": "2023-06-30",
         "label": "Verwendungsnachweis"},
        {"kind": "document_request", "period": "", "due_date": "2020-11-16",
         "label": "Nachforderung"},
        {"kind": "report_changes", "period": "", "due_date": "2020-11-16",
         "label": "Nachbesserung"},
        {"kind": "hearing_reply", "period": "", "due_date": "2020-11-16",
         "label": "Stellungnahme zur Anhörung"},
    ],
    "late": True,
}

FUNDING_STOP: dict[str, Any] = {
    **BASE, "state": "draft", "state_label": "Entwurf", "call_title": "ZiQ 2021/2022",
    "stop_since": "2020-11-02T09:00:00+00:00",
    "stop_reason": "Die Mittel aller Haushaltsjahre sind vollständig gebunden.",
}

FUNDING_STOP_LIFTED: dict[str, Any] = {**BASE, "state": "waitlisted",
                                       "state_label": "Warteliste", "call_title": "ZiQ 2021/2022"}

REMINDER: dict[str, Any] = {
    **BASE, "state": "active", "state_label": "In Durchführung",
    "deadline_kind": "final_report", "deadline_label": "Verwendungsnachweis",
    "due_date": "2023-06-30", "step": "overdue", "days": -7, "grace_until": "2023-07-14",
    "case_officer_name": "Sabine Prüfer", "case_officer_email": "pruefung@example.org",
    "mahnung_on": "2023-06-30", "reminded": True,
}


CASE_OFFICER: dict[str, Any] = {
    **BASE, "state": "documents_requested", "state_label": "Nachforderung",
    "trigger": "provide_documents", "received_label": "Nachgereichte Unterlagen",
    "at": "2020-11-12T09:00:00+00:00", "late": True, "message": "Anbei die Satzung.",
    "documents": ["Satzung des Trägers"], "carrier_name": "Verein Nachbarschaft e. V.",
}


# What workflow.finality adds to the emails of its actions (dates as ISO strings).
FINALITY = {"notified_on": "2021-03-01", "appeal_ends_on": "2021-04-01",
            "appeal_waived_at": None, "final_on": "2021-04-02", "final": False}


# What workflow.payments adds to the emails of a call of funds and its payment.
FUNDS_CALL = {"funds_call_id": 3, "year": 2021, "amount_cents": 27_000_00,
              "purpose": "Personalkosten März und April", "needed_by": "2021-05-02",
              "status": "ordered", "check_note": "Belege plausibel", "value_date": "2021-03-03",
              "payee_name": "Verein Nachbarschaft e. V.", "iban_masked": "DE89 **** 3000",
              "remittance": "ZiQ-2021-0042 Mittelabruf 3 HHJ 2021"}


# What workflow.claims and workflow.settlement add to the emails of the settlement.
CLAIM = {"basis": "partial_revocation", "principal_cents": 3_456_78,
         "per_year": {"2021": 3_000_00, "2022": 456_78}, "effective_on": "2023-08-01",
         "due_on": "2023-09-01",
         "interest_rule": "Zinsen nach § 49a Abs. 3 VwVfG: jährlich fünf Prozentpunkte über "
                          "dem Basiszinssatz",
         "account": {"holder": "Landeskasse Düsseldorf", "iban": "DE12 3005 0000 0001 2345 67",
                     "bic": "WELADEDDXXX", "bank": "Helaba"},
         "remittance": "Rückforderung ZiQ-2021-0042"}
SETTLEMENT = {"years": [{"year": 2021, "paid": "45000.00", "final_grant": "42000.00"},
                        {"year": 2022, "paid": "10000.00", "final_grant": None}],
              "released_cents": 5_000_00, "overpaid_cents": 3_000_00, "partial": True}
REPAYMENT = {"claim_id": 1, "amount_cents": 1_000_00, "value_date": "2023-08-15",
             "interest_cents": 12_34, "principal_cents": 987_66, "open_cents": 2_469_12,
             "principal_open_cents": 2_469_12, "due_on": "2023-09-01",
             "interest_paid_cents": 25_00, "repaid_per_year": {"2021": 987_66}}
# What workflow.final_report_check adds to the email of the check.
FINAL_REPORT_CHECK = {
    "final_grants": [
        {"year": 2021, "approved_cents": 45_000_00, "expenses_cents": 52_000_00,
         "final_grant_cents": 41_500_00, "paid_cents": 45_000_00,
         "reason": "Bewirtung „Sommerfest“ nicht förderfähig (500,00 €)"},
        {"year": 2022, "approved_cents": 50_000_00, "expenses_cents": 55_000_00,
         "final_grant_cents": 50_000_00, "paid_cents": 40_000_00, "reason": ""}],
    "final_total_cents": 91_500_00, "paid_total_cents": 85_000_00, "overpaid_cents": 0,
    "outstanding_cents": 6_500_00}


def sample_context(template: str) -> dict[str, Any]:
    """A context with every key the engine (or the reminders) passes for `template`."""
    if template == "funding_stop":
        return dict(FUNDING_STOP)
    if template == "funding_stop_lifted":
        return dict(FUNDING_STOP_LIFTED)
    if template in ("deadline_reminder", "deadline_escalation"):
        return dict(REMINDER)
    if template == "case_officer_notice":
        return dict(CASE_OFFICER)
    if template == "case_returned":
        return {**TRANSITION, "trigger": "return_to_review", "at": "2020-12-01T10:00:00+00:00",
                "reason": "Die Finanzierung 2022 ist nicht belegt.",
                "decided_by": "Dr. Anna Zeichner"}
    if template in ("appeal_waived", "notification_date_set"):
        return {**TRANSITION, **FINALITY}
    if template in ("funds_call_received", "funds_call_checked", "payment_ordered"):
        return {**TRANSITION, **FUNDS_CALL}
    if template == "partial_revocation":
        return {**TRANSITION, "claim": CLAIM}
    if template == "settlement":
        return {**TRANSITION, **SETTLEMENT}
    if template in ("repayment_received", "claim_settled"):
        return {**TRANSITION, **REPAYMENT}
    if template == "final_report_checked":
        return {**TRANSITION, **FINAL_REPORT_CHECK}
    return dict(TRANSITION)
