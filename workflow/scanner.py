"""Virus scanning through ClamAV's clamd, over its socket (a unix path or host:port).

The INSTREAM protocol, implemented here (the `clamd` package on PyPI has not been maintained
since 2014): `zINSTREAM\\0`, then the content in chunks, each preceded by its length as four
bytes in network order, then a chunk of length zero; clamd answers `stream: OK\\0` or
`stream: <signature> FOUND\\0` (or an error such as a size limit).
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass

CHUNK = 64 * 1024


class ScannerUnreachable(Exception):
    """clamd did not answer, or answered with an error: nothing can be said about the file."""


@dataclass(frozen=True)
class ScanResult:
    clean: bool
    signature: str | None = None  # the name of what was found, when not clean


class Clamd:
    """One clamd, at `address`: a unix socket path (starting with / or .) or host:port."""

    def __init__(self, address: str, timeout: float = 60.0) -> None:
        self.address = address
        self.timeout = timeout

    def _connect(self) -> socket.socket:
        try:
            if "/" in self.address or ":" not in self.address:
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                sock.settimeout(self.timeout)
                sock.connect(self.address)
                return sock
            host, _, port = self.address.rpartition(":")
            return socket.create_connection((host.strip("[]"), int(port)), self.timeout)
        except (OSError, ValueError) as error:
            raise ScannerUnreachable(f"clamd at {self.address}: {error}") from error

    def _command(self, sock: socket.socket, command: bytes) -> None:
        sock.sendall(b"z" + command + b"\0")

    @staticmethod
    def _reply(sock: socket.socket) -> str:
        data = b""
        while not data.endswith(b"\0"):
            part = sock.recv(4096)
            if not part:
                break
            data += part
        return data.rstrip(b"\0").decode("utf-8", "replace").strip()

    def ping(self) -> bool:
        """Whether clamd answers PING with PONG."""
        try:
            with self._connect() as sock:
                self._command(sock, b"PING")
                return self._reply(sock) == "PONG"
        except (OSError, ScannerUnreachable):
            return False

    def scan(self, chunks: Iterable[bytes]) -> ScanResult:
        """Stream the content to clamd and return its verdict; ScannerUnreachable when there
        is none (not reachable, broken off, or an error such as clamd's StreamMaxLength)."""
        try:
            with self._connect() as sock:
                self._command(sock, b"INSTREAM")
                for chunk in chunks:
                    for start in range(0, len(chunk), CHUNK):
                        piece = chunk[start:start + CHUNK]
                        sock.sendall(struct.pack("!L", len(piece)) + piece)
                sock.sendall(struct.pack("!L", 0))
                reply = self._reply(sock)
        except OSError as error:
            raise ScannerUnreachable(f"clamd at {self.address}: {error}") from error
        _, _, verdict = reply.partition(": ")
        if verdict == "OK":
            return ScanResult(True)
        if verdict.endswith(" FOUND"):
            return ScanResult(False, verdict.removesuffix(" FOUND").strip() or "unbekannt")
        raise ScannerUnreachable(f"clamd at {self.address}: {reply or 'no answer'}")
