"""The API's JSON renderer writes what DRF's own JSONRenderer writes (the reference here)."""

import datetime
import decimal
import json
import uuid

import numpy as np
import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers

from config.renderers import JSONRenderer

UTC = datetime.UTC
ANSWERS = [
    {"type_id": 34, "name": "Tritanium", "price": 4.01, "volume": 1_000_000_000, "ok": True},
    {"rows": [{"a": 1.5, "b": None}, {"a": -0.0, "b": [1, 2, 3]}], "next": None},
    {"issued": datetime.datetime(2026, 12, 7, 9, 30, 0, 123456, tzinfo=UTC)},  # ends in Z
    {"naive": datetime.datetime(2026, 12, 7, 9, 30), "day": datetime.date(2026, 12, 7)},
    {"at": datetime.time(11, 5), "took": datetime.timedelta(seconds=90)},
    {"price": decimal.Decimal("12.50"), "id": uuid.UUID(int=7)},
    {"name": "Caldari Navy \u2028 line\u2029 sep", "unicode": "Ægis — ½ m³"},
    {"lazy": gettext_lazy("Not found.")},
    {10000002: "The Forge", 60003760: "Jita IV - Moon 4"},  # integer keys, as json writes them
    {"count": np.int64(5), "share": np.float64(0.25)},
    [1e-7, 1.0, 123456789.125, 2**63 - 1],
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_bytes_match_drf(answer):
    # a float's shortest form may be spelt differently (1e-07 / 1e-7): compare as JSON values
    ours = JSONRenderer().render(answer)
    reference = renderers.JSONRenderer().render(answer)
    assert json.loads(ours) == json.loads(reference)
    if not any(isinstance(v, float) for v in _leaves(answer)):
        assert ours == reference


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from _leaves(v)
    else:
        yield value


def test_line_and_paragraph_separators_are_escaped():
    assert JSONRenderer().render({"s": "a\u2028b\u2029c"}) == b'{"s":"a\\u2028b\\u2029c"}'


def test_an_integer_past_64_bits_is_still_written():
    assert JSONRenderer().render({"n": 2**70}) == b'{"n":1180591620717411303424}'


def test_indented_output_as_asked():
    ours = JSONRenderer().render({"a": [1]}, "application/json; indent=2")
    assert ours == b'{\n  "a": [\n    1\n  ]\n}'


def test_nothing_for_none():
    assert JSONRenderer().render(None) == b""
