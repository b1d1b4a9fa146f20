"""The examples in the Istio back-end's docstrings run."""

from __future__ import annotations

import doctest

from meshctl.emit.istio import values


def test_values_examples() -> None:
    assert doctest.testmod(values).failed == 0
