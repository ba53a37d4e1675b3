"""Device, dtype and thread settings for torch-based components.

Kept apart from the models so that every component resolves ``--device`` the
same way and fails the same way (exit 2, one line) when CUDA is asked for on a
machine without it.  torch is imported only when a function here is called.
"""

from __future__ import annotations

import os

from segtool.types import UsageError

_DEFAULT_THREADS = 4


def configure_threads() -> int:
    """Honour ``OMP_NUM_THREADS``; otherwise cap torch at a sane number of threads.

    On small shared machines torch's default (one thread per core, plus
    inter-op threads) made small tensor ops hundreds of times slower under load.
    """
    import torch

    wanted = os.environ.get("OMP_NUM_THREADS")
    if wanted and wanted.isdigit() and int(wanted) > 0:
        n = int(wanted)
    else:
        n = max(1, min(_DEFAULT_THREADS, os.cpu_count() or 1))
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def resolve_device(device: str = "auto") -> str:
    """Turn ``auto|cpu|cuda|cuda:N|mps`` into a concrete torch device string."""
    import torch

    device = (device or "auto").strip().lower()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise UsageError(
                f"--device {device}: CUDA is not available on this machine — use --device cpu or auto"
            )
        if ":" in device:
            idx = device.split(":", 1)[1]
            if not idx.isdigit() or int(idx) >= torch.cuda.device_count():
                raise UsageError(
                    f"--device {device}: no such GPU (found {torch.cuda.device_count()}) — use cuda:0.."
                )
        return device
    if device == "mps":
        if not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
            raise UsageError("--device mps: MPS is not available on this machine — use --device cpu")
        return device
    raise UsageError(f"--device {device!r}: unknown device — use auto, cpu, cuda, cuda:N or mps")


def resolve_dtype(dtype: str | None, device: str):
    """``auto`` means float16 on GPU and float32 on CPU (half is slow or unsupported on CPU)."""
    import torch

    name = (dtype or "auto").lower()
    table = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
             "fp16": torch.float16, "half": torch.float16, "bfloat16": torch.bfloat16,
             "bf16": torch.bfloat16}
    if name == "auto":
        return torch.float16 if device.startswith("cuda") else torch.float32
    if name not in table:
        raise UsageError(f"--dtype {dtype!r}: unknown — use auto, float32, float16 or bfloat16")
    return table[name]
