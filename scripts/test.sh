#!/usr/bin/env bash
# The lab's test command (what CI runs): set-up, hygiene, notebook tests, then tests/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} GRADIO_ANALYTICS_ENABLED=False TOKENIZERS_PARALLELISM=false OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
start=$(date +%s)
echo "[lab] hygiene: notebooks clean, lab/ in sync with nbs/, README in sync with index.ipynb"
.venv/bin/python -m lab.core.regress hygiene
echo "[lab] layout: imports go down only (core <- families <- papers <- apps/scripts; a paper never imports another paper)" && .venv/bin/python -m lab.core.layout check
# Experiment notebooks registered in tests/regression.toml are executed by tests/test_regression.py (papermill,
# same small parameters, metrics compared with baselines) -- a superset of what nbdev_test would check -- so
# nbdev_test skips them rather than running them twice.
skip=$(.venv/bin/python -c "from lab.core.regress import load_registry; print('|'.join(load_registry()))")
# Per-notebook wall times, `<notebook>.ipynb: <s> secs` lines: nbdev_test --timing prints them, and the papermill runs of
# tests/test_regression.py append theirs to $LAB_NB_TIMES. The run ends (pass or fail) with the ten slowest of both.
export LAB_NB_TIMES=$(mktemp)
slowest() {
  echo "[lab] the ten slowest notebooks (nbdev_test, and papermill under pytest):"
  grep -E '^[^ ]+\.ipynb: [0-9]+ secs' "$LAB_NB_TIMES" | sort -t: -k2 -rn | head -10 | sed 's/^/  /' || true
  rm -f "$LAB_NB_TIMES"
}
trap slowest EXIT
echo "[lab] nbdev_test (registered experiment notebooks run under pytest: ${skip:-none})"
.venv/bin/nbdev_test --n_workers 2 --timing --skip_file_re "^[_.]${skip:+|^(${skip})\.ipynb\$}" | tee -a "$LAB_NB_TIMES"
echo "[lab] pytest tests/"
.venv/bin/python -m pytest tests/ -q "$@"
echo "[lab] tests finished in $(( $(date +%s) - start ))s"
