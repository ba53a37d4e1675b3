"""SaT ("Segment any Text", wtpsplit): a subword token classifier as a splitter.

wtpsplit's ``split`` returns sentence *strings*; this splitter instead asks for
per-character boundary probabilities (``SaT.predict_proba``) and applies the
threshold itself, so offsets come straight from positions in the input and the
tiling invariant holds by construction (:func:`spans_from_ends`), with no
string matching at all.

Batching: :meth:`SatSplitter.split_batch` hands *all* non-blank texts of a batch
to wtpsplit at once (cross-document batching; wtpsplit issue #118 measured
~1 s of overhead per call, so one call per document or sentence is ruinous).
Inside one call wtpsplit pads every window to the longest text of the call
(capped at ``block_size`` tokens), so texts are first sorted by length and
handed over ``batch_size`` at a time (one forward pass for short texts, with
little padding).  Each text is cut into the same windows whichever call it
lands in, so the grouping changes padding, not results.  On CPU a forward
pass holds about ``_CPU_TOKENS`` tokens (:meth:`SatSplitter._windows_per_forward`).
What batching buys depends on the documents: short ones (a few hundred
characters) fill a forward pass only together (bench/bench_sat.py, tiny model,
one CPU thread: 1.2x over one call per document); documents that already fill
several 512-token windows gain nothing on CPU (1.0x) — the case a GPU is for.

Thresholds: wtpsplit picks its default by looking for the substring "sm" in
the model *path* (a user called "asmith" gets the wrong one), so the threshold
is always decided here and passed explicitly:
``sat_threshold`` if given, else 0.5 with a LoRA adapter, else 0.25 when the
model's own name (last path component) has an ``-sm`` part, else 0.025.

Line breaks never reach the model (XLM-R's tokenizer treats them as spaces), so
what they mean is a policy, ``sat_newlines``:

* ``split`` (default, as wtpsplit's ``split_on_input_newlines=True``): every
  line break ends a sentence — right for one sentence or paragraph per line;
* ``paragraph``: only blank lines end a sentence, single line breaks are left
  to the model — right for hard-wrapped text (books, e-mails);
* ``model``: the model alone decides.

``sat_paragraphs=True`` returns paragraph spans instead of sentences: breaks
where the probability exceeds ``sat_paragraph_threshold`` (SaT uses one output
for both; wtpsplit's paragraph mode is the same higher threshold), plus the
line-break policy above.

Backends: ``torch`` (float16 on GPU, float32 on CPU unless ``dtype`` says
otherwise) or ``onnx`` (``model_optimized.onnx`` in the model directory, as the
wtpsplit export script writes it; CUDA provider when the device is a GPU and
onnxruntime has it).  Everything heavy is imported when the model is loaded.
"""

from __future__ import annotations

import contextlib
import os
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, ClassVar

from segtool.models.libraries import quiet_loading
from segtool.options import BatchSize, Device, Dtype, Opt
from segtool.sentences.base import BaseSplitter, spans_from_ends
from segtool.sentences.paragraphs import PARAGRAPH_BREAK
from segtool.types import Span, UsageError

DEFAULT_TOKENIZER = "facebookAI/xlm-roberta-base"
NEWLINE_POLICIES = ("split", "paragraph", "model")
_ONNX_FILE = "model_optimized.onnx"
_CPU_TOKENS = 4096
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model")
_LINE_BREAK = re.compile(r"\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_SM_NAME = re.compile(r"(?:^|[-_])sm(?:$|[-_])")
_LOCAL_HINT = (
    "point --sat-model at a local directory holding config.json and the weights "
    "(model.safetensors, or model_optimized.onnx for --sat-backend onnx)"
)


def default_threshold(model: str, *, lora: bool = False) -> float:
    """wtpsplit's defaults, decided from the model's *name* rather than its whole path."""
    if lora:
        return 0.5
    name = Path(str(model).rstrip("/\\")).name.lower()
    return 0.25 if _SM_NAME.search(name) else 0.025


def _looks_like_path(model: str) -> bool:
    """A hub id is ``name`` or ``org/name``; anything else is meant as a directory."""
    if os.path.exists(model) or os.path.isabs(model):
        return True
    if model.startswith(("./", "../", "~", ".\\", "..\\")) or "\\" in model:
        return True
    return model.count("/") > 1


def _short(exc: BaseException) -> str:
    """First line of an exception message, trimmed: errors must stay on one line."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _has_visible(text: str) -> bool:
    """Has a letter, digit, punctuation mark or symbol (stops at the first one)."""
    return any(unicodedata.category(c)[0] in "LNPS" for c in text)


def _has_tokens(sat: Any, text: str) -> bool:
    return bool(sat.tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])


@dataclass(frozen=True)
class SatOptions:
    sat_model: Annotated[str, Opt("SaT model: hub id (sat-3l-sm) or local directory.",
                                  group="Splitter")] = "sat-3l-sm"
    sat_tokenizer: Annotated[str | None, Opt(
        "SaT tokenizer: hub id or local directory (default: the model's).",
        group="Splitter")] = None
    sat_threshold: Annotated[float | None, Opt(
        "SaT boundary probability threshold (default: 0.5 with LoRA, 0.25 for -sm models, "
        "else 0.025).", ge=0, lt=1, group="Splitter")] = None
    sat_backend: Annotated[str, Opt("SaT backend.", choices=("torch", "onnx"),
                                    group="Splitter")] = "torch"
    lora_path: Annotated[str | None, Opt("SaT LoRA adapter directory.", group="Splitter")] = None
    sat_paragraphs: Annotated[bool, Opt("SaT paragraph mode (newline probabilities).",
                                        group="Splitter")] = False
    sat_paragraph_threshold: Annotated[float, Opt(
        "SaT paragraph (newline) probability threshold.", ge=0, lt=1, group="Splitter")] = 0.5
    sat_newlines: Annotated[str, Opt(
        "SaT line breaks: split (every line break ends a sentence), paragraph (only blank "
        "lines do) or model (the model decides).", choices=NEWLINE_POLICIES,
        group="Splitter")] = "split"
    stride: Annotated[int, Opt("SaT window stride in tokens (≤ --block-size).", ge=1,
                               group="Splitter")] = 64
    block_size: Annotated[int, Opt("SaT window length in tokens.", ge=1, le=512,
                                   group="Splitter")] = 512
    batch_size: BatchSize = 32
    device: Device = "auto"
    dtype: Dtype = "auto"


class SatSplitter(BaseSplitter):
    """wtpsplit SaT models (hub id or local directory), torch or ONNX backend."""

    name: ClassVar[str] = "sat"
    summary: ClassVar[str] = (
        "Segment any Text (wtpsplit SaT): multilingual subword model, robust to missing "
        "punctuation and case; torch or ONNX, CPU or GPU."
    )
    extra: ClassVar[str | None] = "sat"
    requires: ClassVar[tuple[str, ...]] = ("wtpsplit", "torch")

    Options = SatOptions

    def setup(self) -> None:
        o = self.options
        sat_model, sat_backend, sat_newlines = o.sat_model, o.sat_backend, o.sat_newlines
        sat_threshold, sat_paragraph_threshold = o.sat_threshold, o.sat_paragraph_threshold
        block_size, stride, batch_size, lora_path = o.block_size, o.stride, o.batch_size, o.lora_path
        sat_paragraphs, sat_tokenizer, device, dtype = (o.sat_paragraphs, o.sat_tokenizer, o.device,
                                                        o.dtype)
        self.sat_model = os.path.expanduser(str(sat_model))
        self.backend = (sat_backend or "torch").lower()
        if self.backend not in ("torch", "onnx"):
            raise UsageError(f"--sat-backend {sat_backend!r}: unknown — use torch or onnx")
        if sat_newlines not in NEWLINE_POLICIES:
            raise UsageError(
                f"--sat-newlines {sat_newlines!r}: unknown — use {', '.join(NEWLINE_POLICIES)}"
            )
        for label, value in (("--sat-threshold", sat_threshold),
                             ("--sat-paragraph-threshold", sat_paragraph_threshold)):
            if value is not None and not 0.0 <= float(value) < 1.0:
                raise UsageError(f"{label} {value}: out of range — use a probability in [0, 1)")
        if not 1 <= block_size <= 512:
            raise UsageError(f"--block-size {block_size}: out of range — use 1..512 tokens")
        if not 1 <= stride <= block_size:
            raise UsageError(
                f"--stride {stride}: out of range — use 1..block size ({block_size}) tokens"
            )
        if batch_size < 1:
            raise UsageError(f"--batch-size {batch_size}: must be at least 1")
        if lora_path is not None:
            lora_path = os.path.expanduser(str(lora_path))
            if not os.path.isdir(lora_path):
                raise UsageError(
                    f"LoRA adapter directory not found — {lora_path} — pass --lora-path DIR "
                    "holding adapter_config.json and pytorch_adapter.bin"
                )
            if self.backend == "onnx":
                raise UsageError(
                    "--lora-path works with --sat-backend torch only — export the merged "
                    "model to ONNX first or use the torch backend"
                )
        self.lora_path = lora_path
        self.threshold = (
            float(sat_threshold) if sat_threshold is not None
            else default_threshold(self.sat_model, lora=lora_path is not None)
        )
        self.paragraphs = bool(sat_paragraphs)
        self.paragraph_threshold = float(sat_paragraph_threshold)
        self.newlines = sat_newlines
        self.stride = int(stride)
        self.block_size = int(block_size)
        self.batch_size = int(batch_size)
        self.local = _looks_like_path(self.sat_model)
        if self.local:
            self._check_directory(self.sat_model)
        self.tokenizer = self._pick_tokenizer(sat_tokenizer)

        from segtool.models.device import resolve_device

        self.device_option = (device or "auto").strip().lower()
        self.device = resolve_device(device)
        self.dtype_name = dtype
        self._sat: Any = None

    def fingerprint(self) -> dict[str, str]:
        """Model and tokenizer files by content when local, by hub id otherwise."""
        from segtool.models.fingerprint import path_fingerprint

        def ident(where: str) -> str:
            return path_fingerprint(where) if os.path.exists(where) else f"hub:{where}"

        out = {"model": ident(self.sat_model), "tokenizer": ident(self.tokenizer)}
        if self.lora_path:
            out["lora"] = path_fingerprint(self.lora_path)
        return out

    # -- loading ---------------------------------------------------------------------------

    def _check_directory(self, path: str) -> None:
        """Cheap checks before anything heavy is imported, each with its own fix."""
        if not os.path.isdir(path):
            raise UsageError(f"SaT model directory not found — {path} — {_LOCAL_HINT}")
        if not os.path.isfile(os.path.join(path, "config.json")):
            raise UsageError(
                f"no config.json in the SaT model directory — {path} — {_LOCAL_HINT}"
            )
        if self.backend == "onnx" and not os.path.isfile(os.path.join(path, _ONNX_FILE)):
            raise UsageError(
                f"no {_ONNX_FILE} in the SaT model directory — {path} — export the model "
                "to ONNX (wtpsplit scripts/export_to_onnx_sat.py) or use --sat-backend torch"
            )

    def _pick_tokenizer(self, tokenizer: str | None) -> str:
        if tokenizer:
            return os.path.expanduser(str(tokenizer))
        if self.local and any(
            os.path.isfile(os.path.join(self.sat_model, f)) for f in _TOKENIZER_FILES
        ):
            return self.sat_model
        return DEFAULT_TOKENIZER

    def _providers(self) -> list[Any]:
        import onnxruntime as ort

        if self.device.startswith("cuda"):
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                if self.device_option == "auto":
                    return ["CPUExecutionProvider"]  # CPU-only onnxruntime: run it there
                raise UsageError(
                    f"--device {self.device} with --sat-backend onnx needs onnxruntime's CUDA "
                    "provider — pip install onnxruntime-gpu, or use --sat-backend torch"
                )
            index = int(self.device.split(":", 1)[1]) if ":" in self.device else 0
            return [("CUDAExecutionProvider", {"device_id": index}), "CPUExecutionProvider"]
        return ["CPUExecutionProvider"]

    def load(self) -> Any:
        """Load the model once (first call); every failure is a one-line UsageError."""
        if self._sat is not None:
            return self._sat
        import io
        import warnings

        from segtool.models.device import configure_threads, resolve_dtype

        threads = configure_threads()
        kwargs: dict[str, Any] = {"tokenizer_name_or_path": self.tokenizer}
        if not self.local and "/" in self.sat_model:
            kwargs["hub_prefix"] = None  # "org/name" is a full hub id already
        if self.backend == "onnx":
            import onnxruntime as ort

            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            kwargs["ort_providers"] = self._providers()
            kwargs["ort_kwargs"] = {"sess_options": options}
        if self.lora_path:
            kwargs["lora_path"] = self.lora_path
        if not self.local or not os.path.exists(self.tokenizer):
            from segtool.models.hub import hub_available

            hub_available()  # offline or unreachable: only the local HF cache, no minute of retries
        try:
            with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
                warnings.simplefilter("ignore")
                from wtpsplit import SaT

                with quiet_loading():
                    sat = SaT(self.sat_model, **kwargs)
        except UsageError:
            raise
        except Exception as exc:
            raise UsageError(self._load_error(exc)) from exc
        if self.backend == "torch":
            model = sat.model.model
            model.to(device=self.device, dtype=resolve_dtype(self.dtype_name, self.device))
            model.eval()
        self._sat = sat
        return sat

    def _load_error(self, exc: BaseException) -> str:
        what = _short(exc)
        if self.backend == "onnx" and self.local:
            onnx_path = os.path.join(self.sat_model, _ONNX_FILE)
            low = what.lower()
            if "onnx" in type(exc).__module__.lower() or "protobuf" in low or "onnx" in low:
                return (
                    f"cannot load the ONNX model ({what}) — {onnx_path} — re-export it, "
                    f"{_LOCAL_HINT}, or use --sat-backend torch"
                )
        from segtool.models.hub import offline_reason, offline_requested

        if offline_requested() and (not self.local or not os.path.exists(self.tokenizer)):
            what = f"{what}; {offline_reason()}"
        if self.local:
            hint = _LOCAL_HINT
            if self.tokenizer == DEFAULT_TOKENIZER:
                hint += (
                    f"; the directory has no tokenizer, so {DEFAULT_TOKENIZER!r} is fetched "
                    "from the hub — offline, pass --sat-tokenizer DIR"
                )
            return f"cannot load the SaT model ({what}) — {self.sat_model} — {hint}"
        return (
            f"cannot load SaT model {self.sat_model!r} or tokenizer {self.tokenizer!r} from "
            f"the Hugging Face hub ({what}) — {_LOCAL_HINT}, and --sat-tokenizer at a local "
            "tokenizer directory"
        )

    # -- inference ---------------------------------------------------------------------------

    def _groups(self, order: list[int], lengths: list[int]) -> list[list[int]]:
        """Length-sorted indices cut into wtpsplit calls of ``batch_size`` texts.

        A text shorter than one window is one window padded to the longest text
        of its call, so neighbours in length order share a call (one forward
        pass each) and padding stays small.  Texts longer than a window become
        several full windows whatever their company, so the grouping only
        changes padding, never results.
        """
        size = self.batch_size
        return [order[k:k + size] for k in range(0, len(order), size)]

    def _windows_per_forward(self, longest_chars: int) -> int:
        """``batch_size`` windows per forward pass, capped on CPU by a token budget.

        On CPU, 32 windows of 512 tokens ran ~10% slower than 8 (attention
        buffers of that size fall out of the caches; bench/bench_sat.py), so a
        forward pass there holds about ``_CPU_TOKENS`` tokens.  The window length
        is estimated from characters (2 per token: generous for English with
        XLM-R's ~4).  GPUs get ``batch_size`` as asked.
        """
        if self.device != "cpu":
            return self.batch_size
        window = min(self.block_size, longest_chars // 2 + 2)
        return max(1, min(self.batch_size, _CPU_TOKENS // max(window, 1)))

    def probabilities(self, texts: Sequence[str]) -> list[Any]:
        """Per-character boundary probabilities (numpy float arrays, one per text).

        Blank texts get all-zero arrays without a model call, and so do texts the
        tokenizer turns into no token at all (only control or format characters):
        one such text makes wtpsplit's window bookkeeping fail for the whole call.
        """
        import numpy as np

        texts = list(texts)
        out: list[Any] = [np.zeros(len(t), dtype=np.float32) for t in texts]
        todo = [i for i, t in enumerate(texts) if t.strip()]
        if not todo:
            return out
        sat = self.load()
        todo = [i for i in todo if _has_visible(texts[i]) or _has_tokens(sat, texts[i])]
        lengths = [len(t) for t in texts]
        order = sorted(todo, key=lambda i: (lengths[i], i))
        for group in self._groups(order, lengths):
            batch = [texts[i] for i in group]
            with quiet_loading():
                probs = list(sat.predict_proba(
                    batch,
                    stride=self.stride,
                    block_size=self.block_size,
                    batch_size=self._windows_per_forward(max(lengths[i] for i in group)),
                    outer_batch_size=max(len(batch), 1),
                ))
            for i, p in zip(group, probs, strict=True):
                p = np.asarray(p, dtype=np.float32).reshape(-1)
                if p.shape[0] != len(texts[i]):
                    raise RuntimeError(
                        f"wtpsplit returned {p.shape[0]} probabilities for {len(texts[i])} "
                        "characters"
                    )
                out[i] = p
        return out

    def _newline_ends(self, text: str) -> list[int]:
        if self.newlines == "split":
            return [m.start() for m in _LINE_BREAK.finditer(text)]
        if self.newlines == "paragraph":
            return [m.start() for m in PARAGRAPH_BREAK.finditer(text)]
        return []

    def spans_from_probabilities(self, text: str, probs: Any) -> list[Span]:
        """Threshold one text's probabilities (a boundary after char i ends at i + 1)."""
        import numpy as np

        threshold = self.paragraph_threshold if self.paragraphs else self.threshold
        ends = (np.flatnonzero(probs > threshold) + 1).tolist()
        return spans_from_ends(text, ends + self._newline_ends(text))

    def split(self, text: str) -> list[Span]:
        return self.split_batch([text])[0]

    def split_batch(self, texts: Sequence[str]) -> list[list[Span]]:
        probs = self.probabilities(texts)
        return [self.spans_from_probabilities(t, p) for t, p in zip(texts, probs, strict=True)]
