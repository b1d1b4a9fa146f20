"""The command line: flags -> Options -> pipeline -> reporters -> exit code.

This is the one place that turns errors into exit codes:
0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or configuration
error, 3 an input could not be read at all, 70 internal error, 130 interrupted.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from meshctl import __version__
from meshctl.diagnostics import Severity
from meshctl.errors import ConfigError, ExitCode, MeshctlError, UsageError
from meshctl.options import Options, Suppression

HELP = """Compile and lint service-mesh configuration (Istio, Linkerd, Gateway API).

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 usage error,
3 unreadable input, 70 internal error."""

app = typer.Typer(
    help=HELP,
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

FORMAT_NAMES = ("text", "json", "sarif", "github", "junit")
FAIL_ON = ("error", "warning", "info", "never")

PathsArg = Annotated[list[str], typer.Argument(help="Files, directories (recursive) or - for stdin.")]
FormatOpt = Annotated[
    Optional[str], typer.Option("--format", "-f", help="text, json, sarif, github or junit.")
]
OutputOpt = Annotated[
    Optional[list[str]],
    typer.Option("--output", "-o", help="FORMAT=FILE: also write a report to FILE (repeatable)."),
]
FailOnOpt = Annotated[
    Optional[str], typer.Option("--fail-on", help="error (default), warning, info or never.")
]
SelectOpt = Annotated[
    Optional[list[str]], typer.Option("--select", help="Report only codes with this prefix (repeatable).")
]
IgnoreOpt = Annotated[
    Optional[list[str]], typer.Option("--ignore", help="Never report codes with this prefix (repeatable).")
]
SuppressOpt = Annotated[
    Optional[list[str]],
    typer.Option("--suppress", "-S", help='"CODE=Kind name.namespace", * globs allowed (repeatable).'),
]
ExcludeOpt = Annotated[
    Optional[list[str]], typer.Option("--exclude", help="Skip paths matching this glob (repeatable).")
]
UnknownOpt = Annotated[
    bool, typer.Option("--allow-unknown-fields", help="Report unknown fields as warnings, not errors.")
]
StrictKindsOpt = Annotated[
    bool, typer.Option("--strict-kinds", help="Report documents of kinds meshctl does not check.")
]
ConfigOpt = Annotated[
    Optional[Path], typer.Option("--config", help="Configuration file (default: .meshctl.yaml found upward).")
]
NoConfigOpt = Annotated[bool, typer.Option("--no-config", help="Ignore .meshctl.yaml.")]
ColorOpt = Annotated[
    Optional[bool], typer.Option("--color/--no-color", help="Force colour on or off (default: on a TTY).")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of internal errors.")]
ChannelOpt = Annotated[
    Optional[str],
    typer.Option("--gateway-api-channel", help="standard or experimental: the Gateway API CRDs your clusters serve."),
]
JobsOpt = Annotated[
    Optional[int],
    typer.Option("--jobs", "-j", help="Worker processes for reading large inputs (default: the number of cores)."),
]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="List every file skipped.")]
MeshConfigOpt = Annotated[
    Optional[Path], typer.Option("--mesh-config", help="Istio MeshConfig (YAML or the istio ConfigMap).")
]
ClosedWorldOpt = Annotated[
    bool, typer.Option("--closed-world", help="The inputs are the whole mesh: unresolved references are errors.")
]

_debug = False


@app.command()
def validate(
    paths: PathsArg,
    format: FormatOpt = None,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    suppress: SuppressOpt = None,
    exclude: ExcludeOpt = None,
    allow_unknown_fields: UnknownOpt = False,
    strict_kinds: StrictKindsOpt = False,
    gateway_api_channel: ChannelOpt = None,
    jobs: JobsOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    color: ColorOpt = None,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Check every document against meshctl's schemas and value rules."""
    from meshctl.pipeline import run_validate

    _run("validate", run_validate, locals())


@app.command()
def analyze(
    paths: PathsArg,
    mesh_config: MeshConfigOpt = None,
    closed_world: ClosedWorldOpt = False,
    explain_mtls: Annotated[
        bool, typer.Option("--explain-mtls", help="Also print the effective mTLS of every client group and Service port.")
    ] = False,
    format: FormatOpt = None,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    suppress: SuppressOpt = None,
    exclude: ExcludeOpt = None,
    allow_unknown_fields: UnknownOpt = False,
    strict_kinds: StrictKindsOpt = False,
    gateway_api_channel: ChannelOpt = None,
    jobs: JobsOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    color: ColorOpt = None,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Lower the mesh into one model and graph, and run the rule catalog (validation included)."""
    from meshctl.pipeline import run_analyze

    _run("analyze", run_analyze, locals())


def _run(command: str, runner: Any, flags: dict[str, Any]) -> None:
    """The body every checking command shares: options, run, reports, exit code."""
    options = _run_options(flags)
    reports = _reports(flags["format"], flags["output"], flags["paths"])
    result = runner(options)
    _emit(command, result, reports, flags["color"])
    if flags.get("explain_mtls") and result.analysis is not None:
        from meshctl.report.base import sanitize
        from meshctl.security.mtls import mtls_edges, mtls_table

        stream = sys.stdout if reports[0][0] == "text" else sys.stderr  # keep JSON/SARIF stdout parseable
        stream.write("\n" + sanitize(mtls_table(mtls_edges(result.analysis.mesh))))
    raise typer.Exit(_exit_code(result, options))


def _run_options(flags: dict[str, Any]) -> Options:
    """Options from a checking command's flags, merged with .meshctl.yaml."""
    global _debug
    _debug = flags["debug"]
    options = _options(
        flags["paths"], flags["fail_on"], flags["select"], flags["ignore"], flags["suppress"],
        flags["exclude"], flags["allow_unknown_fields"], flags["strict_kinds"], flags["config"],
        flags["no_config"],
    )
    mesh_config = flags.get("mesh_config")
    channel = flags["gateway_api_channel"] or options.gateway_api_channel
    if channel not in ("standard", "experimental"):
        raise UsageError(f"--gateway-api-channel must be standard or experimental, not {channel!r}")
    jobs = flags.get("jobs") or options.jobs or os.cpu_count() or 1
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {jobs}")
    return dataclasses.replace(
        options,
        jobs=jobs,
        gateway_api_channel=channel,
        verbose=flags["verbose"],
        closed_world=bool(flags.get("closed_world")) or options.closed_world,
        mesh_config=str(mesh_config) if mesh_config else options.mesh_config,
    )


GRAPH_FORMATS = ("mermaid", "dot", "json", "html")


@app.command()
def graph(
    paths: PathsArg,
    format: Annotated[
        str, typer.Option("--format", "-f", help="mermaid (default), dot, json or html.")
    ] = "mermaid",
    focus: Annotated[
        Optional[str],
        typer.Option("--focus", help="Only this service's neighbourhood: name.namespace, namespace/name, FQDN or node id."),
    ] = None,
    radius: Annotated[
        int, typer.Option("--radius", min=0, help="How many edges from --focus to keep.")
    ] = 2,
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="Write the graph to FILE instead of standard output.")
    ] = None,
    mesh_config: MeshConfigOpt = None,
    closed_world: ClosedWorldOpt = False,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    suppress: SuppressOpt = None,
    exclude: ExcludeOpt = None,
    allow_unknown_fields: UnknownOpt = False,
    strict_kinds: StrictKindsOpt = False,
    gateway_api_channel: ChannelOpt = None,
    jobs: JobsOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Draw the mesh: gateways, routes, services, subsets and workloads, with the findings on them.

    Runs the same analysis as `analyze`; exits 0 once the graph is written, whatever it found.
    """
    from meshctl import render
    from meshctl.outputs import refuse_inputs, write_atomic
    from meshctl.pipeline import run_analyze

    if format not in GRAPH_FORMATS:
        raise UsageError(f"unknown graph format {format!r} (expected {', '.join(GRAPH_FORMATS)})")
    flags = dict(locals(), fail_on="never")
    options = _run_options(flags)
    if output is not None:
        refuse_inputs([output], paths)
    result = run_analyze(options)
    for note in result.notes:
        sys.stderr.write(f"meshctl: {note}\n")
    mesh, service_graph = _mesh_and_graph(result)
    placed = render.place(result.findings, mesh, service_graph)
    node = None
    if focus is not None:
        node = render.resolve_focus(service_graph, focus)
        service_graph = render.focus(service_graph, node, radius)
    title = "meshctl graph: " + " ".join(paths)
    text = render.renderer(format)(
        service_graph, placed, render.RenderOptions(title=title, focus=node, radius=radius if node else None)
    )
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        write_atomic(output, text)
        nodes, edges = service_graph.g.number_of_nodes(), service_graph.g.number_of_edges()
        sys.stderr.write(f"meshctl: wrote {output} ({nodes} nodes, {edges} edges, {len(result.findings)} findings)\n")


LOSS_CODES = ("MSH400", "MSH402")  # left out; MSH401 (carried over differently) is a note, not a loss


@app.command()
def translate(
    paths: PathsArg,
    to: Annotated[str, typer.Option("--to", help="The target: envoy, istio, linkerd or gateway-api.")],
    output_dir: Annotated[
        Optional[Path], typer.Option("--output-dir", "-o", help="Write the result into DIR (created if missing).")
    ] = None,
    source: Annotated[
        str, typer.Option("--from", help="istio, linkerd, gateway-api, ingress: which inputs to translate (auto: all but the target's).")
    ] = "auto",
    linkerd_version: Annotated[
        Optional[str], typer.Option("--linkerd-version", help="The Linkerd the output is for: 2.16 to 2.20 (default the newest).")
    ] = None,
    profile: Annotated[bool, typer.Option("--profile", help="linkerd: ServiceProfiles instead of HTTPRoutes.")] = False,
    proxy: Annotated[
        str, typer.Option("--proxy", help="envoy: sidecar (default), gateway NAME.NS or inbound WORKLOAD.NS.")
    ] = "sidecar",
    namespace: Annotated[
        Optional[str], typer.Option("--namespace", "-n", help="envoy sidecar: the client's namespace (default: the first route's).")
    ] = None,
    listen_address: Annotated[
        str, typer.Option("--listen-address", help="envoy: the address listeners bind (default 0.0.0.0).")
    ] = "0.0.0.0",
    output_format: Annotated[
        str, typer.Option("--format", help="envoy: yaml (a bootstrap, envoy.yaml) or xds (listeners/routes/clusters JSON).")
    ] = "yaml",
    strict: Annotated[bool, typer.Option("--strict", help="Fail (and write nothing) if anything was left out (MSH400, MSH402).")] = False,
    check: Annotated[bool, typer.Option("--check", help="envoy: validate the output with the envoy binary on PATH.")] = False,
    report: Annotated[
        Optional[str], typer.Option("--report", help="How findings are printed: text, json, sarif, github or junit.")
    ] = None,
    mesh_config: MeshConfigOpt = None,
    fail_on: FailOnOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    suppress: SuppressOpt = None,
    exclude: ExcludeOpt = None,
    allow_unknown_fields: UnknownOpt = False,
    strict_kinds: StrictKindsOpt = False,
    gateway_api_channel: ChannelOpt = None,
    jobs: JobsOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    color: ColorOpt = None,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Compile the mesh into another configuration language, naming everything that did not carry over.

    Findings go to standard output; the result is written into --output-dir only when the
    run passes (no errors in the inputs and, with --strict, no loss at all).
    """
    from meshctl import targets
    from meshctl.outputs import refuse_inputs
    from meshctl.pipeline import run_translate

    if to not in targets.TARGETS:
        raise UsageError(f"unknown target {to!r} (expected {', '.join(targets.TARGETS)})")
    if output_dir is None:
        raise UsageError("translate needs --output-dir DIR", hint=f"meshctl translate --to {to} PATH... -o out/")
    targets.reject_other_targets_flags(to, {
        "--proxy": proxy != "sidecar", "--namespace": namespace is not None, "--listen-address": listen_address != "0.0.0.0",
        "--format": output_format != "yaml", "--check": check, "--from": source != "auto",
        "--linkerd-version": linkerd_version is not None, "--profile": profile,
    })
    flags = dict(locals(), format=report, output=None)
    options = _run_options(flags)
    if to == "envoy":
        target, paths = targets.envoy_target(proxy, paths, namespace, listen_address, output_format, output_dir)
        options = dataclasses.replace(options, paths=tuple(paths))
    else:
        channel = gateway_api_channel or "standard"  # emit only what every cluster serves, unless told otherwise
        target = targets.mesh_target(to, source, linkerd_version, channel, profile, output_dir)
    if not paths:
        raise UsageError("no input paths given")
    reports = _reports(report, None, paths)
    refuse_inputs(target.files, paths)
    result = run_translate(options, target.emit)
    _emit("translate", result, reports, color)
    code = _exit_code(result, options)
    losses = sum(1 for f in result.findings if f.code in LOSS_CODES)
    if strict and losses:
        code = ExitCode.FINDINGS
    if code != ExitCode.OK:
        sys.stderr.write(f"meshctl: nothing written to {output_dir}: the run failed\n")
        raise typer.Exit(code)
    what = target.write(result.translation, result.checked, paths)
    sys.stderr.write(f"meshctl: wrote {', '.join(str(f) for f in target.files)} ({what}; {losses} losses)\n")
    if check and not target.check(result.translation):
        raise typer.Exit(ExitCode.FINDINGS)
    raise typer.Exit(code)


@app.command()
def diagnose(
    kubeconfig: Annotated[
        Optional[str], typer.Option("--kubeconfig", help="Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster).")
    ] = None,
    context: Annotated[Optional[str], typer.Option("--context", help="The kubeconfig context to use.")] = None,
    namespace: Annotated[
        Optional[list[str]],
        typer.Option("--namespace", "-n", help="Read this namespace (repeatable; default: the context's)."),
    ] = None,
    all_namespaces: Annotated[bool, typer.Option("--all-namespaces", "-A", help="Read every namespace.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds each API call may take (retried calls each).")] = 30.0,
    check_certificates: Annotated[
        bool, typer.Option("--check-certificates", help="Also read the TLS Secrets Gateways name and check them.")
    ] = False,
    closed_world: Annotated[
        bool, typer.Option("--closed-world", help="Unresolved references are errors even when only some namespaces are read.")
    ] = False,
    format: FormatOpt = None,
    output: OutputOpt = None,
    fail_on: FailOnOpt = None,
    select: SelectOpt = None,
    ignore: IgnoreOpt = None,
    suppress: SuppressOpt = None,
    allow_unknown_fields: UnknownOpt = False,
    gateway_api_channel: ChannelOpt = None,
    config: ConfigOpt = None,
    no_config: NoConfigOpt = False,
    color: ColorOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Read a live cluster (read-only) and run every analyze check on it, plus the live-state checks.

    Exit code 3 when the cluster cannot be reached or rejects the credentials.
    """
    from meshctl.cluster.command import diagnose as run_diagnose_command

    flags = dict(locals(), paths=[], exclude=None, strict_kinds=False, jobs=1, verbose=False)
    options = _run_options(flags)
    reports = _reports(format, output, [])
    result = run_diagnose_command(
        options, kubeconfig=kubeconfig, context=context, namespaces=namespace, all_namespaces=all_namespaces,
        timeout=timeout, check_certificates=check_certificates, debug=debug,
    )
    _emit("diagnose", result, reports, color)
    raise typer.Exit(_exit_code(result, options))


def _mesh_and_graph(result: Any) -> tuple[Any, Any]:
    """The model and graph the analysis ran on, with the security analysis' edges added."""
    analysis = result.analysis
    _add_security_edges(analysis.mesh, analysis.graph)
    return analysis.mesh, analysis.graph


def _add_security_edges(mesh: Any, graph: Any) -> None:
    """The security analysis' edges: mtls (client groups -> services) and allowed callers."""
    from meshctl.security.authz import add_authorization, allowed_callers
    from meshctl.security.mtls import add_mtls, mtls_edges

    add_mtls(graph, mesh, mtls_edges(mesh))
    add_authorization(graph, mesh, allowed_callers(mesh))


@app.command()
def rules(
    format: Annotated[str, typer.Option("--format", "-f", help="text or json.")] = "text",
) -> None:
    """List every code meshctl reports."""
    from meshctl.rules.registry import all_rules

    if format == "json":
        import json

        rows = [
            {"code": r.code, "name": r.name, "severity": r.severity.label,
             "istio_code": r.istio_code, "summary": r.summary, "default_enabled": r.default_enabled}
            for r in all_rules()
        ]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    if format != "text":
        raise UsageError(f"unknown format {format!r} (expected text or json)")
    for r in all_rules():
        istio = r.istio_code or "-"
        sys.stdout.write(f"{r.code}  {r.name:<32} {r.severity.label:<8} {istio:<8} {r.summary}\n")


@app.command()
def explain(code: Annotated[str, typer.Argument(help="A code (MSH011) or rule name.")]) -> None:
    """Print the documentation of one code: what it finds, why it matters, an example, the fix."""
    from meshctl.rules.registry import by_code

    rule = by_code(code)
    if rule is None:
        raise UsageError(f"unknown code {code!r}", hint="`meshctl rules` lists them")
    istio = f" (istioctl: {rule.istio_code})" if rule.istio_code else ""
    sys.stdout.write(f"{rule.code} {rule.name}{istio}: {rule.severity.label}\n\n")
    sys.stdout.write(f"{rule.summary}\n\n{rule.body}\n")


@app.command()
def version() -> None:
    """Print meshctl's version."""
    sys.stdout.write(f"meshctl {__version__}\n")


# -- helpers ---------------------------------------------------------------------------
def _options(
    paths: list[str],
    fail_on: str | None,
    select: list[str] | None,
    ignore: list[str] | None,
    suppress: list[str] | None,
    exclude: list[str] | None,
    allow_unknown_fields: bool,
    strict_kinds: bool,
    config: Path | None,
    no_config: bool,
) -> Options:
    from meshctl import config as config_file

    settings: dict[str, object] = {}
    config_path: Path | None = None
    if not no_config:
        config_path = config if config is not None else config_file.find(Path.cwd())
        if config is not None and not config.is_file():
            raise ConfigError(f"{config}: configuration file not found")
        if config_path is not None:
            settings = config_file.load(config_path)

    def listed(cli: list[str] | None, key: str) -> tuple[str, ...]:
        return tuple(cli) if cli else tuple(settings.get(key, ()))  # type: ignore[arg-type]

    fail_text = fail_on or str(settings.get("fail-on", "error"))
    if fail_text not in FAIL_ON:
        raise UsageError(f"--fail-on must be one of {', '.join(FAIL_ON)}, not {fail_text!r}")
    threshold = None if fail_text == "never" else Severity.parse(fail_text)
    return Options(
        paths=tuple(paths),
        fail_on=threshold,
        select=_codes(listed(select, "select"), "--select"),
        ignore=_codes(listed(ignore, "ignore"), "--ignore"),
        suppress=tuple(_suppression(s) for s in listed(suppress, "suppress")),
        exclude=listed(exclude, "exclude"),
        allow_unknown_fields=allow_unknown_fields or bool(settings.get("allow-unknown-fields", False)),
        strict_kinds=strict_kinds or bool(settings.get("strict-kinds", False)),
        config_file=str(config_path) if config_path else None,
        closed_world=bool(settings.get("closed-world", False)),
        gateway_api_channel=str(settings.get("gateway-api-channel", "experimental")),
        jobs=int(settings.get("jobs", 0)),
        mesh_config=(
            str(config_path.parent / str(settings["mesh-config"]))
            if config_path is not None and "mesh-config" in settings else None
        ),
    )


def _codes(prefixes: tuple[str, ...], flag: str) -> tuple[str, ...]:
    """Code prefixes for --select/--ignore; one that matches no code is a usage error."""
    if not prefixes:
        return ()
    from meshctl.rules.registry import all_rules

    codes = [r.code for r in all_rules()]
    out = []
    for raw in prefixes:
        for prefix in raw.split(","):
            prefix = prefix.strip().upper()
            if not prefix:
                continue
            if not any(code.startswith(prefix) for code in codes):
                raise UsageError(f"{flag} {prefix}: no code starts with it", hint="`meshctl rules` lists them")
            out.append(prefix)
    return tuple(out)


def _suppression(text: str) -> Suppression:
    code, sep, resource = text.partition("=")
    if not sep or not code.strip() or not resource.strip():
        raise UsageError(
            f"--suppress {text!r}: expected CODE=RESOURCE",
            hint='for example --suppress "MSH011=VirtualService reviews.*"',
        )
    return Suppression(code.strip().upper(), resource.strip(), text)


def _reports(fmt: str | None, outputs: list[str] | None, inputs: list[str]) -> list[tuple[str, Path | None]]:
    """(format, file) pairs; file None is stdout."""
    from meshctl.outputs import refuse_inputs

    if fmt is None:
        in_actions = os.environ.get("GITHUB_ACTIONS") == "true" and not sys.stdout.isatty()
        fmt = "github" if in_actions else "text"
    if fmt not in FORMAT_NAMES:
        raise UsageError(f"unknown format {fmt!r} (expected {', '.join(FORMAT_NAMES)})")
    reports: list[tuple[str, Path | None]] = [(fmt, None)]
    for spec in outputs or ():
        name, sep, file = spec.partition("=")
        if not sep or not file or name not in FORMAT_NAMES:
            raise UsageError(
                f"--output {spec!r}: expected FORMAT=FILE with FORMAT one of {', '.join(FORMAT_NAMES)}"
            )
        reports.append((name, Path(file)))
    refuse_inputs([p for _, p in reports if p is not None], inputs)
    return reports


def _emit(command: str, result: object, reports: list[tuple[str, Path | None]], color: bool | None) -> None:
    from meshctl.outputs import write_atomic
    from meshctl.report import reporter
    from meshctl.report.base import ReportContext

    for note in getattr(result, "notes", ()):
        sys.stderr.write(f"meshctl: {note}\n")
    for name, path in reports:
        on_tty = path is None and sys.stdout.isatty()
        use_color = color if color is not None else (on_tty and "NO_COLOR" not in os.environ)
        width = _terminal_width() if on_tty else 100
        ctx = ReportContext(command, __version__, color=bool(use_color and path is None), width=width)
        text = reporter(name).render(result, ctx)  # type: ignore[arg-type]
        if path is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            write_atomic(path, text)
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file and any(name == "github" for name, _ in reports):
        _append_step_summary(Path(summary_file), command, result)


def _append_step_summary(path: Path, command: str, result: object) -> None:
    """Append the findings table to the GitHub step summary; failing to is only a note."""
    from meshctl.report.base import ReportContext
    from meshctl.report.github import step_summary

    text = step_summary(result, ReportContext(command, __version__))  # type: ignore[arg-type]
    try:
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        sys.stderr.write(f"meshctl: cannot write the step summary to {path}: {exc.strerror or exc}\n")


def _terminal_width() -> int:
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except OSError:
        return 100


def _exit_code(result: object, options: Options) -> int:
    if options.fail_on is None:
        return ExitCode.OK
    worst = result.worst()  # type: ignore[attr-defined]
    return ExitCode.FINDINGS if worst is not None and worst >= options.fail_on else ExitCode.OK


def _usage_exception() -> Any:
    """The usage-error base class of typer's parser (click, vendored by newer typers)."""
    try:
        from typer._click import ClickException
    except ImportError:
        from click import ClickException
    return ClickException


def main() -> None:
    """Entry point: run the app and turn every way out into an exit code."""
    # A run allocates one object graph and exits: the cyclic collector would only rescan
    # the YAML node trees the run keeps (docs/performance.md). The pipeline pauses it for
    # library callers too; the command line simply never turns it back on.
    gc.disable()
    try:
        code = app(standalone_mode=False)
        if code == ExitCode.INTERRUPTED:  # typer turns Ctrl-C into this exit code
            sys.stderr.write("meshctl: interrupted\n")
        sys.exit(code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except _usage_exception() as exc:  # errors found while parsing flags
        exc.show()
        sys.exit(ExitCode.USAGE)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("meshctl: interrupted\n")
        sys.exit(ExitCode.INTERRUPTED)
    except MeshctlError as exc:
        sys.stderr.write(f"meshctl: error: {exc}\n")
        if exc.hint:
            sys.stderr.write(f"  hint: {exc.hint}\n")
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(ExitCode.OK)
    except Exception:  # noqa: BLE001 - the one place that maps bugs to exit code 70
        if _debug or "--debug" in sys.argv:
            import traceback

            traceback.print_exc()
        else:
            sys.stderr.write(
                "meshctl: internal error (this is a bug; please report it). "
                "Run again with --debug for the traceback.\n"
            )
        sys.exit(ExitCode.INTERNAL)
