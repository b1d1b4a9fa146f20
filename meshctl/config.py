"""``.meshctl.yaml``: project defaults, found from the working directory upward.

```yaml
fail-on: warning            # error | warning | info | never
select: [MSH0, MSH1]        # code prefixes to report (default: all)
ignore: [MSH013]            # code prefixes never to report
suppress:                   # like --suppress
  - "MSH011=VirtualService legacy.*"
exclude: ["charts/*/values.yaml", "vendor/*"]
allow-unknown-fields: false
strict-kinds: false
gateway-api-channel: standard   # the Gateway API CRDs your clusters run (default: experimental)
jobs: 2                     # worker processes for inputs of 2 MB and more (default: the cores)
closed-world: false         # analyze: the inputs are the whole mesh
mesh-config: mesh.yaml      # analyze: Istio MeshConfig (relative to this file)
```
The command line overrides every key. An unknown key is an error naming it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from meshctl.errors import ConfigError

NAMES = (".meshctl.yaml", ".meshctl.yml")
KEYS = {
    "fail-on": str,
    "select": list,
    "ignore": list,
    "suppress": list,
    "exclude": list,
    "allow-unknown-fields": bool,
    "strict-kinds": bool,
    "closed-world": bool,
    "gateway-api-channel": str,
    "jobs": int,
    "mesh-config": str,
}


def find(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        for name in NAMES:
            candidate = directory / name
            if candidate.is_file():
                return candidate
    return None


def load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: invalid YAML in configuration") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: configuration must be a mapping of options")
    for key, value in data.items():
        expected = KEYS.get(key)
        if expected is None:
            known = ", ".join(KEYS)
            raise ConfigError(f"{path}: unknown option {key!r}", hint=f"known options: {known}")
        if not isinstance(value, expected):
            raise ConfigError(f"{path}: option {key!r} must be a {expected.__name__}")
        if expected is list and not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: option {key!r} must be a list of strings")
    return data
