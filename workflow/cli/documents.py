"""`quartier documents list|upload|download|sweep`: the case file (Akte) from the command line."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from states.documents import DocumentPurpose
from workflow import documents, uploads
from workflow.applications import load_application
from workflow.cli.common import (
    AsOpt,
    JsonOpt,
    RefArg,
    actor_for,
    fail,
    options,
    print_json,
    refusals,
    session_scope,
    show,
    table,
    when,
)
from workflow.errors import InvalidInput, NotFound, NotPermitted
from workflow.models import Document
from workflow.settings import get_settings
from workflow.storage import read_chunks

documents_app = typer.Typer(help="Die Akte eines Antrags: Unterlagen und Bescheide.",
                            no_args_is_help=True)


def _readable(actor) -> None:  # noqa: ANN001
    if actor.role.value == "observer":
        raise NotPermitted("Die Begleitung (Beobachterrolle) sieht keine Unterlagen der Akte.",
                           "Observers do not see the documents of a case file.")


def _size(size: int) -> str:
    return f"{size / 1024:.1f} KB".replace(".", ",") if size < 1024 * 1024 \
        else uploads.megabytes(size)


@documents_app.command("list")
def list_documents(reference: RefArg, as_user: AsOpt, as_json: JsonOpt = False) -> None:
    """Alle Unterlagen und Bescheide eines Antrags, in der Reihenfolge des Eingangs."""
    with session_scope(as_json) as session:
        actor = actor_for(session, as_user)
        _readable(actor)
        app = load_application(session, reference, actor)
        rows = documents.case_file_with_names(session, app.id)
        if as_json:
            print_json([documents.document_out(d, name, options.lang) for d, name in rows])
            return
        show(table(["Nr.", "Eingang", "Zweck", "Datei", "Typ", "Größe", "von", "SHA-256"],
                   [(d.id, when(d.uploaded_at), documents.document_out(d, name)["purpose_label"],
                     d.filename, uploads.TYPE_NAMES.get(d.content_type, d.content_type),
                     _size(d.size_bytes), name or "Quartier", d.sha256[:12])
                    for d, name in rows], title=f"Akte {app.reference}"))


@documents_app.command("upload")
def upload(
    reference: RefArg,
    file: Annotated[Path, typer.Argument(metavar="DATEI", help="Die hochzuladende Datei.")],
    as_user: AsOpt,
    purpose: Annotated[str, typer.Option(
        "--purpose", metavar="ZWECK", help="document_request, interim_report, final_report, "
        "hearing_reply oder other.")] = DocumentPurpose.document_request.value,
    deadline: Annotated[int | None, typer.Option(
        "--deadline", metavar="NR", help="Die Frist (Nachforderung), die sie beantwortet.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """Eine Unterlage in die Akte hochladen (mit denselben Prüfungen wie über HTTP)."""
    settings = get_settings()
    policy = uploads.UploadPolicy.of(settings)
    with refusals(as_json):
        parsed = uploads.parse_purpose(purpose)
        policy.admit_uploads()
        if not file.is_file():
            raise InvalidInput(f"{file}: keine lesbare Datei.", f"{file}: not a readable file.",
                               field="file")
    staged = settings.document_store().stage(policy.max_bytes)
    try:
        with refusals(as_json):
            with file.open("rb") as content:
                for chunk in read_chunks(content):
                    policy.write(staged, chunk)
            inspection = uploads.inspect(staged, policy)
        with session_scope(as_json) as session:
            actor = actor_for(session, as_user)
            document = uploads.upload_document(
                session, reference, actor, staged, inspection, filename=file.name,
                purpose=parsed, policy=policy, deadline_id=deadline, now=options.now)
            out = documents.document_out(document, actor.name, options.lang)
    finally:
        staged.discard()
    if as_json:
        print_json(out)
        return
    typer.echo(f"{reference}: Unterlage {out['id']} „{out['filename']}“ "
               f"({uploads.TYPE_NAMES.get(out['content_type'], out['content_type'])}, "
               f"{_size(out['size_bytes'])}) in der Akte.")


@documents_app.command("download")
def download(
    reference: RefArg,
    document_id: Annotated[int, typer.Argument(metavar="NR", help="Nummer der Unterlage.")],
    as_user: AsOpt,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", metavar="DATEI",
        help="Wohin (Standard: der Dateiname in der Akte; - für die Standardausgabe).")] = None,
) -> None:
    """Eine Unterlage der Akte herunterladen."""
    store = get_settings().document_store()
    with session_scope() as session:
        actor = actor_for(session, as_user)
        _readable(actor)
        app = load_application(session, reference, actor)
        document = session.get(Document, document_id)
        if document is None or document.application_id != app.id \
                or not store.exists(document.sha256):
            fail(NotFound(f"Unterlage {document_id} wurde nicht gefunden.",
                          f"Document {document_id} was not found."))
        sha256, filename = document.sha256, document.filename
    if output is not None and str(output) == "-":
        with store.open(sha256) as content:
            for chunk in read_chunks(content):
                sys.stdout.buffer.write(chunk)
        return
    target = output or Path(uploads.safe_filename(filename))
    with store.open(sha256) as content, target.open("wb") as out:
        for chunk in read_chunks(content):
            out.write(chunk)
    typer.echo(f"Unterlage {document_id} gespeichert: {target}")


@documents_app.command("sweep")
def sweep(
    grace_hours: Annotated[float | None, typer.Option(
        "--grace-hours", metavar="STUNDEN",
        help="Nur Inhalte, die älter sind (Standard: QUARTIER_ORPHAN_GRACE_HOURS).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Verwaiste Inhalte löschen: Dateien im Speicher, die keine Unterlage nennt (etwa nach
    einem abgebrochenen Hochladen), nach einer Karenzzeit."""
    settings = get_settings()
    hours = settings.orphan_grace_hours if grace_hours is None else grace_hours
    with session_scope(as_json) as session:
        deleted = documents.sweep_orphans(session, settings.document_store(),
                                          options.now or datetime.now(UTC),
                                          timedelta(hours=hours))
    if as_json:
        print_json({"deleted": deleted})
        return
    typer.echo(f"{len(deleted)} verwaiste Inhalte gelöscht (älter als {hours:g} Stunden).")
