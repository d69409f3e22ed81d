"""Results files: deterministic JSON, indented down to a depth, one line per deeper value."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tokensmith.io import JSON_INDENTED_DEPTH, dumps_json

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=30,
)


@given(JSON_VALUES)
def test_round_trips_and_sorts_keys_like_json_dumps(value):
    text = dumps_json(value)
    assert text.endswith("\n")
    assert json.loads(text) == value
    # the same document as the standard library's sorted, indented dump, only laid out differently
    assert json.loads(json.dumps(value, sort_keys=True, indent=2)) == json.loads(text)


def test_layout_indents_top_levels_and_keeps_records_on_one_line():
    record = {"value": 1.5, "metric": "fertility", "params": {}}
    results = {"sections": {"measure": {"records": [record, record]}}, "schema": "x"}
    lines = dumps_json(results).splitlines()
    assert lines[0] == "{" and lines[1] == '  "schema": "x",'
    one_line = '{"metric": "fertility", "params": {}, "value": 1.5}'
    assert lines.count("        " + one_line + ",") == 1 and lines.count("        " + one_line) == 1
    assert JSON_INDENTED_DEPTH == 4  # records sit at depth 4 of a results file


def test_non_finite_numbers_are_refused():
    with pytest.raises(ValueError):
        dumps_json({"deep": {"deeper": {"deepest": {"x": [math.nan]}}}})
    with pytest.raises(ValueError):
        dumps_json({"x": math.inf})
