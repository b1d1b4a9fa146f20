"""``meshctl graph -f html`` in a real browser: headless Chromium (Debian's ``chromium``).

The page must draw without the network: the screenshot must show the node boxes in the
colours of their kinds (not a blank or broken page), and the DOM Chromium built must
hold every node of the graph with its label. `.ci/run` installs chromium when it is
missing; without it these tests skip.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from meshctl.render import KIND_FILL
from meshctl.render.html import LABEL_CHARS, clip
from tests.conftest import TESTDATA, run_meshctl

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("MESHCTL_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no chromium binary: install Debian's chromium (apt-get install chromium; .ci/run does) "
    "or set MESHCTL_CHROMIUM",
)
WIDTH, HEIGHT = 1400, 900


def chromium(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args, page.as_uri()],
        capture_output=True, text=True, timeout=180, check=False,
    )


def read_png(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    width = height = channels = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            assert depth == 8 and interlace == 0 and colour in (2, 6), (depth, colour, interlace)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b, c = previous[i], previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        previous = line
        if channels == 4:
            line = bytearray(v for i, v in enumerate(line) if i % 4 != 3)
        rows.append(bytes(line))
    return width, height, rows


def rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@pytest.fixture(scope="module")
def demo_page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("html")
    page = out / "demo.html"
    run = run_meshctl("graph", "-f", "html", "-o", str(page), str(TESTDATA / "demo"))
    assert run.code == 0, run.stderr
    graph = json.loads(run_meshctl("graph", "-f", "json", str(TESTDATA / "demo")).stdout)
    return page, graph


@needs_chromium
def test_the_screenshot_shows_the_nodes(demo_page, tmp_path: Path) -> None:
    page, graph = demo_page
    png = tmp_path / "shot.png"
    proc = chromium(page, tmp_path / "profile", f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}")
    assert png.is_file(), proc.stderr[-2000:]
    width, height, rows = read_png(png)
    assert (width, height) == (WIDTH, HEIGHT)
    pixels: Counter[tuple[int, int, int]] = Counter()
    for row in rows:
        pixels.update(zip(row[0::3], row[1::3], row[2::3]))
    # not blank: many colours, and far from one flat colour
    assert len(pixels) > 200
    ((_, most),) = pixels.most_common(1)
    assert most < 0.9 * width * height
    total = width * height
    luminance = {colour: 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2] for colour in pixels}
    mean = sum(luminance[c] * n for c, n in pixels.items()) / total
    variance = sum((luminance[c] - mean) ** 2 * n for c, n in pixels.items()) / total
    assert variance > 200, variance  # a blank page is 0; the demo about 800
    # every kind of node the demo has is painted in its fill, as boxes, not as a speck
    kinds = Counter(n["kind"] for n in graph["nodes"])
    assert {"gateway", "route", "service", "subset", "workload"} <= set(kinds)
    for kind, count in kinds.items():
        painted = pixels[rgb(KIND_FILL[kind])]
        assert painted > 800 * count, f"{kind}: {painted} pixels of {KIND_FILL[kind]} for {count} nodes"


@needs_chromium
def test_the_dom_holds_every_node_and_label(demo_page, tmp_path: Path) -> None:
    page, graph = demo_page
    proc = chromium(page, tmp_path / "profile", "--dump-dom")
    dom = proc.stdout
    assert "<svg" in dom, proc.stderr[-2000:]
    ids = set(re.findall(r'<g class="node [^"]*" data-id="([^"]*)"', dom))
    assert ids == {n["id"] for n in graph["nodes"]}
    texts = set(re.findall(r'<text class="label"[^>]*>([^<]*)</text>', dom))
    for node in graph["nodes"]:
        assert clip(node["label"], LABEL_CHARS).replace("&", "&amp;") in texts, node["label"]
    for label in ("cart.shop", "frontend.shop", "catalog-v1.shop", "public.ingress", "books.linkerd-demo"):
        assert label in texts
    assert len(re.findall(r'<g class="edge ', dom)) == len(graph["edges"])
    assert "MSH102" in dom and "<h2>Findings</h2>" in dom
