"""Zero-shot and neighbours (alignment family: STRUCTURE) — the hub's tab.

Pick a sample scene or upload an image and see, for each aligned model side by side, its zero-shot reading of the
scene's six attributes (prompt ensembles, cosine in the shared space) and the query's nearest neighbours in a gallery
of held-out scenes. Models: STRUCTURE's heads (lambda = 10) beside the CLIP-only heads (lambda = 0), both linear heads
over the frozen EfficientNet-lite0 and MiniLM towers, trained on the same 2,000 pairs for the same steps.
UI only: the models, input checks and the explorer live in `lab.papers.structure.demo` (nbs/papers/structure/20_demo.ipynb)
and `lab.families.scenes.explore` (nbs/families/scenes/01_explore.ipynb). The models load from
`artifacts_dir()/structure/` when trained here (the Train button), else from the shipped defaults in `models/structure/`
(`make demo-models`); the status line says which.
"""
from __future__ import annotations
import logging

import gradio as gr

from apps.common import Demo, Scaffold, warning
from lab.core.base import artifacts_dir, repo_root
from lab.families.encoders.inputs import InputError, load_query_image
from lab.families.scenes.explore import scene_label
from lab.families.scenes.world import ATTRS, generate, render
from lab.papers.structure.demo import (DemoConfig, demo_explorer, demo_source, save_demo_models, shipped_record,
                                       train_demo_models)

TITLE = "Zero-shot and neighbours (STRUCTURE)"
log = logging.getLogger(__name__)
_state: dict = {"explorer": None}
N_SAMPLES = 12


def _samples():
    if "samples" not in _state:   # held-out test scenes (stream 1 of the demo's data seed): never trained on
        scenes = generate(N_SAMPLES, DemoConfig().data_seed, stream=1)
        _state["samples"] = {f"sample {i}: {scene_label(s)}": (s, render(s, 128)) for i, s in enumerate(scenes)}
    return _state["samples"]


def sample_names() -> list[str]:
    "The names of the sample query scenes."
    return list(_samples())


def models_ready() -> bool:
    "True when both models exist, trained here or shipped."
    return demo_source()[1] != "missing"


def status_markdown() -> str:
    "Which models the tab uses (trained here or the shipped defaults), or how to make them."
    d, origin = demo_source()
    rel = d.relative_to(repo_root()) if d.is_relative_to(repo_root()) else d
    if origin == "artifacts": return f"Models: trained here, `{rel}` (STRUCTURE + CLIP-only heads)."
    if origin == "shipped":
        m = shipped_record().get("metrics", {})
        rec = (f"; recorded zero-shot accuracy on 300 held-out scenes (mean of 6 attributes): STRUCTURE {m['STRUCTURE/zs_mean']:.2f}, "
               f"CLIP-only {m['CLIP-only/zs_mean']:.2f}" if "STRUCTURE/zs_mean" in m and "CLIP-only/zs_mean" in m else "")
        return f"Models: the shipped defaults in `{rel}` (float16{rec}). **Retrain** below replaces them with your own."
    return (f"**No trained models yet** in `{d}` (and no shipped defaults: `make demo-models`). Press **Retrain** below "
            "(a few minutes on a CPU).")


def get_explorer():
    "The loaded explorer, loaded once per model folder (FileNotFoundError with the fix when models are missing)."
    src = demo_source()
    if _state["explorer"] is None or getattr(_state["explorer"], "source", None) != src: _state["explorer"] = demo_explorer()
    return _state["explorer"]


def _fail(msg: str):
    "Show `msg` as a warning toast and in the info box; empty results."
    return None, warning(msg), [], []


def zero_shot_table(zero_shot: dict, truth: dict | None) -> str:
    "Markdown: one row per attribute, the truth (for sample scenes) and each model's value with its softmax confidence."
    names = list(zero_shot)
    head = "| attribute | " + ("truth | " if truth else "") + " | ".join(names) + " |"
    rows = [head, "|" + "---|" * (1 + bool(truth) + len(names))]
    for a in ATTRS:
        cells = []
        for n in names:
            v, p = zero_shot[n][a]
            ok = "" if not truth else (" ✓" if v == truth[a] else " ✗")
            cells.append(f"{v} ({p:.2f}){ok}")
        rows.append(f"| {a} | " + (f"{truth[a]} | " if truth else "") + " | ".join(cells) + " |")
    return "\n".join(rows)


def _explore(upload, # path of an uploaded file (gr.File) or None
             sample: str | None, # a name from sample_names() (used when nothing is uploaded)
             k: int = 8): # neighbours per model
    if upload:
        path = upload if isinstance(upload, str) else getattr(upload, "name", None) or getattr(upload, "path", None)
        image, notes = load_query_image(path); truth = None
    elif sample:
        if sample not in _samples(): raise InputError(f"unknown sample {sample!r}; pick one from the list.")
        scene, image = _samples()[sample]; notes, truth = [], scene.attrs
    else: raise InputError("No query image: upload an image file or pick a sample scene.")
    try: k = int(k)
    except (TypeError, ValueError): raise InputError(f"k must be a whole number, got {k!r}")
    if not 1 <= k <= 50: raise InputError(f"k must be between 1 and 50, got {k}")
    try: ex = get_explorer()
    except FileNotFoundError: raise InputError(status_markdown().replace("**", ""))
    res = ex.explore(image, k=k)
    note = ("  \nInput: " + "; ".join(notes) + ".") if notes else ""
    md = (f"Zero-shot reading of the query (value, softmax confidence at T = {ex.temperature}; ✓/✗ against the sample's truth):\n\n"
          f"{zero_shot_table(res['zero_shot'], truth)}\n\nNeighbours: the {k} most similar of {len(ex.gallery)} held-out gallery scenes "
          f"(cosine in each model's space).{note}")
    gal = lambda name: [(ex.images[i], f"{s:.3f} · {ex.labels[i]}") for i, s in res["neighbours"][name]]
    return image, md, gal("STRUCTURE"), gal("CLIP-only")


def reset():
    "Forget the loaded models (after training new ones)."
    _state["explorer"] = None


def _train(on_progress) -> str:
    heads, meta = train_demo_models(DemoConfig(), on_progress)
    out = artifacts_dir() / "structure"
    save_demo_models(heads, meta, out)
    reset()
    return f"Trained and saved to `{out}`; they replace the shipped models."


TAB = Scaffold("alignment", status_markdown, _train, "Retrain (the demo recipe, a few minutes)")
run_explore = TAB.guarded(_explore, _fail, expected=(InputError,))
run_explore.__doc__ = "(query image, zero-shot markdown, STRUCTURE neighbours, CLIP-only neighbours); every bad input becomes a message."


def warm() -> None:
    "Load the models and encode the gallery (the hub calls this at start-up)."
    with TAB.lock: get_explorer()


def build() -> None:
    "The tab's components (inside the current gr.Tab / gr.Blocks)."
    gr.Markdown("Pick a sample scene or upload an image and compare what two aligned image–text spaces say about it: "
                "**STRUCTURE** (linear heads over frozen EfficientNet-lite0 and MiniLM, with the structure-preserving "
                "regulariser) beside the **CLIP-only** heads trained on the same pairs. Each reads the six scene attributes "
                "zero-shot from text prompts and finds the query's nearest neighbours among held-out scenes.")
    TAB.status_block(elem_id="aln_status")
    with gr.Row():
        with gr.Column(scale=1):
            sample = gr.Dropdown(sample_names(), value=sample_names()[0], label="Sample query scene (held out)", elem_id="aln_sample")
            upload = gr.File(label="…or upload an image (PNG, JPEG, WebP, …)", type="filepath", elem_id="aln_upload")
            k = gr.Slider(1, 24, value=8, step=1, label="neighbours", elem_id="aln_k")
            go = gr.Button("Explore", variant="primary", elem_id="aln_go")
        with gr.Column(scale=1):
            query = gr.Image(label="Query", interactive=False, height=200, elem_id="aln_query")
    info = gr.Markdown(elem_id="aln_info")
    with gr.Row():
        left = gr.Gallery(label="STRUCTURE: nearest neighbours", columns=4, height=420, elem_id="aln_structure")
        right = gr.Gallery(label="CLIP-only: nearest neighbours", columns=4, height=420, elem_id="aln_clip")
    TAB.train_button(elem_id="aln_train")
    go.click(run_explore, [upload, sample, k], [query, info, left, right], api_name="explore")


# ---- how checks drive this demo (tests/test_hub.py, tests/test_browser.py, scripts/screenshot_hub.py) ----
SAMPLE = 0                  # the sample scene the checks use
EASY = "background"         # the attribute both shipped models read right on held-out scenes (recorded zero-shot accuracy ~1.0)


def _truth(name: str) -> dict: return _samples()[name][0].attrs


def api_check(client) -> str:
    "A sample scene through /explore: 8 neighbours per model and a zero-shot table in which both models read the background right."
    name = sample_names()[SAMPLE]
    q, md, left, right = client.predict(None, name, 8, api_name="/explore")
    assert not md.startswith("⚠️") and len(left) == 8 and len(right) == 8, md
    row = next(l for l in md.splitlines() if l.startswith(f"| {EASY} |"))
    assert row.count(" ✓") >= 2, row                                 # truth column, then both models right
    return f"zero-shot {EASY} right for both models; 8 + 8 neighbours"


def browser_sample(page, panel, timeout_ms: int = 150_000) -> str:
    "Sample scene, Explore: the zero-shot table names the truth and both galleries fill with 8 sorted neighbours."
    from playwright.sync_api import expect
    panel.locator("#aln_go").click()
    gallery = panel.locator("#aln_structure")
    imgs = gallery.locator("img")
    expect(imgs.first).to_be_visible(timeout=timeout_ms)
    truth = _truth(sample_names()[SAMPLE])
    expect(panel.locator("#aln_info")).to_contain_text(f"{EASY}", timeout=timeout_ms)
    expect(panel.locator("#aln_info table")).to_contain_text(truth[EASY], timeout=timeout_ms)
    gallery.scroll_into_view_if_needed()
    page.wait_for_function("els => els.every(e => e.complete && e.naturalWidth > 0)", arg=imgs.element_handles(), timeout=30_000)
    assert imgs.count() == 8 and panel.locator("#aln_clip img").count() == 8, (imgs.count(), panel.locator("#aln_clip img").count())
    captions = gallery.locator(".caption-label").all_inner_texts()
    scores = [float(c.split(" ")[0]) for c in captions]
    assert len(scores) == 8 and scores == sorted(scores, reverse=True), captions
    rows = panel.locator("#aln_info table tr").all_inner_texts()
    easy = next(r for r in rows if r.startswith(EASY))
    assert easy.count("✓") >= 2, easy
    return f"table and 8 + 8 neighbours shown; {EASY} read right"


def browser_not_an_image(page, panel, timeout_ms: int = 60_000) -> str:
    "Upload a text file: a readable message, no gallery, no stack trace."
    import tempfile
    from pathlib import Path
    from playwright.sync_api import expect
    with tempfile.TemporaryDirectory() as d:
        f = Path(d) / "notes.txt"; f.write_text("not an image")
        panel.locator("#aln_upload input[type=file]").set_input_files(str(f))
        page.wait_for_timeout(1500)
        panel.locator("#aln_go").click()
        expect(panel.locator("#aln_info")).to_contain_text("not an image file", timeout=timeout_ms)
    assert panel.locator("#aln_structure img").count() == 0
    assert "Traceback" not in panel.inner_text()
    return "message shown"


DEMO = Demo(TITLE, build, order=30,
            about="Pick a query image; see zero-shot attributes and nearest neighbours from STRUCTURE's aligned heads beside "
                  "the CLIP-only heads (nbs/papers/structure/20_demo.ipynb; models: `make demo-models`).",
            ready=models_ready, warm=warm, api_check=api_check,
            browser={"sample query": browser_sample, "not an image": browser_not_an_image})


if __name__ == "__main__":   # this tab alone: python -m apps.align_tab
    with gr.Blocks(title=TITLE) as demo: build()
    demo.queue(default_concurrency_limit=2).launch(server_name="127.0.0.1")
