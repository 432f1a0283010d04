#!/usr/bin/env python
"""Benchmark the lab's retrieval indexes (lab.families.retrieval.retrieval): exact search vs FAISS HNSW / IVF.

For each gallery size and index kind it reports indexing throughput (items/s), single-query latency p50/p95
(ms), batched query throughput, index bytes, the process RSS growth while building, and the ANN's recall@10
against exact search. Latencies are medians/percentiles over `--queries` single-query searches.

Vectors: random Gaussian vectors, L2-normalised, of the lab's embedding dimension (default 256) — the hardest
case for an ANN index (no cluster structure) — or `--data clustered` (a 100-component Gaussian mixture,
closer to real embeddings), or real embeddings: `--embeddings FILE` (.npy, or .safetensors with one tensor)
or `--focal CKPT` (a FocalLens checkpoint from notebook 21: `--focal-n` generated scenes embedded under
`--condition`, computed once and kept in lab's EmbeddingCache), or `--from-cache SUBSTRING` (embeddings already
in the EmbeddingCache; all entries whose model id contains SUBSTRING are stacked). Real-embedding runs use sizes up to the number of
vectors available; queries are then held out from the gallery.

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/perf_retrieval.py            # ~3-4 min on 1 core
    .venv/bin/python scripts/perf_retrieval.py --sizes 1000 10000 --kinds exact hnsw --dim 384
    .venv/bin/python scripts/perf_retrieval.py --focal artifacts/focallens/focallens.safetensors --focal-n 10200 --sizes 1000 10000   # ~23 min, 1 core
"""
from __future__ import annotations
import argparse, gc, json, os, sys, time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def rss() -> int:
    "Resident set size of this process in bytes."
    import psutil
    return psutil.Process().memory_info().rss


def load_vectors(args) -> np.ndarray | None:
    "Real embeddings from --embeddings or --from-cache, as float32 (N, d); None for synthetic data."
    if args.embeddings:
        p = Path(args.embeddings)
        if not p.exists(): sys.exit(f"--embeddings: no file at {p}")
        if p.suffix == ".npy": return np.load(p).astype(np.float32)
        from safetensors.numpy import load_file
        t = load_file(str(p))
        if len(t) != 1: sys.exit(f"--embeddings {p}: expected one tensor, found {sorted(t)}")
        return next(iter(t.values())).astype(np.float32)
    if args.focal:
        return focal_embeddings(args)
    if args.from_cache:
        from lab.families.retrieval.retrieval import EmbeddingCache
        c = EmbeddingCache()
        es = [e for e in c.entries() if args.from_cache in e["model_id"]]
        if not es: sys.exit(f"--from-cache {args.from_cache!r}: no cached embeddings under {c.root} with that model id "
                            f"(run the FocalLens notebook, which stores them, or pass --embeddings)")
        xs = [c.get(e["model_id"], e["condition"], e["gallery_id"]).numpy() for e in es]
        print(f"real embeddings: {len(es)} cache entries, {sum(len(x) for x in xs)} vectors, dim {xs[0].shape[1]}")
        return np.concatenate(xs).astype(np.float32)
    return None


def focal_embeddings(args) -> np.ndarray:
    "Conditional FocalLens embeddings of `--focal-n` generated scenes under `--condition` (cached in EmbeddingCache)."
    import hashlib, torch
    from lab.papers.focallens import data as D
    from lab.families.retrieval.retrieval import EmbeddingCache
    ckpt = Path(args.focal)
    if not ckpt.exists(): sys.exit(f"--focal: no checkpoint at {ckpt} (the FocalLens notebook 21 writes it under artifacts/)")
    st = ckpt.stat()
    model_id = f"focal:{ckpt.name}:{hashlib.sha1(f'{ckpt.resolve()}:{st.st_size}:{st.st_mtime_ns}'.encode()).hexdigest()[:10]}"
    gallery_id = f"scenes-bench-n{args.focal_n}-seed{args.seed}"
    cache = EmbeddingCache()

    def compute():
        try:
            from lab.papers.focallens.model import ImageTower, TextTower, TextBank, encode_images, embed_conditional, load_model
        except ImportError as e:
            sys.exit(f"--focal needs lab.papers.focallens.model (notebook 21) with load_model/encode_images/embed_conditional: {e}")
        model, meta = load_model(ckpt)
        if type(model).__name__ != "FocalLens": sys.exit(f"--focal {ckpt}: a {type(model).__name__} checkpoint, expected FocalLens")
        it, tt = ImageTower(meta.get("image_tower", "efficientnet-lite0")).eval(), TextTower(meta.get("text_tower", "sentence-transformers/all-MiniLM-L6-v2")).eval()
        t0 = time.perf_counter()
        images = [D.render(sc) for sc in D.generate(args.focal_n, seed=args.seed, stream=3)]
        toks = encode_images(it, images, use_cache=False)["tokens"]   # the final embeddings are cached below; the
        emb = embed_conditional(model, toks, TextBank(tt, [args.condition]), args.condition)  # token grids would be 1.2 GB per 10k
        dt = time.perf_counter() - t0
        print(f"# embedded {len(images)} scenes with {ckpt.name} under {args.condition!r} in {dt:.0f} s: "
              f"{len(images) / dt:.1f} images/s end to end (render + image tower + FocalLens head, {torch.get_num_threads()} thread(s))")
        return emb

    with torch.no_grad(): e = cache.get_or_compute(model_id, args.condition, gallery_id, compute)
    print(f"# FocalLens embeddings: {tuple(e.shape)} from {cache.path(model_id, args.condition, gallery_id)}")
    return e.numpy().astype(np.float32)


def synthetic(n: int, d: int, kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == "random": x = rng.standard_normal((n, d), dtype=np.float32)
    else:  # clustered: 100 centres, within-cluster spread comparable to the centres' scale
        centres = rng.standard_normal((100, d), dtype=np.float32)
        x = centres[rng.integers(0, 100, n)] + 0.5 * rng.standard_normal((n, d), dtype=np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_one(kind: str, gallery: np.ndarray, queries: np.ndarray, exact_ids: np.ndarray, k: int, params: dict,
              sweep: list[int]) -> list[dict]:
    "Build one index, then time single and batched queries at each search setting in `sweep` (HNSW efSearch / IVF nprobe)."
    from lab.families.retrieval.retrieval import build_index, recall_vs_exact
    gc.collect(); r0 = rss(); t0 = time.perf_counter()
    idx = build_index(gallery, kind, **params)
    build_s = time.perf_counter() - t0; gc.collect(); r1 = rss()
    rows = []
    for val in (sweep if kind != "exact" else [None]):
        if kind == "hnsw": idx.index.hnsw.efSearch = val
        if kind == "ivf": idx.index.nprobe = val
        idx.search(queries[:1], k)  # warm-up
        lat = []
        for q in queries:
            t = time.perf_counter(); idx.search(q[None], k); lat.append(time.perf_counter() - t)
        t = time.perf_counter(); _, ids = idx.search(queries, k); batch_s = time.perf_counter() - t
        name = kind if val is None else f"{kind} {'ef' if kind == 'hnsw' else 'np'}={val}"
        rows.append(dict(kind=kind, setting=name, search_param=val, n=len(gallery), build_s=build_s,
                         index_items_per_s=len(gallery) / build_s,
                         p50_ms=1e3 * float(np.median(lat)), p95_ms=1e3 * float(np.percentile(lat, 95)),
                         batch_queries_per_s=len(queries) / batch_s, index_mb=idx.nbytes / 2**20,
                         rss_delta_mb=(r1 - r0) / 2**20, recall_at_k=recall_vs_exact(ids, exact_ids),
                         **({"nlist": idx.params["nlist"]} if kind == "ivf" else {})))
    del idx; gc.collect()
    return rows


def main(argv=None):
    if argv is None and os.environ.get("MALLOC_MMAP_THRESHOLD_") is None:
        # glibc raises its mmap threshold after large frees and then reuses freed heap without growing RSS, which
        # hides later allocations from the RSS delta; a fixed threshold makes every large buffer a fresh mapping.
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"})
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--kinds", nargs="+", default=["exact", "hnsw", "ivf"], choices=["exact", "hnsw", "ivf"])
    ap.add_argument("--dim", type=int, default=256, help="embedding dimension for synthetic vectors")
    ap.add_argument("--data", default="random", choices=["random", "clustered"])
    ap.add_argument("--queries", type=int, default=200, help="single-query searches timed per setting")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch and FAISS threads")
    ap.add_argument("--M", type=int, default=16, help="HNSW neighbours per node")
    ap.add_argument("--ef-construction", type=int, default=40, help="HNSW build beam (FAISS' default)")
    ap.add_argument("--ef-search", type=int, nargs="+", default=[16, 64, 256], help="HNSW search beams to sweep")
    ap.add_argument("--nlist", type=int, default=None, help="IVF lists (default sqrt(N))")
    ap.add_argument("--nprobe", type=int, nargs="+", default=[4, 16, 64], help="IVF lists probed, swept")
    ap.add_argument("--embeddings", help="real embeddings: .npy or .safetensors (N, d)")
    ap.add_argument("--focal", metavar="CKPT", help="real FocalLens embeddings: a checkpoint saved by lab.papers.focallens.model.save_model")
    ap.add_argument("--focal-n", type=int, default=1000, help="scenes to embed with --focal (measured end to end on CPU: 7.5 images/s on one shared core)")
    ap.add_argument("--condition", default="What color is the largest object?", help="condition for --focal")
    ap.add_argument("--from-cache", metavar="MODEL_ID_SUBSTRING", help="real embeddings from lab's EmbeddingCache")
    ap.add_argument("--out", help="write the rows as JSON here (default: results_dir()/perf_retrieval[_real].json)")
    args = ap.parse_args(argv)

    import faiss, torch
    from lab.families.retrieval.retrieval import exact_search, normalize
    torch.set_num_threads(args.threads); faiss.omp_set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)
    real = load_vectors(args)
    if real is not None:
        real = normalize(real).numpy()
        real = real[rng.permutation(len(real))]
        queries, pool = real[:args.queries], real[args.queries:]
        sizes = [n for n in args.sizes if n <= len(pool)] or [len(pool)]
        data_desc = f"real embeddings ({len(real)} vectors, dim {real.shape[1]}; {args.queries} held out as queries)"
    else:
        pool = synthetic(max(args.sizes), args.dim, args.data, rng)
        queries = synthetic(args.queries, args.dim, args.data, rng) if args.data == "random" else \
            normalize(pool[rng.integers(0, len(pool), args.queries)] + 0.1 * rng.standard_normal((args.queries, args.dim), dtype=np.float32)).numpy()
        sizes = args.sizes
        data_desc = f"{args.data} L2-normalised vectors, dim {args.dim}"
    sweeps = {"hnsw": args.ef_search, "ivf": args.nprobe, "exact": [None]}
    print(f"# {data_desc}; k={args.k}; {args.queries} queries; threads={args.threads}; "
          f"HNSW M={args.M} efC={args.ef_construction}; IVF-Flat nlist={args.nlist or 'sqrt(N)'}")
    print(f"# torch {torch.__version__}, faiss {faiss.__version__}, {os.cpu_count()} CPUs visible, load avg {os.getloadavg()[0]:.1f}")
    rows = []
    hdr = f"| {'index':11} | {'N':>7} | {'build s':>7} | {'index items/s':>13} | {'p50 ms':>7} | {'p95 ms':>7} | {'batch q/s':>9} | {'index MB':>8} | {'RSS +MB':>7} | recall@{args.k} |"
    print(hdr); print("|" + "|".join("-" * (len(c)) for c in hdr.split("|")[1:-1]) + "|")
    for n in sizes:
        gallery = pool[:n]
        exact_ids = exact_search(queries, gallery, args.k)[1]
        for kind in args.kinds:
            params = {"hnsw": dict(M=args.M, ef_construction=args.ef_construction),
                      "ivf": dict(nlist=args.nlist or max(1, min(int(np.sqrt(n)), n // 39))), "exact": {}}[kind]
            for r in bench_one(kind, gallery, queries, exact_ids, args.k, params, sweeps[kind]):
                rows.append(r)
                print(f"| {r['setting']:11} | {n:>7,} | {r['build_s']:>7.2f} | {r['index_items_per_s']:>13,.0f} | {r['p50_ms']:>7.3f} | {r['p95_ms']:>7.3f} | "
                      f"{r['batch_queries_per_s']:>9,.0f} | {r['index_mb']:>8.1f} | {r['rss_delta_mb']:>7.1f} | {r['recall_at_k']:>9.3f} |", flush=True)
    from lab.core.base import Recorder
    name = "perf_retrieval_real" if real is not None else f"perf_retrieval_{args.data}"
    rec = Recorder(name, Path(args.out) if args.out else None)  # lab's metrics JSON: results_dir()/<name>.json
    for r in rows:
        rec.record(prefix=f"{r['setting'].replace(' ', '_')}/N={r['n']}", **{k: v for k, v in r.items()
                   if k in ("build_s", "index_items_per_s", "p50_ms", "p95_ms", "batch_queries_per_s", "index_mb", "rss_delta_mb", "recall_at_k")})
    rec.meta.update(data=data_desc, args=vars(args), torch=torch.__version__, faiss=faiss.__version__, load_avg=os.getloadavg()[0])
    print(f"# wrote {rec.save()}")


if __name__ == "__main__":
    main()
