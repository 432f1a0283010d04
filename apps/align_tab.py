"""Zero-shot and neighbours (the alignment family: STRUCTURE, MobileCLIP2) — the hub's tab.

Pick a sample scene or upload an image, and a pair of models; see, for each model side by side, its zero-shot reading of
the scene's six attributes (prompt ensembles, cosine in the shared space) and the query's nearest neighbours in a
gallery of held-out scenes. Pairs: STRUCTURE's heads (lambda = 10) beside the CLIP-only heads (lambda = 0), linear heads
over the frozen EfficientNet-lite0 and MiniLM towers trained on the same 2,000 pairs; and the MobileCLIP2 student (the
full reinforced recipe: distilled from stored teacher targets and synthetic captions) beside the CLIP-only student
trained on the same store for the same steps.
UI only: the models live in `lab.papers.structure.demo` and `lab.papers.mobileclip2.demo` (their 20_demo notebooks), the
explorer in `lab.families.scenes.explore`, the image checks in `lab.families.encoders.inputs`. The models load from
`artifacts_dir()/<paper>/` when trained here (the Retrain button), else from the shipped defaults in `models/<paper>/`
(`make demo-models`); the status line says which.
"""
from __future__ import annotations
import logging

import gradio as gr

from apps.common import Demo, Scaffold, pick_option, warning
from lab.core.base import artifacts_dir, repo_root
from lab.families.encoders.inputs import InputError, load_query_image
from lab.families.scenes.explore import scene_label
from lab.families.scenes.world import ATTRS, generate, render
from lab.papers.mobileclip2 import demo as mobileclip2
from lab.papers.structure import demo as structure

TITLE = "Zero-shot and neighbours (STRUCTURE, MobileCLIP2)"
log = logging.getLogger(__name__)
PAIRS = {   # the dropdown's label -> the paper's demo module (MODELS: model name -> file, first the method, then its baseline)
    "STRUCTURE heads vs CLIP-only heads (frozen EfficientNet-lite0 + MiniLM)": structure,
    "MobileCLIP2 student vs CLIP-only student (48 px CNN, distilled from stored teachers)": mobileclip2,
}
PAIR_NAMES = list(PAIRS)
_state: dict = {"explorers": {}}
N_SAMPLES = 12


def _samples():
    if "samples" not in _state:   # held-out test scenes (stream 1 of the demo's data seed): never trained on
        scenes = generate(N_SAMPLES, structure.DemoConfig().data_seed, stream=1)
        _state["samples"] = {f"sample {i}: {scene_label(s)}": (s, render(s, 128)) for i, s in enumerate(scenes)}
    return _state["samples"]


def sample_names() -> list[str]:
    "The names of the sample query scenes."
    return list(_samples())


def models_ready() -> bool:
    "True when both pairs of models exist, trained here or shipped."
    return all(m.demo_source()[1] != "missing" for m in PAIRS.values())


def _pair_status(label: str) -> str:
    m = PAIRS[label]; d, origin = m.demo_source(); names = list(m.MODELS)
    rel = d.relative_to(repo_root()) if d.is_relative_to(repo_root()) else d
    if origin == "artifacts": return f"**{label}**: trained here, `{rel}`."
    if origin == "shipped":
        r = m.shipped_record().get("metrics", {})
        keys = [f"{n}/zs_mean" for n in names]
        rec = ("; recorded zero-shot accuracy on 300 held-out scenes (mean of 6 attributes): "
               + ", ".join(f"{n} {r[k]:.2f}" for n, k in zip(names, keys)) if all(k in r for k in keys) else "")
        return f"**{label}**: the shipped defaults in `{rel}` (float16{rec})."
    return f"**{label}**: no trained models yet in `{d}` (and no shipped defaults: `make demo-models`); press **Retrain** below."


def status_markdown() -> str:
    "Which models each pair uses (trained here or the shipped defaults), or how to make them."
    return "Models — " + "  \n".join(_pair_status(p) for p in PAIRS) + "  \n**Retrain** below replaces them with your own."


def get_explorer(pair: str):
    "The loaded explorer of a pair, loaded once per model folder (FileNotFoundError with the fix when models are missing)."
    m = PAIRS[pair]; src = m.demo_source(); ex = _state["explorers"].get(pair)
    if ex is None or getattr(ex, "source", None) != src: ex = _state["explorers"][pair] = m.demo_explorer()
    return ex


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
             pair: str | None = None, # a label of PAIRS (default: the first)
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
    pair = pair or PAIR_NAMES[0]
    if pair not in PAIRS: raise InputError(f"unknown model pair {pair!r}; pick one from the list.")
    try: ex = get_explorer(pair)
    except FileNotFoundError: raise InputError(_pair_status(pair).replace("**", ""))
    res = ex.explore(image, k=k); left, right = list(PAIRS[pair].MODELS)
    note = ("  \nInput: " + "; ".join(notes) + ".") if notes else ""
    md = (f"**{left}** (left gallery) beside **{right}** (right gallery). Zero-shot reading of the query (value, softmax "
          f"confidence at T = {ex.temperature}; ✓/✗ against the sample's truth):\n\n"
          f"{zero_shot_table(res['zero_shot'], truth)}\n\nNeighbours: the {k} most similar of {len(ex.gallery)} held-out gallery scenes "
          f"(cosine in each model's space).{note}")
    gal = lambda name: [(ex.images[i], f"{s:.3f} · {ex.labels[i]}") for i, s in res["neighbours"][name]]
    return image, md, gal(left), gal(right)


def reset():
    "Forget the loaded models (after training new ones)."
    _state["explorers"] = {}


def _train(on_progress) -> str:
    s_heads, s_meta = structure.train_demo_models(structure.DemoConfig(), lambda f, m: on_progress(f / 2, m))
    structure.save_demo_models(s_heads, s_meta, artifacts_dir() / "structure")
    students, _, m_meta = mobileclip2.train_demo_models(mobileclip2.DemoConfig(), lambda f, m: on_progress(0.5 + f / 2, m))
    mobileclip2.save_demo_models(students, m_meta, artifacts_dir() / "mobileclip2")
    reset()
    return f"Trained both pairs and saved them to `{artifacts_dir() / 'structure'}` and `{artifacts_dir() / 'mobileclip2'}`; they replace the shipped models."


TAB = Scaffold("alignment", status_markdown, _train, "Retrain both pairs (the demo recipes; minutes, more the first time)")
run_explore = TAB.guarded(_explore, _fail, expected=(InputError,))
run_explore.__doc__ = "(query image, zero-shot markdown, the method's neighbours, its baseline's neighbours); every bad input becomes a message."


def warm() -> None:
    "Load both pairs' models and encode their galleries (the hub calls this at start-up)."
    with TAB.lock:
        for p in PAIRS: get_explorer(p)


def build() -> None:
    "The tab's components (inside the current gr.Tab / gr.Blocks)."
    gr.Markdown("Pick a sample scene or upload an image, choose a pair of models, and compare what two aligned image–text "
                "spaces say about it: **STRUCTURE**'s heads over frozen EfficientNet-lite0 and MiniLM (with the "
                "structure-preserving regulariser) beside CLIP-only heads trained on the same pairs, or the **MobileCLIP2** "
                "student distilled from stored teacher targets and synthetic captions beside a CLIP-only student trained on "
                "the same store. Each reads the six scene attributes zero-shot from text prompts and finds the query's nearest "
                "neighbours among held-out scenes.")
    TAB.status_block(elem_id="aln_status")
    with gr.Row():
        with gr.Column(scale=1):
            sample = gr.Dropdown(sample_names(), value=sample_names()[0], label="Sample query scene (held out)", elem_id="aln_sample")
            upload = gr.File(label="…or upload an image (PNG, JPEG, WebP, …)", type="filepath", elem_id="aln_upload")
            pair = gr.Dropdown(PAIR_NAMES, value=PAIR_NAMES[0], label="Models (left: the method; right: its baseline)", elem_id="aln_pair")
            k = gr.Slider(1, 24, value=8, step=1, label="neighbours", elem_id="aln_k")
            go = gr.Button("Explore", variant="primary", elem_id="aln_go")
        with gr.Column(scale=1):
            query = gr.Image(label="Query", interactive=False, height=200, elem_id="aln_query")
    info = gr.Markdown(elem_id="aln_info")
    with gr.Row():
        left = gr.Gallery(label="the method: nearest neighbours", columns=4, height=420, elem_id="aln_left")
        right = gr.Gallery(label="its baseline: nearest neighbours", columns=4, height=420, elem_id="aln_right")
    TAB.train_button(elem_id="aln_train")
    go.click(run_explore, [upload, sample, pair, k], [query, info, left, right], api_name="explore")


# ---- how checks drive this demo (tests/test_hub.py, tests/test_browser.py, scripts/screenshot_hub.py) ----
SAMPLE = 0                  # the sample scene the checks use
EASY = "background"         # the attribute both shipped models read right on held-out scenes (recorded zero-shot accuracy ~1.0)


def _truth(name: str) -> dict: return _samples()[name][0].attrs


def api_check(client) -> str:
    "A sample scene through /explore with each pair: 8 neighbours per model and a zero-shot table in which both models read the background right."
    name, out = sample_names()[SAMPLE], []
    for pair in PAIR_NAMES:
        q, md, left, right = client.predict(None, name, pair, 8, api_name="/explore")
        assert not md.startswith("⚠️") and len(left) == 8 and len(right) == 8, (pair, md)
        row = next(l for l in md.splitlines() if l.startswith(f"| {EASY} |"))
        assert row.count(" ✓") >= 2, (pair, row)                     # truth column, then both models right
        out.append(" vs ".join(PAIRS[pair].MODELS))
    return f"zero-shot {EASY} right for both models of {len(out)} pairs ({'; '.join(out)}); 8 + 8 neighbours each"


def _check_result(page, panel, timeout_ms: int) -> str:
    "After Explore: the table names the truth and both models read EASY right; both galleries hold 8 neighbours, best first."
    from playwright.sync_api import expect
    gallery = panel.locator("#aln_left")
    imgs = gallery.locator("img")
    expect(imgs.first).to_be_visible(timeout=timeout_ms)
    truth = _truth(sample_names()[SAMPLE])
    expect(panel.locator("#aln_info table")).to_contain_text(truth[EASY], timeout=timeout_ms)
    gallery.scroll_into_view_if_needed()
    page.wait_for_function("els => els.every(e => e.complete && e.naturalWidth > 0)", arg=imgs.element_handles(), timeout=30_000)
    assert imgs.count() == 8 and panel.locator("#aln_right img").count() == 8, (imgs.count(), panel.locator("#aln_right img").count())
    captions = gallery.locator(".caption-label").all_inner_texts()
    scores = [float(c.split(" ")[0]) for c in captions]
    assert len(scores) == 8 and scores == sorted(scores, reverse=True), captions
    easy = next(r for r in panel.locator("#aln_info table tr").all_inner_texts() if r.startswith(EASY))
    assert easy.count("✓") >= 2, easy
    return f"table and 8 + 8 neighbours shown; {EASY} read right by both"


def browser_sample(page, panel, timeout_ms: int = 150_000) -> str:
    "Sample scene, the first pair (STRUCTURE), Explore: a zero-shot table with the truth, 8 sorted neighbours per model."
    panel.locator("#aln_go").click()
    return _check_result(page, panel, timeout_ms)


def browser_second_pair(page, panel, timeout_ms: int = 150_000) -> str:
    "Sample scene, the second pair (MobileCLIP2) picked in the dropdown, Explore: the same checks, and the table names the students."
    from playwright.sync_api import expect
    chosen = pick_option(page, panel.locator("#aln_pair input"), 1)
    assert chosen == PAIR_NAMES[1], chosen
    panel.locator("#aln_go").click()
    expect(panel.locator("#aln_info")).to_contain_text(list(PAIRS[PAIR_NAMES[1]].MODELS)[0], timeout=timeout_ms)
    return _check_result(page, panel, timeout_ms)


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
    assert panel.locator("#aln_left img").count() == 0
    assert "Traceback" not in panel.inner_text()
    return "message shown"


DEMO = Demo(TITLE, build, order=30,
            about="Pick a query image; see zero-shot attributes and nearest neighbours from STRUCTURE's aligned heads or the "
                  "MobileCLIP2 student beside their CLIP-only baselines (the 20_demo notebooks of structure and mobileclip2; "
                  "models: `make demo-models`).",
            ready=models_ready, warm=warm, api_check=api_check,
            browser={"sample query": browser_sample, "MobileCLIP2 pair": browser_second_pair, "not an image": browser_not_an_image})


if __name__ == "__main__":   # this tab alone: python -m apps.align_tab
    with gr.Blocks(title=TITLE) as demo: build()
    demo.queue(default_concurrency_limit=2).launch(server_name="127.0.0.1")
