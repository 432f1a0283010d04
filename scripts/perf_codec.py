#!/usr/bin/env python
"""Encode / decode throughput of the compression family's toy codec (lab.families.compression.codec) on this machine.

A codec of each prior is trained briefly on MNIST-5k's training digits (`--steps`), then `--n` held-out digits are
pushed through, timed in the same process (best of `--repeats`): the analysis transform alone (the baseline),
`compress` (transforms + rounding + ANS coding with constriction), `decompress` (ANS decoding + synthesis). Images/s
are this machine's; the ratios to the transform-only baseline say what entropy coding costs.

    flock /tmp/lab-heavy.lock .venv/bin/python scripts/perf_codec.py            # both priors, 512 digits (~1 min)
    .venv/bin/python scripts/perf_codec.py --n 32 --steps 5 --json /tmp/perf_codec.json   # quick
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import json, platform, sys, time
from dataclasses import dataclass


def main(argv=None):
    import numpy as np
    import torch
    from lab.core.base import Config, config_from_args, config_parser
    from lab.families.compression.codec import CodecConfig, bpp_of, compress, decompress, psnr, train_codec
    from lab.families.encoders.probes import probe_set

    @dataclass
    class CodecSpeedConfig(Config):
        "What `perf_codec.py` measures."
        priors: str = "factorized,hyperprior"   # comma-separated CodecConfig.prior values
        n: int = 512                            # held-out digits pushed through
        steps: int = 300                        # training steps before timing (realistic latents)
        repeats: int = 3                        # timed repetitions (best is kept)
        threads: int = 1                        # torch threads
        lam: float = 0.01                       # the codec's lambda
        def validate(self):
            self.check(self.n >= 1 and self.steps >= 1 and self.repeats >= 1 and self.threads >= 1, "n, steps, repeats and threads must be >= 1")

    parser = config_parser(CodecSpeedConfig)
    parser.add_argument("--json", default=None, help="also write the rows and the run facts to this JSON file")
    try: cfg, ns = config_from_args(CodecSpeedConfig, argv, parser)
    except ValueError as e: parser.error(str(e))        # a bad value: argparse's one-line usage error, exit code 2
    torch.set_num_threads(cfg.threads)
    tr = probe_set("mnist5k", "train", n=2000)
    te = torch.as_tensor(probe_set("mnist5k", "test", n=cfg.n).images, dtype=torch.float32)[:, None] / 255
    facts = dict(torch=torch.__version__, cpus=os.cpu_count(), machine=platform.processor() or platform.machine(),
                 omp_wait_policy=os.environ.get("OMP_WAIT_POLICY"), config=cfg.to_dict(), started=time.strftime("%Y-%m-%d %H:%M:%S"))
    def best(fn):
        ts = []
        for _ in range(cfg.repeats):
            t0 = time.perf_counter(); out = fn(); ts.append(time.perf_counter() - t0)
        return min(ts), out
    rows = []
    for prior in cfg.priors.split(","):
        codec, _ = train_codec(tr.images, CodecConfig(prior=prior, lam=cfg.lam), steps=cfg.steps)
        with torch.no_grad(): t_fwd, _ = best(lambda: codec.g_a(te))
        t_enc, streams = best(lambda: compress(codec, te))
        t_dec, rec = best(lambda: decompress(codec, streams))
        r = dict(prior=prior, images=len(te), transform_img_s=len(te) / t_fwd, encode_img_s=len(te) / t_enc, decode_img_s=len(te) / t_dec,
                 encode_vs_transform=t_enc / t_fwd, decode_vs_transform=t_dec / t_fwd, bpp=bpp_of(streams, 28 * 28), psnr=psnr(te, rec))
        rows.append(r)
        print(f"[perf_codec] {prior:>10}: transform {r['transform_img_s']:,.0f} img/s, encode {r['encode_img_s']:,.0f} img/s "
              f"({r['encode_vs_transform']:.1f}x the transform's time), decode {r['decode_img_s']:,.0f} img/s "
              f"({r['decode_vs_transform']:.1f}x); {r['bpp']:.3f} bpp from bytes, {r['psnr']:.1f} dB", flush=True)
    print("| prior | encode img/s | decode img/s | encode / transform time | decode / transform time | bpp | PSNR |\n|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['prior']} | {r['encode_img_s']:,.0f} | {r['decode_img_s']:,.0f} | {r['encode_vs_transform']:.1f} | {r['decode_vs_transform']:.1f} | {r['bpp']:.3f} | {r['psnr']:.1f} |")
    if ns.json:
        with open(ns.json, "w") as f: json.dump(dict(facts=facts, rows=rows), f, indent=1)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
