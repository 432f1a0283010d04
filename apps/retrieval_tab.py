"""Conditional retrieval (FocalLens) — the hub's tab.

Choose a sample scene or upload an image, type a condition (or pick a preset), and see the gallery ranked by
FocalLens's conditional embedding beside the unconditional caption-trained baseline, with cosine scores.
UI only: the models, input checks and search live in `lab.papers.focallens.experiment` (nbs/papers/focallens/10_focallens.ipynb).
The models load from `artifacts_dir()/focallens/` (written by nbs/papers/focallens/10_focallens.ipynb); when they are missing the
tab says how to make them and offers a quick training run with a progress bar.
"""
from __future__ import annotations
import logging, threading

import gradio as gr

from lab.papers.focallens.experiment import (PRESETS, InputError, QuickTrainConfig, check_condition, demo_dir, demo_samples,
                                      load_query_image, load_search, quick_train)

TITLE = "Conditional retrieval (FocalLens)"
log = logging.getLogger(__name__)
_lock = threading.Lock()
_state: dict = {"search": None}
N_SAMPLES = 12


def _samples():
    if "samples" not in _state:
        scenes, ims = demo_samples(N_SAMPLES)
        _state["samples"] = ({f"sample {i}: {s.size} {s.color} {s.shape}, {s.position}, {s['count']} object(s), {s.background}": im
                              for i, (s, im) in enumerate(zip(scenes, ims))})
    return _state["samples"]


def sample_names() -> list[str]:
    "The names of the sample query scenes (never seen in training)."
    return list(_samples())


def models_ready() -> bool:
    "True when both checkpoints exist in `artifacts_dir()/focallens/`."
    d = demo_dir()
    return (d / "focallens.safetensors").exists() and (d / "caption_clip.safetensors").exists()


def status_markdown() -> str:
    "What the tab says about its models."
    if models_ready(): return f"Models: `{demo_dir()}` (FocalLens + caption baseline)."
    return (f"**No trained models yet** in `{demo_dir()}`. Run `nbs/papers/focallens/10_focallens.ipynb` (or "
            "`.venv/bin/python -m lab.papers.focallens.experiment train`, a few minutes on a CPU), or press **Train now** below.")


def get_search():
    "The loaded ConditionalSearch (loaded once; FileNotFoundError with the fix when checkpoints are missing)."
    with _lock:
        if _state["search"] is None: _state["search"] = load_search()
        return _state["search"]


def reset():
    "Forget the loaded models (after training new ones)."
    with _lock: _state["search"] = None


def _fail(msg: str):
    "Show `msg` as a warning toast and in the status box; empty results."
    try: gr.Warning(msg)
    except Exception: pass   # outside a Gradio event (direct calls in tests)
    return None, f"⚠️ {msg}", [], []


def run_search(upload, # path of an uploaded file (gr.File) or None
               sample: str | None, # a name from sample_names() (used when nothing is uploaded)
               condition: str | None, # what matters, in words
               k: int = 8, # results per model
               symmetric: bool = True): # condition the gallery too
    "(query image, status markdown, FocalLens gallery, baseline gallery); every bad input becomes a message."
    try:
        cond = check_condition(condition)
        if upload:
            path = upload if isinstance(upload, str) else getattr(upload, "name", None) or getattr(upload, "path", None)
            image, notes = load_query_image(path)
        elif sample:
            if sample not in _samples(): raise InputError(f"unknown sample {sample!r}; pick one from the list.")
            image, notes = _samples()[sample], []
        else: raise InputError("No query image: upload an image file or pick a sample scene.")
        try: k = int(k)
        except (TypeError, ValueError): raise InputError(f"k must be a whole number, got {k!r}")
        if not 1 <= k <= 50: raise InputError(f"k must be between 1 and 50, got {k}")
        try: search = get_search()
        except FileNotFoundError: return _fail(status_markdown().replace("**", ""))
        res = search.search(image, cond, k=k, symmetric=bool(symmetric))
        gal = lambda name: [(search.gallery[i], f"{s:.3f} · {search.labels[i]}") for i, s in res[name]]
        note = ("  \nInput: " + "; ".join(notes) + ".") if notes else ""
        md = (f"Condition: *{cond}* — FocalLens ({'query and gallery conditioned' if symmetric else 'query conditioned only'}) "
              f"vs the unconditional caption baseline; scores are cosine similarities.{note}")
        return image, md, gal("focal"), gal("clip")
    except InputError as e:
        return _fail(str(e))
    except Exception as e:   # never show a stack trace in the UI; log it instead
        log.exception("retrieval tab: search failed")
        return _fail(f"Search failed ({type(e).__name__}: {str(e)[:200]}). The details are in the server log.")


def train_now(progress=gr.Progress(track_tqdm=True)):
    "Train the demo models with the default quick recipe (a few minutes on a CPU), then load them."
    try:
        progress(0, desc="encoding scenes and training (a few minutes on a CPU)")
        quick_train(QuickTrainConfig())
        reset()
        return status_markdown()
    except Exception as e:
        log.exception("retrieval tab: training failed")
        return f"⚠️ Training failed ({type(e).__name__}: {str(e)[:200]}). See the server log."


def build() -> None:
    "The tab's components (inside the current gr.Tab / gr.Blocks)."
    gr.Markdown("Pick a sample scene or upload an image, say **what matters** in words, and compare the gallery ranked by "
                "FocalLens's conditional embedding with the unconditional caption-trained baseline. The gallery holds "
                "procedural scenes the models never saw; presets include phrasings never used in training.")
    status = gr.Markdown(status_markdown())
    with gr.Row():
        with gr.Column(scale=1):
            sample = gr.Dropdown(sample_names(), value=sample_names()[0], label="Sample query scene")
            upload = gr.File(label="…or upload an image (PNG, JPEG, WebP, …)", type="filepath")
            query = gr.Image(label="Query", interactive=False, height=200)
        with gr.Column(scale=2):
            condition = gr.Textbox(value=PRESETS[0], label="Condition", max_lines=2,
                                   placeholder="e.g. What color is the largest object?")
            preset = gr.Dropdown(PRESETS, label="Presets (the first six are held-out phrasings)")
            with gr.Row():
                k = gr.Slider(1, 24, value=8, step=1, label="top-k")
                symmetric = gr.Checkbox(value=True, label="condition the gallery too (symmetric)")
            go = gr.Button("Search", variant="primary")
    info = gr.Markdown()
    with gr.Row():
        focal = gr.Gallery(label="FocalLens (conditional)", columns=4, height=420)
        base = gr.Gallery(label="Caption baseline (unconditional)", columns=4, height=420)
    train = gr.Button("Train now (quick recipe, a few minutes)", visible=not models_ready())
    preset.change(lambda p: p or gr.update(), preset, condition, api_name=False)
    go.click(run_search, [upload, sample, condition, k, symmetric], [query, info, focal, base], api_name="search")
    train.click(train_now, None, status, api_name="train").then(lambda: gr.update(visible=not models_ready()), None, train, api_name=False)


if __name__ == "__main__":   # this tab alone: python -m apps.retrieval_tab
    with gr.Blocks(title=TITLE) as demo: build()
    demo.queue(default_concurrency_limit=2).launch(server_name="127.0.0.1")
