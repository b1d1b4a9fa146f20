"""The two shapes of the output: a static bootstrap, and xDS resource lists.

The bootstrap is what ``envoy -c`` runs; the xDS form is what ``istioctl proxy-config
listeners|routes|clusters -o json`` prints, for diffing against a live proxy: listeners
refer to their route configuration by name (RDS) instead of carrying it inline.
"""

from __future__ import annotations

import copy
from typing import Any

from meshctl.emit.envoy.build import Build

Json = dict[str, Any]
ADMIN_PORT = 15000
HCM_NAME = "envoy.filters.network.http_connection_manager"


def node(build: Build) -> Json:
    options = build.options
    kind = "router" if options.proxy == "gateway" else "sidecar"
    name, ns = options.target or ("client", build.proxy_namespace)
    return {
        "id": f"{kind}~{options.listen_address}~{name}.{ns}~{ns}.svc.{build.mesh.domain}",
        "cluster": f"{name}.{ns}",
    }


def bootstrap(build: Build, listeners: list[Json]) -> Json:
    return {
        "node": node(build),
        "admin": {"address": {"socket_address": {"address": "127.0.0.1", "port_value": ADMIN_PORT}}},
        "static_resources": {"listeners": listeners, "clusters": build.sorted_clusters()},
    }


def xds(build: Build, listeners: list[Json]) -> dict[str, list[Json]]:
    """Listeners with RDS references, the route configurations, and the clusters."""
    routes: list[Json] = []
    out_listeners = []
    for listener in listeners:
        listener = copy.deepcopy(listener)
        for chain in listener.get("filter_chains", []):
            for flt in chain.get("filters", []):
                config = flt.get("typed_config", {})
                if flt.get("name") == HCM_NAME and "route_config" in config:
                    route_config = config.pop("route_config")
                    routes.append(route_config)
                    config["rds"] = {
                        "route_config_name": route_config["name"],
                        "config_source": {"ads": {}, "resource_api_version": "V3"},
                    }
        out_listeners.append(listener)
    unique = {r["name"]: r for r in routes}
    return {
        "listeners": out_listeners,
        "routes": [unique[name] for name in sorted(unique)],
        "clusters": build.sorted_clusters(),
    }
