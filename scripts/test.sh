#!/usr/bin/env bash
# The lab's test command (what CI runs): set-up, hygiene, notebook tests, then tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false
start=$(date +%s)
echo "[lab] hygiene: notebooks clean, lab/ in sync with nbs/, README in sync with index.ipynb"
.venv/bin/python -m lab.regress hygiene
echo "[lab] nbdev_test"
.venv/bin/nbdev_test --n_workers 2 --timing
echo "[lab] pytest tests/"
.venv/bin/python -m pytest tests/ -q "$@"
echo "[lab] tests finished in $(( $(date +%s) - start ))s"
