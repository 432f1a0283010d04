"""scripts/perf_lm.py runs end to end at a tiny size: flags come from SpeedConfig, the table and the JSON record are written."""
import json, os, subprocess, sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_perf_lm_tiny(tmp_path):
    out = tmp_path / "perf.json"
    r = subprocess.run([sys.executable, "scripts/perf_lm.py", "--presets", "32x1", "--variants", "eager,sdpa", "--threads", "1",
                        "--seq-len", "16", "--batch", "2", "--steps", "1", "--warmup", "0", "--matmul-n", "64", "--json", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| preset | variant | threads | tokens_per_s |" in r.stdout and "| 32x1 | sdpa | 1 |" in r.stdout
    rec = json.loads(out.read_text())
    assert [(x["variant"], x["threads"]) for x in rec["rows"]] == [("eager", 1), ("sdpa", 1)]
    assert all(x["tokens_per_s"] > 0 and 0 < x["mfu"] < 1.5 for x in rec["rows"]) and rec["facts"]["omp_wait_policy"] == os.environ.get("OMP_WAIT_POLICY", "PASSIVE")
    assert rec["facts"]["config"]["seq_len"] == 16
    bad = subprocess.run([sys.executable, "scripts/perf_lm.py", "--variant", "sdpa"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "did you mean --variants" in bad.stderr
