#!/usr/bin/env bash
# The lab's test command (what CI runs): set-up, hygiene, notebook tests, then tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false
start=$(date +%s)
echo "[lab] hygiene: notebooks clean, lab/ in sync with nbs/, README in sync with index.ipynb"
.venv/bin/python -m lab.core.regress hygiene
# Experiment notebooks registered in tests/regression.toml are executed by tests/test_regression.py (papermill,
# same small parameters, metrics compared with baselines) -- a superset of what nbdev_test would check -- so
# nbdev_test skips them rather than running them twice.
skip=$(.venv/bin/python -c "from lab.core.regress import load_registry; print('|'.join(load_registry()))")
echo "[lab] nbdev_test (registered experiment notebooks run under pytest: ${skip:-none})"
.venv/bin/nbdev_test --n_workers 2 --timing --skip_file_re "^[_.]${skip:+|^(${skip})\.ipynb\$}"
echo "[lab] pytest tests/"
.venv/bin/python -m pytest tests/ -q "$@"
echo "[lab] tests finished in $(( $(date +%s) - start ))s"
