"""ST013 min-chunkscore: the check delegates to the ChunkScore of ``segtool score``.

Real offline models (SmolLM2 and the model2vec embedder, so no network), on two
tiny documents; both runs share one process so the models load once.
"""

from __future__ import annotations

import json
import math
import subprocess

import pytest

from tests.check.conftest import ENV, check

pytestmark = pytest.mark.slow

A = ("The cat sat on the mat. It was warm in the sun. Dogs bark at night.\n\n"
     "Birds sing at dawn. The market opens early. Prices rose again today.\n")
B = ("Rain fell all day. The river rose fast. Bridges closed at noon.\n\n"
     "The vote passed. Taxes will fall next year. Critics were unhappy.\n")


def test_min_chunkscore_flags_documents_below_the_threshold_only(tmp_path):
    pytest.importorskip("segtool.quality.chunkscore")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(A)
    (tmp_path / "docs" / "b.txt").write_text(B)
    subprocess.run(["segtool", "chunk", "docs", "--max-tokens", "12", "-q", "-o", "ch.jsonl"],
                   cwd=tmp_path, check=True, env=ENV)
    last_line = {}
    for n, line in enumerate((tmp_path / "ch.jsonl").read_text().splitlines(), 1):
        last_line[json.loads(line)["doc_id"]] = n
    models = ["--embedder", "model2vec", "--lm", "smollm2", "--select", "min-chunkscore"]

    high = check(["ch.jsonl", "--min-chunkscore", "1000", "--format", "json", *models], tmp_path)
    assert high.exit_code == 1, high.stderr
    findings = json.loads(high.stdout)["findings"]
    # one finding per document, on the document's last chunk, carrying its score
    assert [(f["line"], f["code"]) for f in findings] == [
        (last_line["docs/a.txt"], "ST013"), (last_line["docs/b.txt"], "ST013")]
    scores = [float(f["message"].split("ChunkScore ")[1].split(" ")[0]) for f in findings]
    assert all(math.isfinite(s) for s in scores)

    # a threshold between the two scores flags exactly the lower document
    middle = sum(scores) / 2
    mid = check(["ch.jsonl", "--min-chunkscore", str(middle), *models], tmp_path)
    lower = "docs/a.txt" if scores[0] < scores[1] else "docs/b.txt"
    if scores[0] != scores[1]:
        assert mid.exit_code == 1
        assert [line.split(":")[1] for line in mid.stdout.splitlines()] == [str(last_line[lower])]
    low = check(["ch.jsonl", "--min-chunkscore", str(min(scores) - 1), *models], tmp_path)
    assert (low.exit_code, low.stdout) == (0, "")
