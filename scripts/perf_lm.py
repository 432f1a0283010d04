#!/usr/bin/env python
"""Training-step throughput of the LM family's tiny Llamas on this machine: tokens/s, model FLOPs/s and MFU.

For each preset x attention variant x thread count, a copy of a freshly initialised `tiny_llama` is trained with
AdamW on random packed rows (`--batch` x `--seq_len` tokens per step); the median of `--steps` steps after
`--warmup` untimed ones (torch.compile compiles in the first) gives tokens/s. Model FLOPs per token are the
analytic training FLOPs (lab.families.lm.evals.flops_per_token, attention included); MFU divides the model FLOPs/s
by the machine's fp32 matmul FLOPs/s, measured in the same process with the same thread count (best of before
and after that thread count's runs). See nbs/families/lm/03_speed.ipynb.

    flock /tmp/lab-heavy.lock .venv/bin/python scripts/perf_lm.py                       # the three presets (~10 min)
    .venv/bin/python scripts/perf_lm.py --presets 64x2 --variants eager,sdpa --threads 1   # quick
    .venv/bin/python scripts/perf_lm.py --json /tmp/perf_lm.json                          # also write the rows as JSON

OMP_WAIT_POLICY defaults to PASSIVE here: on a shared 2-core machine the default (spinning) policy makes a
two-thread step several times slower whenever another process holds one core.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")   # before torch starts its OpenMP pool
os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import json, platform, sys, time, warnings

warnings.filterwarnings("ignore")


def main(argv=None):
    import torch, transformers
    from lab.core.base import config_from_args, config_parser
    from lab.families.lm.speed import SpeedConfig, markdown_table, speed_table
    parser = config_parser(SpeedConfig)
    parser.add_argument("--json", default=None, help="also write the table's rows and the run facts to this JSON file")
    cfg, ns = config_from_args(SpeedConfig, argv, parser)
    facts = dict(torch=torch.__version__, transformers=transformers.__version__, cpus=os.cpu_count(), machine=platform.processor() or platform.machine(),
                 omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"), config=cfg.to_dict(), started=time.strftime("%Y-%m-%d %H:%M:%S"))
    print(f"[perf_lm] torch {facts['torch']}, transformers {facts['transformers']}, {facts['cpus']} CPUs, "
          f"OMP_WAIT_POLICY={facts['omp_wait_policy']}; {cfg.batch} x {cfg.seq_len} tokens per step, median of {cfg.steps} steps", flush=True)
    t0 = time.perf_counter()
    df = speed_table(cfg, log=lambda r: print(f"[perf_lm] {r['preset']:>6} {r['variant']:<13} threads {r['threads']}: "
                                                 f"{r['tokens_per_s']:,.0f} tokens/s, {r['ms_per_step']:.0f} ms/step "
                                                 f"(first step {r['first_step_s']:.1f} s), {r['model_gflops']:.1f} model GFLOP/s", flush=True))
    facts["seconds"] = round(time.perf_counter() - t0, 1)
    print(markdown_table(df))
    print(f"[perf_lm] done in {facts['seconds']:.0f}s")
    if ns.json:
        with open(ns.json, "w") as f: json.dump(dict(facts=facts, rows=df.to_dict(orient="records")), f, indent=1)
    return df


if __name__ == "__main__":
    main(sys.argv[1:])
