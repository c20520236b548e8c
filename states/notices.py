"""Which transition produces which written notice (Bescheid) for the case file and its email.

The approval, rejection and revocation are administrative acts in writing; the submission gives
the carrier its application as a PDF for its records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from states.documents import DocumentPurpose
from states.labels import Label


class NoticeKind(StrEnum):
    zuwendungsbescheid = "zuwendungsbescheid"
    ablehnungsbescheid = "ablehnungsbescheid"
    widerrufsbescheid = "widerrufsbescheid"
    antrag = "antrag"


@dataclass(frozen=True, slots=True)
class Notice:
    kind: NoticeKind
    purpose: DocumentPurpose
    label: Label  # also the start of the file name: "Zuwendungsbescheid ZiQ-2021-0042.pdf"


NOTICES: dict[NoticeKind, Notice] = {
    NoticeKind.zuwendungsbescheid: Notice(
        NoticeKind.zuwendungsbescheid, DocumentPurpose.notice,
        Label("Zuwendungsbescheid", "Grant notice")),
    NoticeKind.ablehnungsbescheid: Notice(
        NoticeKind.ablehnungsbescheid, DocumentPurpose.notice,
        Label("Ablehnungsbescheid", "Rejection notice")),
    NoticeKind.widerrufsbescheid: Notice(
        NoticeKind.widerrufsbescheid, DocumentPurpose.notice,
        Label("Widerrufsbescheid", "Revocation notice")),
    NoticeKind.antrag: Notice(
        NoticeKind.antrag, DocumentPurpose.application, Label("Antrag", "Application")),
}

# The trigger whose firing issues the notice (in the firing's own transaction).
NOTICE_OF_TRIGGER: dict[str, NoticeKind] = {
    "submit": NoticeKind.antrag,
    "approve": NoticeKind.zuwendungsbescheid,
    "reject": NoticeKind.ablehnungsbescheid,
    "revoke": NoticeKind.widerrufsbescheid,
}
