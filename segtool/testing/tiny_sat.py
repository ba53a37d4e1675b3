"""A small SaT-compatible model, trained in about a minute on CPU, for tests and benchmarks.

No offline source of the real SaT weights exists , yet the real
wtpsplit loading and inference code should run in tests on both backends.  This
builds a model directory that wtpsplit loads exactly like a downloaded one:

* a Unigram tokenizer (``tokenizers``) with XLM-R's special-token layout
  (``<s>``=0, ``<pad>``=1, ``</s>``=2, ``<unk>``=3, ``<mask>``=4) and XLM-R's
  pre-tokenisation (whitespace split + ``▁`` metaspace, so line breaks are
  spaces to the model, as with the real tokenizer), saved through
  ``transformers.XLMRobertaTokenizer`` so ``AutoTokenizer`` loads it;
* ``wtpsplit.models.SubwordXLMForTokenClassification`` (config
  ``model_type="xlm-token"``, one output), small (hidden 64, 2 layers), trained
  briefly with a binary loss whose positive tokens are the last token of each
  sentence, on runs of gold sentences joined by spaces — what SaT is trained on;
* ``model_optimized.onnx``: the model in half precision exported with dynamic
  batch/sequence axes and a float16 attention mask, then passed through
  onnxruntime's transformer optimiser, as wtpsplit's
  ``scripts/export_to_onnx_sat.py`` does.

The default training data is the gold sentences of ``en_general_ud.jsonl``
(UD English EWT + GUM dev documents) from the project's dev set, so that file
must not be used to judge the model; every other dev file is held out.
The build is deterministic (fixed seeds, one thread, tokenizer scores
re-estimated in a fixed order): two builds are byte-identical, ONNX included.
It takes about a minute on one core.  The result is cached in
``segtool.assets.cache_dir("tiny-sat")`` under a version key, so test sessions
and benchmarks build it once.  Command line::

    python -m segtool.testing.tiny_sat OUT_DIR [--steps N] [--no-onnx]
"""

from __future__ import annotations

import json
import os
import random
import shutil
import string
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

VERSION = "tiny-sat-v2"
TRAIN_FILES = ("en_general_ud.jsonl",)
THRESHOLD = 0.5
"""Boundary threshold for this model (plain binary loss: calibrated around 0.5)."""
META_FILE = "segtool_tiny_sat.json"
SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_EXTRA_CHARS = "’‘“”—–…«»€£§°¿¡äöüßéèêàâçñóíúÄÖÜÉ"


def default_data_dir() -> Path:
    """``$SEGTOOL_DEV_DATA`` or the shared dev set beside the repository."""
    env = os.environ.get("SEGTOOL_DEV_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "dev"


def read_sentences(paths: Iterable[str | os.PathLike[str]]) -> list[list[str]]:
    """Gold sentences per document from dev-set JSONL files (``text`` + ``sentences``)."""
    docs: list[list[str]] = []
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if not line.strip():
                    continue
                record = json.loads(line)
                text = record["text"]
                sents = [" ".join(text[s:e].split()) for s, e in record["sentences"]]
                sents = [s for s in sents if s]
                if sents:
                    docs.append(sents)
    if not docs:
        raise ValueError("no training sentences found")
    return docs


def _train_tokenizer(docs: Sequence[Sequence[str]], vocab_size: int, out: Path):
    """Unigram pieces from ``tokenizers``' trainer, scores re-estimated deterministically.

    The trainer picks the same pieces on every run but returns them in a
    different order with scores that differ in the third decimal (Rust hash-map
    order), which would change token ids and so the whole model.  So only its
    piece *set* is kept: pieces are sorted, scored by their frequency as
    substrings of the corpus, and refined by three rounds of Viterbi counts.
    """
    import math

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import XLMRobertaTokenizer

    def pre() -> object:
        return pre_tokenizers.Sequence([
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always"),
        ])

    sentences = [s for doc in docs for s in doc]
    unigram = Tokenizer(models.Unigram())
    unigram.pre_tokenizer = pre()
    trainer = trainers.UnigramTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        unk_token="<unk>",
        initial_alphabet=sorted(set(string.printable.strip()) | set(_EXTRA_CHARS)),
        max_piece_length=12,
        show_progress=False,
    )
    unigram.train_from_iterator(sentences, trainer)
    trained = json.loads(unigram.to_str())["model"]["vocab"]
    pieces = sorted({p for p, _ in trained} - set(SPECIAL_TOKENS))

    corpus = "".join("▁" + word for s in sentences for word in s.split())
    counts = {p: corpus.count(p) for p in pieces}
    for _ in range(3):
        total = sum(counts.values()) + 0.5 * len(pieces)
        scores = {p: round(math.log((counts[p] + 0.5) / total), 6) for p in pieces}
        vocab = [(t, 0.0) for t in SPECIAL_TOKENS] + [(p, scores[p]) for p in pieces]
        model = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
        model.pre_tokenizer = pre()
        counts = dict.fromkeys(pieces, 0)
        for encoding in model.encode_batch(sentences, add_special_tokens=False):
            for token in encoding.tokens:
                if token in counts:
                    counts[token] += 1
    tokenizer = XLMRobertaTokenizer(vocab=vocab)
    tokenizer.save_pretrained(str(out))
    return tokenizer


class _Examples:
    """Training sequences: runs of sentences (same document or random), label = last token."""

    def __init__(self, docs: Sequence[Sequence[list[int]]], seed: int) -> None:
        self.docs = [d for d in docs if d]
        self.all = [s for d in self.docs for s in d if s]
        self.rng = random.Random(seed)

    def one(self, max_len: int) -> tuple[list[int], list[float]]:
        rng = self.rng
        if rng.random() < 0.5:
            doc = rng.choice(self.docs)
            start = rng.randrange(len(doc))
            source = list(doc[start:])
        else:
            source = []
        ids: list[int] = []
        labels: list[float] = []
        while len(ids) < max_len:
            sent = source.pop(0) if source else rng.choice(self.all)
            if not sent:
                continue
            ids += sent
            labels += [0.0] * (len(sent) - 1) + [1.0]
        # <s> ... </s>; special positions are not scored (-1)
        return [0, *ids[:max_len], 2], [-1.0, *labels[:max_len], -1.0]


def _train_model(tokenizer, docs, out: Path, *, steps: int, hidden_size: int, num_layers: int,
                 seed: int, log: bool) -> None:
    import torch
    from wtpsplit.models import SubwordXLMConfig, SubwordXLMForTokenClassification

    encoded = [
        [tokenizer(s, add_special_tokens=False)["input_ids"] for s in doc] for doc in docs
    ]
    torch.manual_seed(seed)
    config = SubwordXLMConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, num_hidden_layers=num_layers,
        num_attention_heads=2, intermediate_size=2 * hidden_size, num_labels=1,
        max_position_embeddings=514, type_vocab_size=1, pad_token_id=1, bos_token_id=0,
        eos_token_id=2, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
    )
    model = SubwordXLMForTokenClassification(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=3e-3, total_steps=steps, pct_start=0.1
    )
    examples = _Examples(encoded, seed)
    token_budget = 2048  # tokens per step: short sequences come in bigger batches
    started = time.perf_counter()
    model.train()
    for step in range(steps):
        max_len = examples.rng.choice((64, 128, 128, 256, 510))
        batch = [examples.one(max_len) for _ in range(max(2, token_budget // max_len))]
        width = max(len(ids) for ids, _ in batch)
        input_ids = torch.full((len(batch), width), 1, dtype=torch.long)
        labels = torch.full((len(batch), width), -1.0)
        mask = torch.zeros((len(batch), width))
        for row, (ids, labs) in enumerate(batch):
            input_ids[row, : len(ids)] = torch.tensor(ids)
            labels[row, : len(labs)] = torch.tensor(labs)
            mask[row, : len(ids)] = 1
        logits = model(input_ids=input_ids, attention_mask=mask).logits[..., 0]
        scored = labels >= 0
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits[scored], labels[scored])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if log and (step % 100 == 0 or step == steps - 1):
            print(f"step {step:4d} loss {loss.item():.4f} {time.perf_counter() - started:.0f}s",
                  file=sys.stderr)
    model.eval()
    model.save_pretrained(str(out))


def export_onnx(model_dir: str | os.PathLike[str]) -> Path:
    """Write ``model_optimized.onnx`` next to the torch weights (fp16, dynamic axes)."""
    import warnings

    import onnx
    import torch
    import wtpsplit.models  # noqa: F401  (registers the "xlm-token" model type)
    from transformers import AutoModelForTokenClassification

    model_dir = Path(model_dir)
    model = AutoModelForTokenClassification.from_pretrained(str(model_dir)).eval().half()
    plain = model_dir / "model.onnx"
    target = model_dir / "model_optimized.onnx"
    example = {
        "input_ids": torch.randint(0, model.config.vocab_size, (1, 8), dtype=torch.int64),
        "attention_mask": torch.ones((1, 8), dtype=torch.float16),
    }
    axes = {"batch": 0, "sequence": 1}
    dynamic = {name: {v: k for k, v in axes.items()}
               for name in ("input_ids", "attention_mask", "logits")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (), str(plain), kwargs=example, input_names=["input_ids", "attention_mask"],
            output_names=["logits"], dynamic_axes=dynamic, opset_version=17, dynamo=False,
        )
        onnx.checker.check_model(str(plain))
        try:
            from onnxruntime.transformers.optimizer import optimize_model

            optimized = optimize_model(
                str(plain), model_type="bert", num_heads=0, hidden_size=0, opt_level=0,
                use_gpu=False,
            )
            onnx.save_model(optimized.model, str(target))  # uses onnxruntime contrib ops
        except Exception:  # the optimiser is an optimisation: the plain graph is valid too
            shutil.copyfile(plain, target)
    plain.unlink()
    return target


def build_tiny_sat(
    out_dir: str | os.PathLike[str],
    *,
    train_files: Sequence[str | os.PathLike[str]] | None = None,
    train_steps: int = 400,
    vocab_size: int = 2000,
    hidden_size: int = 64,
    num_layers: int = 2,
    seed: int = 0,
    onnx: bool = True,
    log: bool = False,
) -> Path:
    """Train and write a tiny SaT model directory at ``out_dir`` (replaced atomically)."""
    import torch

    files = [Path(f) for f in (train_files or [default_data_dir() / f for f in TRAIN_FILES])]
    docs = read_sentences(files)
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-sat-", dir=out.parent))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        tokenizer = _train_tokenizer(docs, vocab_size, tmp)
        _train_model(tokenizer, docs, tmp, steps=train_steps, hidden_size=hidden_size,
                     num_layers=num_layers, seed=seed, log=log)
        if onnx:
            export_onnx(tmp)
        meta = {
            "version": VERSION, "threshold": THRESHOLD, "train_files": [f.name for f in files],
            "train_sentences": sum(len(d) for d in docs), "train_steps": train_steps,
            "vocab_size": vocab_size, "hidden_size": hidden_size, "num_layers": num_layers,
            "seed": seed, "onnx": onnx,
        }
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        torch.set_num_threads(threads)
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def cached_tiny_sat(*, train_files: Sequence[str | os.PathLike[str]] | None = None,
                    train_steps: int = 400, log: bool = False) -> Path:
    """The tiny model from the segtool cache, built on first use (with ONNX).

    The key holds the version and the step count (not the training files: pass
    other files only to ``build_tiny_sat``); concurrent builders (pytest-xdist
    workers) each train into a private directory and the first rename wins.
    """
    from segtool.assets import cache_dir

    target = cache_dir("tiny-sat") / f"{VERSION}-s{train_steps}"
    if (target / META_FILE).is_file() and (target / "model_optimized.onnx").is_file():
        return target
    scratch = Path(tempfile.mkdtemp(prefix=".build-", dir=target.parent))
    try:
        built = build_tiny_sat(scratch / "model", train_files=train_files,
                               train_steps=train_steps, log=log)
        try:
            os.replace(built, target)
        except OSError:
            if not (target / META_FILE).is_file():  # not someone else's finished build
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m segtool.testing.tiny_sat",
                                     description="Train a tiny SaT-compatible model.")
    parser.add_argument("out_dir", help="directory to write (replaced if it exists)")
    parser.add_argument("--steps", type=int, default=400, help="training steps (default 400)")
    parser.add_argument("--train-file", action="append", default=None,
                        help=f"gold JSONL file(s) to train on (default: {', '.join(TRAIN_FILES)} "
                             "from $SEGTOOL_DEV_DATA or the shared dev set)")
    parser.add_argument("--no-onnx", action="store_true", help="skip the ONNX export")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    out = build_tiny_sat(args.out_dir, train_files=args.train_file, train_steps=args.steps,
                         onnx=not args.no_onnx, log=True)
    print(f"{out} ({time.perf_counter() - started:.0f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
