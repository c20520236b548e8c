"""A real aiosmtpd SMTP server on a free localhost port, and settings that point at it."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from notifications.catcher import start_catcher
from notifications.worker import DeliveryConfig
from workflow.settings import Settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """The mail catcher as the test's SMTP server; it can go down and come back on its port."""

    def __init__(self, directory: Path, port: int) -> None:
        self.directory = directory
        self.port = port
        self.controller: Controller | None = None

    def start(self, delay_seconds: float = 0.0) -> SmtpServer:
        self.controller = start_catcher(self.directory, "127.0.0.1", self.port, delay_seconds)
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def set_delay(self, seconds: float) -> None:
        self.controller.handler.delay_seconds = seconds

    def raw(self) -> list[bytes]:
        return [p.read_bytes() for p in sorted(self.directory.glob("*.eml"))]

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(data) for data in self.raw()]  # type: ignore[misc]

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages())


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_server(tmp_path: Path, smtp_port: int) -> Iterator[SmtpServer]:
    """A running server; `.stop()` / `.start()` simulate an outage."""
    server = SmtpServer(tmp_path / "caught", smtp_port).start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(smtp_port: int, tmp_path: Path) -> DeliveryConfig:
    """What the worker is given: built from QUARTIER_* settings as `quartier worker` does."""
    return Settings(smtp_host="127.0.0.1", smtp_port=smtp_port, mail_retry_schedule="30s,1m,2m,4m",
                    mail_lease_seconds=120, mail_batch_size=10,
                    mail_catcher_dir=str(tmp_path / "caught"),
                    mail_from="Quartier Förderportal <noreply@quartier.localhost>").delivery()
