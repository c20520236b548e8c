"""`quartier notices list|show`: the generated notices (Bescheide) of an application's case file."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated

import typer

from states.documents import DOCUMENT_PURPOSE_LABELS, DocumentPurpose
from workflow import applications, bescheide
from workflow.cli.common import JsonOpt, RefArg, print_json, session_scope, show, table, when
from workflow.errors import NotFound
from workflow.models import Document

notices_app = typer.Typer(help="Bescheide und Antrags-PDFs der Akte.", no_args_is_help=True)


def _row(document: Document) -> dict[str, object]:
    return {"id": document.id, "filename": document.filename, "purpose": document.purpose,
            "purpose_label": DOCUMENT_PURPOSE_LABELS[DocumentPurpose(document.purpose)].de,
            "size_bytes": document.size_bytes, "sha256": document.sha256,
            "created_at": document.uploaded_at, "transition_id": document.transition_id}


@notices_app.command("list")
def list_notices(reference: RefArg, as_json: JsonOpt = False) -> None:
    """Die Bescheide eines Antrags, ältester zuerst."""
    with session_scope(as_json) as session:
        app = applications.load_application(session, reference)
        documents = bescheide.notices_of(session, app.id)
        if as_json:
            print_json([_row(d) for d in documents])
            return
        show(table(["Nr.", "Datei", "Art", "Erstellt", "SHA-256"],
                   [[d.id, d.filename, DOCUMENT_PURPOSE_LABELS[DocumentPurpose(d.purpose)].de,
                     when(d.uploaded_at), d.sha256[:12]] for d in documents]))


@notices_app.command("show")
def show_notice(
    reference: RefArg,
    pdf: Annotated[Path, typer.Option("--pdf", metavar="DATEI",
                                      help="Wohin das PDF geschrieben wird.")],
    kind: Annotated[str | None, typer.Option(
        "--kind", metavar="ART", help="zuwendungsbescheid, ablehnungsbescheid, "
        "widerrufsbescheid oder antrag (Standard: der neueste Bescheid).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Einen Bescheid als PDF-Datei ausgeben (der neueste, oder der neueste der Art)."""
    with session_scope(as_json) as session:
        app = applications.load_application(session, reference)
        documents = bescheide.notices_of(session, app.id)
        if kind is not None:
            label = bescheide.filename_prefix(kind)
            documents = [d for d in documents if d.filename.startswith(f"{label} ")]
        if not documents:
            raise NotFound(
                f"Zum Antrag {reference} liegt {'kein ' + kind if kind else 'kein Bescheid'} vor.",
                f"Application {reference} has {'no ' + kind if kind else 'no notice'}.")
        document = documents[-1]
        with bescheide.notice_store(session).open(document.sha256) as source, \
                open(pdf, "wb") as target:
            shutil.copyfileobj(source, target)
        if as_json:
            print_json({**_row(document), "path": str(pdf)})
            return
        typer.echo(f"{document.filename} → {pdf}")
