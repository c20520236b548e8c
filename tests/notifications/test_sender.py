"""The SMTP side: STARTTLS with login, implicit TLS, one connection per batch, refusals."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import Engine
from sqlmodel import Session

from notifications.catcher import caught_messages
from notifications.outbox import DEAD, PENDING, SENT, enqueue
from notifications.worker import deliver_due
from tests.notifications.conftest import free_port
from tests.notifications.handlers import RefusingHandler
from tests.notifications.samples import sample_context
from tests.notifications.test_delivery import outbox
from workflow.settings import Settings


@dataclass
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return Certificate(cert, key)


class CountingHandler(RefusingHandler):
    """The catcher, counting SMTP sessions (EHLO) and refusing one recipient for good."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "gibt-es-nicht@", "550 5.1.1 no such mailbox")
        self.sessions = 0

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,  # noqa: N802
                          responses: list[str]) -> list[str]:
        self.sessions += 1
        session.host_name = hostname  # this hook style must record the greeting itself
        return responses


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == b"quartier"
          and auth_data.password == "geheim-ä".encode())
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Any]:
    controllers: list[Controller] = []

    def start(**kwargs: Any) -> tuple[Controller, CountingHandler, int]:
        port = free_port()
        handler = CountingHandler(tmp_path / f"caught-{port}")
        controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        controllers.append(controller)
        return controller, handler, port

    yield start
    for controller in controllers:
        controller.stop()


def fill(engine: Engine, count: int, recipient: str = "traeger{i}@example.org") -> None:
    with Session(engine) as session:
        for i in range(count):
            enqueue(session.connection(), template="approval", recipient=recipient.format(i=i),
                    language="de", context=sample_context("approval"))
        session.commit()


def test_starttls_with_login(engine: Engine, certificate: Certificate, server_factory) -> None:
    _, handler, port = server_factory(
        tls_context=certificate.server_context(), require_starttls=True,
        authenticator=authenticator, auth_require_tls=True)
    fill(engine, 3)
    settings = Settings(smtp_port=port, smtp_starttls=True, smtp_username="quartier",
                        smtp_password="geheim-ä", smtp_ca_file=str(certificate.cert))
    assert deliver_due(engine, settings.delivery()).sent == 3
    assert len(caught_messages(handler.directory)) == 3

    wrong = settings.model_copy(update={"smtp_password": "falsch"})
    fill(engine, 1)
    report = deliver_due(engine, wrong.delivery())
    # A wrong login is not the message's fault: it waits for the fixed configuration.
    assert (report.sent, report.retrying, report.dead) == (0, 1, 0)
    assert "Authentication" in report.errors[0] or "535" in report.errors[0]


def test_implicit_tls(engine: Engine, certificate: Certificate, server_factory) -> None:
    _, handler, port = server_factory(ssl_context=certificate.server_context())
    fill(engine, 2)
    settings = Settings(smtp_port=port, smtp_tls=True, smtp_ca_file=str(certificate.cert))
    assert deliver_due(engine, settings.delivery()).sent == 2
    [first, _] = caught_messages(handler.directory)
    assert first.message["Subject"] == "Bewilligung Ihres Antrags ZiQ-2021-0042"
    # Without trusting the certificate nothing is sent.
    fill(engine, 1)
    untrusted = Settings(smtp_port=port, smtp_tls=True)
    assert deliver_due(engine, untrusted.delivery()).sent == 0


def test_one_connection_per_batch_and_permanent_refusals_die(engine: Engine,
                                                             server_factory) -> None:
    _, handler, port = server_factory()
    sessions_before = handler.sessions
    fill(engine, 24)
    fill(engine, 1, recipient="gibt-es-nicht@example.org")
    settings = Settings(smtp_port=port, mail_batch_size=10)
    report = deliver_due(engine, settings.delivery())
    assert (report.claimed, report.sent, report.dead, report.retrying) == (25, 24, 1, 0)
    assert handler.sessions - sessions_before == 3  # 25 messages, batches of 10
    statuses = [r.status for r in outbox(engine)]
    assert statuses.count(SENT) == 24 and statuses.count(DEAD) == 1
    assert PENDING not in statuses
    [dead] = [r for r in outbox(engine) if r.status == DEAD]
    assert dead.attempts == 1 and "550" in dead.last_error
