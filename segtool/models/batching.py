"""Cross-document batching shared by every model-based component.

Model calls are cheap per item and expensive per call, so work items (texts,
prompts, windows) from many documents are pooled, sorted by length so padding
stays small, cut into batches bounded by item count and/or token budget, and
the results are handed back in the original order.  Because each item is
computed independently of its batch-mates (attention masks, no cross-item
state), the output does not depend on the batch size.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def plan_batches(
    lengths: Sequence[int], *, max_items: int, max_tokens: int | None = None
) -> list[list[int]]:
    """Group item indices into batches, longest first, within both budgets.

    ``max_tokens`` bounds ``len(batch) * longest_item`` (the padded size); an
    item longer than the budget gets a batch of its own.
    """
    if max_items < 1:
        raise ValueError("batch size must be at least 1")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        size = max(lengths[i], 1)
        new_longest = max(longest, size)
        too_many = len(current) >= max_items
        too_big = max_tokens is not None and current and new_longest * (len(current) + 1) > max_tokens
        if current and (too_many or too_big):
            batches.append(current)
            current, new_longest = [], size
        current.append(i)
        longest = new_longest
    if current:
        batches.append(current)
    return batches


def run_batched(
    items: Sequence[T],
    fn: Callable[[list[T]], Sequence[R]],
    *,
    lengths: Sequence[int] | None = None,
    batch_size: int = 32,
    max_tokens: int | None = None,
) -> list[R]:
    """Apply ``fn`` to batches of ``items`` and return results in input order."""
    if not items:
        return []
    lengths = lengths if lengths is not None else [len(x) for x in items]  # type: ignore[arg-type]
    results: list[R | None] = [None] * len(items)
    for batch in plan_batches(lengths, max_items=batch_size, max_tokens=max_tokens):
        out = fn([items[i] for i in batch])
        if len(out) != len(batch):
            raise RuntimeError(f"batch function returned {len(out)} results for {len(batch)} items")
        for i, r in zip(batch, out, strict=True):
            results[i] = r
    return results  # type: ignore[return-value]


