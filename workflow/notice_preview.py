"""The Zuwendungsbescheid before signing (issue 15): the approval is fired for real inside a
savepoint, with a store that only keeps the rendered PDF in memory, and then undone: money,
history, case file and emails roll back. So the preview is exactly the notice the signature
would issue now, and a signature the engine would refuse (four-eyes, no money) gives its reason
instead of a preview."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import BinaryIO

from sqlmodel import Session

from states.staff import SIGNING
from workflow import bescheide, engine
from workflow.errors import GuardFailed
from workflow.rows import Actor
from workflow.storage import StoredBlob


class _Kept:
    """A store for one firing: keeps what is put in memory and writes nothing anywhere."""

    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def put(self, chunks: Iterable[bytes], max_bytes: int | None = None) -> StoredBlob:
        data = b"".join(chunks)
        sha = hashlib.sha256(data).hexdigest()
        self.kept[sha] = data
        return StoredBlob(sha, len(data))

    def stage(self, max_bytes: int | None = None):  # noqa: ANN201 - not used by notices
        raise NotImplementedError

    def open(self, sha256: str) -> BinaryIO:
        return io.BytesIO(self.kept[sha256])

    def exists(self, sha256: str) -> bool:
        return sha256 in self.kept

    def delete(self, sha256: str) -> None:
        self.kept.pop(sha256, None)

    def modified(self, sha256: str) -> float | None:
        return None

    def blobs(self) -> Iterator[tuple[str, float]]:
        return iter(())


def approval_notice_preview(session: Session, reference: int | str, actor: Actor,
                            now: datetime | None = None) -> bytes:
    """The PDF the approval by `actor` would issue now; raises the engine's refusal."""
    kept = _Kept()
    savepoint = session.begin_nested()
    try:
        with bescheide.using_store(kept):  # type: ignore[arg-type]
            record = engine.fire(session, reference, SIGNING.sign, actor, now=now)
        produced = record.trigger == SIGNING.sign
    finally:
        savepoint.rollback()
        session.expire_all()
    if not produced or not kept.kept:
        raise GuardFailed(
            "Die Bewilligung fände jetzt keine Mittel: der Antrag käme auf die Warteliste, "
            "ein Bescheid entstünde nicht.",
            "The approval would find no money now: the application would go to the waiting "
            "list, and no notice would be issued.")
    return next(iter(kept.kept.values()))
