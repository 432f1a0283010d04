"""Hallucination spans (RL4HS) — the hub's tab.

Paste a source (and, for QA, a question) and a response written from it; the response comes back with its
hallucinated spans highlighted, and a table gives each span's offsets and score. Detectors: the evidence verifier (the
default, shipped in models/rl4hs/verifier.json: each sentence checked against its most similar source sentences, with a
calibrated probability as its score), the supervised MiniLM tagger (a trained one ships in models/rl4hs/, `make
demo-models`), the CAPO-trained MiniLM tagger, and the
generative SmolLM2 policy (its reasoning is shown; on a CPU it takes tens of seconds, so its output is capped at
MAX_NEW_TOKENS). UI only: input checks, detectors, the shipped model and highlighting live in `lab.papers.rl4hs.detect`
(nbs/papers/rl4hs/20_demo.ipynb); the other checkpoints come from nbs/papers/rl4hs/10_rl4hs.ipynb and
nbs/papers/rl4hs/11_rl4hs_generative.ipynb. The Train button retrains a quick supervised tagger, which then replaces
the shipped one.
"""
from __future__ import annotations
import logging, re

import gradio as gr

from apps.common import Demo, Scaffold, warning
from lab.papers.rl4hs.detect import (DEFAULT_DETECTOR, DETECTORS, DetectError, available_detectors, describe_detector, detect, highlight, load_detector,
                                     save_quick_tagger)

TITLE = "Hallucination spans (RL4HS)"
log = logging.getLogger(__name__)
LABELS = {"verifier": "Evidence verifier (default: best on real LLM output; calibrated per-sentence scores)",
          "sft": "Supervised tagger (MiniLM, LettuceDetect-style)", "capo": "CAPO tagger (MiniLM, GRPO + CAPO)",
          "generative": "Generative policy (SmolLM2, shows its reasoning; slow on CPU)"}
CHOICES = [(LABELS[d], d) for d in DETECTORS]
MAX_NEW_TOKENS = 192          # generative: completion cap (SmolLM2-135M writes ~10-20 tokens/s on a laptop CPU)
N_EXAMPLES = 6


def examples() -> list[list]:
    "A few test-split responses of the span benchmark, hallucinated ones first: [source, question, response, detector] rows."
    try:
        from lab.families.spans.bench import load_spanbench
        test = load_spanbench()["test"]
    except Exception as e:                      # the demo works without the benchmark; it just has no examples
        log.warning("no benchmark examples: %s", e); return []
    picked, seen = [], set()
    for hallucinated in (True, False):          # one hallucinated response per task type, then one clean one
        for e in test:
            key = (e.task_type, bool(e.spans))
            if bool(e.spans) != hallucinated or key in seen: continue
            seen.add(key); picked.append([e.reference, e.question or "", e.response, DEFAULT_DETECTOR])
    return picked[:N_EXAMPLES]


def status_markdown() -> str:
    "Which model each detector uses (shipped default, trained here, or missing and how to make it)."
    return "\n".join(f"- {LABELS[d]}: {describe_detector(d)}" for d in DETECTORS)


def _fail(msg: str):
    return [(msg, "error")], [], "", warning(msg)


def _detect(source, question, response, detector):
    det = detect(source, response, question or None, detector or DEFAULT_DETECTOR, max_new_tokens=MAX_NEW_TOKENS)
    rows = [[s["start"], s["end"], s["text"], round(s["score"], 3)] for s in det.spans]
    n, by = len(det.spans), LABELS.get(det.detector, det.detector)
    msg = (f"**{n} hallucinated span{'s' * (n != 1)}** found by {by} in {det.seconds:.2f} s." if n
           else f"**No hallucinated span** found by {by} ({det.seconds:.2f} s).")
    if det.warnings: msg += "\n\n" + "\n".join(f"- note: {w}" for w in det.warnings)
    return highlight(response, det.spans), rows, det.reasoning or "", msg


def _train(on_progress) -> str:
    return f"Saved a quick supervised tagger to `{save_quick_tagger('sft', on_progress=on_progress)}`; it replaces the shipped one."


TAB = Scaffold("span detection", status_markdown, _train, "Retrain a quick supervised tagger (~3 min)")
run_detect = TAB.guarded(_detect, _fail, expected=(DetectError,))
run_detect.__doc__ = "Highlighted response, span table, reasoning and a status line; every problem becomes a message, never an exception."


def warm() -> None:
    "Load the default detector (the hub calls this at start-up)."
    with TAB.lock: load_detector(DEFAULT_DETECTOR)


def build() -> None:
    "The tab's components (inside the current gr.Tab / gr.Blocks)."
    gr.Markdown("Paste a **source** (an article, passages, or a JSON record), an optional **question**, and a **response** "
                "written from the source. The detector marks the characters of the response that the source does not support.")
    TAB.status_block(elem_id="spans_status")
    with gr.Row():
        with gr.Column():
            source = gr.Textbox(label="Source", lines=8, max_lines=20, placeholder="The document / passages / JSON record", elem_id="spans_source")
            question = gr.Textbox(label="Question (QA only, optional)", lines=1, elem_id="spans_question")
            response = gr.Textbox(label="Response", lines=5, max_lines=15, placeholder="The text to check", elem_id="spans_response")
            detector = gr.Dropdown(CHOICES, value=DEFAULT_DETECTOR, label="Detector", elem_id="spans_detector")
            with gr.Row():
                go = gr.Button("Detect", variant="primary", elem_id="spans_detect")
                TAB.train_button(elem_id="spans_train")
        with gr.Column():
            info = gr.Markdown(elem_id="spans_info")
            out = gr.HighlightedText(label="Response with hallucinated spans", combine_adjacent=True,
                                     color_map={"hallucinated": "red", "error": "orange"}, show_legend=True, elem_id="spans_output")
            table = gr.Dataframe(headers=["start", "end", "text", "score"], datatype=["number", "number", "str", "number"],
                                 label="Spans (end-exclusive character offsets)", interactive=False, elem_id="spans_table")
            reasoning = gr.Textbox(label="Reasoning / raw output (generative policy)", lines=6, interactive=False, elem_id="spans_reasoning")
    ex = examples()
    if ex: gr.Examples(ex, [source, question, response, detector], label="Examples from the span benchmark (test split; hallucinated first)",
                       elem_id="spans_examples")
    go.click(run_detect, [source, question, response, detector], [out, table, reasoning, info], api_name="detect")


# ---- how checks drive this demo (tests/test_hub.py, tests/test_browser.py, scripts/screenshot_hub.py) ----

def api_check(client) -> str:
    "A hallucinated benchmark example through /detect: at least one span, each span's text at its offsets."
    src, q, resp, _ = examples()[0]
    hl, table, reasoning, info = client.predict(src, q, resp, "sft", api_name="/detect")
    assert "⚠️" not in info and table["data"], info
    for start, end, text, score in table["data"]: assert resp[int(start):int(end)] == text
    return f"{len(table['data'])} span(s): {info.splitlines()[0]}"


def _squash(s: str) -> str: return re.sub(r"\s+", "", s)   # HighlightedText puts spaces between its tokens


BROWSER_CASE = ("The council approved 12 million dollars for parks in March.",     # the shipped verifier marks the 2nd sentence (20_demo tests it)
                "The council approved 12 million dollars for parks in March. The mayor resigned after a bitter dispute with 45 officials.")


def browser_highlight(page, panel, timeout_ms: int = 150_000) -> str:
    "Load the first benchmark example (the fields fill), then a response with an unsupported sentence; press Detect: it comes back highlighted."
    from playwright.sync_api import expect
    panel.locator("#spans_examples tbody tr").first.click()
    response = panel.locator("#spans_response textarea")
    expect(response).not_to_have_value("", timeout=30_000)
    panel.locator("#spans_source textarea").fill(BROWSER_CASE[0])
    panel.locator("#spans_question textarea").fill("")
    response.fill(BROWSER_CASE[1]); text = BROWSER_CASE[1]
    panel.locator("#spans_detect").click()
    field = panel.locator("#spans_output .textfield")
    expect(field).to_be_visible(timeout=timeout_ms)
    expect(panel.locator("#spans_info")).to_contain_text("found by", timeout=timeout_ms)
    rendered = field.inner_text()
    assert _squash(text) in _squash(rendered), (text, rendered)
    marked = field.locator(".token.highlighted").all_inner_texts()
    assert marked, f"no highlighted span: {panel.locator('#spans_info').inner_text()}"
    assert all(_squash(t) in _squash(text) for t in marked), marked
    return f"{len(marked)} highlighted token group(s), e.g. {marked[0]!r}"


def browser_empty_response(page, panel, timeout_ms: int = 60_000) -> str:
    "An empty response: a readable message, no stack trace."
    panel.locator("#spans_source textarea").fill("The Eiffel Tower is in Paris.")
    panel.locator("#spans_response textarea").fill("")
    panel.locator("#spans_detect").click()
    from playwright.sync_api import expect
    expect(panel.locator("#spans_info")).to_contain_text("Response is empty", timeout=timeout_ms)
    text = panel.inner_text()
    assert "Traceback" not in text, text[:2000]
    return "message shown"


DEMO = Demo(TITLE, build, order=10,
            about="Paste a source and a response written from it; the hallucinated spans are highlighted "
                  "(nbs/papers/rl4hs/20_demo.ipynb; models: nbs/papers/rl4hs/10_rl4hs.ipynb, `make demo-models`).",
            ready=lambda: available_detectors()[DEFAULT_DETECTOR], warm=warm, api_check=api_check,
            browser={"highlights a hallucinated example": browser_highlight, "empty response": browser_empty_response})


if __name__ == "__main__":
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        build()
    demo.queue(default_concurrency_limit=2).launch(server_name="127.0.0.1")
