#!/usr/bin/env python
"""Screenshot every tab of the lab's demo hub in a real headless Chromium (Debian's `chromium` package).

    .venv/bin/python scripts/screenshot_hub.py                       # starts a hub on a free port, one PNG per tab
    .venv/bin/python scripts/screenshot_hub.py --url http://127.0.0.1:7860/ --run --out /tmp/shots

Without `--url` it starts `python -m apps.hub` on a free local port (HF_HUB_OFFLINE=1, no analytics) and stops it
afterwards. The demos come from `apps.common.discover()` (no list here): with `--run`, each demo tab is first driven
by its own browser checks (`Demo.browser`: e.g. load a benchmark example and press Detect), and one PNG is taken after
each check. PNGs go to `--out` (default `artifacts/screenshots/`), named `NN_<tab>[__<check>].png`.

Chromium is driven with the PyPI `playwright` package pointed at the system binary (`--chromium`, default
/usr/bin/chromium: `apt-get install chromium`); never `playwright install`, which downloads its own browser.
tests/test_browser.py imports `launch_chromium`, `start_hub`, `stop_hub`, `open_hub` and `open_tab` from here.
"""
from __future__ import annotations
import argparse, os, re, signal, socket, subprocess, sys, tempfile, time, urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
# Headless as root on a machine without network: no sandbox (root), no GPU, and none of Chromium's background
# services (component updates, sync, QUIC, safe browsing...), which otherwise flood a closed network with requests.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


def free_port() -> int:
    "A free TCP port on 127.0.0.1."
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def http_status(url: str, timeout: float = 5) -> int:
    "The HTTP status of GET `url`, 0 when nothing answers."
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r: return r.status
    except Exception: return 0


def start_hub(port: int | None = None, # port to bind on 127.0.0.1 (default: a free one)
              env: dict | None = None, # extra environment variables for the hub process
              log_path: str | Path | None = None, # where the hub's stdout/stderr go (default: discarded)
              timeout: float = 180, # seconds to wait for HTTP 200 on / (gradio + torch imports are slow on a busy CPU)
             ) -> tuple[str, subprocess.Popen]:
    "Start `python -m apps.hub` in its own process group and wait until it serves: `(url, process)`."
    port = port or free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", **(env or {})}
    log = open(log_path, "w") if log_path else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "apps.hub", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    if log is not subprocess.DEVNULL: log.close()   # the child holds its own copy
    url, t0 = f"http://127.0.0.1:{port}/", time.time()
    while http_status(url) != 200:
        if proc.poll() is not None:
            raise RuntimeError(f"the hub exited with code {proc.returncode} before serving (log: {log_path or 'discarded'})")
        if time.time() - t0 > timeout:
            stop_hub(proc)
            raise TimeoutError(f"the hub did not answer 200 on {url} within {timeout:.0f}s (log: {log_path or 'discarded'})")
        time.sleep(1)
    return url, proc


def stop_hub(proc: subprocess.Popen, timeout: float = 20):
    "Stop a hub started by `start_hub`: Ctrl-C first (gradio closes its server), then SIGKILL its process group."
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try: proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired: pass
    try: os.killpg(proc.pid, signal.SIGKILL)   # also anything the hub started; its group is its own (start_new_session)
    except ProcessLookupError: pass
    proc.wait(timeout=10)


@contextmanager
def launch_chromium(executable: str = CHROMIUM, # Debian's chromium (apt-get install chromium)
                    width: int = 1280, height: int = 900): # viewport in CSS pixels
    "A Playwright browser context on the system Chromium with a fresh, empty user-data-dir; closed on exit."
    from playwright.sync_api import sync_playwright
    if not Path(executable).exists(): raise FileNotFoundError(f"{executable} not found: apt-get install chromium")
    with tempfile.TemporaryDirectory(prefix="lab-chromium-") as profile, sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(profile, executable_path=executable, headless=True, args=CHROMIUM_ARGS,
                                                   viewport={"width": width, "height": height}, timeout=60_000)
        try: yield ctx
        finally: ctx.close()


def slug(s: str) -> str:
    "A file-name-safe version of a tab title."
    return re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")[:40] or "tab"


def open_hub(ctx, url: str, timeout_ms: int = 60_000):
    "A new page on the hub, once its tabs are rendered."
    page = ctx.new_page()
    page.goto(url, timeout=timeout_ms)
    page.get_by_role("tab").first.wait_for(timeout=timeout_ms)
    return page


def open_tab(page, title: str, timeout_ms: int = 30_000):
    "Click the tab `title`; its visible panel."
    page.get_by_role("tab", name=title, exact=True).click()
    panel = page.get_by_role("tabpanel").filter(visible=True).last
    panel.wait_for(timeout=timeout_ms)
    return panel


def discovered_demos() -> list:
    "The hub's demos, as `apps.common.discover()` finds them (imported from this checkout)."
    sys.path.insert(0, str(ROOT))
    from apps.common import discover
    return discover()


def screenshot_tabs(url: str, out: Path, run: bool = False, timeout_s: float = 180) -> list[Path]:
    "One full-page PNG per tab of the hub at `url` into `out`; with `run`, one per demo browser check, after running it."
    out.mkdir(parents=True, exist_ok=True)
    demos = {f.title: f.demo for f in discovered_demos() if f.demo is not None} if run else {}
    shots = []
    with launch_chromium() as ctx:
        page = open_hub(ctx, url)
        titles = [t.strip() for t in page.get_by_role("tab").all_inner_texts()]
        for i, title in enumerate(titles):
            checks = demos[title].browser if title in demos else {}
            for name, check in (checks.items() or [(None, None)]):
                if check is not None: page.close(); page = open_hub(ctx, url)   # a fresh page: no state or toasts from the last check
                page.set_default_timeout(int(timeout_s * 1000))
                panel = open_tab(page, title)
                if check is not None:
                    try: print(f"[screenshot] {title} / {name}: {check(page, panel)}")
                    except Exception as e: print(f"[screenshot] {title} / {name}: FAILED {type(e).__name__}: {str(e)[:300]}")
                page.wait_for_timeout(500)
                path = out / (f"{i:02d}_{slug(title)}" + (f"__{slug(name)}" if name else "") + ".png")
                page.screenshot(path=str(path), full_page=True)
                shots.append(path); print(f"[screenshot] {title} -> {path}")
    return shots


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="scripts/screenshot_hub.py", description=__doc__.split("\n")[0])
    ap.add_argument("--url", help="a running hub (default: start one on a free port and stop it afterwards)")
    ap.add_argument("--out", type=Path, default=Path(os.environ.get("LAB_ARTIFACTS_DIR", ROOT / "artifacts")) / "screenshots",
                    help="folder for the PNGs (default: artifacts/screenshots, or $LAB_ARTIFACTS_DIR/screenshots)")
    ap.add_argument("--run", action="store_true", help="drive each demo with its browser checks before the screenshots")
    ap.add_argument("--timeout", type=float, default=180, help="seconds to wait for the hub to start / a demo to answer")
    a = ap.parse_args(argv)
    if a.url: screenshot_tabs(a.url, a.out, a.run, a.timeout); return 0
    url, proc = start_hub(log_path=Path(tempfile.gettempdir()) / "lab-screenshot-hub.log", timeout=a.timeout)
    try: screenshot_tabs(url, a.out, a.run, a.timeout)
    finally: stop_hub(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
