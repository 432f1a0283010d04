#!/usr/bin/env python
"""GRPO step throughput: ours (lab.papers.rl4hs.grpo.GRPOLoss on lab.core.train.fit) vs TRL's GRPOTrainer.

Both train the same model (fresh copies of one initial state) with the same group size G, the same prompts (same
chat template, so the same prompt tokens), completions of exactly `--completion-tokens` tokens (EOS is suppressed
until then on both sides, so lengths cannot differ by chance), the same toy reward, AdamW with the same lr and grad
clipping, no KL, one update per generated batch. A step is timed from the start of the step (ours: the loss_fn
call; TRL: `on_step_begin`) to the end of the optimizer step (ours: fit's callback; TRL: `on_step_end`): sampling,
scoring, log-probs, backward and the optimizer are all inside. The first `--warmup` steps are dropped, the table
shows the median of the next `--steps`, both in wall time and in process CPU time (all threads): on a CPU shared
with other jobs the wall time mostly measures the neighbours, the CPU time measures the work.

    python scripts/perf_grpo.py                 # SmolLM2-135M-Instruct (offline default), B=1, G=4, 16 new tokens
    python scripts/perf_grpo.py --tiny          # a tiny random char-level Llama (seconds)
    python scripts/perf_grpo.py --model Qwen/Qwen2.5-0.5B-Instruct --device cuda --G 16 --completion-tokens 256
"""
import argparse, copy, json, os, statistics, sys, time, warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("LAB_PROGRESS", "0")
warnings.filterwarnings("ignore")
import torch


def _now() -> tuple[float, float]: return time.perf_counter(), time.process_time()


def toy_reward(prompts, completions, **kw):
    "Cheap reward with a spread inside every group: the fraction of 'e' characters."
    texts = [c if isinstance(c, str) else c[-1]["content"] for c in completions]
    return [t.count("e") / max(len(t), 1) for t in texts]


def make_prompts(tok, n: int, n_tokens: int) -> list[str]:
    "n different prompts of exactly `n_tokens` tokens (before the chat template)."
    base = ("Below is the original document: the river flows through the old town and the bridge was built in "
            "the year the council decided to widen the road. Below is a summary of the document. ") * 40
    out = []
    for i in range(n):
        ids = tok(f"Prompt {i}. " + base, add_special_tokens=False)["input_ids"][:n_tokens]
        out.append(tok.decode(ids))
    return out


def run_ours(model, tok, prompts, a) -> list[float]:
    from lab.papers.rl4hs.grpo import GRPOConfig, GRPOLoss, collate_rows
    from lab.families.rl.policy import RolloutConfig
    from lab.core.train import TrainConfig, fit
    cfg = GRPOConfig(rollout=RolloutConfig(num_generations=a.G, max_completion_len=a.completion_tokens,
                                           min_completion_len=a.completion_tokens, max_prompt_len=4096),
                     capo_alpha=1.0, epochs=None,
                     train=TrainConfig(steps=a.warmup + a.steps, lr=a.lr, batch_size=a.prompts, max_grad_norm=1.0, log_every=10**6,
                                       progress=False, cpu=a.device == "cpu", seed=0))
    loss = GRPOLoss(tok, cfg, reward_fn=toy_reward)
    starts, ends = [], []
    def timed(model, batch, ctx): starts.append(_now()); return loss(model, batch, ctx)
    def cb(ctx, logs): ends.append(_now())
    fit(model, timed, [{"prompt": p} for p in prompts], cfg.train, collate_fn=collate_rows, callbacks=[cb])
    return [(e[0] - s[0], e[1] - s[1]) for s, e in zip(starts, ends)]


def run_trl(model, tok, prompts, a) -> list[float]:
    from datasets import Dataset
    from transformers import TrainerCallback
    import trl
    times, t = [], {}
    class Timer(TrainerCallback):
        def on_step_begin(self, args, state, control, **kw): t["s"] = _now()
        def on_step_end(self, args, state, control, **kw): e = _now(); times.append((e[0] - t["s"][0], e[1] - t["s"][1]))
    args = trl.GRPOConfig(output_dir="/tmp/lab_perf_grpo_trl", num_generations=a.G, per_device_train_batch_size=a.prompts * a.G,
                          max_completion_length=a.completion_tokens, generation_kwargs={"min_new_tokens": a.completion_tokens},
                          temperature=1.0, top_p=1.0, top_k=0, epsilon=0.2, epsilon_high=0.28, loss_type="bnpo", beta=0.0,
                          learning_rate=a.lr, max_grad_norm=1.0, max_steps=a.warmup + a.steps, lr_scheduler_type="constant",
                          warmup_steps=0, weight_decay=0.0, report_to="none", use_cpu=a.device == "cpu", bf16=False,
                          save_strategy="no", logging_steps=10**6, disable_tqdm=True, seed=0, dataloader_num_workers=0)
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": p}]} for p in prompts])
    tr = trl.GRPOTrainer(model=model, reward_funcs=[toy_reward], args=args, train_dataset=ds, processing_class=tok,
                         callbacks=[Timer()])
    tr.train()
    return times


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="HuggingFaceTB/SmolLM2-135M-Instruct", help="hub id / local path (lab.core.assets.load_causal_lm)")
    ap.add_argument("--tiny", action="store_true", help="use a tiny random char-level Llama instead (no model files needed)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--prompts", type=int, default=1, help="prompts per step (B)")
    ap.add_argument("--G", type=int, default=4, help="completions per prompt")
    ap.add_argument("--prompt-tokens", type=int, default=64, help="prompt tokens before the chat template")
    ap.add_argument("--completion-tokens", type=int, default=16, help="tokens per completion (exact)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3, help="timed steps per implementation (median reported)")
    ap.add_argument("--lr", type=float, default=1e-6)
    ap.add_argument("--threads", type=int, default=int(os.environ.get("OMP_NUM_THREADS", "1")), help="torch CPU threads")
    ap.add_argument("--order", default="ours,trl", help="which runs first")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from lab.core.base import seed_everything
    if a.tiny:
        from lab.papers.rl4hs.grpo import tiny_causal_lm
        model, tok = tiny_causal_lm(seed=0, hidden=64, layers=2)
        name = "tiny char-level Llama (random, 64 hidden, 2 layers)"
    else:
        from lab.core.assets import load_causal_lm
        model, tok = load_causal_lm(a.model, device=a.device)
        name = a.model
    prompts = make_prompts(tok, a.prompts, a.prompt_tokens)
    n_prompt = len(tok.apply_chat_template([{"role": "user", "content": prompts[0]}], add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"])
    print(f"model: {name}; device {a.device}, {a.threads} thread(s); B={a.prompts} prompts x G={a.G}; "
          f"prompt {n_prompt} tokens (chat template included); completion {a.completion_tokens} tokens; "
          f"{a.warmup} warm-up + {a.steps} timed steps each; torch {torch.__version__}", flush=True)
    init = copy.deepcopy(model.state_dict())
    res = {}
    for impl in a.order.split(","):
        model.load_state_dict(init); seed_everything(0)
        t0 = time.perf_counter()
        times = (run_ours if impl == "ours" else run_trl)(copy.deepcopy(model), tok, prompts, a)
        timed = times[a.warmup:]
        if not timed: sys.exit(f"{impl}: no timed steps (got {len(times)} step times)")
        comps, r = a.prompts * a.G, dict(wall_s=time.perf_counter() - t0)
        for i, kind in enumerate(("wall", "cpu")):
            med = statistics.median(x[i] for x in timed)
            r[kind] = dict(step_s=med, steps=[x[i] for x in timed], completions_per_s=comps / med,
                           tokens_per_s=comps * a.completion_tokens / med)
        res[impl] = r
        print(f"  {impl}: step wall times {[round(x[0], 2) for x in times]} s, CPU times {[round(x[1], 2) for x in times]} s", flush=True)
    print(f"\n| impl | time | median step (s) | completions/s | completion tokens/s |\n|---|---|---|---|---|")
    for k, r in res.items():
        for kind in ("wall", "cpu"):
            q = r[kind]; print(f"| {k} | {kind} | {q['step_s']:.3f} | {q['completions_per_s']:.2f} | {q['tokens_per_s']:.1f} |")
    if "ours" in res and "trl" in res:
        for kind in ("wall", "cpu"):
            ratio = res["ours"][kind]["tokens_per_s"] / res["trl"][kind]["tokens_per_s"]
            print(f"throughput ratio ours/TRL ({kind} time) = {ratio:.2f} (> 1: ours faster)")
            res[f"ratio_ours_over_trl_{kind}"] = ratio
    if a.json:
        with open(a.json, "w") as f: json.dump(dict(args=vars(a), model=name, prompt_tokens=n_prompt, results=res), f, indent=1)
    return res


if __name__ == "__main__":
    main()
