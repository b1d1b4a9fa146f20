"""Turn the paths on the command line into the list of inputs to read.

Directories are walked recursively (symlinked directories once each, so loops end),
in sorted order; only ``.yaml``, ``.yml`` and ``.json`` files are read and the rest
are counted as skipped. FIFOs, sockets and devices are never opened. ``-`` is stdin.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from meshctl.errors import InputError

EXTENSIONS = (".yaml", ".yml", ".json")
STDIN = "-"
STDIN_DISPLAY = "<stdin>"  # how stdin is named in reports


class InputFile(NamedTuple):
    display: str  # the path as reported: relative to the working directory when possible
    path: Path | None  # None for stdin

    @property
    def is_json(self) -> bool:
        return self.display.endswith(".json")


@dataclass
class Discovery:
    files: list[InputFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # unusual skips (loops, FIFOs), for stderr
    not_yaml: list[str] = field(default_factory=list)  # files skipped for their extension
    skipped_files: int = 0


def discover(paths: Iterable[str], exclude: Iterable[str] = ()) -> Discovery:
    """Expand ``paths``; a missing or unreadable path raises InputError (exit code 3)."""
    found = Discovery()
    patterns = tuple(exclude)
    seen: set[str] = set()
    for raw in paths:
        if raw == STDIN:
            if STDIN not in seen:
                seen.add(STDIN)
                found.files.append(InputFile(STDIN_DISPLAY, None))
            continue
        path = Path(raw)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise InputError(f"{raw}: no such file or directory") from None
        except PermissionError:
            raise InputError(f"{raw}: permission denied") from None
        except OSError as exc:  # symlink loop, name too long, ...
            raise InputError(f"{raw}: {exc.strerror or exc}") from None
        if stat.S_ISDIR(st.st_mode):
            _walk(path, found, patterns, seen)
        elif stat.S_ISREG(st.st_mode):
            # A file named explicitly is read whatever its extension.
            _add(path, found, patterns, seen, explicit=True)
        else:
            found.notes.append(f"{raw}: skipped, not a regular file")
            found.skipped_files += 1
    return found


def _walk(root: Path, found: Discovery, patterns: tuple[str, ...], seen: set[str]) -> None:
    visited: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=None):
        try:
            st = os.stat(dirpath)
        except OSError:
            dirnames[:] = []
            continue
        ident = (st.st_dev, st.st_ino)
        if ident in visited:
            found.notes.append(f"{dirpath}: skipped, directory already visited (symlink loop)")
            dirnames[:] = []
            continue
        visited.add(ident)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if _excluded(Path(dirpath), patterns):
            dirnames[:] = []
            continue
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            _add(Path(dirpath) / name, found, patterns, seen, explicit=False)


def _add(
    path: Path, found: Discovery, patterns: tuple[str, ...], seen: set[str], *, explicit: bool
) -> None:
    if _excluded(path, patterns):
        return
    display = _display(path)
    if display in seen:
        return
    if not explicit and not path.name.lower().endswith(EXTENSIONS):
        found.not_yaml.append(display)
        found.skipped_files += 1
        return
    try:
        st = path.stat()
    except OSError as exc:
        found.notes.append(f"{display}: skipped, {exc.strerror or exc}")
        found.skipped_files += 1
        return
    if not stat.S_ISREG(st.st_mode):
        found.notes.append(f"{display}: skipped, not a regular file")
        found.skipped_files += 1
        return
    seen.add(display)
    found.files.append(InputFile(display, path))


def _excluded(path: Path, patterns: tuple[str, ...]) -> bool:
    if not patterns:
        return False
    text = _display(path)
    return any(fnmatch.fnmatch(text, p) or fnmatch.fnmatch(path.name, p) for p in patterns)


def _display(path: Path) -> str:
    """Relative to the working directory when below it (symlinks are not resolved)."""
    absolute = os.path.abspath(path)
    rel = os.path.relpath(absolute)
    if rel == ".." or rel.startswith(".." + os.sep):
        return Path(absolute).as_posix()
    return Path(rel).as_posix()
