"""`quartier` two ways: as a process (as operators run it) and in this process (typer's runner)."""

from __future__ import annotations

import json
import os
import shutil
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


@pytest.fixture(scope="session")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated and seeded SQLite file per test process (seeding plays a whole call), with
    its document store (the demo call's notices) in `documents` beside it."""
    path = tmp_path_factory.mktemp("cli-seeded") / "cli.sqlite3"
    env = {**os.environ, "QUARTIER_DATABASE_URL": f"sqlite:///{path}",
           "QUARTIER_DOCUMENTS_DIR": str(path.parent / "documents")}
    run(env, "db", "upgrade")
    run(env, "seed")
    return path


@pytest.fixture
def cli_env(tmp_path: Path, seeded_file: Path) -> dict[str, str]:
    """A migrated SQLite file with the seeded ZiQ programme (a copy of the seeded one)."""
    for part in seeded_file.parent.glob(f"{seeded_file.name}*"):  # with any -wal/-shm file
        shutil.copyfile(part, tmp_path / part.name)
    documents = seeded_file.parent / "documents"
    if documents.is_dir():
        shutil.copytree(documents, tmp_path / "documents")
    return {**os.environ, "QUARTIER_DATABASE_URL": f"sqlite:///{tmp_path / seeded_file.name}",
            "QUARTIER_DOCUMENTS_DIR": str(tmp_path / "documents")}


def demo_ref(env: dict[str, str], state: str, call: str = "ZiQ-DEMO") -> str:
    """The reference of the first seeded application of `call` in `state`."""
    listing = json.loads(run(env, "applications", "list", "--json", "--state", state).stdout)
    return next(a["reference"] for a in listing if a["call"] == call)


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
