"""Removing repeated intents before they reach the chunker.

Two rules, for two kinds of source:

* intents a person wrote (``--intents``, ``--intents-field``) lose only exact
  repeats (after trimming whitespace) and blank entries: a user who lists two
  similar questions means both;
* generated intents also lose near-duplicates: a language model asked for
  fifteen questions often phrases one question three ways, and each copy would
  pull the chunking towards the same passage.  A generated intent is dropped
  when the cosine of its embedding with an intent already kept reaches the
  threshold; earlier intents win, so the result depends only on the order the
  generator gave.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def exact(intents: Iterable[str]) -> list[str]:
    """Trimmed, non-blank intents in first-seen order, each once."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in intents:
        text = raw.strip()
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return out


def near(vectors: np.ndarray, threshold: float) -> list[int]:
    """Indices of the rows to keep: each is below ``threshold`` cosine to every earlier kept row.

    Rows are compared by cosine whatever their scale; a zero row (an embedder
    that knows none of the words) is kept, since it resembles nothing.
    """
    import numpy as np

    v = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(v, axis=1)
    unit = np.divide(v, norms[:, None], out=np.zeros_like(v), where=norms[:, None] > 0)
    keep: list[int] = []
    for k in range(v.shape[0]):
        if keep and norms[k] > 0 and float(np.max(unit[keep] @ unit[k])) >= threshold:
            continue
        keep.append(k)
    return keep


def select(items: Sequence[str], keep: Sequence[int]) -> list[str]:
    """``items`` at the kept indices, in order."""
    return [items[k] for k in keep]
