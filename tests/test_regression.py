"""Papermill regression: every notebook in tests/regression.toml runs at its small parameters and must match
tests/baselines/<notebook>.json within its tolerances (a failure prints metric | baseline | got | tolerance | ok).
After an intended change: `.venv/bin/python -m lab.core.regress update-baselines NB` (make baselines), review, commit."""
import json, os, re, shutil, subprocess, sys
from pathlib import Path

import pytest

from lab.core.regress import BASELINES, RegressionError, _demo_notebook, check, load_registry, notebook_parameters, project_root, read_baseline, run_notebook

ROOT = project_root(Path(__file__).parent)
REG = load_registry(root=ROOT)
_runs: dict = {}  # notebook -> recorded metrics, so the tamper test reuses the regression run


def _metrics(name, tmp_path_factory) -> dict:
    if name not in _runs:
        e = REG[name]
        _runs[name] = run_notebook(e.notebook, e.parameters, tmp_path_factory.mktemp(name), e.timeout_s)
    return _runs[name]


def test_registry():
    assert REG, "tests/regression.toml registers no notebook"
    for name, e in REG.items():
        assert e.notebook.exists(), f"{name}: {e.notebook} does not exist"
        assert notebook_parameters(e.notebook) is not None, f"{e.notebook}: no cell tagged `parameters` (lost in nbdev_clean?)"
        assert (ROOT / BASELINES / f"{name}.json").exists(), f"{name}: no baseline; run `python -m lab.core.regress update-baselines {name}`"
    for p in (ROOT / BASELINES).glob("*.json"):
        assert p.stem in REG, f"{p} belongs to no notebook registered in tests/regression.toml"


@pytest.mark.parametrize("name", sorted(REG))
def test_notebook_matches_baseline(name, tmp_path_factory):
    check(_metrics(name, tmp_path_factory), read_baseline(ROOT / BASELINES / f"{name}.json"), REG[name].tolerances, name)


def test_tampered_baseline_fails_with_table(tmp_path, tmp_path_factory):
    "A temp copy of a real baseline with one metric moved makes the comparison fail, with the table."
    name = sorted(REG)[0]
    tampered = tmp_path / f"{name}.json"
    shutil.copy(ROOT / BASELINES / f"{name}.json", tampered)
    base = json.loads(tampered.read_text())
    metric = sorted(k for k in base if not REG[name].tolerances(k).ignore)[0]
    base[metric] += 10 * (1 + abs(base[metric]))
    tampered.write_text(json.dumps(base))
    with pytest.raises(RegressionError) as ei:
        check(_metrics(name, tmp_path_factory), read_baseline(tampered), REG[name].tolerances, name)
    msg = str(ei.value)
    print(msg)
    assert re.search(r"\| metric +\| baseline +\| got +\| tolerance +\| ok +\|", msg)
    assert re.search(rf"\| {re.escape(metric)} +\| [^|]+\| [^|]+\| ±[^|]+\| FAIL \(Δ=", msg)
    assert f"1 of {len(base)}" in msg  # only the tampered metric fails
    assert f"update-baselines {name}" in msg


def test_cli_update_run_tamper(tmp_path):
    "The documented commands end to end on a throwaway notebook: update-baselines, run (passes), tamper, run (fails with the table)."
    _demo_notebook(tmp_path / "nbs" / "99_demo.ipynb")
    reg = tmp_path / "regression.toml"
    reg.write_text('[notebooks.99_demo]\nparameters = { n = 5 }\n[notebooks.99_demo.metrics]\nwall_s = "ignore"\n')
    cli = [sys.executable, "-m", "lab.core.regress", "--root", str(tmp_path)]
    opts = ["--registry", str(reg), "--baselines", str(tmp_path / "baselines")]
    env = {k: v for k, v in os.environ.items() if k != "IN_TEST"}
    run = lambda *a: subprocess.run([*cli, *a, *opts], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    r = run("update-baselines")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "baselines" / "99_demo.json").read_text()) == {"n": 5.0, "square": 25.0}
    r = run("run")
    assert r.returncode == 0 and "99_demo: ok" in r.stdout, r.stdout + r.stderr
    (tmp_path / "baselines" / "99_demo.json").write_text(json.dumps({"n": 5.0, "square": 24.0}))
    r = run("run", "nbs/99_demo.ipynb")
    assert r.returncode == 1
    assert re.search(r"\| square +\| 24 +\| 25 +\| ±[^|]+\| FAIL \(Δ=\+1\)", r.stderr), r.stderr
