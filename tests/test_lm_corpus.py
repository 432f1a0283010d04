"""The LM family's data layer on a fresh clone: every pip corpus loads offline into an empty cache with the pinned
sizes, the registry reaches `python -m lab.core.assets`, and the Debian extras are optional (an install line, never an error)."""
import json, os, subprocess, sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _run(code: str, tmp_path, *args) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "LAB_CACHE_DIR": str(tmp_path / "cache"), "LAB_PROGRESS": "0", "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_pip_corpora_load_offline_into_an_empty_cache(tmp_path):
    code = ("import json; from lab.families.lm.corpus import CORPORA, load_corpus, datasheets\n"
            "ds = datasheets([n for n, s in CORPORA.items() if not s.optional])\n"
            "print(json.dumps({n: [int(ds.loc[n, 'docs']), int(ds.loc[n, 'words']), ds.loc[n, 'version']] for n in ds.index}))\n"
            "c = load_corpus('wiki'); print(json.dumps([len(c), c.hash, c.hash == load_corpus('wiki').hash]))")
    r = _run(code, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    sizes, wiki = [json.loads(l) for l in r.stdout.strip().splitlines()[-2:]]
    assert {n: v[:2] for n, v in sizes.items()} == {"sotu": [249, 2019452], "news": [300, 59890], "wiki": [106, 474606],
                                                    "chats": [7168, 2617213], "qa": [2026, 38840]}
    assert sizes["sotu"][2] == "sotu 0.1.2" and sizes["chats"][2] == "chitchat-dataset 0.9.0" and sizes["qa"][2] == "chatterbot-corpus 1.3.3"
    assert wiki[0] == 106 and wiki[2] is True                                       # the cached parse has the same content hash
    assert list((tmp_path / "cache" / "lm-corpora").glob("wiki-v*.json"))           # ... and was written to the empty cache


def test_corpora_are_registered_assets_and_debian_extras_are_optional(tmp_path):
    r = _run("import lab.core.assets as A; A.assets_cli.__wrapped__('list')", tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = {l.split("  ")[0].strip(): l.split() for l in r.stdout.splitlines() if l.startswith("lm corpus")}
    assert set(rows) == {f"lm corpus {n}" for n in ("sotu", "news", "wiki", "chats", "qa", "kjv", "wordnet", "gcide")}, rows
    for n in ("kjv", "wordnet", "gcide"): assert "optional" in rows[f"lm corpus {n}"] and "apt-get" in rows[f"lm corpus {n}"]
    for n in ("sotu", "wiki", "chats"): assert "required" in rows[f"lm corpus {n}"]
    code = ("from lab.core.assets import AssetError\nfrom lab.families.lm.corpus import load_corpus\n"
            "for n in ('kjv', 'wordnet', 'gcide'):\n"
            "    try: print(n, 'installed', len(load_corpus(n)))\n"
            "    except AssetError as e: print(n, 'missing', 'apt-get install' in str(e))")
    r = _run(code, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    for line in r.stdout.strip().splitlines():                                       # either installed, or missing with the install line
        name, state, rest = line.split()
        assert (state == "installed" and int(rest) > 1000) or (state == "missing" and rest == "True"), line
