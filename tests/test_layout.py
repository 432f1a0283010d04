"""The import-graph check (lab.core.layout, nbs/core/04_layout.ipynb): the real tree passes, and a copy with a planted
violation of each kind fails, naming the file, the line and the rule."""
import shutil, subprocess, sys
from pathlib import Path

import pytest

from lab.core import layout

REPO = Path(__file__).resolve().parent.parent


def test_real_tree_imports_go_down():
    "The command line, as scripts/test.sh runs it, on the real tree."
    r = subprocess.run([sys.executable, "-m", "lab.core.layout", "check"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "layout ok" in r.stdout and "papers/rl4hs" in r.stdout and ") !" not in r.stdout


class _Run:
    def __init__(self, returncode, stdout, stderr): self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def _layout(capsys):
    "Run `python -m lab.core.layout --root ROOT ...` in this process (the copies are checked many times)."
    def run(root: Path, *args) -> _Run:
        capsys.readouterr()
        rc = layout.main(["--root", str(root), *args])
        out = capsys.readouterr()
        return _Run(rc, out.out, out.err)
    return run


@pytest.fixture
def tree_copy(tmp_path):
    "lab/, apps/ and scripts/ of the real tree (Python files only), in a temporary folder."
    for d in ("lab", "apps", "scripts"):
        shutil.copytree(REPO / d, tmp_path / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return tmp_path


def _plant(root: Path, rel: str, code: str) -> int:
    "Append `code` to the module `rel`; returns the line of its first statement."
    p = root / rel
    src = p.read_text(encoding="utf-8")
    if not src.endswith("\n"): src += "\n"
    p.write_text(src + code, encoding="utf-8")
    return src.count("\n") + 1


@pytest.mark.parametrize("rel,code,offset,rule", [
    ("lab/core/base.py", "def _planted():\n    from lab.papers.rl4hs import grpo\n", 1, "core must not import a paper"),
    ("lab/core/base.py", "from ..families.spans import spans as _planted\n", 0, "core must not import a family"),
    ("lab/families/spans/spans.py", "from ...papers.focallens.model import FocalLens as _planted\n", 0, "a family must not import a paper"),
    ("lab/papers/focallens/model.py", "import lab.papers.rl4hs.tagger as _planted\n", 0, "a paper must not import another paper"),
    ("lab/papers/rl4hs/cli.py", "def _planted():\n    import importlib\n    return importlib.import_module('lab.papers.focallens.data')\n", 2,
     "a paper must not import another paper"),
    ("lab/core/regress.py", "from apps import hub as _planted\n", 0, "lab/ must never import apps/"),
])
def test_planted_violation_fails(tree_copy, _layout, rel, code, offset, rule):
    assert _layout(tree_copy, "check").returncode == 0          # the copy passes before the plant
    line = _plant(tree_copy, rel, code) + offset
    r = _layout(tree_copy, "check")
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"{rel}:{line}:" in r.stderr and rule in r.stderr, r.stderr
    assert ") !" in r.stdout                                      # the graph marks the broken edge


def test_family_may_import_family(tree_copy, _layout):
    _plant(tree_copy, "lab/families/retrieval/retrieval.py", "from ..spans.spans import Span as _shared\n")
    r = _layout(tree_copy, "check")
    assert r.returncode == 0, r.stderr
    assert "families/spans" in next(l for l in r.stdout.splitlines() if l.startswith("families/retrieval"))
