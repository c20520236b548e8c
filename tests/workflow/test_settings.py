"""workflow/settings.py: the secret key (given, or generated once into the data directory) and
the start-up check that refuses public and short secrets."""

from __future__ import annotations

import stat
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from workflow.settings import (
    OLD_PUBLIC_SECRET,
    InsecureSettings,
    Settings,
    check_settings,
    stored_secret,
)


def _fresh_key(directory: str) -> str:
    return stored_secret.__wrapped__(directory)  # past the per-process cache, as a new worker


def test_without_a_key_one_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    data = tmp_path / "var"
    settings = Settings(environment="production", data_dir=str(data))
    check_settings(settings)  # no QUARTIER_SECRET_KEY is fine: the key is generated
    key_file = data / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = settings.signing_secret()
    assert key == key_file.read_text().strip() and len(key.encode()) >= 32
    assert _fresh_key(str(data)) == key  # the next start reads the same key
    assert sorted(p.name for p in data.iterdir()) == ["secret_key"]  # no temporary file left


def test_workers_starting_at_once_share_one_key(tmp_path: Path) -> None:
    directory = str(tmp_path / "shared")
    with ProcessPoolExecutor(4) as pool:
        keys = set(pool.map(_fresh_key, [directory] * 8))
    assert len(keys) == 1 and (tmp_path / "shared" / "secret_key").read_text().strip() in keys


def test_public_short_and_empty_keys_refuse_to_start(tmp_path: Path) -> None:
    for environment in ("development", "production"):
        with pytest.raises(InsecureSettings, match="früher öffentliche"):
            check_settings(Settings(environment=environment, secret_key=OLD_PUBLIC_SECRET))
    with pytest.raises(InsecureSettings, match="weniger als 32 Bytes"):
        check_settings(Settings(environment="production", secret_key="k" * 31))
    with pytest.raises(InsecureSettings):
        check_settings(Settings(environment="production", secret_key=""))
    check_settings(Settings(environment="production", secret_key="k" * 32))
    check_settings(Settings(environment="development", secret_key="kurz"))  # development only


def test_a_damaged_key_file_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("zu-kurz\n")
    with pytest.raises(InsecureSettings, match="secret_key"):
        check_settings(Settings(environment="production", data_dir=str(tmp_path)))
