"""`lab.core.train.fit(count_tokens=...)` under `accelerate launch` with 2 CPU processes (gloo): the loop sums the tokens
every process fed (one scalar all-reduce per optimizer step), so both ranks log the same cumulative count, `ctx.tokens`
follows it step by step, and it equals a one-process run over the same examples (batches of 8 = 2 ranks x 4).

The count is data-dependent on purpose (the positive entries of a micro-batch's inputs): the two ranks feed different
examples and so count different numbers, and a mean over ranks, or rank 0's count alone, would miss the one-process
total. The run also uses the rsqrt schedule with a floor and cool-down and `wd_exclude="norm_bias"`, so those run
data-parallel too (the logged lr must match the one-process run's).

The notebook nbs/core/02_train.ipynb tests all of this in one process; see tests/test_train_distributed.py for why the
CPU launch goes through `--multi_gpu`.
"""
import json, os, subprocess, sys, textwrap
from pathlib import Path

import pytest

from test_train_distributed import _env, _free_port   # the same launch environment as the other distributed test

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 180  # seconds; each run takes ~10-30 s on a busy 2-core machine
STEPS = 8

WORKER = textwrap.dedent('''
    import json, os, sys
    from pathlib import Path
    import torch
    from lab.core.train import TrainConfig, fit

    out, batch = Path(sys.argv[1]), int(sys.argv[2])
    g = torch.Generator().manual_seed(123)
    X = torch.randn(64, 8, generator=g); Y = X @ torch.randn(8, 4, generator=g)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.LayerNorm(32), torch.nn.ReLU(), torch.nn.Linear(32, 4))
    def mse(m, b, ctx): return ((m(b[0]) - b[1]) ** 2).mean()
    def count(b): return int((b[0] > 0).sum())  # differs between the ranks' batches
    seen = []
    cfg = TrainConfig(steps=int(sys.argv[3]), lr=1e-2, batch_size=batch, warmup_steps=2, lr_schedule="rsqrt", lr_min=1e-3,
                      cooldown_steps=3, weight_decay=0.1, wd_exclude="norm_bias", log_every=1, progress=False, cpu=True)
    res = fit(model, mse, torch.utils.data.TensorDataset(X, Y), cfg, count_tokens=count, flops_per_token=2.0,
              callbacks=[lambda ctx, logs: seen.append(ctx.tokens)])
    rank = int(os.environ.get("RANK", "0"))
    n = torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1
    (out / f"rank{rank}.json").write_text(json.dumps(dict(num_processes=n, tokens=res.tokens, seen=seen, history=res.history)))
    if torch.distributed.is_initialized(): torch.distributed.destroy_process_group()
''')


def test_two_processes_sum_their_tokens(tmp_path):
    worker = tmp_path / "worker.py"; worker.write_text(WORKER)
    (tmp_path / "ddp").mkdir(); (tmp_path / "single").mkdir()
    ddp = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_ip", "127.0.0.1",
           "--main_process_port", str(_free_port()), str(worker), str(tmp_path / "ddp"), "4", str(STEPS)]
    single = [sys.executable, str(worker), str(tmp_path / "single"), "8", str(STEPS)]
    procs = {what: subprocess.Popen(cmd, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for what, cmd in (("2-process accelerate launch", ddp), ("1-process reference", single))}
    for what, p in procs.items():
        try:
            _, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            for q in procs.values(): q.kill()
            pytest.fail(f"{what} did not finish within {TIMEOUT}s (a hung gloo rendezvous?)")
        assert p.returncode == 0, f"{what} failed (exit {p.returncode})\nstderr tail:\n{err[-4000:]}"

    ranks = [json.loads((tmp_path / "ddp" / f"rank{r}.json").read_text()) for r in (0, 1)]
    ref = json.loads((tmp_path / "single" / "rank0.json").read_text())
    assert [r["num_processes"] for r in ranks] == [2, 2] and ref["num_processes"] == 1
    assert ranks[0]["history"] == ranks[1]["history"] and ranks[0]["seen"] == ranks[1]["seen"]
    got = ranks[0]
    assert len(got["seen"]) == STEPS and all(a < b for a, b in zip(got["seen"], got["seen"][1:])), got["seen"]
    assert [h["tokens"] for h in got["history"]] == got["seen"]          # log_every=1: every row, the count after its step
    assert [h["flops"] for h in got["history"]] == [2.0 * t for t in got["seen"]]
    # the sum over both ranks is the one-process count over the same 8 examples a step (a mean would be about half)
    assert got["seen"] == ref["seen"] and got["tokens"] == ref["tokens"] == ref["seen"][-1], (got["seen"], ref["seen"])
    assert [h["lr"] for h in got["history"]] == [h["lr"] for h in ref["history"]]
    assert got["history"][-1]["lr"] < got["history"][2]["lr"]  # the rsqrt schedule decayed
