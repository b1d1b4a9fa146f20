"""``--jobs``: read and check large inputs in worker processes.

Before: input files adding up to megabytes. After: for each file, the documents and
findings the sequential path would give, in the same order, with the same indexes;
the documents arrive without their YAML node trees but with their place in the file's
text (a TextSpan), from which the main process composes a tree again only for
documents that later need a position.

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
from meshctl.load.document import SourceDoc, TextSpan
from meshctl.load.reader import ReadResult, line_counter, read_documents
from meshctl.validate import MIN_PARALLEL_BYTES
from meshctl.validate.catalog import Catalog
from meshctl.validate.checker import DocumentChecker

CHUNK_BYTES = 512 * 1024
_SEPARATOR = re.compile(r"^---", re.MULTILINE)


@dataclass(frozen=True)
class Task:
    display: str
    text: str  # a chunk of the file, padded with newlines to its first line
    json_file: bool
    shift: int = 0  # an index of ``text`` plus this is the same character's index in the file


Span = tuple[int, int, int, tuple[int, int]]  # a TextSpan without its text


@dataclass
class DocOutcome:
    index: int
    data: dict[str, Any]
    template: str | None
    item: int | None
    lines: tuple[int, int]
    status: str
    findings: list[Finding]
    span: Span | None  # in the file's text; None when the document keeps its tree (directives)


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
    start = first_line = 0
    count_lines = line_counter(text)
    while start < len(text):
        cut = len(text)
        if len(text) - start > CHUNK_BYTES:
            match = _SEPARATOR.search(text, start + CHUNK_BYTES)
            if match is not None:
                cut = match.start()
        tasks.append(Task(display, "\n" * first_line + text[start:cut], json_file, start - first_line))
        first_line += count_lines(start, cut)  # the next chunk's, as the YAML parser counts lines
        start = cut
    return tasks


_checker: DocumentChecker | None = None


def _init(strict_kinds: bool, channel: str) -> None:
    global _checker
    _checker = DocumentChecker(Catalog.default(), strict_kinds=strict_kinds, gateway_api_channel=channel)


def _run(task: Task) -> TaskResult:
    assert _checker is not None
    read = ReadResult()
    outcomes = []
    for doc in read_documents(task.text, task.display, read, json_file=task.json_file):
        checked = _checker.check(doc)
        span = doc.source
        where = None if span is None else (span.start + task.shift, span.end + task.shift, span.line, span.root)
        outcomes.append(
            DocOutcome(doc.index, doc.data, doc.template, doc.item, doc.lines, checked.status, checked.findings, where)
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


def documents(task_results: list[TaskResult], display: str, text: str) -> Iterator[tuple[SourceDoc, DocOutcome]]:
    """The SourceDocs of one file's chunks, indexed as if read in one go; ``text`` is the
    file's text as parsed (``reader.parsed_text``)."""
    offset = 0
    lines: list[str] | None = None  # only for documents without a span
    for part in task_results:
        for outcome in part.docs:
            source = None if outcome.span is None else TextSpan(text, *outcome.span)
            if source is None and lines is None:
                lines = text.split("\n")
            doc = SourceDoc(
                display, outcome.index + offset, outcome.data, None, outcome.template, outcome.item,
                outcome.lines, None if source is not None else lines, source,
            )
            yield doc, outcome
        offset += part.documents
