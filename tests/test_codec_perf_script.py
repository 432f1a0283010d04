"""scripts/perf_codec.py runs end to end at a tiny size: flags come from its config, the table and the JSON are written."""
import json, os, subprocess, sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_perf_codec_tiny(tmp_path):
    out = tmp_path / "perf.json"
    r = subprocess.run([sys.executable, "scripts/perf_codec.py", "--n", "16", "--steps", "3", "--repeats", "1", "--json", str(out)],
                       cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "| prior | encode img/s |" in r.stdout and "| hyperprior |" in r.stdout
    rec = json.loads(out.read_text())
    assert [x["prior"] for x in rec["rows"]] == ["factorized", "hyperprior"]
    assert all(x["encode_img_s"] > 0 and x["decode_img_s"] > 0 and x["bpp"] > 0 for x in rec["rows"]) and rec["facts"]["config"]["n"] == 16
    bad = subprocess.run([sys.executable, "scripts/perf_codec.py", "--n", "0"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "must be >= 1" in bad.stderr and "Traceback" not in bad.stderr
