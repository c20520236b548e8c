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

    def open(self, sha256: str) -> BinaryIO: ...

    def exists(self, sha256: str) -> bool: ...

    def delete(self, sha256: str) -> None: ...

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
        incoming = self.root / TEMPORARY_DIR
        incoming.mkdir(parents=True, exist_ok=True)
        temporary = incoming / f"{os.getpid()}-{secrets.token_hex(8)}"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(temporary, "xb") as out:
                for chunk in chunks:
                    size += len(chunk)
                    if max_bytes is not None and size > max_bytes:
                        raise BlobTooLarge(max_bytes)
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            sha256 = digest.hexdigest()
            final = self.path(sha256)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, final)  # the same content twice: the same bytes, either wins
            return StoredBlob(sha256, size)
        finally:
            temporary.unlink(missing_ok=True)

    def open(self, sha256: str) -> BinaryIO:
        return open(self.path(sha256), "rb")

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def blobs(self) -> Iterator[tuple[str, float]]:
        if not self.root.is_dir():
            return
        for path in self.root.glob("??/??/*"):
            if SHA256.match(path.name) and path.is_file():
                yield path.name, path.stat().st_mtime


def read_chunks(stream: BinaryIO, size: int = 1024 * 1024) -> Iterator[bytes]:
    while chunk := stream.read(size):
        yield chunk
