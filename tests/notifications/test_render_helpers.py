"""The renderer's shortcuts behave exactly like what they replace: getattr, the alignment
filters. (The date filters are notifications.formatting's, tested in test_formatting.py.)"""

from __future__ import annotations

import re

import pytest
from jinja2 import Environment, StrictUndefined, UndefinedError

from notifications.render import (
    _Environment,
    _ljust,
    _of_kind,
    _rjust,
    _widest_label,
)


def test_getattr_prefers_attributes_like_jinja() -> None:
    """`mapping.key` finds the key, but a dict method still wins over a key of its name."""
    plain, fast = Environment(undefined=StrictUndefined), _Environment(undefined=StrictUndefined)
    source = ("{{ d.greeting }}|{{ d.items is callable }}|{{ d.get('x') }}|{{ d['items'] }}|"
              "{{ n.d.greeting }}|{{ self.b() }}{% block b %}B{% endblock %}|{{ lst.0 }}")
    data = {"d": {"greeting": "hi", "items": 1, "x": 2}, "n": {"d": {"greeting": "x"}},
            "lst": ["zero"]}
    assert fast.from_string(source).render(data) == plain.from_string(source).render(data)
    for broken in ("{{ d.nothing }}", "{{ self.nothing() }}", "{{ self._TemplateReference__x }}"):
        with pytest.raises(Exception) as expected:
            plain.from_string(broken).render(data)
        with pytest.raises(expected.type, match=re.escape(str(expected.value))):
            fast.from_string(broken).render(data)


def test_alignment_filters_match_the_expressions_they_replace() -> None:
    plain, fast = Environment(undefined=StrictUndefined), _Environment(undefined=StrictUndefined)
    for name, function in (("widest_label", _widest_label), ("ljust", _ljust), ("rjust", _rjust)):
        fast.filters[name] = function
    data = {"rows": [("Programm", "x"), ("Aktenzeichen", "y"), ("Ü", "")], "w": 18,
            "values": ["1,00 €", "1.250.000,00 €", "", "x" * 30]}
    before = ('{{ rows|map("first")|map("length")|max + 2 }}|'
              '{% for v in values %}{{ v.rjust(w) }}{{ v.ljust(6) }}{% endfor %}')
    after = ('{{ rows|widest_label + 2 }}|'
             '{% for v in values %}{{ v|rjust(w) }}{{ v|ljust(6) }}{% endfor %}')
    assert fast.from_string(after).render(data) == plain.from_string(before).render(data)
    with pytest.raises(UndefinedError):  # as `max` of nothing, plus 2
        fast.from_string("{{ [] | widest_label + 2 }}").render()


def test_of_kind_is_selectattr_in() -> None:
    plain, fast = Environment(undefined=StrictUndefined), _Environment(undefined=StrictUndefined)
    fast.filters["of_kind"] = _of_kind
    deadlines = [{"kind": "interim_report", "due_date": "2022-05-02"}, {"kind": "hearing_reply"},
                 {"kind": "final_report", "due_date": "2021-01-01"}, {"kind": "Final_report"}]
    before = plain.from_string(
        '{{ deadlines|selectattr("kind", "in", ["interim_report", "final_report"])|list }}')
    after = fast.from_string('{{ deadlines|of_kind("interim_report", "final_report") }}')
    for subset in (deadlines, deadlines[1:2], []):
        assert after.render(deadlines=subset) == before.render(deadlines=subset)
    with pytest.raises(UndefinedError):
        after.render(deadlines=[{"due_date": "2022-05-02"}])
    with pytest.raises(UndefinedError):
        before.render(deadlines=[{"due_date": "2022-05-02"}])
