"""What every demo shares: how a demo registers itself (`Demo`), how the hub finds them (`discover`), and the tab
scaffold (`Scaffold`: one lock, warning messages, the model status line, the train button with a progress bar).

A demo is a module in `apps/` that defines `DEMO = Demo(title=..., build=..., ...)`; nothing else lists it. The hub
(`apps/hub.py`), the browser test (tests/test_browser.py), the hub test (tests/test_hub.py) and the screenshot script
(scripts/screenshot_hub.py) all call `discover()`. Each `Demo` also says how a check drives it: `api_check(client)`
calls its main endpoint through gradio_client, and `browser` maps a check's name to `fn(page, panel)`, which works the
tab in a real browser (Playwright) and raises AssertionError when the result is wrong. UI only: no model logic here.
"""
from __future__ import annotations
import importlib, logging, pkgutil, threading, traceback, warnings
from dataclasses import dataclass, field
from typing import Callable

import gradio as gr

log = logging.getLogger(__name__)
NOT_DEMOS = {"common", "hub"}   # the framework's own modules in apps/, never tabs


@dataclass
class Demo:
    "A demo tab, registered by its module as `DEMO`."
    title: str                                   # the tab's title
    build: Callable[[], None]                    # creates the tab's components inside the current gr.Tab
    order: int = 100                             # tab position (smaller first)
    about: str = ""                              # one line: what the demo does and which notebooks it comes from
    ready: Callable[[], bool] = lambda: True     # True when the demo has a model to answer with (the hub's /health)
    warm: Callable[[], None] | None = None       # loads the model ahead of the first request (the hub runs it in a thread)
    api_check: Callable | None = None            # fn(gradio_client.Client) -> str: calls the main endpoint, asserts a real result
    browser: dict[str, Callable] = field(default_factory=dict)  # check name -> fn(page, panel) (Playwright), raises on failure


@dataclass
class Found:
    "One demo module found by `discover`: its `Demo`, or the error that kept it from importing."
    module: str                                  # e.g. "apps.spans_tab"
    demo: Demo | None                            # None when the module failed to import
    error: str | None = None                     # "ImportError: ..." when it failed

    @property
    def title(self) -> str: return self.demo.title if self.demo else self.module.rsplit(".", 1)[-1]


def discover(package: str = "apps") -> list[Found]:
    "Every module of `package` that defines `DEMO = Demo(...)`, in tab order; a module that fails to import is kept with its error."
    pkg = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or info.name in NOT_DEMOS: continue
        name = f"{package}.{info.name}"
        try: mod = importlib.import_module(name)
        except Exception as e:                   # one broken demo must not hide the others: show and log it
            traceback.print_exc()
            found.append(Found(name, None, f"{type(e).__name__}: {e}")); continue
        demo = getattr(mod, "DEMO", None)
        if isinstance(demo, Demo): found.append(Found(name, demo))
    return sorted(found, key=lambda f: (f.demo.order if f.demo else 10**6, f.module))


def warning(msg: str) -> str:
    "Show `msg` as a warning toast (inside a Gradio event) and return it as the status line: '⚠️ msg'."
    with warnings.catch_warnings():              # outside a Gradio event (direct calls in tests) gradio would warn instead
        warnings.simplefilter("ignore")
        try: gr.Warning(msg)
        except Exception: pass
    return f"⚠️ {msg}"


class Scaffold:
    "What each tab repeats: one model call at a time, errors as messages, a model status line and a (re)train button."
    def __init__(self, name: str, # the demo's name in log lines
                 status: Callable[[], str], # markdown: which model is in use, or what is missing and how to make it
                 train: Callable[[Callable[[float, str], None]], str] | None = None, # fn(on_progress) -> markdown; trains and saves
                 train_label: str = "Train now", # the button's text
                ):
        self.name, self.status, self.train, self.train_label = name, status, train, train_label
        self.lock = threading.Lock()             # one model call at a time (CPU); training takes it too

    def guarded(self, fn: Callable, fail: Callable[[str], tuple], expected: tuple = (ValueError,)) -> Callable:
        "`fn` under the lock; an `expected` error becomes `fail(message)`, anything else is logged and `fail` says so (no stack trace in the UI)."
        def run(*args):
            try:
                with self.lock: return fn(*args)
            except expected as e:
                return fail(str(e))
            except Exception as e:
                log.exception("%s: %s failed", self.name, getattr(fn, "__name__", "call"))
                return fail(f"{self.name} failed ({type(e).__name__}: {str(e)[:200]}). The details are in the server log.")
        run.__name__, run.__doc__ = getattr(fn, "__name__", "run"), fn.__doc__
        return run

    def train_now(self, progress=gr.Progress(track_tqdm=True)) -> str:
        "Run the tab's training under the lock with a progress bar; the new status line (or what went wrong)."
        try:
            progress(0, desc="starting")
            with self.lock: msg = self.train(lambda f, m: progress(f, desc=m))
            return f"{msg}\n\n{self.status()}"
        except Exception as e:
            log.exception("%s: training failed", self.name)
            return f"⚠️ Training failed ({type(e).__name__}: {str(e)[:200]}). See the server log.\n\n{self.status()}"

    def status_block(self, **kw) -> gr.Markdown:
        "The status line (which model is in use), refreshed on every page load."
        md = gr.Markdown(self.status, **kw)      # a callable value: evaluated again on every page load
        self._status_md = md
        return md

    def train_button(self, **kw) -> gr.Button | None:
        "The (re)train button: trains with a progress bar and refreshes the status line (`status_block` first)."
        if self.train is None: return None
        b = gr.Button(self.train_label, **kw)
        b.click(self.train_now, None, self._status_md, api_name="train")
        return b


def pick_option(page, combobox, index: int) -> str:
    "Browser checks: open a gr.Dropdown (its input `combobox`) and choose its option number `index`; the option's text."
    from playwright.sync_api import expect
    combobox.click()
    options = page.get_by_role("option").filter(visible=True)
    options.first.wait_for()
    opt = options.nth(index)
    text = opt.inner_text().replace("✓", "").strip()
    opt.click()
    expect(options).to_have_count(0)
    return text
