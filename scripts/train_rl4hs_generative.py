"""GRPO / CAPO training of a generative hallucination-span detector (RL4HS, arXiv 2510.02173): the GPU path.

The same method as nbs/papers/rl4hs/11_rl4hs_generative.ipynb — `lab.papers.rl4hs.grpo.train_grpo` on the lab's one training loop
(`lab.core.train.fit`, built on Accelerate) — for any Hugging Face causal LM, so multi-GPU and multi-node runs come from
`accelerate launch` alone. Data: the lab's offline span benchmark (`--data bench`) or the official RAGTruth files
(`--data /path/to/RAGTruth/dataset`, the folder with response.jsonl + source_info.jsonl).

The flags are generated from the config dataclasses (`lab.core.base.config_parser`): every field of
`lab.papers.rl4hs.grpo.GRPOConfig` (nested ones with dotted names: `--rollout.num_generations`, `--loss.clip_high`,
`--train.lr`, `--lora.r`, ...) plus this script's `RunConfig` (data, start point, evaluation, output); `--help`
lists them with their defaults and the comments of the fields. `--train.steps N` trains exactly N steps (it sets
`epochs` to none); without it the run is `--epochs` passes over the training examples (RL4HS: 5).

  # CPU smoke run with the offline SmolLM2-135M-Instruct (a few minutes)
  accelerate launch --cpu --num_processes 1 scripts/train_rl4hs_generative.py --cot false --train.steps 2 --train.batch_size 1 \
      --rollout.num_generations 4 --rollout.max_completion_len 32 --n_train 8 --n_eval 6 --train_layers 4
  # from the SFT policy the notebook saved (artifacts/rl4hs/generative), CAPO with the predicted class
  accelerate launch --cpu --num_processes 1 scripts/train_rl4hs_generative.py --init artifacts/rl4hs/generative --cot false \
      --capo_class pred --train.steps 20 --train.batch_size 2 --rollout.num_generations 4 --rollout.max_completion_len 48 --train_layers 4
  # RL4HS-7B on one GPU with LoRA (bf16 weights)
  accelerate launch scripts/train_rl4hs_generative.py --model Qwen/Qwen2.5-7B-Instruct --lora --dtype bfloat16 \
      --gradient_checkpointing --train.lr 1e-5 --train.batch_size 4 --train.grad_accum 16 --rollout.num_generations 16
  # the paper's full fine-tuning setting on 8 GPUs (batch 64 = 8 processes x 8 prompts; lr 1e-6; 5 epochs)
  accelerate launch --num_processes 8 scripts/train_rl4hs_generative.py --model Qwen/Qwen2.5-7B-Instruct \
      --data /data/RAGTruth/dataset --dtype bfloat16 --gradient_checkpointing --train.batch_size 8 --epochs 5 --train.lr 1e-6

(Full fine-tuning of a 7B model needs sharded optimizer states: give `accelerate launch` an FSDP or DeepSpeed config,
`accelerate config` writes one. The Qwen ids need the model in the local HF cache or HF_HUB_OFFLINE=0 and a network.
Checkpoints: `--train.ckpt_every N --train.out_dir DIR`; a rerun with the same DIR resumes.)

Writes into --out: metrics.json (training curves `rl` and `rl/sampled`, test metrics, the config), and the trained
policy (an HF folder + lab_policy.json, or a LoRA adapter) that `lab.papers.rl4hs.generative.load_policy(out)` reads.
"""
from __future__ import annotations
import json, os, sys, time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the lab checkout, when run from anywhere

from lab.core.base import Config, config_parser, config_from_args  # noqa: E402


@dataclass
class RunConfig(Config):
    "What the script adds around GRPOConfig: the data, the starting policy, evaluation and output."
    init: str | None = None           # start from a policy saved by save_policy (e.g. artifacts/rl4hs/generative) instead of --model
    data: str = "bench"               # 'bench' (the lab's offline span benchmark) or a RAGTruth folder (response.jsonl + source_info.jsonl)
    bench_seed: int = 0               # which build of the benchmark
    n_dev: int = 50                   # sources per task held out of train as dev (RAGTruth's rule; 0 keeps train whole)
    n_train: int = 0                  # train examples, balanced over task x class (0 = all)
    n_eval: int = 0                   # test examples evaluated after training on the main process (0 = skip)
    train_layers: int = 0             # train only the top N decoder layers (cheaper on CPU; 0 = all; not with --lora)
    merge: bool = False               # merge the LoRA adapter into the saved weights (default: save the adapter only)
    dtype: str = "auto"               # weights dtype: auto (checkpoint's), float32, bfloat16
    greedy_eval: bool = True          # greedy evaluation (false: RL4HS's T 0.6, top-p 0.95, top-k 20)
    out: str | None = None            # output folder (default: artifacts_dir()/rl4hs/generative_rl)

    def validate(self):
        self.check(self.n_dev >= 0 and self.n_train >= 0 and self.n_eval >= 0 and self.train_layers >= 0,
                   "n_dev, n_train, n_eval and train_layers must be >= 0")
        self.check(self.dtype in ("auto", "float32", "bfloat16", "float16"), f"dtype must be auto, float32, bfloat16 or float16, got {self.dtype!r}")


# where this script's defaults differ from GRPOConfig's (RL4HS's 64 prompts per step is `--train.batch_size` x processes x accumulation)
SCRIPT_DEFAULTS = {"train.batch_size": 2,   # prompts per micro-batch and process
                   "train.log_every": 1}    # every step (RL steps are slow)


def parse_args(argv=None):
    "(GRPOConfig, RunConfig) from the command line; every flag comes from a dataclass field."
    from lab.papers.rl4hs.grpo import GRPOConfig
    p = config_parser(GRPOConfig, defaults=GRPOConfig().replace(**SCRIPT_DEFAULTS))
    p.description = __doc__.split("\n\n")[0]
    config_parser(RunConfig, p.add_argument_group("run (this script)"))
    argv = sys.argv[1:] if argv is None else list(argv)
    base = dict(SCRIPT_DEFAULTS)
    if any(a.split("=")[0] == "--train.steps" for a in argv) and not any(a.split("=")[0] == "--epochs" for a in argv):
        base["epochs"] = None                                  # explicit steps: no epoch count overrides them
    cfg, ns = config_from_args(GRPOConfig, argv, p, base=base)
    names = set(RunConfig.__dataclass_fields__)
    return cfg, RunConfig.from_dict({k: v for k, v in vars(ns).items() if k in names})


def load_data(args: RunConfig, seed: int):
    "(train, test) example lists from the benchmark or a RAGTruth folder."
    from lab.papers.rl4hs.generative import pick_examples
    if args.data == "bench":
        from lab.families.spans.bench import load_spanbench
        d = load_spanbench(args.bench_seed, n_dev=args.n_dev)
    else:
        from lab.families.spans.ragtruth import load_ragtruth
        d = load_ragtruth(args.data, n_dev=args.n_dev)
    train = pick_examples(d["train"], args.n_train or None, seed=seed)
    test = pick_examples(d["test"], args.n_eval) if args.n_eval else []
    if not train: raise SystemExit(f"no training examples in {args.data} (train split empty after the dev hold-out? try --n-dev 0)")
    return train, test


def main(argv=None) -> dict:
    cfg, args = parse_args(argv)
    import torch
    from accelerate import PartialState
    from lab.core.base import Recorder, artifacts_dir, Timer
    from lab.core.assets import load_causal_lm
    from lab.papers.rl4hs.grpo import train_grpo, evaluate_generative, decoding_of
    from lab.papers.rl4hs.generative import (SampledSpanStats, generative_metrics, load_policy, save_policy, train_top_layers)

    state = PartialState()
    out = Path(args.out) if args.out else artifacts_dir() / "rl4hs" / "generative_rl"
    with state.main_process_first():                      # the benchmark is built (cached) once
        train, test = load_data(args, cfg.train.seed)
    device = "cpu" if state.device.type == "cpu" else str(state.device)
    dtype = None if args.dtype == "auto" else getattr(torch, args.dtype)
    if args.init:
        model, tok, init_meta = load_policy(args.init, device=device)
        if hasattr(model, "merge_and_unload"): model = model.merge_and_unload()
        cfg = cfg.replace(model=init_meta.get("base_model") or cfg.model)
        if dtype is not None: model = model.to(dtype)
    else:
        model, tok = load_causal_lm(cfg.model, device=device, dtype=dtype); init_meta = None
    if args.train_layers and cfg.lora is None: train_top_layers(model, args.train_layers)
    rec = Recorder("train_rl4hs_generative", path=out / "metrics.json")
    stats = SampledSpanStats()
    with Timer() as t:
        res = train_grpo(train, cfg, model=model, tok=tok, reward_fn=stats, recorder=rec, curve="rl",
                         callbacks=[stats.callback(rec, "rl/sampled")])
    summary = dict(steps=res.step, train_wall_s=round(t.seconds, 1), processes=state.num_processes, n_train=len(train))
    if state.is_main_process:
        cur = rec.curves.get("rl/sampled", [])
        if cur: summary.update(last_sampled={k: cur[-1][k] for k in ("reward", "span_precision", "span_recall", "malformed_frac")})
        model = res.model.eval()
        decoding = dict(temperature=0.0, max_new_tokens=cfg.rollout.max_completion_len) if args.greedy_eval else decoding_of(cfg)
        if test:
            with Timer() as te:
                pr = evaluate_generative(model, tok, test, cot=cfg.cot, decoding=decoding, batch_size=8,
                                         max_prompt_len=cfg.rollout.max_prompt_len, seed=cfg.train.seed)
            m = generative_metrics(pr, test, tok)
            rec.record(prefix="test", **m, wall_s=te.seconds)
            summary["test"] = {k: round(v, 4) for k, v in m.items() if k in ("span/all/precision", "span/all/recall", "span/all/f1", "malformed_rate")}
        meta = dict(base_model=cfg.model, method=f"rl capo_alpha={cfg.capo_alpha} capo_class={cfg.capo_class}", cot=cfg.cot,
                    trained_examples=res.step * cfg.train.batch_size * cfg.train.grad_accum * state.num_processes, rl=cfg.to_dict(),
                    init=args.init, init_meta=init_meta, data=args.data, decoding=decoding,
                    max_new_tokens=cfg.rollout.max_completion_len, test_metrics=summary.get("test"), made_by="scripts/train_rl4hs_generative.py")
        save_policy(model, tok, meta, out / "policy", merge=args.merge, overwrite=True)
        rec.meta.update(args=args.to_dict(), summary=summary, cfg=cfg.to_dict())
        rec.save()
        print(json.dumps(summary))
    state.wait_for_everyone()
    return summary


if __name__ == "__main__":
    main()
