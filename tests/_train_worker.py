"""A tiny `lab.core.train.fit` run for tests/test_train_distributed.py and tests/test_train_resume.py.

Run directly (one process) or under `accelerate launch` (several). Each process writes, into --out:
  init-rank{R}.safetensors   weights before training
  {tag}-rank{R}.safetensors  weights after training
  {tag}-rank{R}.json         {num_processes, step, first_step, history}
Checkpoints (with --ckpt-every) go to --out/ckpt.
"""
import argparse, json, os, time
from pathlib import Path

import torch
from accelerate import PartialState

from lab.core.base import save_weights
from lab.core.train import TrainConfig, fit


def make_data(n: int = 64):
    "A fixed, learnable regression task: y = x @ W + noise (seeded, identical in every process)."
    g = torch.Generator().manual_seed(123)
    X = torch.randn(n, 8, generator=g)
    Y = X @ torch.randn(8, 4, generator=g) + 0.1 * torch.randn(n, 4, generator=g)
    return torch.utils.data.TensorDataset(X, Y)


def make_model(dropout: float):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(8, 32), torch.nn.ReLU(), torch.nn.Dropout(dropout), torch.nn.Linear(32, 4))


def mse(model, batch, ctx):
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)                      # folder for weights, info and checkpoints
    ap.add_argument("--tag", default="final")                    # name of the final weights/info files
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--grad-accum", type=int, default=1)
    ap.add_argument("--ckpt-every", type=int, default=0)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--step-sleep", type=float, default=0.0)     # pause after each step, so a test can kill mid-run
    ap.add_argument("--save-sleep", type=float, default=0.0)     # pause inside each save, before the atomic rename
    args = ap.parse_args()
    out = Path(args.out); out.mkdir(parents=True, exist_ok=True)

    if args.save_sleep:  # widen the window in which a checkpoint exists only as .tmp-step-N
        from accelerate import Accelerator
        orig = Accelerator.save_state
        def slow_save_state(self, *a, **kw):
            r = orig(self, *a, **kw); time.sleep(args.save_sleep); return r
        Accelerator.save_state = slow_save_state

    model = make_model(args.dropout)
    rank = int(os.environ.get("RANK", "0"))
    save_weights(model, out / f"init-rank{rank}.safetensors")
    first = []
    def watch(ctx, logs):
        if not first: first.append(ctx.step)
        if args.step_sleep: time.sleep(args.step_sleep)
    cfg = TrainConfig(steps=args.steps, lr=1e-2, batch_size=args.batch_size, grad_accum=args.grad_accum, warmup_steps=2,
                      lr_schedule="cosine", log_every=1, ckpt_every=args.ckpt_every,
                      out_dir=str(out / "ckpt") if args.ckpt_every else None, progress=False, cpu=True)
    res = fit(model, mse, make_data(), cfg, callbacks=[watch])
    state = PartialState()  # what Accelerate actually ran with
    assert state.process_index == rank, (state.process_index, rank)
    save_weights(res.model, out / f"{args.tag}-rank{rank}.safetensors")
    info = dict(num_processes=state.num_processes, step=res.step,
                first_step=first[0] if first else None, history=res.history)
    (out / f"{args.tag}-rank{rank}.json").write_text(json.dumps(info))
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
