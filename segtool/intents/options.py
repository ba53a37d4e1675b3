"""Where a document's intents come from: one declaration shared by the chunker and its sources.

Exactly one source applies per run: ``--intents FILE``, ``--intents-field NAME``
or ``--intents-endpoint URL`` — giving two is a usage error rather than a silent
precedence — else generation with the local causal LM (``--lm``).  The options that change *which* intents a
document gets are part of the configuration identity; timeouts, retries and
where generated intents are saved are not (``runtime=True``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from segtool.options import Opt


@dataclass(frozen=True)
class IntentSourceOptions:
    """Intent-source options; the ``intent`` chunker's declaration extends this one."""

    intents: Annotated[str | None, Opt(
        "Intents file: plain text (one question per line, for every document) or JSONL "
        "({\"doc_id\": ..., \"intents\": [...]} per document).", group="Intents")] = None
    intents_field: Annotated[str | None, Opt(
        "Input record field holding each document's intents (a list of strings or one "
        "question per line).", group="Intents")] = None
    intents_endpoint: Annotated[str | None, Opt(
        "OpenAI-compatible chat-completions server that generates the intents (vLLM, "
        "llama.cpp server, Ollama, a hosted API): its base URL (.../v1) or the full "
        ".../chat/completions URL.", group="Intents")] = None
    intents_model: Annotated[str, Opt(
        "Model name sent to --intents-endpoint.", group="Intents")] = "default"
    intents_key_env: Annotated[str, Opt(
        "Environment variable holding the --intents-endpoint API key (unset: no key sent).",
        group="Intents")] = "OPENAI_API_KEY"
    intents_timeout: Annotated[float, Opt(
        "Seconds to wait for one --intents-endpoint response (a timeout is not retried).",
        gt=0, runtime=True,
        group="Intents")] = 60.0
    intents_retries: Annotated[int, Opt(
        "Retries, with backoff, of a failed --intents-endpoint request (connection errors, "
        "HTTP 429 and 5xx only).",
        ge=0, le=10, runtime=True, group="Intents")] = 2
    lm: Annotated[str, Opt("Causal LM: smollm2, a hub id, a local directory or a .gguf file.",
                           group="Chunker")] = "smollm2"
    lm_gguf: Annotated[str | None, Opt("GGUF file inside --lm (a directory).",
                                       group="Chunker")] = None
    save_intents: Annotated[str | None, Opt(
        "Write every document's intents to this JSONL file (reusable with --intents).",
        runtime=True, group="Intents")] = None
