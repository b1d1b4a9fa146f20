"""The YAML writer of the emitters: whatever JSON-shaped data goes in, YAML reads back."""

from __future__ import annotations

import doctest
import io

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from meshctl.emit import yaml_out
from meshctl.emit.yaml_out import dump, scalar

TRICKY = ["9080", "on", "yes", "null", "~", "1e3", "0o17", "12:30", "- x", "a: b", "#x", "x #y", "'q'", '"q"',
          "*alias", "&anchor", "!tag", "|", ">", "@type", "%x", "", " lead", "trail ", "a\nb", "tab\t", "é", "\u2028",
          "outbound|9080||reviews.default.svc.cluster.local", "[1]", "{a}", "?", "-", ":", "a:", "2026-11-30"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(), st.sampled_from(TRICKY))
documents = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.one_of(st.text(), st.sampled_from(TRICKY)), inner, max_size=4)),
    max_leaves=30)


def test_doctests() -> None:
    assert doctest.testmod(yaml_out).failed == 0


def test_tricky_strings_read_back_as_the_same_strings() -> None:
    for text in TRICKY:
        assert yaml.safe_load(f"k: {scalar(text)}") == {"k": text}, text


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(), documents, max_size=5))
def test_any_json_shaped_document_round_trips(data: dict) -> None:
    assert yaml.safe_load(dump(data)) == data


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(), documents, max_size=5))
def test_dump_into_writes_the_same_text_as_dump(data: dict) -> None:
    handle = io.StringIO()
    yaml_out.dump_into(handle, data)
    assert handle.getvalue() == dump(data)


def test_dump_into_writes_large_lists_in_pieces_with_nothing_lost(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_out, "_CHUNK", 10)
    data = {"clusters": [{"name": f"c{i}", "hosts": [{"port": i}, [i, i + 1]]} for i in range(50)], "empty": {}}
    writes: list[str] = []

    class Recorder(io.StringIO):
        def write(self, text: str) -> int:
            writes.append(text)
            return super().write(text)

    handle = Recorder()
    yaml_out.dump_into(handle, data)
    assert handle.getvalue() == dump(data)
    assert len(writes) > 10  # spilled along the way, not once at the end
    assert yaml.safe_load(handle.getvalue()) == data
