"""The carrier's Verwendungsnachweis form (/antraege/{reference}/verwendungsnachweis): the
Sachbericht, per approved year the actual expenses by heading of the approved plan and the
financing received, the Belegliste as rows, a CSV/XLSX import and uploads. "Speichern" keeps
the draft, "Importieren" replaces the Belegliste from the file, "Einreichen" fires
`submit_final_report` with the draft. A refusal shows every reason at its field and summarised,
keeps what was typed, and writes nothing."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlmodel import Session
from starlette.datastructures import FormData, UploadFile

from api.deps import SessionDep
from api.portal import case_forms
from api.portal import case_view as view
from api.portal.base import CarrierDep, FormDep, form_values, page, portal_router, redirect, refused
from api.portal.i18n import _, request_language
from workflow import belegliste, engine, final_report
from workflow.errors import InvalidInput, WorkflowError
from workflow.models import Application
from workflow.rows import Actor

router = portal_router()
FORM = case_forms.FINAL
IMPORT_FILE = "belegliste_datei"
EMPTY_ROWS = 3
MAX_ROWS = 500
BELEG_KEYS = ("year", "heading", "date", "party", "purpose", "amount", "number")
RECEIVED = {"own": "eigen", "third_party": "dritt", "grant": "zuwendung"}


def amount_text(cents: int) -> str:
    """Cents as a German amount without the sign: 12.500,00."""
    return f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"


def _values_of(content: final_report.Content) -> dict[str, str]:
    values = {"sachbericht": content.sachbericht}
    for year, actual in content.years.items():
        for code, cents in actual.expenses.items():
            values[f"ist_{year}_{code}"] = amount_text(cents)
        for key, prefix in RECEIVED.items():
            values[f"{prefix}_{year}"] = amount_text(getattr(actual, key))
    for i, b in enumerate(content.belege):
        values.update({f"beleg_{i}_year": str(b.year), f"beleg_{i}_heading": b.heading,
                       f"beleg_{i}_date": b.paid_on.strftime("%d.%m.%Y"),
                       f"beleg_{i}_party": b.party, f"beleg_{i}_purpose": b.purpose,
                       f"beleg_{i}_amount": amount_text(b.amount_cents),
                       f"beleg_{i}_number": b.number})
    values["belege_anzahl"] = str(len(content.belege))
    return values


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return value.strip() if isinstance(value, str) else ""


def _rows(data: FormData) -> int:
    count = _text(data, "belege_anzahl")
    return min(int(count), MAX_ROWS) + EMPTY_ROWS if count.isdigit() else EMPTY_ROWS


def content_of_form(data: FormData, frame: final_report.Frame) -> tuple[dict[str, Any], list[int]]:
    """What the form says, in the engine's shape (rows left empty are no Belege), and the form
    row of each Beleg."""
    nachweis = {}
    for year in frame.approved:
        lines: dict[str, Any] = {"expenses": {
            h.code: _text(data, f"ist_{year}_{h.code}") for h in frame.headings
            if _text(data, f"ist_{year}_{h.code}")}}
        for key, prefix in RECEIVED.items():
            if _text(data, f"{prefix}_{year}"):
                lines[key] = _text(data, f"{prefix}_{year}")
        nachweis[str(year)] = lines
    belege = []
    for i in range(_rows(data)):
        row = {k: _text(data, f"beleg_{i}_{k}") for k in BELEG_KEYS}
        if not any(v for k, v in row.items() if k not in ("year", "heading")):
            continue
        try:
            row["date"] = belegliste.parse_day(row["date"]).isoformat() if row["date"] else None
        except ValueError:
            raise InvalidInput(f"Beleg {i + 1}: „{row['date'][:20]}“ ist kein Datum "
                               "(TT.MM.JJJJ).", f"Receipt {i + 1}: '{row['date'][:20]}' is no "
                               "date (DD.MM.YYYY).", field=f"belege.{i}.date") from None
        belege.append({**row, "year": row["year"] or "-", "_row": i})
    return ({"sachbericht": _text(data, "sachbericht"), "nachweis": nachweis,
             "belege": [{k: v for k, v in b.items() if k != "_row"} for b in belege]},
            [b["_row"] for b in belege])


def _form_field(name: str, importing: bool, rows: list[int]) -> str:
    """The form field a refusal names (a Beleg by its row in the form)."""
    parts = name.split(".")
    if parts[0] == "belege" and len(parts) >= 2 and parts[1].isdigit():
        index = int(parts[1])
        parts[1] = str(rows[index] if index < len(rows) else index)
    if name in ("file",) and importing:
        return IMPORT_FILE
    if name in ("file", "document_ids"):
        return case_forms.FILES
    if parts[0] == "nachweis" and len(parts) >= 2:
        if len(parts) == 4 and parts[2] == "expenses":
            return f"ist_{parts[1]}_{parts[3]}"
        if len(parts) == 3 and parts[2] in RECEIVED:
            return f"{RECEIVED[parts[2]]}_{parts[1]}"
        return f"nachweis_{parts[1]}"
    if parts[0] == "belege" and len(parts) == 3:
        return f"beleg_{parts[1]}_{parts[2]}"
    if parts[0] == "belege" and len(parts) == 2:
        return f"beleg_{parts[1]}_amount"
    return name if name in ("sachbericht",) else ""


def _errors(error: WorkflowError, language: str, importing: bool,
            rows: list[int]) -> dict[str, str]:
    problems = error.extra.get("problems")
    if problems:
        out: dict[str, str] = {}
        for p in problems:
            field = _form_field(p["field"], importing, rows)
            text = p["en"] if language == "en" else p["de"]
            out[field] = f"{out[field]} {text}" if field in out else text
        return out
    return {_form_field(str(error.extra.get("field") or ""), importing, rows):
            error.message(language)}


def _labels(request: Request, frame: final_report.Frame, rows: int) -> dict[str, str]:
    lang = request_language(request)
    labels = {"sachbericht": _(request, "Sachbericht"), IMPORT_FILE: _(request, "Belegliste "
              "aus Datei"), case_forms.FILES: _(request, "Anlagen zum Sachbericht")}
    for year in frame.approved:
        labels[f"nachweis_{year}"] = _(request, "Zahlenmäßiger Nachweis") + f" {year}"
        for h in frame.headings:
            labels[f"ist_{year}_{h.code}"] = f"{h.label(lang)} {year}"
        labels[f"eigen_{year}"] = _(request, "Eigenmittel") + f" {year}"
        labels[f"dritt_{year}"] = _(request, "Drittmittel") + f" {year}"
        labels[f"zuwendung_{year}"] = _(request, "Erhaltene Zuwendung") + f" {year}"
    for i in range(rows):
        for key, label in (("year", "Jahr"), ("heading", "Kostenposition"), ("date", "Datum"),
                           ("party", "Empfänger/Einzahler"), ("purpose", "Zweck"),
                           ("amount", "Betrag"), ("number", "Belegnummer")):
            labels[f"beleg_{i}_{key}"] = _(request, "Beleg") + f" {i + 1}, " + _(request, label)
    return labels


def _show(request: Request, session: Session, reference: str, actor: Actor,
          errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
          status_code: int = 200) -> Response:
    app = view.application_of(session, reference, actor)
    frame = final_report.frame_of(session, app)
    report = final_report.newest(session, app.id)
    if values is None:
        values = _values_of(final_report.content_of(session, report)) if report else {}
        rows = int(values.get("belege_anzahl") or 0) + EMPTY_ROWS
    else:
        rows = _rows_of_values(values)
    context = case_forms._context(request, session, app, FORM)
    lang = request_language(request)
    return page(request, "portal/case/final_report.html", {
        **context, "errors": errors or {}, "values": values, "rows": range(rows),
        "row_count": rows, "frame": frame, "report": report,
        "headings": [(h.code, h.label(lang)) for h in frame.headings],
        "years_approved": sorted(frame.approved.items()),
        "labels": _labels(request, frame, rows), "import_field": IMPORT_FILE,
        "allowed": case_forms._allowed(request, session, app, actor, FORM),
        "editable": app.state in {s.value for s in final_report.EDIT.in_states},
        "minimum": final_report.SACHBERICHT_MIN}, status_code=status_code)


def _rows_of_values(values: dict[str, str]) -> int:
    count = values.get("belege_anzahl", "")
    return (min(int(count), MAX_ROWS) if count.isdigit() else 0) + EMPTY_ROWS


@router.get("/antraege/{reference}/verwendungsnachweis")
def final_form(reference: str, request: Request, session: SessionDep,
               actor: CarrierDep) -> Response:
    return _show(request, session, reference, actor)


@router.post("/antraege/{reference}/verwendungsnachweis")
def final_report_post(reference: str, request: Request, session: SessionDep, actor: CarrierDep,
                      form: FormDep) -> Response:
    action = _text(form, "aktion") or "einreichen"
    importing = action == "importieren"
    app: Application = view.application_of(session, reference, actor)
    rows: list[int] = []
    try:
        frame = final_report.frame_of(session, app)
        typed, rows = content_of_form(form, frame)
        case_forms.file_uploads(request, session, app, actor, form, FORM.purpose)
        final_report.save_draft(session, app.reference, actor, typed)
        if importing:
            upload = form.get(IMPORT_FILE)
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise InvalidInput("Bitte eine Belegliste (CSV oder XLSX) auswählen.",
                                   "Choose a list of receipts (CSV or XLSX).", field="file")
            upload.file.seek(0)
            data = upload.file.read(belegliste.MAX_BYTES + 1)
            final_report.file_belege(session, app.reference, actor,
                                     belegliste.parse_file(data, frame))
        elif action == "einreichen":
            engine.fire(session, app.reference, "submit_final_report", actor,
                        reason="Verwendungsnachweis")
    except WorkflowError as error:
        refused(session)
        lang = request_language(request)
        errors = _errors(error, lang, importing, rows)
        if case_forms._files(form) or (importing and form.get(IMPORT_FILE)):
            errors.setdefault(case_forms.FILES, _(request, "Bitte wählen Sie die Dateien "
                                                  "erneut aus; es wurde nichts gespeichert."))
        values = form_values(form)
        used = [i for i in range(_rows(form)) if any(
            _text(form, f"beleg_{i}_{k}") for k in BELEG_KEYS if k not in ("year", "heading"))]
        values["belege_anzahl"] = str(max(used) + 1 if used else 0)
        return _show(request, session, reference, actor, errors, values, error.status)
    if action == "einreichen":
        return redirect(request, f"/antraege/{reference}", flash=_(request, FORM.done))
    done = (_(request, "Die Belegliste wurde übernommen.") if importing
            else _(request, "Ihr Entwurf wurde gespeichert."))
    return redirect(request, f"/antraege/{reference}/verwendungsnachweis", flash=done)
