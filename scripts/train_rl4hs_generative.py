#!/usr/bin/env python
"""GRPO / CAPO training of a generative hallucination-span detector (RL4HS, arXiv 2510.02173): the GPU path.

The same method as nbs/papers/rl4hs/11_rl4hs_generative.ipynb — `lab.papers.rl4hs.grpo.train_grpo` on the lab's one training loop
(`lab.core.train.fit`, built on Accelerate) — for any Hugging Face causal LM, so multi-GPU and multi-node runs come from
`accelerate launch` alone. Data: the lab's offline span benchmark (`--data bench`) or the official RAGTruth files
(`--data /path/to/RAGTruth/dataset`, the folder with response.jsonl + source_info.jsonl).

  # CPU smoke run with the offline SmolLM2-135M-Instruct (a few minutes)
  accelerate launch --cpu --num_processes 1 scripts/train_rl4hs_generative.py --no-cot --steps 2 --batch-size 1 \
      --num-generations 4 --max-new-tokens 32 --n-train 8 --n-eval 6 --train-layers 4
  # from the SFT policy the notebook saved (artifacts/rl4hs/generative), CAPO with the predicted class
  accelerate launch --cpu --num_processes 1 scripts/train_rl4hs_generative.py --init artifacts/rl4hs/generative --no-cot \
      --capo-class pred --steps 20 --batch-size 2 --num-generations 4 --max-new-tokens 48 --train-layers 4
  # RL4HS-7B on one GPU with LoRA (bf16 weights)
  accelerate launch scripts/train_rl4hs_generative.py --model Qwen/Qwen2.5-7B-Instruct --lora --dtype bfloat16 \
      --gradient-checkpointing --lr 1e-5 --batch-size 4 --grad-accum 16 --num-generations 16 --max-new-tokens 1024
  # the paper's full fine-tuning setting on 8 GPUs (batch 64 = 8 processes x 8 prompts; lr 1e-6; 5 epochs)
  accelerate launch --num_processes 8 scripts/train_rl4hs_generative.py --model Qwen/Qwen2.5-7B-Instruct \
      --data /data/RAGTruth/dataset --dtype bfloat16 --gradient-checkpointing --batch-size 8 --epochs 5 --lr 1e-6

(Full fine-tuning of a 7B model needs sharded optimizer states: give `accelerate launch` an FSDP or DeepSpeed config,
`accelerate config` writes one. The Qwen ids need the model in the local HF cache or HF_HUB_OFFLINE=0 and a network.)

Writes into --out: metrics.json (training curves `rl` and `rl/sampled`, test metrics, the config), and the trained
policy (an HF folder + lab_policy.json, or a LoRA adapter) that `lab.papers.rl4hs.generative.load_policy(out)` reads.
"""
from __future__ import annotations
import argparse, json, os, sys, time
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    a = p.add_argument
    a("--model", default="HuggingFaceTB/SmolLM2-135M-Instruct", help="hub id or local folder (offline default SmolLM2; paper: Qwen/Qwen2.5-7B-Instruct)")
    a("--init", default=None, help="start from a policy saved by save_policy (e.g. artifacts/rl4hs/generative) instead of --model")
    a("--data", default="bench", help="'bench' (the lab's offline span benchmark) or a RAGTruth folder (response.jsonl + source_info.jsonl)")
    a("--bench-seed", type=int, default=0, help="which build of the benchmark")
    a("--n-dev", type=int, default=50, help="sources per task held out of train as dev (RAGTruth's rule; 0 keeps train whole)")
    a("--n-train", type=int, default=0, help="train examples, balanced over task x class (0 = all)")
    a("--n-eval", type=int, default=0, help="test examples evaluated after training on the main process (0 = skip)")
    a("--steps", type=int, default=0, help="optimizer steps (0 = --epochs over the train examples)")
    a("--epochs", type=float, default=5.0, help="RL4HS: 5 epochs (used when --steps is 0)")
    a("--batch-size", type=int, default=2, help="prompts per micro-batch and process (RL4HS: 64 per step in total)")
    a("--grad-accum", type=int, default=1, help="micro-batches per optimizer step")
    a("--num-generations", type=int, default=16, help="G samples per prompt (RL4HS: 16)")
    a("--temperature", type=float, default=1.0, help="rollout temperature (RL4HS: 1.0)")
    a("--max-new-tokens", type=int, default=1024, help="completion cap during RL and evaluation")
    a("--max-prompt-len", type=int, default=4096, help="prompts longer than this are cut from the left (counted)")
    a("--cot", action=argparse.BooleanOptionalAction, default=True, help="prompts with '## Step i' reasoning (RL4HS) or JSON only")
    a("--lr", type=float, default=1e-6, help="RL4HS: 1e-6 (7B), 5e-7 (14B)")
    a("--capo-alpha", type=float, default=0.5, help="CAPO alpha (RL4HS 0.5); 1.0 = plain GRPO")
    a("--capo-class", choices=("gold", "pred"), default="gold", help="non-hallucination class: prompt's gold label or sample's prediction")
    a("--beta", type=float, default=0.0, help="KL weight to the reference (RL4HS: none)")
    a("--lora", action="store_true", help="train a peft LoRA adapter instead of all weights")
    a("--lora-r", type=int, default=16, help="LoRA rank")
    a("--merge", action="store_true", help="merge the LoRA adapter into the saved weights (default: save the adapter only)")
    a("--train-layers", type=int, default=0, help="train only the top N decoder layers (cheaper on CPU; 0 = all)")
    a("--gradient-checkpointing", action="store_true", help="recompute activations in the backward pass (long completions, big models)")
    a("--dtype", default="auto", help="weights dtype: auto (checkpoint's), float32, bfloat16")
    a("--mixed-precision", default="auto", choices=("auto", "no", "bf16", "fp16"), help="lab.core.train autocast (auto = bf16 on a capable GPU)")
    a("--greedy-eval", action=argparse.BooleanOptionalAction, default=True, help="greedy evaluation (else RL4HS: T 0.6, top-p 0.95, top-k 20)")
    a("--log-every", type=int, default=1, help="log every N optimizer steps")
    a("--ckpt-every", type=int, default=0, help="checkpoint (and resume) every N steps into OUT/ckpt (0 = off)")
    a("--seed", type=int, default=0, help="data subset, order and sampling")
    a("--out", default=None, help="output folder (default: artifacts_dir()/rl4hs/generative_rl)")
    return p.parse_args(argv)


def load_data(args):
    "(train, test) example lists from the benchmark or a RAGTruth folder."
    from lab.papers.rl4hs.generative import pick_examples
    if args.data == "bench":
        from lab.families.spans.bench import load_spanbench
        d = load_spanbench(args.bench_seed, n_dev=args.n_dev)
    else:
        from lab.families.spans.ragtruth import load_ragtruth
        d = load_ragtruth(args.data, n_dev=args.n_dev)
    train = pick_examples(d["train"], args.n_train or None, seed=args.seed)
    test = pick_examples(d["test"], args.n_eval) if args.n_eval else []
    if not train: raise SystemExit(f"no training examples in {args.data} (train split empty after the dev hold-out? try --n-dev 0)")
    return train, test


def main(argv=None) -> dict:
    args = parse_args(argv)
    import torch
    from accelerate import PartialState
    from lab.core.base import Recorder, artifacts_dir, Timer
    from lab.core.assets import load_causal_lm
    from lab.papers.rl4hs.grpo import GRPOConfig, train_grpo, evaluate_generative, decoding_of
    from lab.papers.rl4hs.generative import (SampledSpanStats, generative_metrics, load_policy, save_policy, train_top_layers)

    state = PartialState()
    out = Path(args.out) if args.out else artifacts_dir() / "rl4hs" / "generative_rl"
    with state.main_process_first():                      # the benchmark is built (cached) once
        train, test = load_data(args)
    device = "cpu" if state.device.type == "cpu" else str(state.device)
    dtype = None if args.dtype == "auto" else getattr(torch, args.dtype)
    if args.init:
        model, tok, init_meta = load_policy(args.init, device=device)
        if hasattr(model, "merge_and_unload"): model = model.merge_and_unload()
        base_id = init_meta.get("base_model") or args.model
        if dtype is not None: model = model.to(dtype)
    else:
        model, tok = load_causal_lm(args.model, device=device, dtype=dtype); base_id, init_meta = args.model, None
    if args.train_layers and not args.lora: train_top_layers(model, args.train_layers)
    cfg = GRPOConfig(model=base_id, cot=args.cot, num_generations=args.num_generations, temperature=args.temperature,
                     max_completion_len=args.max_new_tokens, max_prompt_len=args.max_prompt_len, lr=args.lr, batch_size=args.batch_size,
                     epochs=args.epochs, capo_alpha=args.capo_alpha, capo_class=args.capo_class, beta=args.beta, lora=args.lora,
                     lora_r=args.lora_r, lora_alpha=2 * args.lora_r, gradient_checkpointing=args.gradient_checkpointing, seed=args.seed)
    rec = Recorder("train_rl4hs_generative", path=out / "metrics.json")
    stats = SampledSpanStats()
    train_kw = dict(log_every=args.log_every, grad_accum=args.grad_accum, mixed_precision=args.mixed_precision, progress=True)
    if args.ckpt_every: train_kw.update(ckpt_every=args.ckpt_every, out_dir=str(out / "ckpt"))
    with Timer() as t:
        res = train_grpo(train, cfg, model=model, tok=tok, steps=args.steps or None, reward_fn=stats, recorder=rec, curve="rl",
                         train_kw=train_kw, callbacks=[stats.callback(rec, "rl/sampled")])
    summary = dict(steps=res.step, train_wall_s=round(t.seconds, 1), processes=state.num_processes, n_train=len(train))
    if state.is_main_process:
        cur = rec.curves.get("rl/sampled", [])
        if cur: summary.update(last_sampled={k: cur[-1][k] for k in ("reward", "span_precision", "span_recall", "malformed_frac")})
        model = res.model.eval()
        if test:
            dec = dict(temperature=0.0) if args.greedy_eval else decoding_of(cfg)
            with Timer() as te:
                pr = evaluate_generative(model, tok, test, cot=args.cot, decoding={**dec, "max_new_tokens": args.max_new_tokens},
                                         batch_size=8, max_prompt_len=args.max_prompt_len, seed=args.seed)
            m = generative_metrics(pr, test, tok)
            rec.record(prefix="test", **m, wall_s=te.seconds)
            summary["test"] = {k: round(v, 4) for k, v in m.items() if k in ("span/all/precision", "span/all/recall", "span/all/f1", "malformed_rate")}
        meta = dict(base_model=base_id, method=f"rl capo_alpha={cfg.capo_alpha} capo_class={cfg.capo_class}", cot=cfg.cot,
                    trained_examples=res.step * cfg.batch_size * args.grad_accum * state.num_processes, rl=cfg.to_dict(),
                    init=args.init, init_meta=init_meta, data=args.data, decoding=dict(temperature=0.0) if args.greedy_eval else decoding_of(cfg),
                    max_new_tokens=args.max_new_tokens, test_metrics=summary.get("test"), made_by="scripts/train_rl4hs_generative.py")
        save_policy(model, tok, meta, out / "policy", merge=args.merge, overwrite=True)
        rec.meta.update(args=vars(args), summary=summary, cfg=cfg.to_dict())
        rec.save()
        print(json.dumps(summary))
    state.wait_for_everyone()
    return summary


if __name__ == "__main__":
    main()
