"""`make new-paper P=name` / `make remove-paper P=name` (scripts/new_paper.py): bad names are refused with a message
and nothing is created; in a copy of the repository a new paper passes what `make test` runs on it (hygiene, the
layout check, nbdev_test of its notebooks) unchanged, and removing it leaves the tree exactly as it was (~15 s)."""
import hashlib, importlib.util, os, shutil, subprocess, sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("new_paper", REPO / "scripts" / "new_paper.py")
new_paper = importlib.util.module_from_spec(spec); spec.loader.exec_module(new_paper)


@pytest.mark.parametrize("name,says", [
    ("", "no paper name given"), ("_hidden", "starts with '_'"), ("MyPaper", "not a valid paper name"),
    ("2stage", "not a valid paper name"), ("my-paper", "not a valid paper name"), ("class", "Python keyword"),
    ("rl4hs", "already exists"),
])
def test_bad_names_are_refused(name, says):
    before = sorted(p.name for p in (REPO / "nbs" / "papers").iterdir())
    with pytest.raises(new_paper.PaperError, match=says):
        new_paper.new_paper(name, REPO)
    assert sorted(p.name for p in (REPO / "nbs" / "papers").iterdir()) == before


def test_remove_refuses_unknown_and_template():
    with pytest.raises(new_paper.PaperError, match="there is no paper 'no_such_paper'"):
        new_paper.remove_paper("no_such_paper", REPO)
    with pytest.raises(new_paper.PaperError, match="starts with '_'"):
        new_paper.remove_paper("_template", REPO)
    assert (REPO / "nbs" / "papers" / "_template" / "00_method.ipynb").exists()


def test_make_targets_call_the_script():
    if not shutil.which("make"): pytest.skip("no make")
    for target, args in [("new-paper", '"x1"'), ("remove-paper", '--remove "x1"')]:
        r = subprocess.run(["make", "-n", target, "P=x1"], cwd=REPO, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0 and f"scripts/new_paper.py {args}" in r.stdout, r.stdout + r.stderr


def _snapshot(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file() and "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}


@pytest.fixture
def repo_copy(tmp_path):
    "The repository's files (tracked and not ignored), copied to a temporary folder and exported."
    r = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0: pytest.skip("not a git checkout")
    d = tmp_path / "lab-copy"
    for rel in r.stdout.splitlines():
        if (REPO / rel).is_file():
            (d / rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy2(REPO / rel, d / rel)
    new_paper._export(d)          # a no-op on a tree that passes hygiene
    return d


def test_new_paper_round_trip(repo_copy, tmp_path):
    from lab.core.layout import check, layer_graph, scan, format_graph
    from lab.core.regress import hygiene
    d = repo_copy
    before, hyg_before, lay_before = _snapshot(d), set(hygiene(d)), set(check(d))
    r = subprocess.run([sys.executable, "scripts/new_paper.py", "example"], cwd=d, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert {p.name for p in (d / "nbs/papers/example").iterdir()} == {"00_method.ipynb", "10_example.ipynb"}
    assert (d / "lab/papers/example/method.py").exists()
    assert "__PAPER__" not in (d / "nbs/papers/example/10_example.ipynb").read_text() + (d / "lab/papers/example/method.py").read_text()
    assert "lab.papers.example.method" in (d / "lab/_modidx.py").read_text()
    # what `make test` runs on it, unchanged: hygiene, the layout check, nbdev_test of its notebooks
    assert set(hygiene(d)) <= hyg_before, sorted(set(hygiene(d)) - hyg_before)
    assert set(check(d)) <= lay_before, sorted(set(check(d)) - lay_before)
    row = next(l for l in format_graph(layer_graph(scan(d))).splitlines() if l.startswith("papers/example "))
    assert row.split()[1:] == ["core", "(1)"], row                      # the new paper imports core only
    env = {**os.environ, "PYTHONPATH": str(d), "LAB_RESULTS_DIR": str(tmp_path / "results"), "HF_HUB_OFFLINE": "1"}
    env.pop("IN_TEST", None)
    r = subprocess.run([str(Path(sys.executable).parent / "nbdev_test"), "--path", "nbs/papers/example"], cwd=d, env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (tmp_path / "results" / "10_example.json").exists()       # the experiment ran and recorded
    # a second paper with the same name is refused; removing it leaves the tree exactly as it was
    r = subprocess.run([sys.executable, "scripts/new_paper.py", "example"], cwd=d, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "already exists" in r.stderr
    r = subprocess.run([sys.executable, "scripts/new_paper.py", "--remove", "example"], cwd=d, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    after = _snapshot(d)
    assert after == before, {k for k in set(after) | set(before) if after.get(k) != before.get(k)}
