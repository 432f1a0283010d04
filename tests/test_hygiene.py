"""Hygiene as nbdev's CI does it: `python -m lab.core.regress hygiene` fails on a hand edit in lab/, on a notebook not
stored clean and on a stale README, and passes on a clean project. Everything happens in a temporary copy.

The copy is first made clean (nbdev_export, nbdev_clean, README regenerated) so this test checks the checker
whatever state the working tree is in; `make test` runs the hygiene check on the real tree itself."""
import json, os, shutil, subprocess, sys
from pathlib import Path

import pytest

from lab.core.regress import project_root

ROOT = project_root(Path(__file__).parent)
ENV = {k: v for k, v in os.environ.items() if k != "IN_TEST"}  # nbdev_export does nothing under IN_TEST
SKIP = shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__", "*.pyc")


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True, exist_ok=True)
    for f in ("settings.ini", "setup.py", "pyproject.toml", "README.md"):
        if (src / f).exists(): shutil.copy2(src / f, dst / f)
    for d in ("nbs", "lab"): shutil.copytree(src / d, dst / d, ignore=SKIP)
    return dst


def _hygiene(d: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lab.core.regress", "--root", str(d), "hygiene"], cwd=d, env=ENV,
                          capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def clean_copy(tmp_path_factory) -> Path:
    d = _copy(ROOT, tmp_path_factory.mktemp("clean"))
    code = ("from nbdev.doclinks import nbdev_export; from nbdev.clean import nbdev_clean; from lab.core.regress import write_readme\n"
            "nbdev_export.__wrapped__(); nbdev_clean.__wrapped__(); write_readme('.')")
    subprocess.run([sys.executable, "-c", code], cwd=d, env=ENV, check=True, capture_output=True, timeout=600)
    return d


@pytest.fixture
def project(clean_copy, tmp_path) -> Path:
    return _copy(clean_copy, tmp_path / "lab-copy")


def test_clean_copy_passes(project):
    r = _hygiene(project)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "hygiene ok" in r.stdout


def test_hand_edit_in_lab_fails(project):
    core = project / "lab" / "core" / "base.py"
    core.write_text(core.read_text().replace('"True when `x` is not None."', '"True when `x` is not None (hand edit)."'))
    (project / "lab" / "scratch.py").write_text("def f(): return 1\n")   # a module no notebook exports
    r = _hygiene(project)
    assert r.returncode != 0
    assert "lab/core/base.py is out of sync with nbs/" in r.stderr and "(hand edit)" in r.stderr, r.stderr
    assert "lab/scratch.py is not exported by any notebook" in r.stderr, r.stderr


def test_unclean_notebooks_fail(project):
    "Each kind of dirt nbdev_clean removes, each in its own notebook: all three are named."
    nbs = sorted(str(p.relative_to(project / "nbs")) for p in (project / "nbs").glob("*/[0-9]*.ipynb"))[:3]
    dirty = dict(zip(nbs, ["execution_count", "output execution_count", "metadata"]))
    assert len(dirty) == 3
    for name, dirt in dirty.items():
        p = project / "nbs" / name
        nb = json.loads(p.read_text())
        cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "#| export" not in "".join(c["source"]))
        if dirt == "execution_count": cell["execution_count"] = 7
        if dirt == "output execution_count":
            cell["outputs"] = [{"output_type": "execute_result", "execution_count": 7, "metadata": {}, "data": {"text/plain": ["42"]}}]
        if dirt == "metadata": nb["metadata"]["language_info"] = {"name": "python"}; cell["metadata"]["collapsed"] = True
        p.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n")  # nbdev's own serialisation
    r = _hygiene(project)
    assert r.returncode != 0
    for name in dirty: assert f"nbs/{name} is not stored clean" in r.stderr, r.stderr


def test_stale_readme_fails(project):
    (project / "README.md").write_text((project / "README.md").read_text() + "\nhand-written line\n")
    r = _hygiene(project)
    assert r.returncode != 0 and "README.md is not what" in r.stderr, r.stderr
