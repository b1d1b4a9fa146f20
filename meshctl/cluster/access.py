"""How to reach the API server: kubeconfig files, contexts, credentials, in-cluster config.

Resolution follows kubectl: ``--kubeconfig FILE``, else every file of ``KUBECONFIG``
(separated by ``os.pathsep``; missing ones ignored; for a cluster, context or user
defined twice and for ``current-context`` the first file wins), else ``~/.kube/config``,
else the in-cluster service account when running in a pod. Credentials (token, token
file, client certificate, basic auth, exec plugins, auth providers) are loaded by the
official ``kubernetes`` client; meshctl only says *which* kind was used, never the value.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshctl.errors import ConfigError, InputError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class CredentialError(InputError):
    """The credentials could not be obtained (an exec plugin failed, say): exit code 3."""


@dataclass
class Access:
    configuration: Any  # kubernetes.client.Configuration
    server: str
    context: str
    namespace: str  # the context's namespace ("default" when it sets none)
    auth: str  # what kind of credential is used: "token", "client certificate", ...
    exec_command: str | None = None
    insecure: bool = False
    sources: tuple[str, ...] = ()  # the kubeconfig files read
    warnings: list[str] = field(default_factory=list)


def kubeconfig_paths(flag: str | None) -> list[Path]:
    if flag is not None:
        path = Path(flag).expanduser()
        if not path.is_file():
            raise ConfigError(f"--kubeconfig {flag}: no such file")
        return [path]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p).expanduser() for p in env.split(os.pathsep) if p and Path(p).expanduser().is_file()]
    default = Path("~/.kube/config").expanduser()
    return [default] if default.is_file() else []


def load(kubeconfig: str | None, context: str | None, debug: Callable[[str], None] | None = None) -> Access:
    paths = kubeconfig_paths(kubeconfig)
    if not paths:
        if _in_cluster():
            return _load_in_cluster(context)
        where = "KUBECONFIG names no existing file" if os.environ.get("KUBECONFIG") else "~/.kube/config does not exist"
        raise ConfigError(
            f"no kubeconfig: {where}, and meshctl is not running in a pod",
            hint="pass --kubeconfig FILE, or set KUBECONFIG",
        )
    return _load_files(paths, context, debug)


def _in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST")) and (SERVICE_ACCOUNT_DIR / "token").is_file()


def _configuration() -> Any:
    from kubernetes.client import Configuration

    configuration = Configuration()
    # meshctl retries itself (api.py), with backoff and a report; False also keeps urllib3 from
    # following redirects (to any host or scheme): api.py reports them instead
    configuration.retries = False
    return configuration


def _load_in_cluster(context: str | None) -> Access:
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.incluster_config import InClusterConfigLoader

    if context is not None:
        raise ConfigError(f"--context {context}: no kubeconfig to take it from (running in a pod, in-cluster config)")
    configuration = _configuration()
    try:
        InClusterConfigLoader(
            token_filename=str(SERVICE_ACCOUNT_DIR / "token"),
            cert_filename=str(SERVICE_ACCOUNT_DIR / "ca.crt"),
        ).load_and_set(configuration)
    except ConfigException as exc:
        raise ConfigError(f"in-cluster configuration: {exc}") from None
    namespace_file = SERVICE_ACCOUNT_DIR / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.is_file() else "default"
    return Access(configuration, configuration.host, "in-cluster", namespace or "default", "in-cluster service account token")


def _first_current_context(paths: list[Path]) -> str | None:
    import yaml

    for path in paths:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: not a readable kubeconfig ({type(exc).__name__})") from None
        if isinstance(data, dict) and data.get("current-context"):
            return str(data["current-context"])
    return None


class _Captured(logging.Handler):
    """The kubernetes client logs exec plugin failures instead of raising them."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _load_files(paths: list[Path], context: str | None, debug: Callable[[str], None] | None) -> Access:
    from kubernetes.config.config_exception import ConfigException
    from kubernetes.config.kube_config import KubeConfigLoader, KubeConfigMerger

    current = context or _first_current_context(paths)
    try:
        merged = KubeConfigMerger(os.pathsep.join(str(p) for p in paths))
    except Exception as exc:  # noqa: BLE001 - malformed YAML or shapes, reported as configuration errors
        raise ConfigError(f"cannot read the kubeconfig: {type(exc).__name__}: {_first_line(exc)}") from None
    if merged.config is None:
        raise ConfigError("the kubeconfig is empty")
    contexts = [c.value.get("name") for c in merged.config["contexts"]] if "contexts" in merged.config else []
    if current is None:
        raise ConfigError(
            "the kubeconfig sets no current-context", hint=f"pass --context (one of: {', '.join(map(str, contexts)) or 'none'})"
        )
    if current not in contexts:
        raise ConfigError(
            f"context {current!r} is not in the kubeconfig",
            hint=f"contexts: {', '.join(map(str, contexts)) or 'none'}",
        )
    configuration = _configuration()
    captured = _Captured()
    root = logging.getLogger()
    root.addHandler(captured)
    try:
        loader = KubeConfigLoader(config_dict=merged.config, active_context=current, config_base_path=None)
        user = loader._user  # noqa: SLF001 - which credential the context uses (never its value)
        exec_command = _exec_command(user)
        if exec_command is not None and debug is not None:
            debug(f"running exec credential plugin {exec_command!r} for user of context {current!r}")
        loader.load_and_set(configuration)
    except ConfigException as exc:
        raise ConfigError(f"context {current!r}: {_first_line(exc)}") from None
    finally:
        root.removeHandler(captured)
    ctx = loader.current_context.get("context", {}) if hasattr(loader.current_context, "get") else {}
    auth = _auth_kind(user)
    has_token = bool(configuration.api_key)
    has_cert = bool(getattr(configuration, "cert_file", None))
    if exec_command is not None:
        if not (has_token or has_cert):
            reason = "; ".join(m for m in captured.messages if m) or "it printed no token or certificate"
            raise CredentialError(f"exec credential plugin {exec_command!r} failed: {_first_line(reason)}")
        if debug is not None:
            debug(f"exec credential plugin {exec_command!r} returned a {'token' if has_token else 'client certificate'}")
    server = str(configuration.host or "")
    if not server:
        raise ConfigError(f"context {current!r}: its cluster has no server")
    access = Access(
        configuration, server, current, str(ctx.get("namespace") or "default"), auth, exec_command,
        sources=tuple(str(p) for p in paths),
    )
    if configuration.verify_ssl is False:
        access.insecure = True
        access.warnings.append(
            f"TLS verification is off for {server} (insecure-skip-tls-verify in context {current!r}): "
            "anyone on the path can read and change what meshctl is shown"
        )
        import warnings

        warnings.filterwarnings("ignore", message="Unverified HTTPS request")  # said once, above
    return access


def _exec_command(user: Any) -> str | None:
    """The exec plugin the client will run: auth providers and tokens take precedence."""
    if not user or "auth-provider" in user or "token" in user or "tokenFile" in user:
        return None
    if "exec" in user:
        command = user["exec"].safe_get("command") if hasattr(user["exec"], "safe_get") else None
        return str(command) if command else "(no command)"
    return None


def _auth_kind(user: Any) -> str:
    if not user:
        return "no credentials"
    if "auth-provider" in user:
        return "auth provider"
    if "token" in user or "tokenFile" in user:
        return "token"
    if "exec" in user:
        return "exec credential plugin"
    if "client-certificate" in user or "client-certificate-data" in user:
        return "client certificate"
    if "username" in user:
        return "basic auth"
    return "no credentials"


def _first_line(exc: object) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
