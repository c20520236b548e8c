"""A local mail catcher: an aiosmtpd SMTP server that keeps every message as an .eml file.

It makes Quartier work out of the box: the default SMTP settings (127.0.0.1:8025) point at it, and
`quartier mail list --caught` / `quartier mail show --caught N` read what it stored.
Run it in the foreground with `quartier mail catch`, or in the background with
`quartier mail catch --background` (stop it with `quartier mail catch --stop`).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

PID_FILE = "catcher.pid"
LOG_FILE = "catcher.log"


class CatcherHandler:
    """Stores each message exactly as received, one file per message, written atomically."""

    def __init__(self, directory: str | os.PathLike[str], delay_seconds: float = 0.0) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.delay_seconds = delay_seconds  # tests use a slow server to catch a worker mid-batch
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8")
        with self._lock:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
            name = f"{stamp}-{os.getpid()}-{next(self._counter):06d}.eml"
        target = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        temporary.write_bytes(content)
        os.replace(temporary, target)
        return "250 OK: message caught"


def start_catcher(directory: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 8025,
                  delay_seconds: float = 0.0) -> Controller:
    """Start the catcher in a thread of this process; call `.stop()` on the result to end it."""
    controller = Controller(CatcherHandler(directory, delay_seconds), hostname=host, port=port,
                            decode_data=False, enable_SMTPUTF8=True, data_size_limit=50_000_000)
    controller.start()
    return controller


def run_catcher(directory: str | os.PathLike[str], host: str = "127.0.0.1",
                port: int = 8025) -> None:
    """Run the catcher in the foreground until SIGINT or SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    controller = start_catcher(directory, host, port)
    try:
        stop.wait()
    finally:
        controller.stop()


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def spawn_catcher(directory: str | os.PathLike[str], host: str = "127.0.0.1", port: int = 8025,
                  wait_seconds: float = 10.0) -> int | None:
    """Start the catcher as a detached background process; its pid (None if one already runs).

    The pid goes to `<directory>/catcher.pid`, its output to `<directory>/catcher.log`.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    if port_in_use(host, port):
        return None
    with open(directory / LOG_FILE, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "notifications.catcher", str(directory), host, str(port)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    (directory / PID_FILE).write_text(f"{process.pid}\n")
    deadline = time.monotonic() + wait_seconds
    while not port_in_use(host, port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"mail catcher did not start; see {directory / LOG_FILE}")
        time.sleep(0.05)
    return process.pid


def stop_catcher(directory: str | os.PathLike[str]) -> int | None:
    """Stop the background catcher started by `spawn_catcher`; its pid, or None if none ran."""
    pid_file = Path(directory) / PID_FILE
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().strip())
    pid_file.unlink()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return None
    return pid


@dataclass(frozen=True)
class CaughtMessage:
    """One .eml file of the catcher's directory."""

    number: int
    path: Path
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        return part.get_content() if part is not None else ""


def caught_messages(directory: str | os.PathLike[str]) -> list[CaughtMessage]:
    """Every caught message, oldest first, numbered from 1."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    files = sorted(p for p in directory.glob("*.eml") if not p.name.startswith("."))
    return [CaughtMessage(i, path, parser.parsebytes(path.read_bytes()))  # type: ignore[arg-type]
            for i, path in enumerate(files, start=1)]


if __name__ == "__main__":
    run_catcher(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1",
                int(sys.argv[3]) if len(sys.argv) > 3 else 8025)
