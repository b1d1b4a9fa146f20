"""``meshctl diagnose``: flags -> access -> reader -> run, with its messages on stderr.

``cli.py`` keeps only the command's signature; everything else is here so that the
``kubernetes`` client is imported when diagnose runs and never by any other command.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

from meshctl.errors import UsageError
from meshctl.options import Options
from meshctl.pipeline import RunResult


def diagnose(
    options: Options,
    *,
    kubeconfig: str | None,
    context: str | None,
    namespaces: list[str] | None,
    all_namespaces: bool,
    timeout: float,
    check_certificates: bool,
    debug: bool,
) -> RunResult:
    if namespaces and all_namespaces:
        raise UsageError("-n/--namespace and -A/--all-namespaces cannot be used together")
    if not timeout > 0:
        raise UsageError(f"--timeout must be a positive number of seconds, not {timeout:g}")
    log: Callable[[str], None] | None = _debug_line if debug else None

    from meshctl.cluster import access as access_mod
    from meshctl.cluster.api import Api
    from meshctl.cluster.reader import Reader, progress_bar
    from meshctl.cluster.run import run_diagnose

    access = access_mod.load(kubeconfig, context, log)
    for warning in access.warnings:
        sys.stderr.write(f"meshctl: warning: {warning}\n")
    scope: tuple[str, ...] | None
    if all_namespaces:
        scope = None
    elif namespaces:
        scope = tuple(dict.fromkeys(n.strip() for ns in namespaces for n in ns.split(",") if n.strip()))
    else:
        scope = (access.namespace,)
    if log is not None:
        where = "all namespaces" if scope is None else ", ".join(scope)
        sources = ", ".join(access.sources) or "in-cluster configuration"
        log(f"context {access.context!r} ({sources}): {access.server}, {access.auth}; reading {where}")
    api = Api(access, timeout, debug=log)
    try:
        show_bar = not debug and sys.stderr.isatty()
        with progress_bar(show_bar) as progress:
            reader = Reader(
                api, access, scope, channel=options.gateway_api_channel,
                check_certificates=check_certificates, progress=progress,
            )
            state = reader.read()
        if log is not None:
            log(f"read {len(state.docs)} objects in {api.requests} requests")
        return run_diagnose(options, state)
    finally:
        api.close()


def _debug_line(message: str) -> None:
    sys.stderr.write(f"meshctl: debug: {message}\n")
    sys.stderr.flush()
