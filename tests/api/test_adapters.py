"""Records → LangChain Documents and LlamaIndex TextNodes, with the real packages.

What a user relies on: the text is the source text at the record's offsets,
the offsets and ids survive the library's own storage and serialisation,
the document's metadata comes along, and segtool's bookkeeping does not leak
into what LlamaIndex embeds.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.vectorstores import InMemoryVectorStore
from llama_index.core.schema import MetadataMode, NodeRelationship, TextNode

import segtool
from segtool.adapters import to_langchain, to_llama_index

DOCS = {
    "memo": ("The plaintiff, Acme Widgets Inc., filed suit in the U.S. District Court on Jan. 5, "
             "2021. It relies on 28 U.S.C. § 1332. The court held that diversity must exist at "
             "filing.\n\nIs diversity complete? Dr. Smith thinks so! The defendant disagrees."),
    "multi": "Segtool handles many scripts. 日本語の文です。二つ目の文！ Emoji 👩‍👩‍👧 stay intact… Done!",
}
ROWS = [{"id": k, "text": v, "lang": "en"} for k, v in DOCS.items()]


@pytest.fixture(scope="module")
def chunks():
    recs = segtool.chunk_documents(ROWS, id_field="id", max_tokens=16, overlap_tokens=4)
    assert len({r.doc_id for r in recs}) == 2 and len(recs) > 4
    assert all(r.ctx_start is not None for r in recs)  # overlap: context offsets to carry
    return recs


def test_langchain_documents_carry_text_offsets_and_metadata(chunks):
    docs = to_langchain(chunks)
    assert all(isinstance(d, LCDocument) for d in docs)
    for doc, rec in zip(docs, chunks, strict=True):
        meta = doc.metadata
        assert doc.page_content == DOCS[meta["doc_id"]][meta["start"]:meta["end"]] == rec.text
        assert doc.id == rec.id and meta["index"] == rec.index and meta["n_tokens"] == rec.n_tokens
        assert meta["lang"] == "en" and meta["id"] == rec.doc_id  # the input dict's own keys
        assert meta["ctx_start"] == rec.ctx_start and DOCS[rec.doc_id][rec.ctx_start:rec.start] in (
            DOCS[rec.doc_id][:rec.start])
    # no overlap: no context offset, and no None for a vector store to refuse
    plain = to_langchain(segtool.chunk(DOCS["memo"], max_tokens=16))
    assert all("ctx_start" not in d.metadata and None not in d.metadata.values() for d in plain)
    # the same from the CLI's JSON lines (dicts), sentences too
    assert to_langchain(json.loads(r.to_json()) for r in chunks) == docs
    sents = segtool.split_documents([DOCS["multi"]])
    lc = to_langchain(sents)
    assert [d.page_content for d in lc] == [s.text for s in sents]
    assert "".join(d.page_content for d in lc) == DOCS["multi"]
    assert set(lc[0].metadata) == {"doc_id", "index", "start", "end", "source"}


def test_langchain_vector_store_round_trip_keeps_ids_and_offsets(chunks):
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=32))
    assert store.add_documents(to_langchain(chunks)) == [r.id for r in chunks]
    for rec in chunks:
        hit = store.similarity_search(rec.text, k=1)[0]  # same text → same fake embedding
        assert hit.id == rec.id
        assert DOCS[hit.metadata["doc_id"]][hit.metadata["start"]:hit.metadata["end"]] == \
            hit.page_content == rec.text


def test_llama_index_nodes_are_linked_and_round_trip_through_json(chunks):
    nodes = to_llama_index(chunks)
    assert all(isinstance(n, TextNode) for n in nodes)
    for k, (node, rec) in enumerate(zip(nodes, chunks, strict=True)):
        back = TextNode.from_json(node.to_json())
        for n in (node, back):
            assert n.id_ == rec.id and n.text == rec.text and n.ref_doc_id == rec.doc_id
            assert DOCS[n.ref_doc_id][n.start_char_idx:n.end_char_idx] == n.text
            assert (n.metadata["start"], n.metadata["end"]) == (rec.start, rec.end)
        first, last = rec.index == 0, k + 1 == len(chunks) or chunks[k + 1].doc_id != rec.doc_id
        assert (NodeRelationship.PREVIOUS in node.relationships) != first
        assert (NodeRelationship.NEXT in node.relationships) != last
        if not first:
            assert node.prev_node.node_id == chunks[k - 1].id
        if not last:
            assert node.next_node.node_id == chunks[k + 1].id
        # the embedder sees the document's metadata and the text, not segtool's bookkeeping
        embedded = node.get_content(metadata_mode=MetadataMode.EMBED)
        assert embedded.endswith(rec.text.strip()) and "lang: en" in embedded  # it strips
        assert "start:" not in embedded and "doc_id:" not in embedded
        assert "start:" not in node.get_content(metadata_mode=MetadataMode.LLM)


@pytest.mark.parametrize(("module", "call", "package"), [
    ("langchain_core", "to_langchain", "langchain-core"),
    ("llama_index", "to_llama_index", "llama-index-core"),
])
def test_a_missing_package_is_a_one_line_import_error(module, call, package):
    code = (f"import sys; sys.modules[{module!r}] = None\n"  # as if it were not installed
            "import segtool, segtool.adapters as a\n"
            "recs = segtool.split_sentences('One. Two.')\n"
            f"try:\n    a.{call}(recs)\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    assert out == f"{call} needs {package}, which is not installed — pip install {package}\n"
