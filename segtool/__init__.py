"""segtool: documents → sentences → retrieval-ready chunks, with exact offsets."""

from __future__ import annotations

__version__ = "0.1.0"


def __getattr__(name: str):  # lazy: `import segtool` stays cheap
    if name in {"chunk", "split_sentences", "chunk_documents", "segment_table"}:
        from segtool import api

        return getattr(api, name)
    raise AttributeError(name)
