"""The lab's demo hub: one Gradio app with a tab per demo, plus an About tab listing the notebooks.

    python -m apps.hub [--host 127.0.0.1] [--port 7860] [--share] [--concurrency 2]     (or `make hub`)

Each demo is a module in `apps/` exposing `TITLE: str` and `build() -> None`, which creates its components
inside the current `gr.Tab`. A demo module that does not exist yet gets a placeholder tab saying which notebook
and issue will fill it; one that fails to import or build gets a tab showing the error (and it is logged), so
one broken demo never takes the hub down. The hub binds 127.0.0.1 unless `--host` says otherwise, opens a public
link only with `--share`, sends no analytics, and queues requests with a concurrency limit. `GET /` answers 200
once it is up; the API endpoints `/health` and `/about` let tests drive it through `gradio_client`.
"""
from __future__ import annotations
import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry, no version check

import argparse, importlib, sys, traceback
from typing import Callable

import gradio as gr

import lab
from lab.core.regress import notebook_summaries, project_root

# The demos, in tab order: the module that implements each, and who fills it in until it exists.
DEMOS = [
    dict(module="apps.spans_tab", title="Hallucination spans (RL4HS)",
         notebooks="nbs/papers/rl4hs/01_tagger.ipynb, nbs/papers/rl4hs/10_rl4hs.ipynb", issue="issue 3 (RL4HS)",
         what="Paste a source (and question) and a response written from it; the hallucinated spans are highlighted."),
    dict(module="apps.retrieval_tab", title="Conditional retrieval (FocalLens)",
         notebooks="nbs/papers/focallens/01_method.ipynb, nbs/papers/focallens/10_focallens.ipynb", issue="issue 4 (FocalLens)",
         what="Pick a query image and type a condition; the gallery is ranked by conditional similarity."),
]


def load_demo(spec: dict) -> tuple[str, Callable | None, str]:
    "Import a demo module: `(tab title, build or None, status)`; status is 'ready', 'placeholder' or 'error: ...'."
    try:
        mod = importlib.import_module(spec["module"])
    except ModuleNotFoundError as e:
        if e.name == spec["module"]: return spec["title"], None, "placeholder"
        return spec["title"], None, f"error: {type(e).__name__}: {e}"
    except Exception as e:  # a demo that is there but broken must not take the hub down: show and log it
        traceback.print_exc()
        return spec["title"], None, f"error: {type(e).__name__}: {e}"
    build = getattr(mod, "build", None)
    if not callable(build): return spec["title"], None, f"error: {spec['module']} has no build() function"
    return str(getattr(mod, "TITLE", spec["title"])), build, "ready"


def placeholder_markdown(spec: dict, status: str) -> str:
    "What a tab shows while its demo module is missing (or broken)."
    path = spec["module"].replace(".", "/") + ".py"
    head = (f"**This demo failed to load** — `{status}` (the traceback is in the hub's log)." if status.startswith("error")
            else f"**This demo is not built yet.** {spec['issue']} fills it in as `{path}`.")
    return (f"### {spec['title']}\n\n{head}\n\n{spec['what']}\n\n"
            f"- Notebooks: {spec['notebooks']} — run them (`make lab`) to train the model the demo loads.\n"
            f"- The module exposes `TITLE: str` and `build() -> None` (components created inside this tab).\n"
            f"- Then restart the hub: `make hub` (or `.venv/bin/python -m apps.hub`).")


def about_markdown(rows: list[dict]) -> str:
    "The About tab: what the lab is and its notebooks."
    lines = [f"### lab {lab.__version__}",
             "Literate, offline-runnable reimplementations of recent ML papers. The notebooks are the source of truth; "
             "`nbdev_export` turns them into the `lab` package that these demos import.", ""]
    if not rows: return "\n".join(lines + ["(no notebooks found next to this installation)"])
    lines += ["| notebook | module | what it is |", "|---|---|---|"]
    lines += [f"| `{r['notebook']}` | {('`' + r['module'] + '`') if r['module'] else '—'} | "
              f"{(r['title'] + ': ' if r['title'] else '') + r['summary']} |".replace("\n", " ") for r in rows]
    return "\n".join(lines)


def build_hub(concurrency: int = 2, # requests each event runs at once (the queue's default_concurrency_limit)
              max_queue: int = 64, # requests waiting before new ones are refused
             ) -> gr.Blocks:
    "The hub as a `gr.Blocks`: one tab per demo, an About tab, `/health` and `/about` API endpoints, a request queue."
    status: dict[str, str] = {}
    root = project_root()
    rows = notebook_summaries(root / "nbs") if (root / "nbs").is_dir() else []
    with gr.Blocks(title="lab — demo hub", analytics_enabled=False) as hub:
        gr.Markdown("# lab — demo hub\nOne tab per demo; models and logic come from the `lab` package.")
        with gr.Tabs():
            for spec in DEMOS:
                title, build, st = load_demo(spec)
                with gr.Tab(title):
                    if build is None: gr.Markdown(placeholder_markdown(spec, st))
                    else:
                        try: build()
                        except Exception as e:
                            traceback.print_exc()
                            st = f"error: {type(e).__name__}: {e}"
                            gr.Markdown(placeholder_markdown(spec, st))
                status[title] = st
            with gr.Tab("About"):
                gr.Markdown(about_markdown(rows))

        def health() -> dict:
            "Liveness and the state of each demo tab."
            return {"status": "ok", "lab_version": lab.__version__, "demos": dict(status)}

        def about() -> list:
            "The lab's notebooks: notebook, module, title, summary."
            return rows

        gr.api(health, api_name="health")
        gr.api(about, api_name="about")
    hub.queue(default_concurrency_limit=concurrency, max_size=max_queue)
    return hub


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m apps.hub", description="Serve the lab's demo hub.")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    ap.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    ap.add_argument("--concurrency", type=int, default=2, help="requests each demo runs at once (default 2)")
    a = ap.parse_args(argv)
    hub = build_hub(a.concurrency)
    print(f"[hub] serving on http://{a.host}:{a.port} (Ctrl-C stops it)", flush=True)
    hub.launch(server_name=a.host, server_port=a.port, share=a.share, ssr_mode=False, show_error=True, inbrowser=False)


if __name__ == "__main__":
    sys.exit(main())
