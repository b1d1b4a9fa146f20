"""Coverage-guided fuzzing (atheris/libFuzzer) of the loader and the validate pipeline.

The contract (issue 9): any bytes given as a file produce findings or a clean result,
never an exception other than meshctl's own error types, in bounded time. Each input is

1. decoded and read by the loader in memory (``decode`` + ``read_text``; as a JSON file
   too when it holds a tab, the one thing the JSON path reads differently), then
2. written over one temporary ``mesh.yaml`` (created once per process) and run through
   ``run_validate``, the pipeline ``meshctl validate`` runs: discovery, decoding, reading,
   schema and value checks, ``# meshctl: ignore`` comments, suppressions, ordering.

The last byte of the input picks the run's options (``--strict-kinds`` and the Gateway
API channel), so one input always runs the same way and a crash file reproduces alone.

Run it longer, locally (builds the seed corpus and uses tests/fuzz/yaml.dict by itself):

    .venv/bin/python tests/fuzz/fuzz_load_validate.py -max_total_time=300

Any libFuzzer flag works; a crash file replays with ``... fuzz_load_validate.py CRASH_FILE``.
tests/fuzz/test_fuzz.py runs it in CI for a bounded number of iterations.
"""

from __future__ import annotations

import atexit
import shutil
import sys
import tempfile
from pathlib import Path

import atheris

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

with atheris.instrument_imports(include=["meshctl", "yaml"]):
    from meshctl.errors import MeshctlError
    from meshctl.load.reader import ReadResult, decode, read_text
    from meshctl.options import Options
    from meshctl.pipeline import run_validate
    from meshctl.rules.registry import validate_rules
    from meshctl.validate.catalog import Catalog

    validate_rules()  # rule modules are imported lazily: import (and instrument) them now

WORKDIR = Path(tempfile.mkdtemp(prefix="meshctl-fuzz-input-"))
TARGET = WORKDIR / "mesh.yaml"
atexit.register(shutil.rmtree, WORKDIR, True)
CATALOG = Catalog.default()
OPTIONS = [
    Options(paths=(str(TARGET),), strict_kinds=bool(variant & 1),
            gateway_api_channel="standard" if variant & 2 else "experimental")
    for variant in range(4)
]


def TestOneInput(data: bytes) -> None:  # noqa: N802 (atheris' name)
    # 1. The loader alone, in memory.
    text, problem = decode(data, "fuzz.yaml")
    if text is None:
        assert problem is not None, "decode gave neither text nor a finding"
    else:
        _check_read(read_text(text, "fuzz.yaml"), "fuzz.yaml")
        if "\t" in text:
            _check_read(read_text(text, "fuzz.json", json_file=True), "fuzz.json")

    # 2. The whole validate pipeline, on a real file.
    options = OPTIONS[data[-1] & 3] if data else OPTIONS[0]
    TARGET.write_bytes(data)
    try:
        result = run_validate(options, CATALOG)
    except MeshctlError:
        return  # the project's own errors are an allowed outcome (exit codes 2 and 3)
    assert result.files == 1, result.files
    for finding in result.findings:
        location = finding.location
        if location is not None:
            assert location.line >= 1 and location.column >= 1, finding
            assert location.file.endswith(TARGET.name), finding


def _check_read(read: ReadResult, display: str) -> None:
    assert isinstance(read, ReadResult)
    for finding in read.findings:
        assert finding.location is not None and finding.location.file == display, finding
        assert finding.location.line >= 1 and finding.location.column >= 1, finding


def _with_defaults(argv: list[str]) -> list[str]:
    """Add what a bare local run needs: dictionary, limits, a seed corpus, a crash dir."""
    flags = [a for a in argv[1:] if a.startswith("-")]
    inputs = [a for a in argv[1:] if not a.startswith("-")]
    extra = []
    if not any(f.startswith("-dict=") for f in flags):
        extra.append(f"-dict={HERE / 'yaml.dict'}")
    if not any(f.startswith("-max_len=") for f in flags):
        extra.append("-max_len=4096")
    if not any(f.startswith("-timeout=") for f in flags):
        extra.append("-timeout=10")  # seconds per input: a hang is a finding too
    if not any(f.startswith("-artifact_prefix=") for f in flags):
        artifacts = tempfile.mkdtemp(prefix="meshctl-fuzz-artifacts-")
        extra.append(f"-artifact_prefix={artifacts}/")
        print(f"fuzz: crash files go to {artifacts}/", file=sys.stderr)
    if not inputs:
        from tests.fuzz import seeds

        corpus = Path(tempfile.mkdtemp(prefix="meshctl-fuzz-corpus-"))
        count = len(seeds.build(corpus))
        print(f"fuzz: {count} seed inputs in {corpus}", file=sys.stderr)
        inputs = [str(corpus)]
    return [argv[0], *flags, *extra, *inputs]


def main() -> None:
    atheris.Setup(_with_defaults(sys.argv), TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
