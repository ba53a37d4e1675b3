"""Intent chunker: cut where the questions a reader may ask are best answered.

Intent-driven dynamic chunking (IDC).  For each document:

1. Its intents — questions a reader may ask — come from ``--intents FILE``,
   from a record field (``--intents-field``) or from a language model
   (:mod:`segtool.intents.sources`).  Repeats are removed
   (:mod:`segtool.intents.dedupe`): exact ones always, near-duplicates
   (embedding cosine ≥ ``--intent-dedupe``) only among generated intents.
2. Sentences are cut into units that each fit ``--max-tokens``
   (:func:`segtool.chunkers.units.batch_units`), exactly as every chunker does.
3. Every sentence and every intent of every document in the batch is embedded
   in *one* embedder call; a piece of a cut sentence uses its sentence's vector.
4. A dynamic programme (:mod:`segtool.chunkers.idc`) picks the chunks that
   maximise ``Σ R(C) − λ·|C|² − β``: ``R(C)`` is the best cosine between the
   mean vector of the chunk and an intent, ``|C|`` counts units (sentences),
   chunks hold at most ``L`` units and their token sums stay within the limit.
5. :func:`segtool.chunkers.units.fit` encodes each chunk's text once, so
   ``n_tokens`` is exact and the limit holds on the real text; each chunk's
   ``meta`` names the intent it serves best and the cosine (``intent`` and
   ``intent_score``; both null for a document without intents).

What λ, β and L do to chunk sizes: with ``λ ≈ 0`` a chunk of ``k`` units
costs ``β`` whatever its length, so β is the price of a cut — a split pays
only if the two halves together answer their best intents by more than β
beyond what the merged chunk does.  Raising β gives fewer, longer chunks;
β = 0 nearly always cuts after every sentence.  λ grows with the square of
the length and stops chunks from drifting to ``L`` when nothing in the text
argues for a cut; on relevance-neutral text the best length is about
``√(β/λ)`` units.  ``L`` is the hard ceiling in units (and bounds the work:
O(N·L) per document).

Determinism: the same input and options give the same chunks; model2vec
vectors do not depend on ``--batch-size`` at all, MiniLM's to ~3e-7 (see
:mod:`segtool.models.embedders`), and the programme breaks ties towards the
shorter chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from segtool.chunkers.idc import chunk_relevance, relevance_table, segment
from segtool.chunkers.units import Unit, batch_units, cumulative, fit
from segtool.component import Component
from segtool.intents import dedupe
from segtool.intents.options import IntentSourceOptions
from segtool.models.tokens import get_tokenizer
from segtool.options import BatchSize, Device, Dtype, MaxTokens, Opt, Tokenizer
from segtool.types import BadInput, ChunkSpan, Document, Span, UsageError

if TYPE_CHECKING:
    import numpy as np

DEFAULT_LAMBDA = 0.0005
DEFAULT_BETA = 0.7
DEFAULT_MAX_SENTENCES = 15
DEFAULT_DEDUPE = 0.9


@dataclass(frozen=True)
class IntentOptions(IntentSourceOptions):
    """The intent sources' options plus the embedder, the size limit and the programme's weights."""

    embedder: Annotated[str, Opt(
        "Sentence embedder: minilm, model2vec[:PATH], st:ID_OR_DIR.", group="Chunker")] = "minilm"
    max_tokens: MaxTokens = 512
    intent_lambda: Annotated[float, Opt(
        "λ: length penalty λ·|C|² per chunk of |C| sentences (larger: shorter chunks).",
        ge=0, group="Chunker")] = DEFAULT_LAMBDA
    intent_beta: Annotated[float, Opt(
        "β: fixed cost of every chunk (larger: fewer, longer chunks).", ge=0,
        group="Chunker")] = DEFAULT_BETA
    intent_max_sentences: Annotated[int, Opt(
        "L: at most this many sentences (or pieces of a long one) per chunk.", ge=1, le=1000,
        group="Chunker")] = DEFAULT_MAX_SENTENCES
    intent_dedupe: Annotated[float, Opt(
        "Drop a generated intent whose embedding cosine with an earlier one reaches this.",
        gt=0, le=1, group="Intents")] = DEFAULT_DEDUPE
    tokenizer: Tokenizer = "cl100k_base"
    device: Device = "auto"
    dtype: Dtype = "auto"
    batch_size: BatchSize = 64
    embed_cache: Annotated[str | None, Opt(
        "Directory for an on-disk embedding cache (keyed by model identity and text).",
        runtime=True, group="Model")] = None

    def __post_init__(self) -> None:
        if (self.save_intents is not None and self.intents is not None
                and _same_path(self.save_intents, self.intents)):
            raise UsageError(f"--save-intents {self.save_intents} is the --intents file — "
                             "save to another path")


def _same_path(a: str, b: str) -> bool:
    import os

    return os.path.abspath(a) == os.path.abspath(b)


class IntentChunker(Component):
    name: ClassVar[str] = "intent"
    kind = "chunker"
    summary: ClassVar[str] = (
        "intent-driven dynamic chunking: the cuts that best serve each document's questions "
        "(from a file, a record field or a language model), found exactly by a DP under "
        "--max-tokens"
    )
    extra: ClassVar[str | None] = "semantic"
    requires: ClassVar[tuple[str, ...]] = ("numpy",)
    Options = IntentOptions

    def setup(self) -> None:
        o = self.options
        from segtool.intents.sources import IntentSaver, make_source
        from segtool.models.embedders import get_embedder

        self.max_tokens = o.max_tokens
        self.lam, self.beta, self.max_len = o.intent_lambda, o.intent_beta, o.intent_max_sentences
        self.dedupe_threshold = o.intent_dedupe
        self.tokenizer = get_tokenizer(o.tokenizer)
        self.source = make_source(o, device=o.device, dtype=o.dtype, batch_size=o.batch_size)
        # the record fields worker processes must be given (--jobs N); see segtool.executor
        self.document_fields = tuple(self.source.fields)
        self.saver = IntentSaver(o.save_intents) if o.save_intents else None
        self.embedder = get_embedder(o.embedder, device=o.device, batch_size=o.batch_size,
                                     cache_dir=o.embed_cache)

    def fingerprint(self) -> dict[str, str]:
        return {"tokenizer": self.tokenizer.fingerprint, "embedder": self.embedder.identity,
                "intents": self.source.identity}

    # ------------------------------------------------------------------ chunking
    def chunk_batch(self, texts: Sequence[str], sentences: Sequence[Sequence[Span]]
                    ) -> list[list[ChunkSpan]]:
        """Texts without ids: documents are numbered ``0, 1, …`` (plain-text intents suit this)."""
        docs = [Document(id=str(k), text=t, source="<texts>") for k, t in enumerate(texts)]
        out = self.chunk_documents(docs, sentences)
        for res in out:
            if isinstance(res, BadInput):
                from segtool.types import InputError

                raise InputError(res.message())
        return out  # type: ignore[return-value]

    def chunk_documents(self, docs: Sequence[Document], sentences: Sequence[Sequence[Span]]
                        ) -> list[list[ChunkSpan] | BadInput]:
        """Chunks per document, or the BadInput of a document the source has no intents for."""
        import numpy as np

        found = self.source.lookup(docs)
        ok = [k for k, f in enumerate(found) if not isinstance(f, BadInput)]
        intents: dict[int, list[str]] = {k: dedupe.exact(found[k]) for k in ok}  # type: ignore[arg-type]
        texts = [docs[k].text for k in ok]
        spans = [sentences[k] for k in ok]
        all_units = batch_units(texts, spans, self.tokenizer, self.max_tokens)
        sent_vecs, intent_vecs = self._embed(texts, spans, [intents[k] for k in ok])
        if self.source.generated:
            for pos, k in enumerate(ok):
                keep = dedupe.near(intent_vecs[pos], self.dedupe_threshold)
                intents[k] = dedupe.select(intents[k], keep)
                intent_vecs[pos] = intent_vecs[pos][keep]
        if self.saver is not None:
            self.saver.save([(docs[k], intents[k]) for k in ok])
        out: list[list[ChunkSpan] | BadInput] = list(found)  # type: ignore[arg-type]
        for pos, k in enumerate(ok):
            units = all_units[pos]
            unit_vecs = (sent_vecs[pos][[u.sent for u in units]] if units
                         else np.zeros((0, 1)))
            out[k] = self._chunk_one(texts[pos], units, unit_vecs, intent_vecs[pos], intents[k])
        return out

    def _embed(self, texts: Sequence[str], sentences: Sequence[Sequence[Span]],
               intents: Sequence[Sequence[str]]) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """One embedder call for every sentence and every intent of the batch."""
        flat = [t[s.start : s.end].strip() for t, sp in zip(texts, sentences, strict=True)
                for s in sp]
        n_sent = len(flat)
        for qs in intents:
            flat.extend(qs)
        vectors = self.embedder.embed(flat) if flat else None
        sent_out, intent_out = [], []
        pos, qpos = 0, n_sent
        for sp, qs in zip(sentences, intents, strict=True):
            sent_out.append(vectors[pos : pos + len(sp)] if vectors is not None else None)
            intent_out.append(vectors[qpos : qpos + len(qs)] if vectors is not None else None)
            pos += len(sp)
            qpos += len(qs)
        return sent_out, intent_out  # type: ignore[return-value]

    def _chunk_one(self, text: str, units: Sequence[Unit], unit_vecs: np.ndarray,
                   intent_vecs: np.ndarray | None, intents: Sequence[str]) -> list[ChunkSpan]:
        import numpy as np

        if not units:
            return []
        if intent_vecs is None:
            intent_vecs = np.zeros((0, unit_vecs.shape[1]))
        table = relevance_table(unit_vecs, intent_vecs, self.max_len)
        groups, _ = segment(table, [u.n_tokens for u in units], lam=self.lam, beta=self.beta,
                            max_len=self.max_len, max_tokens=self.max_tokens)
        cum = cumulative(units)
        out: list[ChunkSpan] = []
        for lo, hi in groups:
            for i, j, n in fit(text, units, cum, lo, hi, self.tokenizer, self.max_tokens):
                out.append(ChunkSpan(units[i].start, units[j - 1].end, n, units[i].sent,
                                     units[j - 1].sent + 1, meta=self._meta(table, i, j, intents)))
        return out

    @staticmethod
    def _meta(table: Any, i: int, j: int, intents: Sequence[str]) -> dict[str, Any]:
        score, best = chunk_relevance(table, i, j)
        if best < 0:
            return {"intent": None, "intent_score": None}
        return {"intent": intents[best], "intent_score": round(score, 6)}
