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

Model files are data and are loaded as data: skops refuses by default any type
it cannot rebuild safely, and only the few charboundary and scikit-learn types
that charboundary's own models are made of (:data:`TRUSTED_MODEL_TYPES`) are
allowed on top.  A file that names anything else (``os.system``, ``eval``, a
class with side effects) is refused before a single object is built — never
"trust everything in the file", which would run whatever a crafted file asks
for.  For the same reason charboundary's own ``TextSegmenter.load`` is not used:
it trusts what the file lists when asked to, and falls back to ``pickle``.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from segtool.models.hub import offline_requested
from segtool.models.libraries import quiet_loading
from segtool.options import Opt
from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.types import Span, UsageError

MODELS = ("small", "medium", "large")
# Types skops does not trust on its own that charboundary models are built from:
# the bundled small model uses the first three; charboundary 0.5 names the config
# by its defining module when it saves a model; the feature-selected forest is
# its other model class.  All are plain objects, rebuilt attribute by attribute.
TRUSTED_MODEL_TYPES = (
    "charboundary.models.BinaryRandomForestModel",
    "charboundary.segmenters.SegmenterConfig",
    "sklearn.tree._tree.Tree",
    "charboundary.segmenters.types.SegmenterConfig",
    "charboundary.models.FeatureSelectedRandomForestModel",
)
_XZ_MAGIC = b"\xfd7zXZ\x00"
_MARGIN = 64
_DOWNLOAD_BASE = "https://github.com/alea-institute/charboundary/raw/refs/heads/main/charboundary/resources"


def load_model_file(path: str) -> Any:
    """A ``TextSegmenter`` from a ``.skops``/``.skops.xz`` file, never running code from it.

    The file's list of types is checked against skops' safe defaults plus
    :data:`TRUSTED_MODEL_TYPES` *before* anything is rebuilt; anything else is
    a usage error naming the refused types.
    """
    import lzma

    from skops.io import get_untrusted_types, load

    def bad(why: str) -> UsageError:
        return UsageError(
            f"cannot read charboundary model ({why}) — {path} — pass a .skops or .skops.xz "
            "model written by charboundary, or --charboundary-model small"
        )

    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        if raw.startswith(_XZ_MAGIC):
            raw = lzma.decompress(raw)
        untrusted = get_untrusted_types(data=raw)
    except Exception as exc:  # unreadable, not xz, not a skops zip, malformed schema
        raise bad(_short(exc)) from None
    refused = sorted(set(untrusted) - set(TRUSTED_MODEL_TYPES))
    if refused:
        shown = ", ".join(refused[:4]) + (f" and {len(refused) - 4} more" if len(refused) > 4 else "")
        raise UsageError(
            f"refusing to load charboundary model: it asks for types a charboundary model does "
            f"not use ({shown}), and loading them could run code — {path} — use a model file "
            "from a source you trust, or --charboundary-model small"
        )
    try:
        with quiet_loading("charboundary"):
            data = load(io.BytesIO(raw), trusted=list(untrusted))
    except Exception as exc:
        raise bad(_short(exc)) from None
    return _segmenter_from(data, bad)


def _segmenter_from(data: Any, bad: Any) -> Any:
    """What ``TextSegmenter.load`` builds from the loaded dict (format version 4 and later)."""
    from charboundary import TextSegmenter
    from charboundary.encoders import CharacterEncoder
    from charboundary.features import FeatureExtractor
    from charboundary.segmenters import SegmenterConfig

    if not isinstance(data, dict) or "model" not in data:
        raise bad("not a charboundary model: no 'model' entry")
    config = data.get("config")
    if not isinstance(config, SegmenterConfig):
        raise bad(f"model format version {data.get('version')!r} is not supported (4 or later)")
    encoder = CharacterEncoder()
    encoder.cache = dict(data.get("encoder_cache") or {})
    extractor = FeatureExtractor(encoder=encoder, abbreviations=config.abbreviations,
                                 use_numpy=config.use_numpy, cache_size=config.cache_size)
    return TextSegmenter(model=data["model"], encoder=encoder, feature_extractor=extractor,
                         config=config)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


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


@dataclass(frozen=True)
class CharBoundaryOptions:
    charboundary_model: Annotated[str, Opt(
        "charboundary model: small (bundled), medium, large, or a .skops file.",
        group="Splitter")] = "small"
    block_chars: Annotated[int, Opt(
        "Characters per charboundary call (blocks cut at paragraph breaks; one huge call is "
        "super-linear).", ge=2 * _MARGIN, group="Splitter")] = 50_000
    charboundary_onnx: Annotated[bool, Opt(
        "Use charboundary's ONNX model when available (same predictions, faster).",
        group="Splitter")] = True


class CharBoundarySplitter(BaseSplitter):
    """charboundary's random-forest boundary classifier, blockwise with exact offsets."""

    name: ClassVar[str] = "charboundary"
    summary: ClassVar[str] = (
        "charboundary character-level random forest (ALEA); small model bundled, "
        "strong on legal text."
    )
    extra: ClassVar[str | None] = "charboundary"
    requires: ClassVar[tuple[str, ...]] = ("charboundary",)

    Options = CharBoundaryOptions

    def setup(self) -> None:
        self.model_name = self.options.charboundary_model
        self.block_chars = self.options.block_chars
        self.use_onnx = self.options.charboundary_onnx
        self._segmenter: Any = None

    def fingerprint(self) -> dict[str, str]:
        from importlib.metadata import version

        name = self.model_name
        if name in MODELS:  # bundled with (or fetched by) the installed package version
            return {"model": f"charboundary-{version('charboundary')}:{name}"}
        from segtool.models.fingerprint import path_fingerprint

        return {"model": path_fingerprint(os.path.expanduser(name))}

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
        with quiet_loading("charboundary"):
            path = get_model_path(name, use_onnx=False, download=False)
            if path is None and not offline_requested():
                path = get_model_path(name, use_onnx=False, download=True)
        if path is None:
            why = "offline" if offline_requested() else "download failed"
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
        segmenter = load_model_file(path)
        if self.use_onnx and onnx_path:
            with quiet_loading("charboundary"):
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
            with quiet_loading("charboundary"):
                spans = segmenter.get_sentence_spans(text[lo:hi])
            ends.extend(lo + e for _, e in spans if start < lo + e <= end)
        return ends

    def split(self, text: str) -> list[Span]:
        if not text.strip():
            return spans_from_ends(text, [])
        return spans_from_ends(text, self.ends(text))

    def split_batch(self, texts: Sequence[str]) -> list[list[Span]]:
        return [self.split(t) for t in texts]
