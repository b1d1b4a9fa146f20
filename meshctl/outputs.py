"""Writing outputs without ever losing a file: temp file in the target directory, then rename."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from meshctl.errors import InputError, UsageError


def refuse_inputs(outputs: Iterable[Path], inputs: Iterable[str]) -> None:
    """An output path that is also an input is refused before anything runs."""
    resolved_inputs = set()
    for raw in inputs:
        if raw != "-":
            resolved_inputs.add(Path(raw).resolve())
    for out in outputs:
        target = out.resolve()
        if target in resolved_inputs:
            raise UsageError(f"{out}: refusing to write over an input file")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    write_atomic_with(path, lambda handle: handle.write(text))


def write_atomic_with(path: Path, write: Callable[[TextIO], object]) -> None:
    """``write_atomic`` for output written piece by piece: ``write`` gets the open file, so a
    large output never has to exist as one string."""
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{directory}: cannot create output directory: {exc.strerror or exc}") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"{directory}: cannot write output: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            write(handle)
            handle.flush()
            os.fchmod(handle.fileno(), 0o666 & ~_umask())  # as open() would create it, not 0600
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
