"""Browser tests of the portal: a real `quartier serve` and `quartier worker` on a seeded SQLite
file, a real SMTP catcher, and Debian's Chromium driven by Playwright (no browser download)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from notifications.catcher import start_catcher
from tests.journeys.conftest import QUARTIER, free_port, serving

CHROMIUM = Path("/usr/bin/chromium")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--lang=de-DE"]  # as a German user: date fields read TT.MM.JJJJ
DEMO_PASSWORD = "quartier-demo"
# The rules of WCAG 2.1 levels A and AA (axe-core's tags).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_LINK = re.compile(r"https?://[^\s<>\"')]+")


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUARTIER_")}
    env.update(QUARTIER_DATABASE_URL=f"sqlite:///{home / 'quartier.sqlite3'}",
               QUARTIER_ENVIRONMENT="development", QUARTIER_DATA_DIR=str(home / "data"),
               QUARTIER_DOCUMENTS_DIR=str(home / "documents"),
               QUARTIER_PAYING_OFFICE_IBAN="DE02120300000000202051")  # the SEPA export's debtor
    return env


@pytest.fixture(scope="session")
def seeded_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated and seeded once per test process; each portal works on a copy."""
    home = tmp_path_factory.mktemp("portal-seed")
    env = _env(home)
    for args in (("db", "upgrade"), ("seed",)):
        done = subprocess.run([QUARTIER, *args], env=env, cwd=home, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
    return home


@dataclass
class Portal:
    url: str
    home: Path
    env: dict[str, str]
    mail_dir: Path
    log: Path
    seen: set[str] = field(default_factory=set)

    def messages(self) -> list[EmailMessage]:
        parser = BytesParser(policy=policy.default)
        return [parser.parsebytes(p.read_bytes())  # type: ignore[misc]
                for p in sorted(self.mail_dir.glob("*.eml"))]

    def mail_to(self, address: str, subject: str = "", timeout: float = 30) -> EmailMessage:
        """The newest email to `address` whose subject contains `subject`, waiting for the
        worker to deliver it; each message is returned once."""
        deadline = time.monotonic() + timeout
        while True:
            for message in reversed(self.messages()):
                key = str(message["Message-ID"])
                if (key not in self.seen and address.lower() in str(message["To"]).lower()
                        and subject in str(message["Subject"])):
                    self.seen.add(key)
                    return message
            assert time.monotonic() < deadline, (
                f"no email to {address} about {subject!r}; got: "
                + "; ".join(f"{m['To']}: {m['Subject']}" for m in self.messages()))
            time.sleep(0.2)

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        return part.get_content() if part is not None else ""

    def links(self, message: EmailMessage) -> list[str]:
        """The links of the email that point to this portal."""
        return [link.rstrip(".,;") for link in _LINK.findall(self.text_of(message))
                if link.startswith(self.url)]

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        """`quartier …` against this portal's database (setup a test cannot do as a carrier)."""
        done = subprocess.run([QUARTIER, *args], env=self.env, cwd=self.home, input=input,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout + done.stderr
        return done


@pytest.fixture(scope="module")
def portal(seeded_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    home = tmp_path_factory.mktemp("portal")
    for item in seeded_home.iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy2)(item, home / item.name)
    mail_dir = home / "mail"
    smtp_port = free_port()
    catcher = start_catcher(mail_dir, "127.0.0.1", smtp_port, 0.0)
    port = free_port()
    env = _env(home)
    env.update(QUARTIER_SMTP_HOST="127.0.0.1", QUARTIER_SMTP_PORT=str(smtp_port),
               QUARTIER_PUBLIC_URL=f"http://127.0.0.1:{port}", QUARTIER_MAIL_POLL_SECONDS="0.3")
    worker_log = (home / "worker.log").open("w")
    worker = subprocess.Popen([QUARTIER, "worker", "--poll", "0.3"], env=env, cwd=home,
                              stdout=worker_log, stderr=subprocess.STDOUT)
    try:
        with serving(env, home, home / "serve.log", port=port) as base:
            yield Portal(base, home, env, mail_dir, home / "serve.log")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        worker_log.close()
        catcher.stop()


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[Any]:
    """Debian's Chromium (`make browser` installs it); missing in CI is a failure. Per module:
    Playwright's sync API holds an event loop while it runs, which later tests' asyncio.run
    in the same process would trip over."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: `make browser` (as root) installs Debian's chromium"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        # German as a German user has it (the date fields read TT.MM.JJJJ): Chromium on Linux
        # takes its interface language from LANGUAGE.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                             env={**os.environ, "LANGUAGE": "de",
                                                  "LANG": "de_DE.UTF-8"})
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium_browser: Any, portal: Portal) -> Iterator[Any]:
    """A fresh browser context (no cookies) whose requests may go to the portal only: anything
    else (a CDN, a font service) is refused and fails the test."""
    server = urlsplit(portal.url).netloc
    elsewhere: list[str] = []

    def only_the_portal(route: Any) -> None:
        if urlsplit(route.request.url).netloc == server:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("blockedbyclient")

    context = chromium_browser.new_context(viewport={"width": 1280, "height": 900},
                                           locale="de-DE", accept_downloads=True)
    context.route("**/*", only_the_portal)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()
    assert elsewhere == [], f"the page loaded from outside the portal: {elsewhere}"


def login(page: Any, portal: Portal, email: str, password: str = DEMO_PASSWORD) -> None:
    """Log in through the login form."""
    page.goto(f"{portal.url}/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(password)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_load_state()
    assert "/anmelden" not in page.url, page.content()


def axe(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations of the WCAG 2.1 A and AA rules on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS},
                                       "resultTypes": ["violations"]})
    return [{"id": v["id"], "impact": v.get("impact"), "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"]]
