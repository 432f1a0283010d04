"""The demo hub in a real headless browser: Debian's Chromium driven by Playwright (PyPI `playwright`, pointed at
/usr/bin/chromium; never `playwright install`). The hub runs in a subprocess on a free local port, offline, with tiny
FocalLens checkpoints trained into a temporary LAB_ARTIFACTS_DIR (seconds), so these tests check what a person sees
and clicks (tabs, buttons, highlighted spans, gallery images, readable errors), not model quality.

Screenshots go to a temporary folder, or to artifacts/screenshots/ with LAB_KEEP_SCREENSHOTS=1.
Skipped when /usr/bin/chromium is missing (`apt-get install chromium`) or playwright is not installed.
"""
import importlib.util, os, re, subprocess, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).exists(): pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev requirement; uses the system chromium)")
from playwright.sync_api import expect

_spec = importlib.util.spec_from_file_location("screenshot_hub", ROOT / "scripts" / "screenshot_hub.py")
shub = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(shub)

SPANS_TITLE = "Hallucination spans (RL4HS)"     # apps/hub.py DEMOS (a module's TITLE overrides it)
RETRIEVAL_TITLE = "Conditional retrieval (FocalLens)"
PLACEHOLDER = "This demo is not built yet"      # what apps/hub.py shows for a missing demo module
UI_MS = 30_000                                  # ms for page loads and UI reactions
RUN_MS = 150_000                                # ms for a demo's first answer (model loading on a busy shared CPU)
TINY_FOCAL = dict(n_train=16, per_scene=2, dim=32, depth=1, heads=2, clip_steps=3, stage1_steps=2, stage2_steps=3,
                  batch_size=8, n_gallery=12)  # as tests/test_retrieval_app.py: plumbing, not quality


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    "Where screenshots go."
    if os.environ.get("LAB_KEEP_SCREENSHOTS") == "1":
        d = Path(os.environ.get("LAB_ARTIFACTS_DIR", ROOT / "artifacts")) / "screenshots"
        d.mkdir(parents=True, exist_ok=True); return d
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> Path:
    """A temporary LAB_ARTIFACTS_DIR with tiny demo checkpoints, made in a subprocess: FocalLens + caption baseline
    (trained for a few steps) and a random, untrained 2-layer span tagger saved as `tagger_sft` (the span tab's
    default detector). Its output bias is +1 instead of the sparse -4.5 and its head weights are tiny, so every token
    gets p ~ 0.73 > 0.5: it marks the whole response, and the page must render that as a highlighted span."""
    art = tmp_path_factory.mktemp("artifacts")
    code = ("from lab.papers.focallens.experiment import QuickTrainConfig, quick_train\n"
            f"quick_train(QuickTrainConfig(**{TINY_FOCAL!r}), progress_bar=False)\n"
            "try: from lab.papers.rl4hs.tagger import save_tagger, tiny_tagger\n"
            "except ImportError: pass   # the span tab is not there yet\n"
            "else: save_tagger(tiny_tagger(seed=0, init_bias=1.0), 'tagger_sft', {'made_by': 'tests/test_browser.py', 'trained': False})\n")
    env = {**os.environ, "LAB_ARTIFACTS_DIR": str(art), "HF_HUB_OFFLINE": "1", "LAB_PROGRESS": "0"}
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, f"making the tiny demo checkpoints failed:\n{r.stderr[-3000:]}"
    return art


@pytest.fixture(scope="module")
def hub(artifacts, tmp_path_factory):
    "The hub's URL, served by `python -m apps.hub` in a subprocess on a free port (stopped afterwards)."
    log = tmp_path_factory.mktemp("hub") / "hub.log"
    url, proc = shub.start_hub(env={"LAB_ARTIFACTS_DIR": str(artifacts)}, log_path=log, timeout=180)
    print(f"hub: {url} (pid {proc.pid}, log {log})")
    try: yield url
    finally:
        shub.stop_hub(proc)
        assert proc.poll() is not None


@pytest.fixture(scope="module")
def browser(hub):
    "A headless Chromium context (fresh profile) for the whole module."
    with shub.launch_chromium(CHROMIUM) as ctx: yield ctx


@pytest.fixture
def page(browser, hub):
    "A fresh page on the hub, its tabs rendered; closed after the test."
    p = shub.open_hub(browser, hub, UI_MS)
    p.set_default_timeout(UI_MS)
    yield p
    p.close()


def open_tab(page, title: str):
    "Click the tab `title`; its panel. Skips the test when the demo is still a placeholder."
    page.get_by_role("tab", name=title, exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True).last
    panel.wait_for()
    if panel.get_by_text(PLACEHOLDER).count():
        pytest.skip(f"{title}: the hub shows the placeholder (its apps/ module is not written yet)")
    assert "Traceback" not in panel.inner_text() and "failed to load" not in panel.inner_text(), panel.inner_text()[:2000]
    return panel


def by_id_or_label(panel, elem_id: str, label: str):
    "An input found by its elem_id when the tab sets one, else by its label."
    el = panel.locator(f"#{elem_id} textarea, #{elem_id} input")
    return el.first if el.count() else panel.get_by_label(label, exact=True)


def block(panel, elem_id: str, label: str):
    "A component's block by elem_id, else by its block label."
    el = panel.locator(f"#{elem_id}")
    if el.count(): return el.first
    return panel.locator(".block").filter(has=panel.page.get_by_test_id("block-label").filter(has_text=label)).last


def pick_option(page, combobox, index: int) -> str:
    "Open a gr.Dropdown and choose its option number `index`; the option's text."
    combobox.click()
    options = page.get_by_role("option").filter(visible=True)
    options.first.wait_for()
    opt = options.nth(index)
    text = opt.inner_text().replace("✓", "").strip()
    opt.click()
    expect(options).to_have_count(0)   # the list closed
    return text


def norm(s: str) -> str: return re.sub(r"\s+", " ", s).strip()


def shot(page, shots: Path, name: str) -> Path:
    page.wait_for_timeout(300)   # let transitions settle
    path = shots / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


def test_page_loads_with_tab_titles(page, shots):
    tabs = [norm(t) for t in page.get_by_role("tab").all_inner_texts()]
    for title in [SPANS_TITLE, RETRIEVAL_TITLE, "About"]: assert title in tabs, tabs
    expect(page.get_by_role("heading", name="lab — demo hub")).to_be_visible()
    assert "Traceback" not in page.locator("body").inner_text()
    shot(page, shots, "hub_home.png")
    page.get_by_role("tab", name="About", exact=True).click()
    expect(page.get_by_role("tabpanel").filter(visible=True).last).to_contain_text("core/00_base.ipynb")
    shot(page, shots, "hub_about.png")


# The span tab (apps/spans_tab.py, helper TAGGER): elem_ids it may set, with the labels used when it does not.
SPANS = dict(source=("spans_source", "Source"), response=("spans_response", "Response"),
             output=("spans_output", "Response with hallucinated spans"))


def test_spans_tab_highlights_response(page, shots):
    panel = open_tab(page, SPANS_TITLE)
    examples = (panel.locator("#spans_examples tbody tr") if panel.locator("#spans_examples").count() else   # gr.Examples' table
                panel.locator("table").filter(has=panel.page.get_by_role("columnheader", name="Response", exact=True)).locator("tbody tr"))
    response = by_id_or_label(panel, *SPANS["response"])
    if examples.count():
        examples.first.click()
        expect(response).not_to_have_value("", timeout=UI_MS)
    else:
        by_id_or_label(panel, *SPANS["source"]).fill(
            "The Eiffel Tower is in Paris. It was completed in 1889 and is 330 metres tall.")
        response.fill("The Eiffel Tower, completed in 1925, stands in Paris and is 330 metres tall.")
    text = response.input_value()
    detect = panel.locator("#spans_detect") if panel.locator("#spans_detect").count() else panel.locator("button.primary").first
    detect.click()
    out = block(panel, *SPANS["output"])
    field = out.locator(".textfield")
    expect(field).to_be_visible(timeout=RUN_MS)
    expect(field).not_to_be_empty(timeout=RUN_MS)
    squash = lambda s: re.sub(r"\s+", "", s)   # the component puts spaces between its tokens
    rendered = field.inner_text()
    assert squash(text) in squash(rendered), (text, rendered)
    marked = field.locator(".token.highlighted")   # the fixture's tagger marks every token
    assert marked.count() >= 1, rendered
    assert all(squash(t) in squash(text) for t in marked.all_inner_texts())
    shot(page, shots, "spans_result.png")


def test_retrieval_tab_fills_gallery(page, shots):
    panel = open_tab(page, RETRIEVAL_TITLE)
    pick_option(page, by_id_or_label(panel, "ret_sample", "Sample query scene"), 2)
    preset = pick_option(page, by_id_or_label(panel, "ret_preset", "Presets (the first six are held-out phrasings)"), 1)
    expect(by_id_or_label(panel, "ret_condition", "Condition")).to_have_value(preset)   # preset.change filled it in
    (panel.locator("#ret_search") if panel.locator("#ret_search").count()
     else panel.get_by_role("button", name="Search", exact=True)).click()
    gallery = block(panel, "ret_focal", "FocalLens (conditional)")
    imgs = gallery.locator("img")
    expect(imgs.first).to_be_visible(timeout=RUN_MS)
    expect(panel).to_contain_text(f"Condition: {preset}")
    gallery.scroll_into_view_if_needed()
    page.wait_for_function("els => els.every(e => e.complete && e.naturalWidth > 0)", arg=imgs.element_handles(), timeout=UI_MS)
    n = imgs.count()
    assert n >= 1
    baseline = block(panel, "ret_base", "Caption baseline (unconditional)").locator("img")
    assert baseline.count() == n, (baseline.count(), n)
    captions = gallery.locator(".caption-label").all_inner_texts()
    scores = [float(c.split(" ")[0]) for c in captions]
    assert len(scores) == n and scores == sorted(scores, reverse=True), captions
    shot(page, shots, "retrieval_result.png")


def visible_messages(page) -> str:
    "The text of the page's toasts and the visible tab panel."
    toasts = " ".join(page.get_by_test_id("toast-body").all_inner_texts())
    return norm(toasts + " " + page.get_by_role("tabpanel").filter(visible=True).last.inner_text())


def assert_readable_error(page, *needles: str):
    "A message with `needles` is in the page (a toast or the tab's status), and no Python stack trace is."
    page.wait_for_function("""needles => {
        const t = document.body.innerText.toLowerCase();
        return needles.every(n => t.includes(n.toLowerCase())); }""", arg=list(needles), timeout=RUN_MS)
    text = visible_messages(page)
    assert "Traceback" not in text and not re.search(r'File ".*", line \d+', text), text[:3000]


def test_retrieval_empty_condition_shows_message(page, shots):
    panel = open_tab(page, RETRIEVAL_TITLE)
    cond = by_id_or_label(panel, "ret_condition", "Condition")
    cond.fill("")
    expect(cond).to_have_value("")
    (panel.locator("#ret_search") if panel.locator("#ret_search").count()
     else panel.get_by_role("button", name="Search", exact=True)).click()
    assert_readable_error(page, "condition", "empty")
    assert block(panel, "ret_focal", "FocalLens (conditional)").locator("img").count() == 0
    shot(page, shots, "retrieval_empty_condition.png")


def test_spans_empty_response_shows_message(page, shots):
    panel = open_tab(page, SPANS_TITLE)
    by_id_or_label(panel, *SPANS["source"]).fill("The Eiffel Tower is in Paris.")
    response = by_id_or_label(panel, *SPANS["response"])
    response.fill("")
    detect = panel.locator("#spans_detect") if panel.locator("#spans_detect").count() else panel.locator("button.primary").first
    detect.click()
    assert_readable_error(page, "response", "empty")
    shot(page, shots, "spans_empty_response.png")
