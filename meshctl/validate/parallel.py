"""``--jobs``: read and check large inputs in worker processes.

Before: input files adding up to megabytes. After: for each file, the documents and
findings the sequential path would give, in the same order, with the same indexes;
the documents arrive without their YAML node trees, which the main process composes
again from the file's text only for documents that later need a position.

Large files are split at document separators (`---` at the start of a line) into
chunks of about CHUNK_BYTES; each chunk is padded with newlines so its line numbers are
the file's. Workers are forked, so they start with everything already imported, and
the main process can import what analysis needs while they work.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from meshctl.diagnostics import Finding
from meshctl.load.document import SourceDoc
from meshctl.load.reader import read_text
from meshctl.validate.catalog import Catalog
from meshctl.validate.checker import DocumentChecker

MIN_PARALLEL_BYTES = 2 * 1024 * 1024  # below this, forking costs more than it saves
CHUNK_BYTES = 512 * 1024
_SEPARATOR = re.compile(r"^---", re.M)


@dataclass(frozen=True)
class Task:
    display: str
    text: str  # a chunk of the file, padded with newlines to its first line
    json_file: bool


@dataclass
class DocOutcome:
    index: int
    data: dict[str, Any]
    template: str | None
    item: int | None
    lines: tuple[int, int]
    status: str
    findings: list[Finding]


@dataclass
class TaskResult:
    findings: list[Finding]  # what the reader found (syntax errors, duplicates, ...)
    empty: int
    documents: int
    docs: list[DocOutcome]


def worth_it(jobs: int, total_bytes: int) -> bool:
    if jobs <= 1 or total_bytes < MIN_PARALLEL_BYTES:
        return False
    import multiprocessing  # only for large inputs: it costs start-up time

    return "fork" in multiprocessing.get_all_start_methods()


def split(display: str, text: str, json_file: bool) -> list[Task]:
    """Chunks of about CHUNK_BYTES, cut at document separators (JSON stays whole)."""
    if json_file or len(text) <= CHUNK_BYTES:
        return [Task(display, text, json_file)]
    tasks: list[Task] = []
    start = 0
    while start < len(text):
        cut = len(text)
        if len(text) - start > CHUNK_BYTES:
            match = _SEPARATOR.search(text, start + CHUNK_BYTES)
            if match is not None:
                cut = match.start()
        first_line = text.count("\n", 0, start)
        tasks.append(Task(display, "\n" * first_line + text[start:cut], json_file))
        start = cut
    return tasks


_checker: DocumentChecker | None = None


def _init(strict_kinds: bool, channel: str) -> None:
    global _checker
    _checker = DocumentChecker(Catalog.default(), strict_kinds=strict_kinds, gateway_api_channel=channel)


def _run(task: Task) -> TaskResult:
    assert _checker is not None
    read = read_text(task.text, task.display, json_file=task.json_file)
    outcomes = []
    for doc in read.docs:
        checked = _checker.check(doc)
        outcomes.append(
            DocOutcome(doc.index, doc.data, doc.template, doc.item, doc.lines, checked.status, checked.findings)
        )
    return TaskResult(read.findings, read.empty, read.documents, outcomes)


def check_in_workers(
    tasks: list[Task], jobs: int, strict_kinds: bool, channel: str, while_waiting: Callable[[], None]
) -> list[TaskResult]:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(jobs, initializer=_init, initargs=(strict_kinds, channel)) as pool:
        pending = pool.map_async(_run, tasks, chunksize=1)
        while_waiting()
        return pending.get()


def documents(task_results: list[TaskResult], display: str, lines: list[str]) -> Iterator[tuple[SourceDoc, DocOutcome]]:
    """The SourceDocs of one file's chunks, indexed as if read in one go."""
    offset = 0
    for part in task_results:
        for outcome in part.docs:
            doc = SourceDoc(
                display, outcome.index + offset, outcome.data, None, outcome.template, outcome.item,
                outcome.lines, lines,
            )
            yield doc, outcome
        offset += part.documents
