"""Latency of the MiniLM span tagger and of the span demo, on a CPU.

    .venv/bin/python scripts/perf_tagger.py [--checkpoint tagger_sft] [--n 50] [--threads 1] [--out perf_tagger.json]

1. Tagger latency per response: `SpanTagger.predict(source, response)` on pairs of exactly 512 tokens (max_len=512:
   a ~190-token response window + the source filling the rest), batch 1, after `--warmup` calls; p50/p95/mean ms.
   Also at the default max_len (384) on real benchmark pairs.
2. The demo end to end: apps/spans_tab.py served on a free local port, `gradio_client` calling `/detect` (HTTP,
   queue, validation, tagger, highlighting, JSON back); p50/p95 ms after warm-up.

Uses the trained checkpoint if present (`artifacts_dir()/rl4hs/<checkpoint>.safetensors`), else a freshly built
MiniLM tagger with an untrained head (latency does not depend on the weights). Figures depend on the machine and on
its load: the JSON records torch's thread count and the load average.
"""
from __future__ import annotations
import argparse, json, os, socket, statistics, sys, time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1"); os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch


def pct(xs, q):
    xs = sorted(xs); k = (len(xs) - 1) * q / 100; f = int(k); c = min(f + 1, len(xs) - 1)
    return xs[f] + (xs[c] - xs[f]) * (k - f)


def stats(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(pct(ms, 50), 2), "p95_ms": round(pct(ms, 95), 2), "mean_ms": round(statistics.mean(ms), 2)}


def timed(f, n, warmup):
    for _ in range(warmup): f()
    out = []
    for _ in range(n):
        t0 = time.perf_counter(); f(); out.append((time.perf_counter() - t0) * 1000)
    return out


def pair_512(tok, words: list[str]) -> tuple[str, str]:
    "A (source, response) pair whose encoding is exactly 512 tokens: a 190-token response, the source truncated to fill the rest."
    text = " ".join(words)
    ids = tok(text, add_special_tokens=False)["input_ids"]
    response = tok.decode(ids[:190]); source = tok.decode(ids[190:190 + 2000])
    return source, response


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", default="tagger_sft")
    ap.add_argument("--n", type=int, default=50, help="timed calls per measurement")
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--demo-n", type=int, default=20, help="timed demo requests")
    ap.add_argument("--out", default=None)
    a = ap.parse_args(argv)
    if a.threads: torch.set_num_threads(a.threads)
    from lab.papers.rl4hs.tagger import TaggerConfig, build_tagger, load_tagger, tagger_path, make_items
    from lab.families.spans.bench import load_spanbench
    res = {"torch_threads": torch.get_num_threads(), "loadavg_start": os.getloadavg(), "cpu_count": os.cpu_count()}
    if tagger_path(a.checkpoint).exists():
        m = load_tagger(a.checkpoint); res["model"] = f"checkpoint {tagger_path(a.checkpoint)}"
    else:
        m = build_tagger(TaggerConfig()); res["model"] = "MiniLM + untrained align head (no checkpoint found)"
    m.eval()
    test = load_spanbench()["test"]
    words = " ".join(e.reference + " " + e.response for e in test[:40]).split()
    # 1a. exactly 512 tokens, batch 1
    m.cfg.max_len = 512
    src, resp = pair_512(m.tokenizer, words)
    it = make_items(m, [dict(reference=src, response=resp)], cache=False, show_progress=False)
    res["tokens_512"] = int(len(it[0]["input_ids"])); res["windows_512"] = len(it)
    with torch.inference_mode():
        res["tagger_512"] = stats(timed(lambda: m.predict(src, resp), a.n, a.warmup))
    # 1b. real benchmark pairs at the default max_len
    m.cfg.max_len = TaggerConfig().max_len
    pairs = [(e.reference, e.response, e.question) for e in test[:a.n]]
    i = iter(range(10 ** 9))
    with torch.inference_mode():
        res["tagger_bench_pairs_384"] = stats(timed(lambda: m.predict(*pairs[next(i) % len(pairs)]), a.n, a.warmup))
    print(json.dumps(res, indent=1), flush=True)
    # 2. the demo through gradio_client
    import gradio as gr
    from gradio_client import Client
    import apps.spans_tab as tab
    from lab.papers.rl4hs import detect as det
    if not tagger_path(a.checkpoint).exists():                      # serve the untrained tagger for timing only
        det._CACHE.clear(); orig = det.load_detector
        det.load_detector = lambda name, max_new_tokens=192: det.TaggerDetector(m, name)
    with gr.Blocks(analytics_enabled=False) as demo: tab.build()
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
    demo.queue(default_concurrency_limit=1).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        c = Client(f"http://127.0.0.1:{port}/", verbose=False)
        j = iter(range(10 ** 9))
        def call():
            s_, r_, q_ = pairs[next(j) % len(pairs)]
            out = c.predict(s_, q_ or "", r_, "sft", api_name="/detect")
            assert "⚠️" not in out[3], out[3]
        res["demo_end_to_end"] = stats(timed(call, a.demo_n, 3))
    finally: demo.close()
    res["loadavg_end"] = os.getloadavg()
    print(json.dumps({k: res[k] for k in ("demo_end_to_end", "loadavg_end")}, indent=1))
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1))
    return res


if __name__ == "__main__":
    main()
