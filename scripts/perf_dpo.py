#!/usr/bin/env python
"""DPO step throughput: ours (lab.families.rl.dpo.DPOLoss on lab.core.train.fit) vs TRL's DPOTrainer.

Both train the same model (fresh copies of one initial state) against the same frozen reference (another copy), on the
same preference pairs: prompts of `--prompt-tokens` tokens, chosen and rejected completions of exactly
`--completion-tokens` tokens each (plus EOS), plain text (no chat template, so both tokenize alike; the batch layout
is the one tests/test_dpo_trl.py checks equal). Sigmoid loss, beta 0.1, AdamW with the same lr and grad clipping,
`--pairs` pairs per step. Reference log-probs are computed on the fly by both (TRL's default,
precompute_ref_log_probs=False); a third row, "ours-cached", precomputes them once (`precompute_ref_logps`, timed
apart and reported) and then trains without the reference forward, as the lab's papers do. A step is timed from the
start of the step (ours: the loss call; TRL: `on_step_begin`) to the end of the optimizer step (ours: fit's callback;
TRL: `on_step_end`). The first `--warmup` steps are dropped; the table shows the median of the next `--steps`, in wall
time and in process CPU time (all threads): on a CPU shared with other jobs the wall time mostly measures the
neighbours, the CPU time the work. Run the implementations in both orders (`--order`) and report both.

    python scripts/perf_dpo.py                 # SmolLM2-135M-Instruct (offline default), 2 pairs, 64 + 32 tokens
    python scripts/perf_dpo.py --tiny          # a tiny random char-level Llama (seconds)
    python scripts/perf_dpo.py --model Qwen/Qwen2.5-0.5B-Instruct --device cuda --pairs 8 --completion-tokens 256
"""
import argparse, copy, json, os, sys, time, warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("LAB_PROGRESS", "0")
warnings.filterwarnings("ignore")
import torch

from _trainer_bench import add_common_args, load_policy, now as _now, report, summarize

IMPLS = ("ours", "ours-cached", "trl")


def make_pairs(tok, n: int, prompt_tokens: int, completion_tokens: int) -> list[dict]:
    "n different (prompt, chosen, rejected) texts with exactly the asked token counts (before EOS)."
    base = ("Below is a dialogue between two friends who plan a trip to the coast next weekend and argue about the "
            "train times, the hotel and who brings the food. Summarize it. ") * 40
    good = " Ana and Ben agree to take the early train on Saturday, Ana books the hotel and Ben brings the food." * 20
    bad = " The friends cancel everything because the coast is closed, and nobody knows why they argued at all." * 20
    cut = lambda s, k: tok.decode(tok(s, add_special_tokens=False)["input_ids"][:k])
    out = []
    for i in range(n):
        p = cut(f"Dialogue {i}. " + base, prompt_tokens)
        out.append({"prompt": p, "chosen": cut(good, completion_tokens), "rejected": cut(bad, completion_tokens)})
    return out


def run_ours(model, ref, tok, rows, a, cached: bool) -> tuple[list, dict]:
    from lab.core.train import TrainConfig, fit
    from lab.families.rl.dpo import DPOConfig, DPOLoss, pair_batch, precompute_ref_logps, tokenize_pair
    ex = [tokenize_pair(tok, r["prompt"], r["chosen"], r["rejected"]) for r in rows]
    extra = {}
    if cached:
        t0 = _now(); ex = precompute_ref_logps(ref, ex, tok.pad_token_id, batch_size=a.pairs); t1 = _now()
        extra = dict(precompute_wall_s=t1[0] - t0[0], precompute_cpu_s=t1[1] - t0[1], precompute_pairs=len(ex))
    cfg = DPOConfig(beta=0.1, loss_type="sigmoid",
                    train=TrainConfig(steps=a.warmup + a.steps, lr=a.lr, batch_size=a.pairs, max_grad_norm=1.0, log_every=10**6,
                                      progress=False, cpu=a.device == "cpu", seed=0, shuffle=False))
    loss = DPOLoss(cfg, ref_model=None if cached else ref)
    starts, ends = [], []
    def timed(model, batch, ctx): starts.append(_now()); return loss(model, batch, ctx)
    def cb(ctx, logs): ends.append(_now())
    fit(model, timed, ex, cfg.train, collate_fn=lambda b: pair_batch(b, tok.pad_token_id, cfg.max_length), callbacks=[cb])
    return [(e[0] - s[0], e[1] - s[1]) for s, e in zip(starts, ends)], extra


def run_trl(model, ref, tok, rows, a) -> tuple[list, dict]:
    from datasets import Dataset
    from transformers import TrainerCallback
    import trl
    times, t = [], {}
    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw): t["s"] = _now()
        def on_step_end(self, args, state, control, **kw): e = _now(); times.append((e[0] - t["s"][0], e[1] - t["s"][1]))
    args = trl.DPOConfig(output_dir="/tmp/lab_perf_dpo_trl", beta=0.1, loss_type=["sigmoid"], max_length=1024,
                         per_device_train_batch_size=a.pairs, learning_rate=a.lr, max_grad_norm=1.0, max_steps=a.warmup + a.steps,
                         lr_scheduler_type="constant", warmup_steps=0, weight_decay=0.0, report_to="none",
                         use_cpu=a.device == "cpu", bf16=False, save_strategy="no", logging_steps=10**6, disable_tqdm=True,
                         seed=0, dataloader_num_workers=0)
    tr = trl.DPOTrainer(model=model, ref_model=ref, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok,
                        callbacks=[Timer()])
    tr.train()
    return times, {}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, steps=5)
    ap.add_argument("--pairs", type=int, default=2, help="preference pairs per step")
    ap.add_argument("--prompt-tokens", type=int, default=64, help="prompt tokens")
    ap.add_argument("--completion-tokens", type=int, default=32, help="tokens of each chosen / rejected completion (exact, + EOS)")
    ap.add_argument("--order", default="ours,ours-cached,trl", help=f"which run, in which order (of {', '.join(IMPLS)})")
    a = ap.parse_args(argv)
    order = a.order.split(",")
    bad = [o for o in order if o not in IMPLS]
    if bad: ap.error(f"--order: unknown implementation(s) {bad}; choose from {', '.join(IMPLS)}")
    for name in ("pairs", "prompt_tokens", "completion_tokens", "steps", "threads"):
        if getattr(a, name) < 1: ap.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(a, name)}")
    if a.warmup < 0: ap.error(f"--warmup must be >= 0, got {a.warmup}")
    if "trl" in order:
        try: import trl, datasets  # noqa: F401
        except ImportError as e: ap.error(f"TRL is a dev requirement ({e}): .venv/bin/pip install trl==1.16.0, or drop trl from --order")
    torch.set_num_threads(a.threads)
    from lab.core.base import seed_everything
    model, tok, name = load_policy(a)
    if tok.pad_token_id is None: tok.pad_token = tok.eos_token
    n_pairs = a.pairs * (a.warmup + a.steps)                 # every step sees new pairs (no epoch wrap inside the timing)
    rows = make_pairs(tok, n_pairs, a.prompt_tokens, a.completion_tokens)
    T = a.prompt_tokens + a.completion_tokens + 1
    print(f"model: {name}; device {a.device}, {a.threads} thread(s); {a.pairs} pairs per step = {2 * a.pairs} rows of ~{T} tokens "
          f"(prompt {a.prompt_tokens}, completion {a.completion_tokens} + EOS); {a.warmup} warm-up + {a.steps} timed steps each; "
          f"torch {torch.__version__}", flush=True)
    init = copy.deepcopy(model.state_dict())
    ref = copy.deepcopy(model).eval()
    for p in ref.parameters(): p.requires_grad_(False)
    res = {}
    for impl in order:
        model.load_state_dict(init); seed_everything(0)
        t0 = time.perf_counter()
        m = copy.deepcopy(model)
        times, extra = run_trl(m, ref, tok, rows, a) if impl == "trl" else run_ours(m, ref, tok, rows, a, cached=impl == "ours-cached")
        res[impl] = summarize(impl, times, a.warmup, {"pairs": a.pairs, "tokens": 2 * a.pairs * T}, wall_s=time.perf_counter() - t0, **extra)
        if extra: print(f"    reference precomputed for {extra['precompute_pairs']} pairs in {extra['precompute_wall_s']:.2f} s wall", flush=True)
    report(res, [("pairs", "pairs/s"), ("tokens", "tokens/s")], mine=("ours", "ours-cached"))
    if a.json:
        with open(a.json, "w") as f: json.dump(dict(args=vars(a), model=name, row_tokens=T, results=res), f, indent=1)
    return res


if __name__ == "__main__":
    main()
