"""Conditional retrieval (FocalLens) — the hub's tab.

Choose a sample scene or upload an image, type a condition (or pick a preset), and see the gallery ranked by
FocalLens's conditional embedding beside the unconditional caption-trained baseline, with cosine scores.
UI only: the models, input checks and search live in `lab.papers.focallens.experiment` (nbs/papers/focallens/10_focallens.ipynb).
The models load from `artifacts_dir()/focallens/` when trained here (the notebook, or the Retrain button), else from
the shipped defaults in `models/focallens/` (`make demo-models`); the status line says which.
"""
from __future__ import annotations
import logging, re

import gradio as gr

from apps.common import Demo, Scaffold, pick_option, warning
from lab.core.base import repo_root
from lab.papers.focallens.experiment import (PRESETS, InputError, QuickTrainConfig, check_condition, checkpoint_source, demo_dir,
                                             demo_samples, load_query_image, load_search, quick_train, shipped_record)

TITLE = "Conditional retrieval (FocalLens)"
log = logging.getLogger(__name__)
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
    "True when both checkpoints exist, trained here or shipped."
    return checkpoint_source()[1] != "missing"


def status_markdown() -> str:
    "Which models the tab uses (trained here or the shipped defaults), or how to make them."
    d, origin = checkpoint_source()
    rel = d.relative_to(repo_root()) if d.is_relative_to(repo_root()) else d
    if origin == "artifacts": return f"Models: trained here, `{rel}` (FocalLens + caption baseline)."
    if origin == "shipped":
        m = shipped_record().get("metrics", {})
        rec = (f"; recorded test mAP (held-out phrasings) FocalLens {m['focal/sym/mAP']:.2f} vs caption baseline {m['clip/mAP']:.2f}"
               if "focal/sym/mAP" in m and "clip/mAP" in m else "")
        return f"Models: the shipped defaults in `{rel}` (FocalLens + caption baseline, float16{rec}). **Retrain** below replaces them with your own."
    return (f"**No trained models yet** in `{demo_dir()}` (and no shipped defaults: `make demo-models`). Run "
            "`nbs/papers/focallens/10_focallens.ipynb` (or `.venv/bin/python -m lab.papers.focallens.experiment train`, "
            "a few minutes on a CPU), or press **Train now** below.")


def get_search():
    "The loaded ConditionalSearch, loaded once per checkpoint folder (FileNotFoundError with the fix when checkpoints are missing)."
    src = checkpoint_source()
    if _state["search"] is None or getattr(_state["search"], "source", None) != src: _state["search"] = load_search()
    return _state["search"]


def reset():
    "Forget the loaded models (after training new ones)."
    _state["search"] = None


def _fail(msg: str):
    "Show `msg` as a warning toast and in the status box; empty results."
    return None, warning(msg), [], []


def _search(upload, # path of an uploaded file (gr.File) or None
            sample: str | None, # a name from sample_names() (used when nothing is uploaded)
            condition: str | None, # what matters, in words
            k: int = 8, # results per model
            symmetric: bool = True): # condition the gallery too
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
    except FileNotFoundError: raise InputError(status_markdown().replace("**", ""))
    res = search.search(image, cond, k=k, symmetric=bool(symmetric))
    gal = lambda name: [(search.gallery[i], f"{s:.3f} · {search.labels[i]}") for i, s in res[name]]
    note = ("  \nInput: " + "; ".join(notes) + ".") if notes else ""
    md = (f"Condition: *{cond}* — FocalLens ({'query and gallery conditioned' if symmetric else 'query conditioned only'}) "
          f"vs the unconditional caption baseline; scores are cosine similarities.{note}")
    return image, md, gal("focal"), gal("clip")


def _train(on_progress) -> str:
    on_progress(0, "encoding scenes and training (a few minutes on a CPU)")
    paths = quick_train(QuickTrainConfig())
    reset()
    return f"Trained and saved to `{paths['focal'].parent}`; they replace the shipped models."


TAB = Scaffold("retrieval", status_markdown, _train, "Retrain (quick recipe, a few minutes)")
run_search = TAB.guarded(_search, _fail, expected=(InputError,))
run_search.__doc__ = "(query image, status markdown, FocalLens gallery, baseline gallery); every bad input becomes a message."


def warm() -> None:
    "Load the models and encode the gallery (the hub calls this at start-up)."
    with TAB.lock: get_search()


def build() -> None:
    "The tab's components (inside the current gr.Tab / gr.Blocks)."
    gr.Markdown("Pick a sample scene or upload an image, say **what matters** in words, and compare the gallery ranked by "
                "FocalLens's conditional embedding with the unconditional caption-trained baseline. The gallery holds "
                "procedural scenes the models never saw; presets include phrasings never used in training.")
    TAB.status_block(elem_id="ret_status")
    with gr.Row():
        with gr.Column(scale=1):
            sample = gr.Dropdown(sample_names(), value=sample_names()[0], label="Sample query scene", elem_id="ret_sample")
            upload = gr.File(label="…or upload an image (PNG, JPEG, WebP, …)", type="filepath", elem_id="ret_upload")
            query = gr.Image(label="Query", interactive=False, height=200, elem_id="ret_query")
        with gr.Column(scale=2):
            condition = gr.Textbox(value=PRESETS[0], label="Condition", max_lines=2, elem_id="ret_condition",
                                   placeholder="e.g. What color is the largest object?")
            preset = gr.Dropdown(PRESETS, label="Presets (the first six are held-out phrasings)", elem_id="ret_preset")
            with gr.Row():
                k = gr.Slider(1, 24, value=8, step=1, label="top-k", elem_id="ret_k")
                symmetric = gr.Checkbox(value=True, label="condition the gallery too (symmetric)", elem_id="ret_symmetric")
            go = gr.Button("Search", variant="primary", elem_id="ret_search")
    info = gr.Markdown(elem_id="ret_info")
    with gr.Row():
        focal = gr.Gallery(label="FocalLens (conditional)", columns=4, height=420, elem_id="ret_focal")
        base = gr.Gallery(label="Caption baseline (unconditional)", columns=4, height=420, elem_id="ret_base")
    TAB.train_button(elem_id="ret_train")
    preset.change(lambda p: p or gr.update(), preset, condition, api_name=False)
    go.click(run_search, [upload, sample, condition, k, symmetric], [query, info, focal, base], api_name="search")


# ---- how checks drive this demo (tests/test_hub.py, tests/test_browser.py, scripts/screenshot_hub.py) ----
COLOR_PRESET = 1            # PRESETS[1]: the held-out colour phrasing (PRESETS follows ATTRS: shape, color, ...)
COLOR_SAMPLE = 0            # the sample query scene the checks use
MIN_SAME_COLOR = 6          # of the top 8 FocalLens results


def _color_of_sample(name: str) -> str: return name.split(": ", 1)[1].split(" ")[1]   # "sample i: <size> <color> <shape>, ..."
def _color_of_label(label: str) -> str: return label.split(" · ", 1)[-1].split(" ")[0]  # "<score> · <color> <shape>, ..."


def api_check(client) -> str:
    "A held-out colour phrasing through /search: 8 results per model, at least MIN_SAME_COLOR of FocalLens's share the query's colour."
    name = sample_names()[COLOR_SAMPLE]
    q, md, focal, base = client.predict(None, name, PRESETS[COLOR_PRESET], 8, True, api_name="/search")
    assert not md.startswith("⚠️") and len(focal) == 8 and len(base) == 8, md
    colors = [_color_of_label(g["caption"]) for g in focal]
    same = sum(c == _color_of_sample(name) for c in colors)
    assert same >= MIN_SAME_COLOR, (name, colors)
    return f"{same}/8 FocalLens results are {_color_of_sample(name)}"


def browser_color_query(page, panel, timeout_ms: int = 150_000) -> str:
    "Sample scene + the held-out colour preset, Search: galleries filled, scores sorted, most top-8 results share the query's colour."
    from playwright.sync_api import expect
    name = pick_option(page, panel.locator("#ret_sample input"), COLOR_SAMPLE)
    preset = pick_option(page, panel.locator("#ret_preset input"), COLOR_PRESET)
    expect(panel.locator("#ret_condition textarea")).to_have_value(preset)      # preset.change filled it in
    panel.locator("#ret_search").click()
    gallery = panel.locator("#ret_focal")
    imgs = gallery.locator("img")
    expect(imgs.first).to_be_visible(timeout=timeout_ms)
    expect(panel.locator("#ret_info")).to_contain_text(f"Condition: {preset}", timeout=timeout_ms)
    gallery.scroll_into_view_if_needed()
    page.wait_for_function("els => els.every(e => e.complete && e.naturalWidth > 0)", arg=imgs.element_handles(), timeout=30_000)
    assert imgs.count() == 8 and panel.locator("#ret_base img").count() == 8, (imgs.count(), panel.locator("#ret_base img").count())
    captions = gallery.locator(".caption-label").all_inner_texts()
    scores = [float(c.split(" ")[0]) for c in captions]
    assert len(scores) == 8 and scores == sorted(scores, reverse=True), captions
    colors = [_color_of_label(c) for c in captions]
    same = sum(c == _color_of_sample(name) for c in colors)
    assert same >= MIN_SAME_COLOR, (name, captions)
    return f"{same}/8 results are {_color_of_sample(name)}"


def browser_empty_condition(page, panel, timeout_ms: int = 60_000) -> str:
    "An empty condition: a readable message, no gallery, no stack trace."
    from playwright.sync_api import expect
    cond = panel.locator("#ret_condition textarea")
    cond.fill("")
    expect(cond).to_have_value("")
    panel.locator("#ret_search").click()
    expect(panel.locator("#ret_info")).to_contain_text("condition is empty", timeout=timeout_ms)
    assert panel.locator("#ret_focal img").count() == 0
    assert "Traceback" not in panel.inner_text()
    return "message shown"


DEMO = Demo(TITLE, build, order=20,
            about="Pick a query image and type a condition; the gallery is ranked by conditional similarity "
                  "(nbs/papers/focallens/10_focallens.ipynb; models: `make demo-models`).",
            ready=models_ready, warm=warm, api_check=api_check,
            browser={"colour query": browser_color_query, "empty condition": browser_empty_condition})


if __name__ == "__main__":   # this tab alone: python -m apps.retrieval_tab
    with gr.Blocks(title=TITLE) as demo: build()
    demo.queue(default_concurrency_limit=2).launch(server_name="127.0.0.1")
