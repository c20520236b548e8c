"""The wheel's packages and package data, as pyproject.toml declares them, take in every package
and every template of the four root packages (scripts/wheel_smoke.sh installs and runs it)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).parents[2]
ROOTS = ("workflow", "states", "notifications", "api")
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_package_is_found() -> None:
    on_disk = {".".join(init.parent.relative_to(ROOT).parts)
               for root in ROOTS for init in (ROOT / root).rglob("__init__.py")}
    found = set(find_packages(str(ROOT), include=CONFIG["packages"]["find"]["include"]))
    assert "api.routers" in on_disk
    assert found == on_disk


def test_templates_and_data_are_package_data() -> None:
    for package, folder, suffix in (("notifications", "templates", ".j2"),
                                    ("workflow", "data", ".json")):
        files = set((ROOT / package / folder).rglob(f"*{suffix}"))
        assert files
        shipped = {p for g in CONFIG["package-data"][package] for p in (ROOT / package).glob(g)}
        assert files - shipped == set()
