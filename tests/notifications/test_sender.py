"""The SMTP side: STARTTLS whenever offered, login only over TLS outside development, implicit
TLS, one connection per batch, refusals."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import trustme
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
    cert: Path  # the CA that signed the server's certificate: what the client trusts
    issued: trustme.LeafCert

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.issued.configure_cert(context)
        return context


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A certificate for 127.0.0.1 from a throwaway CA made in the test (trustme)."""
    authority = trustme.CA()
    cert = tmp_path_factory.mktemp("tls") / "ca.pem"
    authority.cert_pem.write_to_path(str(cert))
    return Certificate(cert, authority.issue_cert("127.0.0.1", "localhost"))


class CountingHandler(RefusingHandler):
    """The catcher, counting SMTP sessions (EHLO) and refusing one recipient for good."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "gibt-es-nicht@", "550 5.1.1 no such mailbox")
        self.sessions = 0
        self.over_tls: list[bool] = []  # per message: did it arrive over TLS?

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.over_tls.append(session.ssl is not None)
        return await super().handle_DATA(server, session, envelope)

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,  # noqa: N802
                          responses: list[str]) -> list[str]:
        self.sessions += 1
        session.host_name = hostname  # this hook style must record the greeting itself
        return responses


LOGINS: list[bool] = []  # per AUTH the server saw: was the connection encrypted?


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                  auth_data: Any) -> AuthResult:
    LOGINS.append(session.ssl is not None)
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


def test_starttls_is_used_whenever_the_server_offers_it(engine: Engine, certificate: Certificate,
                                                       server_factory) -> None:
    # The server offers STARTTLS but does not insist; the default settings take it anyway.
    _, handler, port = server_factory(tls_context=certificate.server_context())
    fill(engine, 2)
    settings = Settings(smtp_port=port, smtp_ca_file=str(certificate.cert))
    assert settings.smtp_starttls is None  # opportunistic is the default
    assert deliver_due(engine, settings.delivery()).sent == 2
    assert handler.over_tls == [True, True]
    # Told never to use it, the same server gets the mail in clear text.
    fill(engine, 1)
    assert deliver_due(engine, settings.model_copy(update={"smtp_starttls": False})
                       .delivery()).sent == 1
    assert handler.over_tls == [True, True, False]


def test_outside_development_credentials_never_go_in_clear_text(
        engine: Engine, certificate: Certificate, server_factory) -> None:
    # A server without STARTTLS that would take a login in clear text.
    _, handler, port = server_factory(authenticator=authenticator, auth_require_tls=False)
    LOGINS.clear()
    fill(engine, 2)
    production = Settings(environment="production", smtp_port=port, smtp_username="quartier",
                          smtp_password="geheim-ä")
    report = deliver_due(engine, production.delivery())
    assert (report.sent, report.retrying, report.dead) == (0, 2, 0)
    assert all("TLS" in error for error in report.errors)
    assert LOGINS == [] and handler.over_tls == []  # no AUTH was sent, no mail
    rows = outbox(engine)
    assert {r.status for r in rows} == {PENDING} and all("TLS" in r.last_error for r in rows)

    # With STARTTLS offered, the login goes over TLS and the mail out.
    _, tls_handler, tls_port = server_factory(
        tls_context=certificate.server_context(), authenticator=authenticator,
        auth_require_tls=True)
    fill(engine, 1)
    report = deliver_due(engine, production.model_copy(update={
        "smtp_port": tls_port, "smtp_ca_file": str(certificate.cert)}).delivery())
    assert report.sent == 1 and LOGINS == [True] and tls_handler.over_tls == [True]

    # In development a clear-text login is allowed (the local mail catcher).
    development = production.model_copy(update={"environment": "development"})
    fill(engine, 1)
    assert deliver_due(engine, development.delivery()).sent == 1
    assert LOGINS == [True, False]


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
