#!/usr/bin/env bash
# Every model-based stage on a GPU, batched across documents vs one document at a time.
#
#   bench/gpu.sh                       # results in $OUT/gpu.json (or bench/results/gpu.json)
#   bench/gpu.sh --out /path/gpu.json  # any bench_gpu.py option may follow and wins
#
# Prepared to fit a short GPU lease: fp16 where a stage supports it, 256 documents
# per stage (64 for the two causal-LM chunkers) and a 420 s budget after which no
# further stage is started (the total, model loading included, stays under 8 minutes
# on one GPU).  Runs on CPU too, slowly: bench/gpu.sh --device cpu --docs 2 --max-chars 300
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
out_dir="${OUT:-bench/results}"
mkdir -p "$out_dir"
device=cuda
if ! python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "gpu.sh: no CUDA device visible; pass --device cpu for a (slow) CPU run" >&2
fi
exec timeout 470 python3 bench/bench_gpu.py --device "$device" --dtype float16 \
    --docs 256 --llm-docs 64 --budget-s 420 --out "$out_dir/gpu.json" "$@"
