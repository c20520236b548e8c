"""`quartier` two ways: as a process (as operators run it) and in this process (typer's runner)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.notifications.conftest import smtp_port, smtp_server  # noqa: F401 (fixtures)
from workflow.cli import app
from workflow.settings import get_settings

ROOT = Path(__file__).resolve().parents[3]
QUARTIER = [sys.executable, "-m", "workflow.cli"]


def run(env: dict[str, str], *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    """`quartier ARGS` as a process."""
    result = subprocess.run([*QUARTIER, *args], env=env, cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    if ok:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """A migrated SQLite file with the seeded ZiQ programme."""
    env = {**os.environ, "QUARTIER_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}",
           "QUARTIER_DOCUMENTS_DIR": str(tmp_path / "documents")}
    run(env, "db", "upgrade")
    run(env, "seed")
    return env


Quartier = Callable[..., Result]


@pytest.fixture
def quartier(monkeypatch: pytest.MonkeyPatch) -> Iterator[Quartier]:
    """`quartier ARGS` in this process; QUARTIER_* variables as keyword arguments."""
    runner = CliRunner()

    def invoke(*args: str, ok: bool = True, **env: str) -> Result:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        try:
            result = runner.invoke(app, list(args))
        finally:
            for name in env:
                monkeypatch.delenv(name)
            get_settings.cache_clear()
        if ok:
            assert result.exit_code == 0, result.output
        return result

    yield invoke
    get_settings.cache_clear()
