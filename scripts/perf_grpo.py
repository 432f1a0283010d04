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
import argparse, copy, json, os, sys, time, warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("LAB_PROGRESS", "0")
warnings.filterwarnings("ignore")
import torch

from _trainer_bench import add_common_args, load_policy, now as _now, report, summarize


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
    add_common_args(ap, steps=3)
    ap.add_argument("--prompts", type=int, default=1, help="prompts per step (B)")
    ap.add_argument("--G", type=int, default=4, help="completions per prompt")
    ap.add_argument("--prompt-tokens", type=int, default=64, help="prompt tokens before the chat template")
    ap.add_argument("--completion-tokens", type=int, default=16, help="tokens per completion (exact)")
    ap.add_argument("--order", default="ours,trl", help="which runs first")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    from lab.core.base import seed_everything
    model, tok, name = load_policy(a)
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
        comps = a.prompts * a.G
        res[impl] = summarize(impl, times, a.warmup, {"completions": comps, "tokens": comps * a.completion_tokens}, wall_s=time.perf_counter() - t0)
    report(res, [("completions", "completions/s"), ("tokens", "completion tokens/s")])
    if a.json:
        with open(a.json, "w") as f: json.dump(dict(args=vars(a), model=name, prompt_tokens=n_prompt, results=res), f, indent=1)
    return res


if __name__ == "__main__":
    main()
