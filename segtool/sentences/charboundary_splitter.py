"""charboundary (ALEA's character-level random forest) as a splitter.

The library predicts, for each terminal character (``.``, ``?``, ``!``, quote,
line break ...), whether a sentence ends right after it; its spans
(``get_sentence_spans``) end at those positions.  Only the ends are used: spans
are rebuilt with :func:`spans_from_ends`, so whitespace after a sentence joins
that sentence (the library itself puts it at the start of the next one).

Long texts: the library's quote-balance feature counts quotes over the whole
prefix of the text for every quote character, so one call's time grows
super-linearly (bench/RESULTS.md: 5 MB in one call 161 s, in 50 KB blocks 6.7 s).  Texts are
therefore fed in blocks of at most ``block_chars`` cut at paragraph breaks
(else sentence ends, else whitespace; :func:`segtool.readers.blocks.find_cut`),
each with ``_MARGIN`` characters of context on both sides so the windowed
features (5 characters left, 3 right, list/colon look-around up to 50) see the
same neighbourhood as in one call; only boundaries inside the block proper are
kept, with global offsets.  The only feature that can differ from a
whole-string call is quote balance, which then counts from the block (a
paragraph start) instead of the document start — one stray quote early in a
long document no longer flips every later quote.

Models: only ``small`` ships in the charboundary wheel (its ONNX export too,
used when onnxruntime is present: same predictions, no sklearn tree walk).
``medium``/``large`` are downloaded by the library from GitHub on first use;
offline (``HF_HUB_OFFLINE=1`` or ``SEGTOOL_OFFLINE=1``), or when the download
fails, that is a usage error naming the file to fetch.  A path to a
``.skops``/``.skops.xz`` model file is accepted as well.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import warnings
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.types import Span, UsageError

MODELS = ("small", "medium", "large")
_MARGIN = 64
_DOWNLOAD_BASE = "https://github.com/alea-institute/charboundary/raw/refs/heads/main/charboundary/resources"


def offline() -> bool:
    """Has the user asked segtool (or the HF stack) not to touch the network?"""
    return any(
        os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")
        for var in ("SEGTOOL_OFFLINE", "HF_HUB_OFFLINE")
    )


def text_blocks(text: str, max_chars: int) -> list[tuple[int, int]]:
    """``[start, end)`` blocks of at most ``max_chars`` that concatenate to ``text``.

    Cuts prefer a paragraph break, then a sentence end or line break, then any
    whitespace, in the second half of the allowed length.
    """
    from segtool.readers.blocks import find_cut

    n = len(text)
    blocks = []
    start = 0
    while n - start > max_chars:
        cut = find_cut(text, start, start + max_chars)
        blocks.append((start, cut))
        start = cut
    blocks.append((start, n))
    return blocks


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """charboundary prints and logs download progress; sklearn warns about pickle versions.

    Our own one-line error says what went wrong, so their output is held back.
    """
    log = logging.getLogger("charboundary")
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        log.setLevel(level)


class CharBoundarySplitter(BaseSplitter):
    """charboundary's random-forest boundary classifier, blockwise with exact offsets."""

    name: ClassVar[str] = "charboundary"
    summary: ClassVar[str] = (
        "charboundary character-level random forest (ALEA); small model bundled, "
        "strong on legal text."
    )
    extra: ClassVar[str | None] = "charboundary"
    requires: ClassVar[tuple[str, ...]] = ("charboundary",)

    def __init__(
        self,
        *,
        charboundary_model: str = "small",
        block_chars: int = 50_000,
        charboundary_onnx: bool = True,
    ) -> None:
        if block_chars < 2 * _MARGIN:
            raise UsageError(
                f"--block-chars {block_chars}: too small — use at least {2 * _MARGIN}"
            )
        self.model_name = charboundary_model
        self.block_chars = int(block_chars)
        self.use_onnx = bool(charboundary_onnx)
        self._segmenter: Any = None

    def _model_file(self) -> tuple[str, str | None]:
        """(skops model path, bundled ONNX path or None) for the configured model."""
        from charboundary.remote_models import get_model_path, get_resource_dir

        name = self.model_name
        if name not in MODELS:
            path = os.path.expanduser(name)
            if os.path.isfile(path):
                return path, None
            raise UsageError(
                f"--charboundary-model {name!r}: neither {', '.join(MODELS)} nor a model file — "
                "pass small, or the path of a .skops/.skops.xz model"
            )
        with _quiet():
            path = get_model_path(name, use_onnx=False, download=False)
            if path is None and not offline():
                path = get_model_path(name, use_onnx=False, download=True)
        if path is None:
            why = "offline" if offline() else "download failed"
            raise UsageError(
                f"charboundary model {name!r} is not installed ({why}); only 'small' is bundled "
                f"with charboundary — use --charboundary-model small, or download "
                f"{_DOWNLOAD_BASE}/{name}_model.skops.xz and pass its path"
            )
        onnx_path = os.path.join(get_resource_dir(), "onnx", f"{name}_model.onnx.xz")
        return path, onnx_path if os.path.isfile(onnx_path) else None

    def load(self) -> Any:
        if self._segmenter is not None:
            return self._segmenter
        path, onnx_path = self._model_file()
        try:
            with _quiet():
                from charboundary import TextSegmenter

                segmenter = TextSegmenter.load(path, trust_model=True)
        except Exception as exc:
            raise UsageError(
                f"cannot load charboundary model ({str(exc).splitlines()[0][:120]}) — {path} — "
                "reinstall charboundary or pass another --charboundary-model"
            ) from exc
        if self.use_onnx and onnx_path:
            with _quiet():
                try:
                    import onnxruntime  # noqa: F401

                    if segmenter.load_onnx(onnx_path):
                        segmenter.enable_onnx(True)
                except Exception:  # no onnxruntime, or a broken export: sklearn still works
                    with contextlib.suppress(Exception):
                        segmenter.enable_onnx(False)
        self._segmenter = segmenter
        return segmenter

    def ends(self, text: str) -> list[int]:
        """Boundary positions (after the terminal character), global offsets, sorted."""
        segmenter = self.load()
        n = len(text)
        ends: list[int] = []
        for start, end in text_blocks(text, self.block_chars):
            lo = max(0, start - _MARGIN)
            hi = min(n, end + _MARGIN)
            with _quiet():
                spans = segmenter.get_sentence_spans(text[lo:hi])
            ends.extend(lo + e for _, e in spans if start < lo + e <= end)
        return ends

    def split(self, text: str) -> list[Span]:
        if not text.strip():
            return spans_from_ends(text, [])
        return spans_from_ends(text, self.ends(text))

    def split_batch(self, texts: Sequence[str]) -> list[list[Span]]:
        return [self.split(t) for t in texts]
