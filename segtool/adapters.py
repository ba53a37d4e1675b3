"""Hand records to LangChain and LlamaIndex, offsets included.

    from segtool.adapters import to_langchain, to_llama_index
    docs = to_langchain(segtool.chunk_documents(texts))     # langchain_core Documents
    nodes = to_llama_index(segtool.chunk_documents(texts))  # llama_index TextNodes

Both take typed records or the plain dicts the CLI writes (a parsed JSONL
line, a Parquet row).  The text is the record's text, untouched, and the
metadata is the record's ``meta`` plus segtool's own fields — ``doc_id``,
``index``, ``start``, ``end``, ``source`` and, for chunks, ``n_tokens``,
``sent_start``, ``sent_end`` and ``ctx_start`` (left out when there is no
overlap: vector stores refuse ``None`` values).  segtool's fields win over
``meta`` keys of the same name.  So ``document_text[start:end]`` gives the
text back, and a hit from a vector store can be traced to its place in the
source.

The libraries are imported only when an adapter is called; a missing one is
a one-line ``ImportError`` with the command that installs it.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any

from segtool.records import ChunkRecord, SentenceRecord, from_dict

__all__ = ["record_metadata", "to_langchain", "to_llama_index"]

AnyRecord = ChunkRecord | SentenceRecord

# segtool's bookkeeping: kept in metadata, but not what an embedder or an LLM should read
_POSITION_KEYS = ("doc_id", "index", "start", "end", "source", "n_tokens", "ctx_start",
                  "sent_start", "sent_end")


def _require(module: str, package: str, who: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{who} needs {package}, which is not installed — "
                          f"pip install {package}") from None


def _typed(records: Iterable[AnyRecord | Mapping[str, Any]]) -> list[AnyRecord]:
    return [r if isinstance(r, ChunkRecord | SentenceRecord) else from_dict(r) for r in records]


def record_metadata(record: AnyRecord) -> dict[str, Any]:
    """The record's ``meta`` with segtool's position fields on top (``None`` values left out)."""
    out = dict(record.meta) if isinstance(record, ChunkRecord) else {}
    for key in _POSITION_KEYS:
        value = record.get(key)
        if value is not None:
            out[key] = value
    return out


def to_langchain(records: Iterable[AnyRecord | Mapping[str, Any]]) -> list[Any]:
    """LangChain ``Document``\\ s: ``page_content`` is the text, ``id`` the record id,
    ``metadata`` as described in the module docstring."""
    documents = _require("langchain_core.documents", "langchain-core", "to_langchain")
    return [documents.Document(page_content=r.text, id=r.id, metadata=record_metadata(r))
            for r in _typed(records)]


def to_llama_index(records: Iterable[AnyRecord | Mapping[str, Any]]) -> list[Any]:
    """LlamaIndex ``TextNode``\\ s, linked the way LlamaIndex's own parsers link them.

    ``id_`` is the record id, ``start_char_idx``/``end_char_idx`` the offsets,
    the source relationship the document id (so ``node.ref_doc_id`` works and
    an index can delete a document's nodes), and consecutive records of one
    document are previous/next of each other.  segtool's position fields are
    in ``metadata`` but excluded from the text LlamaIndex embeds or shows an
    LLM; the document's own metadata is not.
    """
    schema = _require("llama_index.core.schema", "llama-index-core", "to_llama_index")
    rel, info = schema.NodeRelationship, schema.RelatedNodeInfo
    typed = _typed(records)
    nodes = []
    for k, r in enumerate(typed):
        links = {rel.SOURCE: info(node_id=r.doc_id)}
        before = typed[k - 1] if k else None
        after = typed[k + 1] if k + 1 < len(typed) else None
        if before is not None and before.doc_id == r.doc_id and before.index == r.index - 1:
            links[rel.PREVIOUS] = info(node_id=before.id)
        if after is not None and after.doc_id == r.doc_id and after.index == r.index + 1:
            links[rel.NEXT] = info(node_id=after.id)
        meta = record_metadata(r)
        hidden = [key for key in _POSITION_KEYS if key in meta]
        nodes.append(schema.TextNode(
            id_=r.id, text=r.text, metadata=meta, start_char_idx=r.start, end_char_idx=r.end,
            relationships=links, excluded_embed_metadata_keys=hidden,
            excluded_llm_metadata_keys=list(hidden)))
    return nodes
