"""The command line's shared pieces: problems in the API's shape, JSON like the API writes it."""

from __future__ import annotations

from datetime import UTC, date, datetime

from api.errors import PROBLEM_BASE
from workflow.cli import common
from workflow.errors import InsufficientFunds


def test_problem_types_are_the_apis():
    assert common.PROBLEM_BASE == PROBLEM_BASE
    problem = common.problem(InsufficientFunds("kein Geld", "no money", year=2021), "en")
    assert problem == {"type": PROBLEM_BASE + "insufficient-funds",
                       "title": "Keine Mittel mehr verfügbar", "status": 409,
                       "detail": "no money", "year": 2021}


def test_json_dates_as_the_api_writes_them():
    encoded = common.encode({"at": datetime(2021, 5, 1, 9, tzinfo=UTC), "on": date(2021, 5, 1)})
    assert '"at": "2021-05-01T09:00:00Z"' in encoded and '"on": "2021-05-01"' in encoded
