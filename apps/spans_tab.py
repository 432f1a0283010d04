"""Hallucination spans (RL4HS) — the hub's tab.

Paste a source (and, for QA, a question) and a response written from it; the response comes back with its
hallucinated spans highlighted, and a table gives each span's offsets and score. Detectors: the supervised MiniLM
tagger, the CAPO-trained MiniLM tagger, and the generative SmolLM2 policy (its reasoning is shown; on a CPU it takes
tens of seconds, so its output is capped at --max-new-tokens). UI only: input checks, detectors and highlighting
live in `lab.papers.rl4hs.detect` (nbs/papers/rl4hs/20_demo.ipynb); the checkpoints come from nbs/papers/rl4hs/10_rl4hs.ipynb and
nbs/papers/rl4hs/11_rl4hs_generative.ipynb. When the supervised tagger is missing the tab offers a quick training run.
"""
from __future__ import annotations
import logging, threading

import gradio as gr

from lab.papers.rl4hs.detect import (DETECTORS, HOW_TO_MAKE, DetectError, available_detectors, detect, highlight, quick_train)

TITLE = "Hallucination spans (RL4HS)"
log = logging.getLogger(__name__)
_lock = threading.Lock()
LABELS = {"sft": "Supervised tagger (MiniLM, LettuceDetect-style)", "capo": "CAPO tagger (MiniLM, GRPO + CAPO)",
          "generative": "Generative policy (SmolLM2, shows its reasoning; slow on CPU)"}
CHOICES = [(LABELS[d], d) for d in DETECTORS]
MAX_NEW_TOKENS = 192          # generative: completion cap (SmolLM2-135M writes ~10-20 tokens/s on a laptop CPU)
N_EXAMPLES = 6


def examples() -> list[list]:
    "A few test-split responses of the span benchmark: [source, question, response, detector] rows (empty if unavailable)."
    try:
        from lab.families.spans.bench import load_spanbench
        test = load_spanbench()["test"]
    except Exception as e:                      # the demo works without the benchmark; it just has no examples
        log.warning("no benchmark examples: %s", e); return []
    picked, seen = [], set()
    for e in test:                              # one clean and one hallucinated response per task type
        key = (e.task_type, bool(e.spans))
        if key in seen: continue
        seen.add(key); picked.append([e.reference, e.question or "", e.response, "sft"])
        if len(picked) >= N_EXAMPLES: break
    return picked


def status_markdown() -> str:
    "Which detectors are ready, and how to make the missing ones."
    have = available_detectors()
    lines = [f"- {LABELS[d]}: " + ("**ready**" if have[d] else f"**missing** — {HOW_TO_MAKE[d]}") for d in DETECTORS]
    return "\n".join(lines)


def _fail(msg: str):
    return [(msg, "error")], [], "", f"**⚠️ {msg}**"


def run_detect(source, question, response, detector):
    "Highlighted response, span table, reasoning and a status line; every problem becomes a message, never an exception."
    try:
        with _lock:                              # one model call at a time (CPU)
            det = detect(source, response, question or None, detector or "sft", max_new_tokens=MAX_NEW_TOKENS)
    except DetectError as e:
        return _fail(str(e))
    except Exception as e:                       # last resort: log the traceback, show one line
        log.exception("span detection failed")
        return _fail(f"unexpected error: {type(e).__name__}: {e}")
    rows = [[s["start"], s["end"], s["text"], round(s["score"], 3)] for s in det.spans]
    n = len(det.spans)
    msg = (f"**{n} hallucinated span{'s' * (n != 1)}** found by {LABELS.get(det.detector, det.detector)} in {det.seconds:.2f} s."
           if n else f"**No hallucinated span** found by {LABELS.get(det.detector, det.detector)} ({det.seconds:.2f} s).")
    if det.warnings: msg += "\n\n" + "\n".join(f"- note: {w}" for w in det.warnings)
    return highlight(response, det.spans), rows, det.reasoning or "", msg


def train_now(progress=gr.Progress()):
    "Train the quick supervised tagger (minutes on a CPU) and report where it was saved."
    try:
        with _lock:
            path = quick_train("sft", on_progress=lambda f, m: progress(f, desc=m))
        return f"Saved a quick supervised tagger to `{path}`.\n\n" + status_markdown()
    except DetectError as e:
        return f"**⚠️ {e}**\n\n" + status_markdown()
    except Exception as e:
        log.exception("quick training failed")
        return f"**⚠️ quick training failed: {type(e).__name__}: {e}**\n\n" + status_markdown()


def build() -> None:
    "The tab's components (inside the current gr.Tab / gr.Blocks)."
    gr.Markdown("Paste a **source** (an article, passages, or a JSON record), an optional **question**, and a **response** "
                "written from the source. The detector marks the characters of the response that the source does not support.")
    status = gr.Markdown(status_markdown())
    with gr.Row():
        with gr.Column():
            source = gr.Textbox(label="Source", lines=8, max_lines=20, placeholder="The document / passages / JSON record", elem_id="spans_source")
            question = gr.Textbox(label="Question (QA only, optional)", lines=1, elem_id="spans_question")
            response = gr.Textbox(label="Response", lines=5, max_lines=15, placeholder="The text to check", elem_id="spans_response")
            detector = gr.Dropdown(CHOICES, value="sft", label="Detector", elem_id="spans_detector")
            with gr.Row():
                go = gr.Button("Detect", variant="primary", elem_id="spans_detect")
                train = gr.Button("Train a quick supervised tagger (~3 min)", visible=not available_detectors()["sft"])
        with gr.Column():
            info = gr.Markdown(elem_id="spans_info")
            out = gr.HighlightedText(label="Response with hallucinated spans", combine_adjacent=True,
                                     color_map={"hallucinated": "red", "error": "orange"}, show_legend=True, elem_id="spans_output")
            table = gr.Dataframe(headers=["start", "end", "text", "score"], datatype=["number", "number", "str", "number"],
                                 label="Spans (end-exclusive character offsets)", interactive=False, elem_id="spans_table")
            reasoning = gr.Textbox(label="Reasoning / raw output (generative policy)", lines=6, interactive=False, elem_id="spans_reasoning")
    ex = examples()
    if ex: gr.Examples(ex, [source, question, response, detector], label="Examples from the span benchmark (test split)", elem_id="spans_examples")
    go.click(run_detect, [source, question, response, detector], [out, table, reasoning, info], api_name="detect")
    train.click(train_now, None, status, api_name="train").then(lambda: gr.update(visible=not available_detectors()["sft"]), None, train, api_name=False)


if __name__ == "__main__":
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        build()
    demo.queue(default_concurrency_limit=2).launch(server_name="127.0.0.1")
