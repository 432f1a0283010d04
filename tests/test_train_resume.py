"""Kill a `lab.core.train.fit` run with SIGKILL while it is writing a checkpoint, resume it, and get bit-identical
weights to an uninterrupted run; no checkpoint folder is ever left half-written.

The worker (tests/_train_worker.py) trains a small MLP *with dropout* (so the restored RNG state matters) with a
cosine schedule and warm-up (so the restored scheduler matters) over 64 examples in batches of 4 (16 batches an
epoch; 40 steps cross two epoch boundaries, and the kill lands mid-epoch, so skipping consumed batches matters).
`--save-sleep` holds every save for a moment between `accelerator.save_state` and the atomic rename, and the test
kills the process inside that window, after an earlier checkpoint has been committed.

Why exact equality (torch.equal): both runs execute the same float32 CPU kernels on one thread in the same order on
the same inputs; resume restores every piece of state bit for bit (safetensors weights, optimizer, scheduler, RNG),
so any difference at all means some state was not restored.
"""
import json, os, signal, subprocess, sys, time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "_train_worker.py"
TIMEOUT = 120  # seconds per run; each takes ~5-15 s on a busy 2-core machine
ARGS = ["--steps", "40", "--batch-size", "4", "--dropout", "0.2"]
CKPT_FILES = {"model.safetensors", "optimizer.bin", "random_states_0.pkl", "trainer_state.json", "train_config.json"}


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "LAB_PROGRESS": "0",
            "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _start(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(WORKER), "--out", str(out), *ARGS, *extra], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(p: subprocess.Popen, what: str):
    try:
        _, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill(); pytest.fail(f"{what} did not finish within {TIMEOUT}s")
    assert p.returncode == 0, f"{what} failed (exit {p.returncode})\nstderr tail:\n{err[-4000:]}"


def _assert_complete(ckpt: Path):
    "A committed checkpoint has every file, and its weights load."
    missing = CKPT_FILES - {f.name for f in ckpt.iterdir()}
    assert not missing, f"{ckpt} is half-written: missing {sorted(missing)}"
    assert load_file(ckpt / "model.safetensors"), f"{ckpt}/model.safetensors holds no tensors"
    state = json.loads((ckpt / "trainer_state.json").read_text())
    assert f"step-{state['step']}" == ckpt.name


def test_kill_and_resume_equals_uninterrupted(tmp_path):
    ref_out, run_out = tmp_path / "uninterrupted", tmp_path / "killed"
    ref = _start(ref_out)  # runs alongside the one we kill
    victim = _start(run_out, "--ckpt-every", "5", "--save-sleep", "1.0", "--step-sleep", "0.02")
    ckpt_dir = run_out / "ckpt"
    # wait until step-5 is committed and the save of step-10 is in flight (its .tmp folder exists), then SIGKILL
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if victim.poll() is not None:
            pytest.fail(f"the run ended (exit {victim.returncode}) before it could be killed:\n{victim.stderr.read()[-3000:]}")
        if (ckpt_dir / "step-5").is_dir() and (ckpt_dir / ".tmp-step-10" / "model.safetensors").exists():
            break
        time.sleep(0.05)
    else:
        victim.kill(); pytest.fail(f"no checkpoint save in flight within {TIMEOUT}s: {sorted(os.listdir(ckpt_dir)) if ckpt_dir.exists() else 'no ckpt dir'}")
    os.kill(victim.pid, signal.SIGKILL); victim.wait()
    assert victim.returncode == -signal.SIGKILL

    names = sorted(p.name for p in ckpt_dir.iterdir())
    assert "step-10" not in names, f"step-10 was committed although the run was killed mid-save: {names}"
    assert ".tmp-step-10" in names, names
    steps = [p for p in ckpt_dir.iterdir() if p.name.startswith("step-")]
    assert [p.name for p in steps] == ["step-5"], names
    for p in steps: _assert_complete(p)
    assert not (run_out / "final-rank0.safetensors").exists()

    resumed = _start(run_out, "--ckpt-every", "5")  # same config, no sleeps
    _finish(resumed, "the resumed run"); _finish(ref, "the uninterrupted run")

    info = json.loads((run_out / "final-rank0.json").read_text())
    assert info["first_step"] == 6, f"the resumed run should continue after step 5, its first step was {info['first_step']}"
    assert info["step"] == 40
    names = sorted(p.name for p in ckpt_dir.iterdir())
    assert names == ["step-35", "step-40"], f"expected the stale .tmp removed and the newest 2 kept, got {names}"
    for p in ckpt_dir.iterdir(): _assert_complete(p)

    a = load_file(run_out / "final-rank0.safetensors")
    b = load_file(ref_out / "final-rank0.safetensors")
    init = load_file(ref_out / "init-rank0.safetensors")
    diffs = {k: (a[k] - b[k]).abs().max().item() for k in a}
    assert all(torch.equal(a[k], b[k]) for k in a), f"resumed run differs from the uninterrupted one: max |diff| {diffs}"
    assert max((b[k] - init[k]).abs().max().item() for k in b) > 1e-3, "weights did not change during training"
    # the logged curve is continuous across the kill: the resumed history is the uninterrupted one
    ref_hist = json.loads((ref_out / "final-rank0.json").read_text())["history"]
    assert info["history"] == ref_hist
