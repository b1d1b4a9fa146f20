"""docs/tutorial.md is honest: its fixes, applied to the demo, leave a clean analysis.

Every fix below is written out in the tutorial; the test applies them to a copy of the
demo (the demo itself keeps its mistakes) and expects no error and no warning.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import ROOT, run_meshctl

FRONTEND_BEFORE = """\
  - name: web
    route:
    - destination:
        host: frontend.shop.svc.cluster.local
        port:
          number: 80
    timout: 10s
  - name: static-assets
    match:
    - uri:
        prefix: /static/
    route:
    - destination:
        host: frontend.shop.svc.cluster.local
        port:
          number: 80
    headers:
      response:
        set:
          cache-control: public, max-age=86400
"""
FRONTEND_AFTER = """\
  - name: static-assets
    match:
    - uri:
        prefix: /static/
    route:
    - destination:
        host: frontend.shop.svc.cluster.local
        port:
          number: 80
    headers:
      response:
        set:
          cache-control: public, max-age=86400
  - name: web
    route:
    - destination:
        host: frontend.shop.svc.cluster.local
        port:
          number: 80
    timeout: 10s
"""

# (file, before, after): the fixes of docs/tutorial.md, in its order.
FIXES = [
    ("shop/frontend.yaml", FRONTEND_BEFORE, FRONTEND_AFTER),
    ("shop/cart-routing.yaml", '          regex: "^(?=.*\\\\bbeta=1\\\\b).*$"', '          regex: "(^|; )beta=1(;|$)"'),
    ("shop/cart-routing.yaml", "      weight: 80\n", "      weight: 90\n"),
    ("shop/cart-routing.yaml", "      subset: v3\n", "      subset: v2\n"),
    ("payments/payments.yaml", "    timeout: 5\n", "    timeout: 5s\n"),
    ("payments/payments.yaml", "      mode: STRICT\n", "      mode: ISTIO_MUTUAL\n"),
    ("payments/payments.yaml", "cluster.local/ns/shop/sa/carts", "cluster.local/ns/shop/sa/cart"),
    ("linkerd/books-policy.yaml", "proxyProtocol: HTTP2", "proxyProtocol: HTTP/2"),
    ("gateway-api/catalog-route.yaml", "    timeout: 30s\n", "    timeouts:\n      request: 30s\n"),
]


def _apply(demo: Path) -> None:
    for file, before, after in FIXES:
        path = demo / file
        text = path.read_text()
        assert text.count(before) == 1, f"{file}: the tutorial's 'before' is not in the demo: {before!r}"
        path.write_text(text.replace(before, after))
    # Two fixes remove documents or annotations outright, as the tutorial says.
    cart = demo / "shop" / "cart-routing.yaml"
    cart.write_text(cart.read_text().split("---\n# A debugging shortcut")[0])
    books = demo / "linkerd" / "books.yaml"
    books.write_text(books.read_text().replace(
        '  annotations:\n    # "No retries: a POST must never be sent twice." (limit 0 does not do that)\n'
        '    retry.linkerd.io/http: 5xx\n    retry.linkerd.io/limit: "0"\n', ""))


def test_the_tutorials_fixes_leave_a_clean_mesh(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(ROOT / "testdata" / "demo", demo)
    _apply(demo)
    run = run_meshctl("analyze", "-f", "json", str(demo))
    report = json.loads(run.stdout)
    left = [(f["code"], f["location"]["file"], f["location"]["line"]) for f in report["findings"]
            if f["severity"] in ("error", "warning")]
    assert left == []
    assert run.code == 0


def test_the_tutorial_shows_each_fix() -> None:
    tutorial = (ROOT / "docs" / "tutorial.md").read_text()
    for file, _, after in FIXES:
        assert file in tutorial
        assert after.strip().splitlines()[0].strip() in tutorial


def test_the_tutorials_final_summary_is_what_meshctl_prints(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(ROOT / "testdata" / "demo", demo)
    _apply(demo)
    summary = run_meshctl("analyze", str(demo)).stdout.splitlines()[-1]
    assert summary in (ROOT / "docs" / "tutorial.md").read_text()
