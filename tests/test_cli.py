"""`python -m lab.papers.rl4hs.cli`: single files and JSONL batches in, JSON out; bad input gives a message and exit code 2.

A tiny randomly initialised tagger saved as `tagger_sft` in a temporary LAB_ARTIFACTS_DIR stands in for the trained one.
"""
import json, os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    from lab.papers.rl4hs.tagger import tiny_tagger, save_tagger
    d = tmp_path_factory.mktemp("cli")
    art = d / "artifacts"
    os.environ["LAB_ARTIFACTS_DIR"] = str(art)
    try: save_tagger(tiny_tagger(init_bias=3.0), "tagger_sft", {"note": "tiny random test tagger"})   # marks (almost) every token
    finally: del os.environ["LAB_ARTIFACTS_DIR"]
    (d / "src.txt").write_text("The tower is 330 m tall. It was built in 1889.", encoding="utf-8")
    (d / "resp.txt").write_text("The tower is 450 m tall and was built in 1999.", encoding="utf-8")
    (d / "q.txt").write_text("How tall is the tower?", encoding="utf-8")
    return d, {**os.environ, "LAB_ARTIFACTS_DIR": str(art), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


def _sft(args):
    "These checks use the fixture's tiny `tagger_sft` (it marks almost everything): name it unless a test names another detector."
    return args if "--detector" in map(str, args) else ("--detector", "sft", *args)


def cli_subprocess(env, *args, timeout=180):
    "The real command line, in a fresh interpreter."
    d, e = env; args = _sft(args)
    return subprocess.run([sys.executable, "-m", "lab.papers.rl4hs.cli", *map(str, args)], cwd=ROOT, env=e, capture_output=True, text=True, timeout=timeout)


def cli(env, *args):
    "`lab.papers.rl4hs.cli.main` in this process (same code path as the subprocess, without re-importing torch each time)."
    import contextlib, io
    from lab.papers.rl4hs.cli import main
    d, e = env; args = _sft(args)
    out, err = io.StringIO(), io.StringIO()
    old = os.environ.get("LAB_ARTIFACTS_DIR")
    os.environ["LAB_ARTIFACTS_DIR"] = e["LAB_ARTIFACTS_DIR"]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: code = main(list(map(str, args)))
            except SystemExit as x: code = x.code            # argparse errors
    finally:
        if old is None: del os.environ["LAB_ARTIFACTS_DIR"]
        else: os.environ["LAB_ARTIFACTS_DIR"] = old
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_single(env):
    d, _ = env
    p = cli_subprocess(env, "--source", d / "src.txt", "--response", d / "resp.txt", "--question", d / "q.txt", "--out", d / "out.json")
    assert p.returncode == 0, p.stderr
    res = json.loads((d / "out.json").read_text())
    resp = (d / "resp.txt").read_text()
    assert res["detector"] == "sft" and res["spans"]
    for s in res["spans"]:
        assert set(s) == {"start", "end", "text", "score"} and s["text"] == resp[s["start"]:s["end"]] and 0 <= s["score"] <= 1
    p = cli(env, "--source", d / "src.txt", "--response", d / "resp.txt", "--question", d / "q.txt")   # the same to stdout
    assert p.returncode == 0 and json.loads(p.stdout)["spans"] == res["spans"]


def test_batch(env):
    d, _ = env
    lines = [{"source": "A dog stood.", "response": "A cat sat.", "id": "a"}, {"source": "Paris is in France.", "response": "Paris is in Spain.", "question": "Where?"}]
    (d / "ok.jsonl").write_text("".join(json.dumps(l) + "\n" for l in lines), encoding="utf-8")
    p = cli(env, "--batch", d / "ok.jsonl")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert [r["line"] for r in res] == [1, 2] and res[0]["id"] == "a" and all(r["spans"] for r in res)


@pytest.mark.parametrize("line, needle", [
    ('{"source": "x", "response": ', "not valid JSON"),
    ('["x", "y"]', "expected a JSON object"),
    ('{"source": "x"}', "missing field 'response'"),
    ('{"source": "x", "response": "y", "answer": "z"}', "unknown field"),
    ('{"source": "", "response": "y"}', "Source is empty"),
    ('{"source": "x", "response": "a\\u0000b"}', "binary"),
])
def test_batch_bad_line_is_named(env, line, needle):
    d, _ = env
    f = d / "bad.jsonl"
    f.write_text('{"source": "A dog.", "response": "A cat."}\n' + line + "\n", encoding="utf-8")
    p = (cli_subprocess if "u0000" in line else cli)(env, "--batch", f)          # one case through the real subprocess
    assert p.returncode == 2 and f"bad.jsonl:2: " in p.stderr and needle in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    p = cli(env, "--batch", f, "--keep-going")
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout)
    assert res[0]["spans"] and res[1]["line"] == 2 and needle in res[1]["error"]


def test_bad_inputs(env):
    d, _ = env
    (d / "empty.txt").write_text("   \n"); (d / "bin.txt").write_bytes(b"\x00\x01\x02PNG\xff")
    (d / "huge.txt").write_text("word " * 20_000)
    for args, needle, code in [(("--source", d / "empty.txt", "--response", d / "resp.txt"), "Source is empty", 2),
                               (("--source", d / "src.txt", "--response", d / "bin.txt"), "not valid UTF-8", 2),
                               (("--source", d / "src.txt", "--response", d / "huge.txt"), "100,000 characters", 2),
                               (("--source", d / "nope.txt", "--response", d / "resp.txt"), "no such file", 2),
                               (("--source", d / "src.txt", "--response", d / "resp.txt", "--detector", "capo"), "10_rl4hs", 3),
                               (("--source", d / "src.txt", "--response", d / "resp.txt", "--detector", "gpt4"), "unknown detector", 2)]:
        p = cli(env, *args)
        assert p.returncode == code and needle in p.stderr and "Traceback" not in p.stderr, (args, p.returncode, p.stderr)
    p = cli(env, "--response", d / "resp.txt")
    assert p.returncode == 2 and "--source and --response are required" in p.stderr


def test_score_claims(env):
    "--score-claims: the baselines and the named detectors on a claims file (the tiny fixture), a table on stderr, JSON out."
    d, _ = env
    fx = ROOT / "tests" / "fixtures" / "ragtruth_claims_tiny.jsonl"
    p = cli(env, "--score-claims", fx, "--detector", "sft", "--out", d / "claims.json")
    assert p.returncode == 0, p.stderr
    res = json.loads((d / "claims.json").read_text())
    assert set(res) == {"mark everything", "n-gram (n=2)", "sft"}
    assert res["mark everything"]["flag_rate"] == 1.0 and res["mark everything"]["true_rate"] == 0.5
    assert "claim F1" in p.stderr
    p = cli(env, "--score-claims", d / "missing.jsonl", "--detector", "sft")
    assert p.returncode == 2 and "no claims file" in p.stderr


def test_default_detector_is_the_verifier():
    from lab.papers.rl4hs.cli import build_parser
    from lab.papers.rl4hs.detect import DEFAULT_DETECTOR
    assert DEFAULT_DETECTOR == "verifier" and build_parser().parse_args([]).detector == "verifier"
