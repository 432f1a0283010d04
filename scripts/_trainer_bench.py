"""What the trainer benchmarks share (scripts/perf_grpo.py, scripts/perf_dpo.py): the common flags, the policy they train
(a hub id / local path, or the tiny random Llama), step times in wall and process-CPU time, and the summary table with
the throughput ratio against TRL. Not a benchmark itself (the leading underscore keeps it out of the scripts list)."""
from __future__ import annotations
import os, statistics, sys, time


def now() -> tuple[float, float]:
    "(wall, process CPU) seconds."
    return time.perf_counter(), time.process_time()


def add_common_args(ap, steps: int = 3):
    "The flags every trainer benchmark takes."
    ap.add_argument("--model", default="HuggingFaceTB/SmolLM2-135M-Instruct", help="hub id / local path (lab.core.assets.load_causal_lm)")
    ap.add_argument("--tiny", action="store_true", help="use a tiny random char-level Llama instead (no model files needed)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--warmup", type=int, default=1, help="untimed first steps per implementation")
    ap.add_argument("--steps", type=int, default=steps, help="timed steps per implementation (median reported)")
    ap.add_argument("--lr", type=float, default=1e-6)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")), help="torch CPU threads")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")


def load_policy(a) -> tuple:
    "(model, tokenizer, name) for the flags `--tiny` / `--model` / `--device`."
    if a.tiny:
        from lab.families.rl.policy import tiny_causal_lm
        model, tok = tiny_causal_lm(seed=0, hidden=64, layers=2)
        return model, tok, "tiny char-level Llama (random, 64 hidden, 2 layers)"
    from lab.core.assets import load_causal_lm
    model, tok = load_causal_lm(a.model, device=a.device)
    return model, tok, a.model


def summarize(impl: str, times: list, warmup: int, per_step: dict[str, float], **extra) -> dict:
    "Median step of the timed steps (after `warmup`) in wall and CPU time, and `<unit>_per_s` for each amount done per step."
    timed = times[warmup:]
    if not timed: sys.exit(f"{impl}: no timed steps (got {len(times)} step times)")
    r = dict(extra)
    for i, kind in enumerate(("wall", "cpu")):
        med = statistics.median(x[i] for x in timed)
        r[kind] = dict(step_s=med, steps=[x[i] for x in timed], **{f"{u}_per_s": n / med for u, n in per_step.items()})
    print(f"  {impl}: step wall times {[round(x[0], 3) for x in times]} s, CPU times {[round(x[1], 3) for x in times]} s", flush=True)
    return r


def report(res: dict, units: list[tuple[str, str]], # (key, column title) of the per-second figures, e.g. ("pairs", "pairs/s")
           mine: tuple[str, ...] = ("ours",)) -> dict:
    "Print the table and each of `mine` against TRL (ratio of the last unit's throughput); the ratios are added to `res`."
    print("\n| impl | time | median step (s) | " + " | ".join(t for _, t in units) + " |\n|---|---|---|" + "---|" * len(units))
    for k, r in list(res.items()):
        for kind in ("wall", "cpu"):
            q = r[kind]; print(f"| {k} | {kind} | {q['step_s']:.3f} | " + " | ".join(f"{q[u + '_per_s']:.2f}" for u, _ in units) + " |")
    last = units[-1][0]
    for m in mine:
        if m in res and "trl" in res:
            for kind in ("wall", "cpu"):
                ratio = res[m][kind][f"{last}_per_s"] / res["trl"][kind][f"{last}_per_s"]
                print(f"throughput ratio {m}/TRL ({kind} time) = {ratio:.2f} (> 1: ours faster)")
                res[f"ratio_{m.replace('-', '_')}_over_trl_{kind}"] = ratio
    return res
