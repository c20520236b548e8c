"""Where document contents live: content-addressed by SHA-256, behind a small interface so that an
object store can take the place of the file system later.

A blob is written to a temporary file next to its final place while it is hashed, chunk by chunk
(never whole in memory), then moved there atomically. The same content stored twice is one blob.
Blobs are not deleted when a transaction rolls back: `unreferenced` lists blobs no document row
names, for a sweeper to remove.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

SHA256 = re.compile(r"^[0-9a-f]{64}$")
TEMPORARY_DIR = "incoming"


@dataclass(frozen=True)
class StoredBlob:
    sha256: str
    size: int


class BlobTooLarge(Exception):
    """The content was longer than the limit; nothing was stored."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class Store(Protocol):
    def put(self, chunks: Iterable[bytes], max_bytes: int | None = None) -> StoredBlob: ...

    def stage(self, max_bytes: int | None = None) -> Staged: ...

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...

    def modified(self, sha256: str) -> float | None: ...

    def blobs(self) -> Iterator[tuple[str, float]]:
        """Every stored blob's checksum with its modification time (seconds since the epoch)."""
        ...


class FileStore:
    """Blobs under `root/ab/cd/abcd…` (the first two byte pairs of the checksum as folders)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if not SHA256.match(sha256):
            raise ValueError(f"not a SHA-256 checksum: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, chunks: Iterable[bytes], max_bytes: int | None = None) -> StoredBlob:
        staged = self.stage(max_bytes)
        try:
            for chunk in chunks:
                staged.write(chunk)
            return staged.keep()
        finally:
            staged.discard()

    def stage(self, max_bytes: int | None = None) -> Staged:
        """A blob written piece by piece (an upload as it streams in), kept only by `keep()`:
        the checks at the door read `staged.path` first, and a refused file leaves nothing."""
        incoming = self.root / TEMPORARY_DIR
        incoming.mkdir(parents=True, exist_ok=True)
        return Staged(self, incoming / f"{os.getpid()}-{secrets.token_hex(8)}", max_bytes)

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def modified(self, sha256: str) -> float | None:
        """The blob's modification time (seconds since the epoch), None if it is not there."""
        try:
            return self.path(sha256).stat().st_mtime
        except FileNotFoundError:
            return None

    def blobs(self) -> Iterator[tuple[str, float]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if SHA256.match(path.name) and path.is_file():
                yield path.name, path.stat().st_mtime


class Staged:
    """A blob on its way into the store: a temporary file, hashed as it is written."""

    def __init__(self, store: FileStore, path: Path, max_bytes: int | None) -> None:
        self.store, self.path, self.max_bytes = store, path, max_bytes
        self.size = 0
        self._digest = hashlib.sha256()
        self._out: BinaryIO | None = open(path, "xb")  # noqa: SIM115 (closed by keep/discard)

    def write(self, chunk: bytes) -> None:
        """Append a chunk; past `max_bytes` the file is discarded and BlobTooLarge raised."""
        if self._out is None:
            raise ValueError("the staged blob was already kept or discarded")
        self.size += len(chunk)
        if self.max_bytes is not None and self.size > self.max_bytes:
            self.discard()
            raise BlobTooLarge(self.max_bytes)
        self._digest.update(chunk)
        self._out.write(chunk)

    def finish(self) -> None:
        """Everything written and on disk: the file at `path` may now be read (type, scan)."""
        if self._out is not None and not self._out.closed:
            self._out.flush()
            os.fsync(self._out.fileno())
            self._out.close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def keep(self) -> StoredBlob:
        """Move the blob to its place in the store (the same content twice: either wins)."""
        self.finish()
        sha256 = self.sha256
        final = self.store.path(sha256)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, final)
        self._out = None
        return StoredBlob(sha256, self.size)

    def discard(self) -> None:
        """Forget the blob: nothing of it stays in the store. Safe to call more than once."""
        if self._out is not None:
            self._out.close()
            self._out = None
        self.path.unlink(missing_ok=True)


def read_chunks(stream: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk
