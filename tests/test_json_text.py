"""The reports' indented JSON is exactly `json.dumps(value, indent=2)`, whichever encoder wrote it."""
from __future__ import annotations

import dataclasses
import datetime
import enum
import json
from collections import namedtuple

import pytest
from hypothesis import given, settings, strategies as st

from keyguard.reports import json_text
from keyguard.reports.json_text import indented
from keyguard_policies.frozen import freeze

_leaves = st.one_of(st.none(), st.booleans(), st.text(), st.text(st.characters(max_codepoint=0x7f)),
                    st.integers(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
                    st.floats(allow_nan=True, allow_infinity=True))
_keys = st.one_of(st.text(st.characters(max_codepoint=0x7f)), st.text(), st.integers(-5, 5))
_values = st.recursive(_leaves, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                          st.tuples(inner, inner),
                                                          st.dictionaries(_keys, inner, max_size=5)),
                       max_leaves=40)


@settings(max_examples=1500, deadline=None)
@given(_values)
def test_indented_is_json_dumps_with_indent_2(value):
    assert indented(value) == json.dumps(value, indent=2)


@settings(max_examples=300, deadline=None)
@given(_values)
def test_read_only_copies_are_written_like_the_originals(value):
    assert indented(freeze(value)) == json.dumps(value, indent=2)


class Colour(enum.IntEnum):
    RED = 1


class Mode(str, enum.Enum):
    AUDIT = "audit"


@dataclasses.dataclass
class Point:
    x: int


@pytest.mark.parametrize("value", [
    {"a": [1, {"b": "x\x00\x01\x1f\b\f\n\r\t\"\\/ ~\x7f"}, [], {}], "c": None, "d": True, "e": -5, "f": "", "g": [[]]},
    {"colour": Colour.RED, "mode": Mode.AUDIT},
    namedtuple("Pair", "a b")(1, "x"),
    {"évidence": "clé"},
    {1: "int key", None: "none key", True: "bool key"},
    [2 ** 64, -2 ** 63 - 1, 2 ** 63 - 1],
    [0.1, 1e16, 1e22, -0.0, float("nan"), float("inf")],
])
def test_values_orjson_would_write_differently_come_out_as_json_writes_them(value):
    assert indented(value) == json.dumps(value, indent=2)


@pytest.mark.parametrize("value", [{"p": Point(1)}, [datetime.datetime(2026, 1, 1)], {"s": {1, 2}}, [object()]])
def test_what_json_cannot_encode_fails_as_json_fails(value):
    with pytest.raises(TypeError) as expected:
        json.dumps(value, indent=2)
    with pytest.raises(TypeError) as raised:
        indented(value)
    assert str(raised.value) == str(expected.value)


def test_a_plain_report_is_written_by_orjson(monkeypatch):
    """The fast path is taken for what reports hold (strings, integers, booleans, null)."""
    def refuse(*args, **kwargs):
        raise AssertionError("json.dumps was used")
    monkeypatch.setattr(json_text.json, "dumps", refuse)
    value = {"findings": [{"policy": "p", "line": 3, "passed": False, "evidence": None}], "policies": []}
    assert indented(value).startswith('{\n  "findings": [\n    {\n      "policy": "p",')
