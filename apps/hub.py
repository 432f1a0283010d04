"""The lab's demo hub: one Gradio app with a tab per demo, plus an About tab: the reproduction dashboard and the notebooks.

    python -m apps.hub [--host 127.0.0.1] [--port 7860] [--share] [--concurrency 2]     (or `make hub`)

The tabs come from `apps.common.discover()`: every module in `apps/` that defines `DEMO = Demo(...)` (no central
list). A demo module that fails to import or build gets a tab showing the error (and it is logged), so one broken
demo never takes the hub down. The demos' default models ship in `models/` (`make demo-models`), so a fresh clone
answers without training anything. The hub binds 127.0.0.1 unless `--host` says otherwise, opens a public link only
with `--share`, sends no analytics, and queues requests with a concurrency limit. `GET /` answers 200 once it is up;
the API endpoints `/health` (each demo: 'ready', 'no model' or 'error: ...'), `/about` (the notebooks) and `/dashboard`
(one row per recorded run: its claims, what held, the verdict, the command) let tests drive it through `gradio_client`.
The dashboard is `lab.core.records.dashboard_markdown()`, rendered from the committed `results/recorded/<paper>/<run>.json`.
"""
from __future__ import annotations
import os

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # before gradio is imported: no telemetry, no version check

import argparse, sys, threading, time, traceback

import gradio as gr

import lab
from apps.common import Found, discover
from lab.core.records import dashboard_markdown, dashboard_rows
from lab.core.regress import notebook_summaries, project_root


def error_markdown(found: Found, status: str) -> str:
    "What a tab shows when its demo failed to import or build."
    path = found.module.replace(".", "/") + ".py"
    about = found.demo.about if found.demo else ""
    return (f"### {found.title}\n\n**This demo failed to load** — `{status}` (the traceback is in the hub's log).\n\n{about}\n\n"
            f"- Fix `{path}` (it defines `DEMO = Demo(...)`, see `apps/common.py`), then restart the hub: `make hub`.")


def dashboard(root) -> tuple[str, list[dict]]:
    "The reproduction dashboard as markdown and as JSON-able rows; a broken record shows its error instead of taking the hub down."
    try: rows = dashboard_rows(root)
    except Exception as e:
        traceback.print_exc()
        return f"_The reproduction dashboard could not be built from `results/recorded/`: `{type(e).__name__}: {e}`._", []
    return dashboard_markdown(root), [
        {k: r[k] for k in ("paper", "run", "finding", "scale", "verdict", "command", "provenance")}
        | {"claims": [{"why": text, "check": x.claim.check, "holds": x.ok, "left": x.left, "right": x.right, "margin": x.margin} for text, x in r["results"]]}
        for r in rows]


def about_markdown(rows: list[dict], # the notebooks (lab.core.regress.notebook_summaries)
                   dashboard_md: str = "", # the reproduction dashboard (markdown), shown first
                  ) -> str:
    "The About tab: what the lab is, the reproduction dashboard and the notebooks."
    lines = [f"### lab {lab.__version__}",
             "Literate, offline-runnable reimplementations of recent ML papers. The notebooks are the source of truth; "
             "`nbdev_export` turns them into the `lab` package that these demos import.", ""]
    if dashboard_md:
        lines += ["#### Reproduction dashboard",
                  "Each paper's claims checked on the lab's recorded small-scale run; the verdict is computed from the numbers.", "",
                  dashboard_md, "", "#### Notebooks", ""]
    if not rows: return "\n".join(lines + ["(no notebooks found next to this installation)"])
    lines += ["| notebook | module | what it is |", "|---|---|---|"]
    lines += [f"| `{r['notebook']}` | {('`' + r['module'] + '`') if r['module'] else '—'} | "
              f"{(r['title'] + ': ' if r['title'] else '') + r['summary']} |".replace("\n", " ") for r in rows]
    return "\n".join(lines)


def build_hub(concurrency: int = 2, # requests each event runs at once (the queue's default_concurrency_limit)
              max_queue: int = 64, # requests waiting before new ones are refused
             ) -> gr.Blocks:
    "The hub as a `gr.Blocks`: one tab per discovered demo, an About tab, `/health` and `/about` API endpoints, a request queue."
    states: dict[str, tuple] = {}   # tab title -> (Demo or None, 'ready' | 'error: ...')
    root = project_root()
    rows = notebook_summaries(root / "nbs") if (root / "nbs").is_dir() else []
    dash_md, dash_rows = dashboard(root)
    with gr.Blocks(title="lab — demo hub", analytics_enabled=False) as hub:
        gr.Markdown("# lab — demo hub\nOne tab per demo; models and logic come from the `lab` package.")
        with gr.Tabs():
            for found in discover():
                with gr.Tab(found.title):
                    st = f"error: {found.error}" if found.error else "ready"
                    if found.demo is not None:
                        try: found.demo.build()
                        except Exception as e:
                            traceback.print_exc()
                            st = f"error: {type(e).__name__}: {e}"
                    if st != "ready": gr.Markdown(error_markdown(found, st))
                states[found.title] = (found.demo, st)
            with gr.Tab("About"):
                gr.Markdown(about_markdown(rows, dash_md))

        def health() -> dict:
            "Liveness and the state of each demo tab: 'ready', 'no model' (built, but nothing to answer with) or 'error: ...'."
            demos = {t: ("no model" if st == "ready" and not demo.ready() else st) for t, (demo, st) in states.items()}
            return {"status": "ok", "lab_version": lab.__version__, "demos": demos}

        def about() -> list:
            "The lab's notebooks: notebook, module, title, summary."
            return rows

        gr.api(health, api_name="health")
        def reproduction() -> list:
            "The reproduction dashboard: one row per recorded run with claims (paper, run, finding, scale, claims, verdict, command, provenance)."
            return dash_rows

        gr.api(about, api_name="about")
        gr.api(reproduction, api_name="dashboard")
    hub.queue(default_concurrency_limit=concurrency, max_size=max_queue)
    return hub


def resolve_lazy_imports():
    """Resolve transformers' lazily imported names once, in this thread, before the warm-up thread and request threads
    import them at the same time: transformers' lazy module is not thread-safe on first access (a fresh hub once
    answered /detect with "ImportError: cannot import name 'AutoModel' from 'transformers'" while the warm-up thread
    was importing sentence-transformers)."""
    import transformers
    for name in ("AutoModel", "AutoTokenizer", "AutoConfig", "AutoModelForCausalLM", "BertConfig", "BertModel", "PreTrainedTokenizerFast"):
        getattr(transformers, name)
    import sentence_transformers  # noqa: F401  (imports many transformers submodules: do it before the threads start)


def warm_up(found: list[Found]) -> threading.Thread:
    "Load every demo's model in a background thread, so the first request does not wait for it (each `Demo.warm`)."
    resolve_lazy_imports()
    def run():
        for f in found:
            if f.demo is None or f.demo.warm is None or not f.demo.ready(): continue
            t0 = time.perf_counter()
            try: f.demo.warm(); print(f"[hub] {f.title}: model loaded in {time.perf_counter() - t0:.1f}s", flush=True)
            except Exception: traceback.print_exc()   # the tab itself reports a missing model when used
    t = threading.Thread(target=run, name="warm-up", daemon=True)
    t.start()
    return t


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m apps.hub", description="Serve the lab's demo hub.")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    ap.add_argument("--share", action="store_true", help="also open a public gradio.live link (off by default)")
    ap.add_argument("--concurrency", type=int, default=2, help="requests each demo runs at once (default 2)")
    a = ap.parse_args(argv)
    hub = build_hub(a.concurrency)
    warm_up(discover())
    print(f"[hub] serving on http://{a.host}:{a.port} (Ctrl-C stops it)", flush=True)
    hub.launch(server_name=a.host, server_port=a.port, share=a.share, ssr_mode=False, show_error=True, inbrowser=False)


if __name__ == "__main__":
    sys.exit(main())
