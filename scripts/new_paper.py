#!/usr/bin/env python
"""Add a paper from the template, or remove it again (`make new-paper P=name`, `make remove-paper P=name`).

    .venv/bin/python scripts/new_paper.py NAME            # nbs/papers/NAME/ from nbs/papers/_template/, then nbdev_export
    .venv/bin/python scripts/new_paper.py --remove NAME   # delete nbs/papers/NAME/ and lab/papers/NAME/, then nbdev_export

The template (`nbs/papers/_template/`, skipped by nbdev because its name starts with `_`) holds `00_method.ipynb`
(exports `lab.papers.NAME.method`) and `10_experiments.ipynb`, which is copied as `10_NAME.ipynb`: registered
experiment notebooks are found by their stem, so stems must be unique. Every `__PAPER__` in the template becomes
NAME. The new notebooks pass `make test` unchanged; what else a paper touches (its claims in tests/regression.toml,
its records, one row in nbs/index.ipynb, its dependency pins) is listed at the end of `10_NAME.ipynb`.
"""
from __future__ import annotations
import argparse, keyword, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "__PAPER__"
_NAME = re.compile(r"[a-z][a-z0-9_]*")   # a python identifier that can also name a record (lab.core.records.RunRecord.paper)


class PaperError(ValueError):
    "A name that cannot be used, or a paper that is (not) there; the message says what to do."


def check_name(name: str) -> str:
    "`name` if it can name a paper (folder, package and notebook stem), else `PaperError` saying why."
    if not name: raise PaperError("no paper name given: make new-paper P=name (lowercase letters, digits and _, e.g. P=focallens)")
    if name.startswith("_"): raise PaperError(f"{name!r} starts with '_': nbdev skips such folders (that is how _template/ stays inert); pick another name")
    if not _NAME.fullmatch(name) or not name.isidentifier():
        raise PaperError(f"{name!r} is not a valid paper name: it becomes the package lab.papers.{name}, so use lowercase letters, digits "
                         "and _ , starting with a letter (e.g. 'focallens', 'rl4hs', 'dpo_v2')")
    if keyword.iskeyword(name): raise PaperError(f"{name!r} is a Python keyword and cannot name a package")
    return name


def _export(root: Path):
    "Run nbdev_export in `root` (outside any test run: nbdev_export does nothing under IN_TEST)."
    env = {k: v for k, v in os.environ.items() if k != "IN_TEST"}
    r = subprocess.run([sys.executable, "-c", "from nbdev.doclinks import nbdev_export; nbdev_export()"], cwd=root, env=env,
                       capture_output=True, text=True)
    if r.returncode != 0: raise PaperError(f"nbdev_export failed in {root}:\n{r.stderr or r.stdout}")


def new_paper(name: str, root: Path = ROOT) -> list[Path]:
    "Copy the template to nbs/papers/<name>/ (placeholders filled, 10_experiments -> 10_<name>), export; returns the new notebooks."
    check_name(name)
    tpl, dest = root / "nbs" / "papers" / "_template", root / "nbs" / "papers" / name
    if not tpl.is_dir(): raise PaperError(f"{tpl} is missing: the template ships with the repository")
    if dest.exists(): raise PaperError(f"{dest.relative_to(root)} already exists: pick another name, or `make remove-paper P={name}` first")
    if (root / "lab" / "papers" / name).exists():
        raise PaperError(f"lab/papers/{name} already exists (generated code of a removed paper?): `make remove-paper P={name}` cleans it")
    stem = f"10_{name}"
    if clash := sorted(p.relative_to(root).as_posix() for p in (root / "nbs").rglob(f"{stem}.ipynb")):
        raise PaperError(f"a notebook with the stem {stem!r} already exists ({clash[0]}); experiment notebook stems must be unique")
    dest.mkdir(parents=True)
    made = []
    for src in sorted(tpl.glob("*.ipynb")):
        out = dest / (f"{stem}.ipynb" if src.name == "10_experiments.ipynb" else src.name)
        out.write_text(src.read_text(encoding="utf-8").replace(PLACEHOLDER, name), encoding="utf-8")
        made.append(out)
    _export(root)
    return made


def remove_paper(name: str, root: Path = ROOT) -> list[Path]:
    "Delete nbs/papers/<name>/ and lab/papers/<name>/, then export (so lab/_modidx.py forgets it); returns what was removed."
    check_name(name)
    gone = [d for d in (root / "nbs" / "papers" / name, root / "lab" / "papers" / name) if d.exists()]
    if not gone: raise PaperError(f"there is no paper {name!r} (neither nbs/papers/{name}/ nor lab/papers/{name}/ exists)")
    for d in gone: shutil.rmtree(d)
    _export(root)
    return gone


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Add a paper from nbs/papers/_template/, or remove one.")
    ap.add_argument("name", nargs="?", default="", help="the paper's folder and package name, e.g. focallens")
    ap.add_argument("--remove", action="store_true", help="delete nbs/papers/NAME/ and lab/papers/NAME/ instead")
    ap.add_argument("--root", default=str(ROOT), help="the project (default: this checkout)")
    a = ap.parse_args(argv)
    root = Path(a.root).resolve()
    try:
        if a.remove:
            for d in remove_paper(a.name, root): print(f"removed {d.relative_to(root)}/")
            rec = root / "results" / "recorded" / a.name
            if rec.exists(): print(f"kept {rec.relative_to(root)}/ (committed records: delete it yourself if they should go too)")
            return 0
        made = new_paper(a.name, root)
    except PaperError as e:
        print(f"error: {e}", file=sys.stderr); return 2
    print(f"created {', '.join(p.relative_to(root).as_posix() for p in made)} and lab/papers/{a.name}/ (nbdev_export)")
    print(f"next: write the method in 00_method, the experiments in 10_{a.name}; test with "
          f"`cd nbs && ../.venv/bin/nbdev_test --path papers/{a.name}`; then register the claims, add the index row "
          f"(both stubs are at the end of 10_{a.name}.ipynb)")
    return 0


if __name__ == "__main__": sys.exit(main())
