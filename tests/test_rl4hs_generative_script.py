"""scripts/train_rl4hs_generative.py under `accelerate launch` on the CPU: one GRPO/CAPO step with the lab's tiny
random causal LM (saved to a folder, loaded like any local model) on the RAGTruth fixture, then evaluation and
saving; the saved policy must load back with `lab.papers.rl4hs.generative.load_policy`. ~30-60 s on a shared 2-core CPU."""
import json, os, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train_rl4hs_generative.py"


def _env(tmp):
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1", LAB_PROGRESS="0",
               LAB_RESULTS_DIR=str(tmp / "results"), LAB_ARTIFACTS_DIR=str(tmp / "artifacts"), ACCELERATE_USE_CPU="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_script_one_step(tmp_path):
    from lab.families.rl.policy import tiny_causal_lm
    from lab.papers.rl4hs.generative import load_policy
    model, tok = tiny_causal_lm(seed=0)
    model_dir = tmp_path / "tiny"
    model.save_pretrained(model_dir); tok.save_pretrained(model_dir)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "1", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", str(SCRIPT),
           "--model", str(model_dir), "--data", str(ROOT / "tests/fixtures/ragtruth"), "--n_dev", "0", "--cot", "false",
           "--train.steps", "1", "--train.batch_size", "2", "--rollout.num_generations", "2", "--rollout.max_completion_len", "8",
           "--n_train", "2", "--n_eval", "2", "--capo_class", "pred", "--train_layers", "1", "--train.lr", "1e-3", "--out", str(out)]
    p = subprocess.run(cmd, cwd=ROOT, env=_env(tmp_path), capture_output=True, text=True, timeout=240)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    summary = json.loads([l for l in p.stdout.splitlines() if l.startswith("{")][-1])
    assert summary["steps"] == 1 and summary["n_train"] == 2
    rec = json.loads((out / "metrics.json").read_text())
    assert len(rec["curves"]["rl"]) == 1 and "reward_mean" in rec["curves"]["rl"][0]
    assert len(rec["curves"]["rl/sampled"]) == 1 and {"span_precision", "span_recall"} <= set(rec["curves"]["rl/sampled"][0])
    # The test metrics were computed and recorded. Their values are a random character model's (it writes no JSON, so every
    # output is malformed): asserting them would pin a degenerate state, so only their presence and range are checked here.
    # The method is guarded elsewhere: the GRPO/CAPO loss against TRL (tests/test_grpo_trl.py) and the 10_rl4hs claims.
    m = rec["metrics"]
    rates = ("test/malformed_rate", "test/span/all/precision", "test/span/all/recall", "test/span/all/f1", "test/response/f1", "test/pred_hallu_rate")
    assert all(0.0 <= m[k] <= 1.0 for k in rates), {k: m.get(k) for k in rates}
    test = summary["test"]                                         # the printed summary reports the recorded numbers
    assert test["malformed_rate"] == round(m["test/malformed_rate"], 4) and test["span/all/f1"] == round(m["test/span/all/f1"], 4)
    assert list((out / "policy").glob("*.safetensors")), sorted(p.name for p in (out / "policy").iterdir())
    m2, t2, meta = load_policy(out / "policy")
    assert meta["rl"]["capo_class"] == "pred" and meta["trained_examples"] == 2
    assert m2.config.num_hidden_layers == model.config.num_hidden_layers


def test_script_bad_data(tmp_path):
    p = subprocess.run([sys.executable, str(SCRIPT), "--data", str(tmp_path / "nope"), "--train.steps", "1"], cwd=ROOT, env=_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "nope" in p.stderr
