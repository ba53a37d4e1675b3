"""Intents from an OpenAI-compatible chat-completions server (vLLM, llama.cpp, Ollama, hosted APIs).

One request per section of each document (see :mod:`segtool.intents.prompting`),
``temperature: 0`` so a deterministic server gives the same questions again,
sent a few at a time from a thread pool: servers batch concurrent requests,
so this is several times faster than one by one, while a small bound keeps a
shared server (or a rate limit) from being flooded.

Failures are retried only where a retry can help — the connection failed, or
the server answered 429 or 5xx — with exponential backoff (honouring a short
``Retry-After``).  A timeout is not retried (the request may still be
running on the server).  Everything else, and a failure that survives the
retries, stops the run with one line naming the endpoint, the model and the
document, so nothing is written with some documents missing their intents.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from segtool.intents.answers import answer_budget, collect, describe, warn_empty
from segtool.intents.prompting import PROMPT_VERSION, Section, build_prompt, plan_sections
from segtool.types import Document, SegtoolError, UsageError

CONCURRENCY = 4  # requests in flight at once
SECTION_CHARS = 8000  # about 2,000 tokens: server-side models read long passages well
MAX_PER_PROMPT = 15
BACKOFF_S = 0.5  # first retry delay; doubles each time, at most MAX_BACKOFF_S
MAX_BACKOFF_S = 8.0
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def chat_completions_url(url: str) -> str:
    """The full chat-completions URL for a base URL (``…/v1``) or the full URL itself."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--intents-endpoint {url!r}: not an http(s) URL — give the server's base URL, "
                         "e.g. http://localhost:8000/v1")
    base = url.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


class _Failure(Exception):
    """What went wrong with one request and how to fix it (made into a one-line error)."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.what, self.hint = what, hint


class EndpointGenerator:
    """Intents from ``url`` (chat completions), ``CONCURRENCY`` requests at a time."""

    def __init__(self, url: str, *, model: str, key_env: str, timeout: float, retries: int,
                 concurrency: int = CONCURRENCY) -> None:
        self.url = chat_completions_url(url)
        self.model = model
        self.key_env = key_env
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.concurrency = max(1, int(concurrency))
        self.identity = f"endpoint={self.url};model={model};prompt={PROMPT_VERSION};temperature=0"

    def generate(self, docs: Sequence[Document]) -> list[list[str]]:
        """Raw questions per document; the first failing request (in document order) raises."""
        import httpx

        sections = plan_sections([d.text for d in docs], max_units=SECTION_CHARS,
                                 max_per_prompt=MAX_PER_PROMPT, measure=len)
        if not sections:
            return [[] for _ in docs]
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.key_env, "") if self.key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        stop = threading.Event()
        with httpx.Client(timeout=self.timeout, headers=headers) as client, \
                ThreadPoolExecutor(max_workers=min(self.concurrency, len(sections))) as pool:
            futures = [pool.submit(self._ask, client, s, stop) for s in sections]
            answers = []
            try:
                for section, future in zip(sections, futures, strict=True):
                    try:
                        answers.append(future.result())
                    except _Failure as exc:
                        stop.set()
                        client.close()  # in-flight requests fail now instead of at their timeout
                        raise SegtoolError(
                            f"intents endpoint {self.url} (model {self.model!r}): {exc.what} — "
                            f"{describe(docs[section.doc])} — {exc.hint}"
                        ) from None
            finally:
                stop.set()  # queued requests return at once instead of running
                for f in futures:
                    f.cancel()
        result = collect(len(docs), sections, answers)
        warn_empty(docs, result, f"intents endpoint {self.url} (model {self.model!r})")
        return result

    def _ask(self, client: Any, section: Section, stop: threading.Event) -> tuple[str, bool]:
        """One section's answer and whether it is complete; retries as the module doc says."""
        import httpx

        n = section.n_questions
        body = {"model": self.model, "temperature": 0, "max_tokens": answer_budget(n),
                "messages": [{"role": "user", "content": build_prompt(section.text, n)}]}
        attempts = self.retries + 1
        for attempt in range(attempts):
            if stop.is_set():
                raise _Failure("cancelled after another request failed", "see the first error")
            last = attempt == attempts - 1
            tries = f"after {attempts} attempts" if attempts > 1 else "(no retries: --intents-retries 0)"
            try:
                response = client.post(self.url, json=body)
            except httpx.TimeoutException:
                raise _Failure(f"no response within {self.timeout:g} s",
                               "raise --intents-timeout, or check that the server is not overloaded") \
                    from None
            except httpx.TransportError as exc:
                if last:
                    raise _Failure(f"cannot connect ({_one_line(exc) or type(exc).__name__}) {tries}",
                                   "check that the server is running and the URL and port are right") \
                        from None
                self._sleep(attempt, None, stop)
                continue
            status = response.status_code
            if status in _RETRY_STATUS and not last:
                self._sleep(attempt, response.headers.get("retry-after"), stop)
                continue
            if status >= 400:
                said = _one_line(response.text)[:160] or "(empty body)"
                after = f" {tries}" if status in _RETRY_STATUS else ""
                raise _Failure(f"HTTP {status}{after}: {said}", _status_hint(status, self))
            return _content(response.text)
        raise AssertionError("unreachable")  # the loop always returns or raises

    def _sleep(self, attempt: int, retry_after: str | None, stop: threading.Event) -> None:
        delay = min(MAX_BACKOFF_S, BACKOFF_S * 2 ** attempt)
        if retry_after:
            try:
                delay = min(30.0, max(delay, float(retry_after)))
            except ValueError:
                pass
        stop.wait(delay)


def _content(text: str) -> tuple[str, bool]:
    """``choices[0].message.content`` of a chat-completions response, and whether it is complete."""
    hint = "is --intents-endpoint an OpenAI-compatible chat-completions API?"
    try:
        data = json.loads(text)
    except ValueError:
        raise _Failure(f"the response is not JSON (it starts {_one_line(text)[:60]!r})", hint) from None
    try:
        choice = data["choices"][0]
        content = choice["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Failure("the response has no choices[0].message.content "
                       f"(it starts {_one_line(text)[:80]!r})", hint) from None
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise _Failure("choices[0].message.content is not text", hint)
    return content, choice.get("finish_reason") != "length"


def _status_hint(status: int, gen: EndpointGenerator) -> str:
    if status in (401, 403):
        return (f"check the API key in ${gen.key_env} (--intents-key-env names the variable)"
                if os.environ.get(gen.key_env) else
                f"the server wants an API key: set ${gen.key_env} (or name another variable with "
                "--intents-key-env)")
    if status == 404:
        return ("check the URL (a base URL ending in /v1, or the full …/chat/completions URL) "
                "and --intents-model")
    if status in (400, 422):
        return "the server rejected the request: check --intents-model"
    if status == 429:
        return "the server's rate limit: retry later or raise --intents-retries"
    return "check the server's log, or raise --intents-retries"


def _one_line(value: object) -> str:
    return " ".join(str(value).split())
