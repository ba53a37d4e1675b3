"""Real models end to end: SmolLM2 + MiniLM scores, and the HTML report in headless Chromium.

One ``segtool score`` run (two window sizes of two short real documents) feeds
every test here; it takes tens of seconds on a CPU, hence ``slow``.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.score.conftest import run_cli

pytestmark = pytest.mark.slow

HIST, DOCS, COMPARISON = (72, 120, 168), (89, 161, 79), (225, 87, 89)  # the report's bar colours


@pytest.fixture(scope="module")
def scored(real_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("report")
    html = out / "report.html"
    proc = run_cli("score", str(real_docs), "--chunker", "window:max_tokens=40", "--chunker",
                   "window:max_tokens=80", "--lm", "smollm2", "--embedder", "minilm", "--device",
                   "cpu", "--boundary-metrics", "--stickiness-window", "1", "--worst", "3",
                   "--sample-chars", "900", "--html", str(html), "--json", timeout=900)
    if proc.returncode != 0 and "pip install" in proc.stderr:
        pytest.skip(f"a scoring model is not installed: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), html


def test_real_models_give_sane_scores(scored: tuple[dict, Path]) -> None:
    result, _ = scored
    assert [c["name"] for c in result["chunkings"]] == ["window:max_tokens=40",
                                                        "window:max_tokens=80"]
    for c in result["chunkings"]:
        assert len(c["documents_scores"]) == 2
        assert c["model_chunks"] < c["structural"]["chunks"]  # --sample-chars bounded the LM work
        for d in c["documents_scores"]:
            assert 0 < d["li"] < 1.5 and 0 < d["bc"] < 1.5 and d["cs"] >= 0
            assert math.isfinite(d["sd"])
            assert d["chunk_score"] == pytest.approx(0.3 * d["li"] + 0.7 * d["sd"], abs=1e-5)
        # on real prose the previous chunk helps: most boundaries have PPL(c|prev) < PPL(c)
        assert c["scores"]["li"] < 1
    small, large = result["chunkings"]
    # fewer, longer chunks: each boundary's neighbour carries more context
    assert small["structural"]["chunks"] > large["structural"]["chunks"]


class _Count(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: dict[str, int] = {}
        self.classes: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for cls in (dict(attrs).get("class") or "").split():
            self.classes[cls] = self.classes.get(cls, 0) + 1


def test_report_has_every_plot_and_no_external_resource(scored: tuple[dict, Path]) -> None:
    result, html = scored
    text = html.read_text(encoding="utf-8")
    count = _Count()
    count.feed(text)
    # two chunkings: a histogram and a per-document chart each, plus the comparison
    assert count.tags["svg"] == 5 and count.classes["plot"] == 5
    assert count.classes["histogram"] == 2 and count.classes["comparison"] == 1
    assert count.classes["boundary"] == sum(len(c["worst_boundaries"]) for c in result["chunkings"])
    assert count.classes["cut"] == count.classes["boundary"] > 0
    # nothing is fetched when the page opens: no scripts, stylesheets, imports or remote URLs
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)|url\(\s*["']?https?:""", text)
    assert "<metadata>" not in text  # matplotlib's creator/date block is stripped


def _colour_pixels(image, rgb: tuple[int, int, int], tol: int = 8) -> int:  # type: ignore[no-untyped-def]
    import numpy as np

    arr = np.asarray(image.convert("RGB")).astype(int)
    return int((np.abs(arr - np.array(rgb)).max(axis=2) <= tol).sum())


def test_report_renders_in_headless_chromium(scored: tuple[dict, Path], tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (scripts/install.sh installs Debian's chromium "
                    "when run as root with apt-get) — the HTML report was not rendered")
    from PIL import Image

    _, html = scored
    shot = tmp_path / "report.png"
    proc = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
         "--window-size=1200,4200", html.as_uri()],
        capture_output=True, text=True, timeout=180)
    assert shot.exists(), proc.stderr[-2000:]
    image = Image.open(shot)
    assert image.size == (1200, 4200)
    # every kind of plot drew its bars: thousands of pixels in each bar colour
    for colour in (HIST, DOCS, COMPARISON):
        assert _colour_pixels(image, colour) > 1000, colour
    # the two histograms sit in two separate, non-blank bands of the page
    rgb = image.convert("RGB")
    bands = [y for y in range(0, 4200, 20) if _colour_pixels(rgb.crop((0, y, 1200, y + 20)), HIST) > 50]
    groups = 1 + sum(1 for a, b in itertools.pairwise(bands) if b - a > 60)
    assert bands and groups == 2, bands
    assert image.convert("L").getextrema()[0] < 100  # dark text was drawn
