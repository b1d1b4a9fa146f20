"""The pipeline: load -> validate -> (lower -> graph -> rules -> emit) -> RunResult.

``cli.py`` builds Options and hands them here; reporters turn the RunResult into
text, JSON, SARIF, GitHub annotations or JUnit. Nothing here prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import gc
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from meshctl.diagnostics import Finding, ResourceRef, Severity
from meshctl.errors import InputError
from meshctl.load.discover import InputFile, discover
from meshctl.load.document import SourceDoc
from meshctl.load.reader import ReadResult, decode, parsed_text, read_documents
from meshctl.options import Options, Suppression
from meshctl.rules.base import Rule
from meshctl.rules.input import msh006_unused_suppression as unused_suppression
from meshctl.rules.input import msh011_unknown_field as unknown_field
from meshctl.validate import MIN_PARALLEL_BYTES
from meshctl.validate.catalog import Catalog
from meshctl.validate.checker import DocumentChecker, ignored_by_annotations

if TYPE_CHECKING:
    from meshctl.model.mesh import MeshModel
    from meshctl.rules.context import Analysis

MAX_STDIN = 512 * 1024 * 1024


@dataclass
class RunResult:
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    resources: int = 0  # documents of a kind meshctl checks
    skipped: int = 0  # documents of kinds meshctl does not check
    empty: int = 0
    skipped_files: int = 0
    suppressed: int = 0
    notes: list[str] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)  # every input read, for source lines
    _lines: dict[str, list[str]] = field(default_factory=dict, repr=False)
    docs: list[SourceDoc] = field(default_factory=list)
    checked: list[SourceDoc] = field(default_factory=list)  # documents of a kind meshctl checks
    analysis: Analysis | None = field(default=None, repr=False)  # set by run_analyze
    translation: object | None = field(default=None, repr=False)  # set by run_translate

    def source_lines(self, file: str) -> list[str] | None:
        lines = self._lines.get(file)
        if lines is None:
            text = self.texts.get(file)
            if text is None:
                return None
            lines = self._lines[file] = text.splitlines()
        return lines

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def worst(self) -> Severity | None:
        return max((f.severity for f in self.findings), default=None)


def read_text_of(item: InputFile) -> tuple[str | None, Finding | None]:
    """The text of one input, or the finding that says why it is not text."""
    if item.path is None:
        data = _read_stdin()
    else:
        try:
            data = item.path.read_bytes()
        except PermissionError:
            raise InputError(f"{item.display}: permission denied") from None
        except OSError as exc:
            raise InputError(f"{item.display}: {exc.strerror or exc}") from None
    return decode(data, item.display)


def _read_stdin() -> bytes:
    stream = sys.stdin
    if stream is None or stream.closed:
        raise InputError("'-' was given but standard input is closed")
    if stream.isatty():
        raise InputError(
            "'-' reads YAML from standard input, but it is a terminal",
            hint="pipe the manifests in, e.g. `helm template . | meshctl validate -`",
        )
    data = stream.buffer.read(MAX_STDIN + 1)
    if len(data) > MAX_STDIN:
        raise InputError("standard input is larger than 512 MiB")
    return data


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while documents pile up.

    With the collector on, each generation-2 pass rescans every document read so far
    (their data, and the model lowered from it) and reading 10,000 documents gets
    several times slower (docs/performance.md). Nothing the run builds relies on the
    collector: no cycle is left to leak.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def run_validate(options: Options, catalog: Catalog | None = None) -> RunResult:
    with collector_paused():
        result = _run_validate(options, catalog)
        finish(result, options)
        return result


def _nothing() -> None:
    return None


def _run_validate(
    options: Options, catalog: Catalog | None, while_waiting: Callable[[], None] = _nothing
) -> RunResult:
    found = discover(options.paths, options.exclude)
    result = RunResult(files=len(found.files), skipped_files=found.skipped_files)
    result.notes.extend(found.notes)
    if options.verbose:
        result.notes.extend(f"{name}: skipped, not a .yaml, .yml or .json file" for name in found.not_yaml)
    elif found.not_yaml:
        count = len(found.not_yaml)
        result.notes.append(
            f"skipped {count} file{'s' if count > 1 else ''} that {'are' if count > 1 else 'is'} "
            "not .yaml, .yml or .json (-v lists them)"
        )
    texts = [(item, *read_text_of(item)) for item in found.files]
    total = sum(len(text) for _, text, _ in texts if text is not None)
    if options.jobs > 1 and total >= MIN_PARALLEL_BYTES:  # else no need to import --jobs
        from meshctl.validate import parallel

        if parallel.worth_it(options.jobs, total):
            _check_in_workers(result, texts, options, while_waiting)
            return result
    checker = DocumentChecker(
        catalog or Catalog.default(),
        strict_kinds=options.strict_kinds,
        gateway_api_channel=options.gateway_api_channel,
    )
    for item, text, problem in texts:
        read = ReadResult()
        check_findings: list[Finding] = []
        if text is not None:
            # One document at a time: its node tree is dropped once it is checked (a later
            # finding composes it again from the text), so a run holds one tree, not all.
            for doc in read_documents(text, item.display, read, json_file=item.is_json):
                checked = checker.check(doc)
                count_document(result, doc, checked.status)
                check_findings.extend(checked.findings)
                doc.release()
                result.docs.append(doc)
        file_findings = [problem] if problem is not None else []
        file_findings.extend(read.findings)
        file_findings.extend(check_findings)
        result.empty += read.empty
        result.findings.extend(file_findings)
        if text is not None:
            result.texts[item.display] = text
    return result


def count_document(result: RunResult, doc: SourceDoc, status: str) -> None:
    if status == "checked":
        result.resources += 1
        result.checked.append(doc)
    elif status == "skipped":
        result.skipped += 1


def _check_in_workers(
    result: RunResult,
    texts: list[tuple[InputFile, str | None, Finding | None]],
    options: Options,
    while_waiting: Callable[[], None],
) -> None:
    """The same as the sequential loop, with reading and checking done by worker processes."""
    from meshctl.validate import parallel

    tasks: list[parallel.Task] = []
    ranges: list[tuple[int, int]] = []
    for item, text, _ in texts:
        chunks = parallel.split(item.display, text, item.is_json) if text is not None else []
        ranges.append((len(tasks), len(tasks) + len(chunks)))
        tasks.extend(chunks)
    outcomes = parallel.check_in_workers(
        tasks, options.jobs, options.strict_kinds, options.gateway_api_channel, while_waiting
    )
    for (item, text, problem), (first, last) in zip(texts, ranges):
        parts = outcomes[first:last]
        file_findings = [problem] if problem is not None else []
        for part in parts:
            file_findings.extend(part.findings)
            result.empty += part.empty
        if text is not None:
            for doc, outcome in parallel.documents(parts, item.display, parsed_text(text, item.is_json)):
                count_document(result, doc, outcome.status)
                file_findings.extend(outcome.findings)
                result.docs.append(doc)
            result.texts[item.display] = text
        result.findings.extend(file_findings)


def run_analyze(options: Options, catalog: Catalog | None = None) -> RunResult:
    """validate, then lower -> graph -> rules on every document of a kind meshctl checks."""
    from meshctl.lower import lower
    from meshctl.lower.mesh_config import load_mesh_config
    from meshctl.rules.context import Analysis
    from meshctl.rules.registry import analysis_rules

    mesh_config = load_mesh_config(Path(options.mesh_config)) if options.mesh_config else None
    with collector_paused():
        result = _run_validate(options, catalog, while_waiting=_prepare_analysis)
        mesh = lower(result.checked, mesh_config)
        analysis = Analysis(mesh, closed_world=options.closed_world)
        result.analysis = analysis
        collect = findings_collector(result)
        for rule in analysis_rules():
            if not rule_enabled(rule, options) or not rule_has_inputs(rule, mesh):
                continue
            assert rule.analyze_fn is not None
            collect(rule.analyze_fn(analysis))
        finish(result, options)
    return result


def run_translate(options: Options, emit: Callable[[MeshModel], tuple[object, list[Finding]]]) -> RunResult:
    """validate, then lower and hand the model to a back-end; its losses become findings."""
    from meshctl.lower import lower
    from meshctl.lower.mesh_config import load_mesh_config

    mesh_config = load_mesh_config(Path(options.mesh_config)) if options.mesh_config else None
    with collector_paused():
        result = _run_validate(options, None)
        mesh = lower(result.checked, mesh_config)
        result.translation, losses = emit(mesh)
        findings_collector(result)(losses)
        finish(result, options)
    return result


def findings_collector(result: RunResult) -> Callable[[Iterable[Finding]], None]:
    """Adds findings to ``result`` unless the annotations of the resource they are on
    (``meshctl.io/ignore``, ``galley.istio.io/analyze-suppress``) suppress them."""
    annotations = {(d.file, d.ref): d.annotations for d in result.checked if d.annotations}

    def collect(findings: Iterable[Finding]) -> None:
        for finding in findings:
            key = _doc_key(finding)
            if key is None or not ignored_by_annotations(annotations.get(key, {}), finding):
                result.findings.append(finding)

    return collect


def _doc_key(finding: Finding) -> tuple[str, ResourceRef] | None:
    if finding.location is None or finding.resource is None:
        return None
    return (finding.location.file, finding.resource)


def _prepare_analysis() -> None:
    """Import what the analysis needs (rules, networkx) while workers read the inputs."""
    from meshctl.rules.registry import analysis_rules

    analysis_rules()
    import networkx  # noqa: F401


def rule_enabled(rule: Rule, options: Options) -> bool:
    if rule.default_enabled:
        return _selected(rule.code, options)
    return rule.code in options.select  # off-by-default rules run only when named


def rule_has_inputs(rule: Rule, mesh: object) -> bool:
    return not rule.reads or any(getattr(mesh, name) for name in rule.reads)


def finish(result: RunResult, options: Options) -> None:
    """Apply the run's policy to the findings: severities, selection, suppressions, order."""
    findings = [_adjust(f, options) for f in result.findings]
    cache: dict[str, Directives] = {}
    findings = [
        f for f in findings if _selected(f.code, options) and not _ignored_by_comment(f, result, cache)
    ]
    kept: list[Finding] = []
    used: set[Suppression] = set()
    for finding in findings:
        hit = _suppressed_by(finding, options.suppress)
        if hit is None:
            kept.append(finding)
        else:
            used.add(hit)
            result.suppressed += 1
    for suppression in options.suppress:
        if suppression not in used and _selected(unused_suppression.RULE.code, options):
            kept.append(
                unused_suppression.RULE.finding(f"suppression {suppression.text!r} matched no finding")
            )
    result.findings = sorted(set(kept), key=Finding.sort_key)


IGNORE_COMMENT = r"#\s*meshctl:\s*ignore(?:\[([A-Z0-9*, ]+)\])?"  # compiled when a file has one
Directives = dict[int, tuple[str, ...] | None]  # line -> code globs (None: every code)


def _directives(text: str) -> Directives:
    """Lines a ``# meshctl: ignore[...]`` comment covers: its own, and the next when alone."""
    found: Directives = {}
    pattern = re.compile(IGNORE_COMMENT)
    for number, line in enumerate(text.splitlines(), start=1):
        match = pattern.search(line)
        if match is None:
            continue
        codes = None if match.group(1) is None else tuple(c.strip() for c in match.group(1).split(","))
        found[number] = codes
        if line.lstrip().startswith("#"):
            found[number + 1] = codes
    return found


def _ignored_by_comment(finding: Finding, result: RunResult, cache: dict[str, Directives]) -> bool:
    loc = finding.location
    if loc is None:
        return False
    directives = cache.get(loc.file)
    if directives is None:
        text = result.texts.get(loc.file, "")
        directives = cache[loc.file] = _directives(text) if "meshctl:" in text else {}
    if loc.line not in directives:
        return False
    codes = directives[loc.line]
    return codes is None or any(fnmatch.fnmatchcase(finding.code, c) for c in codes)


def _adjust(finding: Finding, options: Options) -> Finding:
    if options.allow_unknown_fields and finding.code == unknown_field.RULE.code:
        return dataclasses.replace(finding, severity=Severity.WARNING)
    if finding.unresolved and not options.closed_world:
        return dataclasses.replace(
            finding, severity=Severity.INFO, message=f"{finding.message} (not among the inputs)"
        )
    return finding


def _selected(code: str, options: Options) -> bool:
    if options.select and not any(code.startswith(p) for p in options.select):
        return False
    return not any(code.startswith(p) for p in options.ignore)


def _suppressed_by(finding: Finding, suppressions: tuple[Suppression, ...]) -> Suppression | None:
    if finding.resource is None:
        return None
    shown = finding.resource.display()
    for s in suppressions:
        if fnmatch.fnmatchcase(finding.code, s.code) and fnmatch.fnmatchcase(shown, s.resource):
            return s
    return None
