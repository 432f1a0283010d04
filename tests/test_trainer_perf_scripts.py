"""The trainer benchmarks (scripts/perf_dpo.py, scripts/perf_grpo.py, sharing scripts/_trainer_bench.py) run end to end
on the tiny random Llama: their rows, the ratios against TRL and the JSON are written, and bad flags get a usage error
(TRL is a dev requirement: skipped without it)."""
import json, os, subprocess, sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
pytest.importorskip("trl")


def test_perf_dpo_tiny(tmp_path):
    out = tmp_path / "perf.json"
    r = subprocess.run([sys.executable, "scripts/perf_dpo.py", "--tiny", "--warmup", "0", "--steps", "2", "--json", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| impl | time | median step (s) |" in r.stdout and "throughput ratio ours/TRL (cpu time)" in r.stdout
    rec = json.loads(out.read_text())["results"]
    assert set(rec) >= {"ours", "ours-cached", "trl", "ratio_ours_over_trl_wall", "ratio_ours_cached_over_trl_cpu"}
    assert all(len(rec[k]["cpu"]["steps"]) == 2 and rec[k]["cpu"]["tokens_per_s"] > 0 for k in ("ours", "ours-cached", "trl"))
    assert rec["ours-cached"]["precompute_pairs"] == 4
    bad = subprocess.run([sys.executable, "scripts/perf_dpo.py", "--tiny", "--order", "ours,nope"], cwd=REPO, capture_output=True,
                         text=True, timeout=120)
    assert bad.returncode == 2 and "unknown implementation" in bad.stderr and "Traceback" not in bad.stderr


def test_perf_grpo_tiny(tmp_path):
    out = tmp_path / "perf.json"
    r = subprocess.run([sys.executable, "scripts/perf_grpo.py", "--tiny", "--warmup", "0", "--steps", "2", "--json", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| impl | time | median step (s) | completions/s | completion tokens/s |" in r.stdout
    rec = json.loads(out.read_text())["results"]
    assert set(rec) >= {"ours", "trl", "ratio_ours_over_trl_cpu"} and all(len(rec[k]["wall"]["steps"]) == 2 for k in ("ours", "trl"))
    assert rec["ours"]["cpu"]["completions_per_s"] > 0 and rec["trl"]["cpu"]["tokens_per_s"] > 0
