"""The demo hub in a real headless browser: Debian's Chromium driven by Playwright (PyPI `playwright`, pointed at
/usr/bin/chromium; never `playwright install`). The hub runs in a subprocess on a free local port, offline, with an
empty LAB_ARTIFACTS_DIR, so every demo answers with its SHIPPED default model (models/, `make demo-models`), as on a
fresh clone. The checks come from the demos themselves: `apps.common.discover()` finds every demo, and each
`Demo.browser` maps a check's name to `fn(page, panel)`, which works the tab as a person would and raises when the
result is wrong (the span tab: a hallucinated benchmark example gets a highlighted span; the retrieval tab: a
held-out colour phrasing puts same-colour scenes on top; both: an empty input gives a readable message).

Screenshots go to a temporary folder, or to artifacts/screenshots/ with LAB_KEEP_SCREENSHOTS=1.
Skipped when /usr/bin/chromium is missing (`apt-get install chromium`) or playwright is not installed.
"""
import importlib.util, os, re, sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("LAB_CHROMIUM", "/usr/bin/chromium")
if not Path(CHROMIUM).exists(): pytest.skip(f"{CHROMIUM} is missing: apt-get install chromium", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="pip install playwright (dev requirement; uses the system chromium)")
from playwright.sync_api import expect

_spec = importlib.util.spec_from_file_location("screenshot_hub", ROOT / "scripts" / "screenshot_hub.py")
shub = importlib.util.module_from_spec(_spec); _spec.loader.exec_module(shub)
sys.path.insert(0, str(ROOT))
from apps.common import discover   # noqa: E402

DEMOS = discover()
CHECKS = [pytest.param(f, name, id=f"{f.module.rsplit('.', 1)[-1]}: {name}") for f in DEMOS for name in (f.demo.browser if f.demo else {})]
UI_MS = 30_000                                  # ms for page loads and UI reactions


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    "Where screenshots go."
    if os.environ.get("LAB_KEEP_SCREENSHOTS") == "1":
        d = Path(os.environ.get("LAB_ARTIFACTS_DIR", ROOT / "artifacts")) / "screenshots"
        d.mkdir(parents=True, exist_ok=True); return d
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    "The hub's URL, served by `python -m apps.hub` in a subprocess on a free port, nothing trained (stopped afterwards)."
    art = tmp_path_factory.mktemp("artifacts")
    log = tmp_path_factory.mktemp("hub") / "hub.log"
    url, proc = shub.start_hub(env={"LAB_ARTIFACTS_DIR": str(art)}, log_path=log, timeout=180)
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


def norm(s: str) -> str: return re.sub(r"\s+", " ", s).strip()


def shot(page, shots: Path, name: str) -> Path:
    page.wait_for_timeout(300)   # let transitions settle
    path = shots / name
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{path} looks empty"
    return path


def test_page_loads_with_tab_titles(page, shots):
    tabs = [norm(t) for t in page.get_by_role("tab").all_inner_texts()]
    assert len(DEMOS) >= 2 and all(f.error is None for f in DEMOS), [(f.module, f.error) for f in DEMOS]
    for title in [f.title for f in DEMOS] + ["About"]: assert title in tabs, tabs
    expect(page.get_by_role("heading", name="lab — demo hub")).to_be_visible()
    assert "Traceback" not in page.locator("body").inner_text()
    shot(page, shots, "hub_home.png")
    page.get_by_role("tab", name="About", exact=True).click()
    expect(page.get_by_role("tabpanel").filter(visible=True).last).to_contain_text("core/00_base.ipynb")
    shot(page, shots, "hub_about.png")


@pytest.mark.parametrize("found,check", CHECKS)
def test_demo_in_browser(page, shots, found, check):
    panel = shub.open_tab(page, found.title)
    text = panel.inner_text()
    assert "Traceback" not in text and "failed to load" not in text, text[:2000]
    assert "missing" not in panel.locator("[id$='_status']").first.inner_text().split("\n")[0].lower()   # the default model is there
    print(f"{found.title} / {check}: {found.demo.browser[check](page, panel)}")
    assert not re.search(r'File ".*", line \d+', norm(page.locator("body").inner_text()))
    shot(page, shots, f"{shub.slug(found.title)}__{shub.slug(check)}.png")
