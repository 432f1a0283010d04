"""`lab.core.train.fit` under `accelerate launch` with 2 CPU processes (gloo): the ranks must end with identical weights,
the weights must have moved, and data-parallel training on 2 x 4 examples must match one process on batches of 8.

Accelerate 1.15 note: `accelerate launch --cpu` picks its single-process launcher, so the 2-process CPU run goes
through `--multi_gpu` (torchrun); `fit` passes `cpu=True` to `Accelerator` on a GPU-less machine (and the worker
forces it), which makes Accelerate use the gloo backend.
"""
import json, os, socket, subprocess, sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "_train_worker.py"
TIMEOUT = 180  # seconds; the run itself takes ~10-30 s on a busy 2-core machine


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "LAB_PROGRESS": "0",
            "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _max_diff(a: dict, b: dict) -> float:
    return max((a[k] - b[k]).abs().max().item() for k in a)


def test_two_cpu_processes_end_identical(tmp_path):
    steps = 8
    ddp = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1",
           "--main_process_port", str(_free_port()),
           str(WORKER), "--out", str(tmp_path), "--tag", "ddp", "--steps", str(steps), "--batch-size", "4"]
    # the same run in one process on batches of 8 = the 2 x 4 examples the two ranks see together
    single = [sys.executable, str(WORKER), "--out", str(tmp_path / "single"), "--steps", str(steps), "--batch-size", "8"]
    procs = {}
    for what, cmd in (("2-process accelerate launch", ddp), ("1-process reference", single)):
        procs[what] = subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for what, p in procs.items():
        try:
            _, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for q in procs.values(): q.kill()
            pytest.fail(f"{what} did not finish within {TIMEOUT}s (a hung gloo rendezvous?)")
        assert p.returncode == 0, f"{what} failed (exit {p.returncode})\nstderr tail:\n{err[-4000:]}"

    infos = [json.loads((tmp_path / f"ddp-rank{r}.json").read_text()) for r in (0, 1)]
    assert [i["num_processes"] for i in infos] == [2, 2], f"Accelerate did not run 2 processes: {infos}"
    assert [i["step"] for i in infos] == [steps, steps]
    w0, w1 = (load_file(tmp_path / f"ddp-rank{r}.safetensors") for r in (0, 1))
    init = load_file(tmp_path / "init-rank0.safetensors")
    assert set(w0) == set(w1) == set(init)
    # DDP broadcasts rank 0's initial weights and all-reduces gradients, so the ranks must agree bit for bit
    diffs = {k: (w0[k] - w1[k]).abs().max().item() for k in w0}
    assert all(torch.equal(w0[k], w1[k]) for k in w0), f"ranks diverged: max |rank0 - rank1| per tensor {diffs}"
    assert _max_diff(w0, init) > 1e-3, "weights did not change during training"
    # the two ranks' losses are averaged before logging, so both log the same curve
    assert infos[0]["history"] == infos[1]["history"]
    # data parallel = one process on the concatenated batch, up to float summation order in the all-reduce
    # (measured: ~3e-8 after 8 AdamW steps; 1e-5 leaves room and still catches a wrong shard or a missing average)
    ref = load_file(tmp_path / "single" / "final-rank0.safetensors")
    assert _max_diff(w0, ref) < 1e-5, f"2 x batch 4 differs from 1 x batch 8 by {_max_diff(w0, ref):.3g}"
