"""``--mesh-config FILE``: Istio's MeshConfig, as YAML or as the ``istio`` ConfigMap.

Accepts the MeshConfig itself (``rootNamespace: istio-system``, ...) or a ConfigMap
whose ``data.mesh`` holds it, as ``kubectl get cm istio -n istio-system -o yaml`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from meshctl.errors import InputError, UsageError
from meshctl.lower.context import dct, dicts, lst, text
from meshctl.model.objects import MeshConfig


def load_mesh_config(path: Path) -> MeshConfig:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such mesh config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read the mesh config: {exc}") from None
    try:
        data = yaml.load(raw, Loader=yaml.CSafeLoader)
        if isinstance(data, dict) and data.get("kind") == "ConfigMap":
            data = yaml.load(text(dct(data.get("data")).get("mesh")) or "", Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise UsageError(f"{path}{where}: the mesh config is not valid YAML") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: the mesh config must be a mapping (Istio MeshConfig)")
    return mesh_config(data, str(path))


def mesh_config(data: dict[str, Any], source: str | None = None) -> MeshConfig:
    defaults = MeshConfig()
    providers = dct(data.get("defaultProviders"))
    metadata = dct(dct(data.get("defaultConfig")).get("proxyMetadata"))
    return MeshConfig(
        root_namespace=text(data.get("rootNamespace")) or defaults.root_namespace,
        trust_domain=text(data.get("trustDomain")) or defaults.trust_domain,
        default_access_log_providers=tuple(p for p in lst(providers.get("accessLogging")) if isinstance(p, str)),
        extension_providers=tuple(text(p.get("name")) or "" for _, p in dicts(data.get("extensionProviders"))),
        enable_auto_mtls=data.get("enableAutoMtls") is not False,
        ingress_service=text(data.get("ingressService")) or defaults.ingress_service,
        ingress_selector=text(data.get("ingressSelector")) or defaults.ingress_selector,
        ingress_class=text(data.get("ingressClass")) or defaults.ingress_class,
        outbound_traffic_policy=text(dct(data.get("outboundTrafficPolicy")).get("mode")) or defaults.outbound_traffic_policy,
        dns_auto_allocate=str(metadata.get("ISTIO_META_DNS_AUTO_ALLOCATE", "")).lower() == "true",
        source=source,
    )
