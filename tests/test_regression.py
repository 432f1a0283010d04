"""Papermill regression: every notebook in tests/regression.toml runs at its small parameters (with the registry's
torch thread count) and must (1) match tests/baselines/<notebook>.json on the deterministic numbers kept there and
(2) satisfy its claims, the paper's findings at CI scale (a failure prints metric | baseline | got | tolerance | ok,
or claim | left | right | margin | ok). Trained numbers are not in the baselines: they differ between machines.
Another machine's stand-in: `python -m lab.core.regress run NB --threads 1 --seed-offset 1` must pass too.
After an intended change: `.venv/bin/python -m lab.core.regress update-baselines NB` (make baselines), review, commit.
scripts/test.sh sets LAB_NB_TIMES: each notebook run appends `<notebook>.ipynb: <s> secs` to it (the slowest list)."""
import json, os, re, shutil, subprocess, sys
from pathlib import Path

import pytest

from lab.core.regress import (BASELINES, Claim, RegressionError, _demo_notebook, check, check_claims, check_run, load_registry,
                              notebook_parameters, project_root, read_baseline, run_entry)

ROOT = project_root(Path(__file__).parent)
REG = load_registry(root=ROOT)
_runs: dict = {}  # notebook -> recorded metrics, so the tamper and claim tests reuse the regression run


def _metrics(name, tmp_path_factory) -> dict:
    if name not in _runs:
        e = REG[name]
        _runs[name], wall = run_entry(e, tmp_path_factory.mktemp(name))
        if os.environ.get("LAB_NB_TIMES"):
            with open(os.environ["LAB_NB_TIMES"], "a") as f: f.write(f"{e.notebook.name}: {wall:.0f} secs (papermill, {e.threads} threads)\n")
    return _runs[name]


def test_registry():
    assert REG, "tests/regression.toml registers no notebook"
    for name, e in REG.items():
        assert e.notebook.exists(), f"{name}: {e.notebook} does not exist"
        assert notebook_parameters(e.notebook) is not None, f"{e.notebook}: no cell tagged `parameters` (lost in nbdev_clean?)"
        assert (ROOT / BASELINES / f"{name}.json").exists(), f"{name}: no baseline; run `python -m lab.core.regress update-baselines {name}`"
        assert e.claims, f"{name}: registers no claim; a registered experiment states its paper's findings as claims"
    for p in (ROOT / BASELINES).glob("*.json"):
        assert p.stem in REG, f"{p} belongs to no notebook registered in tests/regression.toml"


@pytest.mark.parametrize("name", sorted(REG))
def test_notebook_baseline_and_claims(name, tmp_path_factory):
    check_run(_metrics(name, tmp_path_factory), read_baseline(ROOT / BASELINES / f"{name}.json"), REG[name])


def test_tampered_baseline_fails_with_table(tmp_path, tmp_path_factory):
    "A temp copy of a real baseline with one metric moved makes the comparison fail, with the table."
    name = next(n for n in sorted(REG) if read_baseline(ROOT / BASELINES / f"{n}.json"))   # the first with numbers kept
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
    n = len(set(_metrics(name, tmp_path_factory)) | set(base))   # the table lists every metric, compared or ignored
    assert f"regression {name}: 1 of {n} metrics" in msg  # only the tampered metric fails
    assert f"update-baselines {name}" in msg


def test_failing_claim_fails_with_table(tmp_path_factory):
    "A registered claim with 1000 added to its right side cannot hold: the check fails with the claims table, only on that claim."
    name, c = next((n, c) for n in sorted(REG) for c in REG[n].claims if c.op in (">", ">="))
    broken = Claim(f"{c.check} + 1000", "made to fail by this test")
    claims = [*REG[name].claims, broken]
    with pytest.raises(RegressionError) as ei:
        check_claims(_metrics(name, tmp_path_factory), claims, name)
    msg = str(ei.value)
    print(msg)
    assert re.search(r"\| claim +\| left +\| right +\| margin +\| ok +\|", msg)
    assert re.search(rf"\| {re.escape(broken.check)} +\| [^|]+\| [^|]+\| -[^|]+\| FAIL +\|", msg)
    assert f"claims {name}: 1 of {len(claims)} claims fail" in msg  # the registered claims still hold
    assert "made to fail by this test" in msg


def test_cli_update_run_tamper(tmp_path):
    "The documented commands end to end on a throwaway notebook: update-baselines, run (passes), tamper, run (fails with the table)."
    _demo_notebook(tmp_path / "nbs" / "99_demo.ipynb")
    reg = tmp_path / "regression.toml"
    reg.write_text('[notebooks.99_demo]\nparameters = { n = 5 }\nclaims = [{ check = "square >= n * n", why = "squares" }]\n'
                   '[notebooks.99_demo.metrics]\nwall_s = "ignore"\n')
    cli = [sys.executable, "-m", "lab.core.regress", "--root", str(tmp_path)]
    opts = ["--registry", str(reg), "--baselines", str(tmp_path / "baselines")]
    env = {k: v for k, v in os.environ.items() if k != "IN_TEST"}
    run = lambda *a: subprocess.run([*cli, *a, *opts], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    r = run("update-baselines")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "baselines" / "99_demo.json").read_text()) == {"n": 5.0, "square": 25.0}
    r = run("run", "--threads", "1")
    assert r.returncode == 0 and "99_demo: ok (3 metrics, 1 claims" in r.stdout and "threads 1, seed offset 0" in r.stdout, r.stdout + r.stderr
    assert re.search(r"\| square >= n \* n +\| 25 +\| 25 +\| \+0 +\| ok +\|", r.stdout), r.stdout
    (tmp_path / "baselines" / "99_demo.json").write_text(json.dumps({"n": 5.0, "square": 24.0}))
    r = run("run", "nbs/99_demo.ipynb")
    assert r.returncode == 1
    assert re.search(r"\| square +\| 24 +\| 25 +\| ±[^|]+\| FAIL \(Δ=\+1\)", r.stderr), r.stderr
