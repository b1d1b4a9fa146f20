"""``json_text.dumps`` writes exactly what ``json.dumps(value, indent=2)`` writes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meshctl.report import json_text

SCALARS = (st.none() | st.booleans() | st.integers() | st.text()
           | st.floats(allow_nan=True, allow_infinity=True))
KEYS = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30)


@settings(max_examples=400)
@given(VALUES, st.booleans())
def test_the_same_text_as_json_dumps(value: Any, ensure_ascii: bool) -> None:
    assert json_text.dumps(value, ensure_ascii=ensure_ascii) == json.dumps(value, indent=2, ensure_ascii=ensure_ascii)


def test_control_characters_quotes_and_non_ascii() -> None:
    value = {"message": 'a "quoted" \\ tab\t nul\x00 line\u2028 café 🚀', "empty": {}, "none": [], "n": [1, -2, True]}
    for ascii_only in (True, False):
        assert json_text.dumps(value, ensure_ascii=ascii_only) == json.dumps(value, indent=2, ensure_ascii=ascii_only)


def test_what_json_refuses_it_refuses() -> None:
    with pytest.raises(TypeError):
        json_text.dumps({"a": {1, 2}})
    with pytest.raises(TypeError):
        json_text.dumps({(1, 2): "tuple key"})
