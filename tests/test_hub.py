"""The demo hub, fresh: started with an empty LAB_ARTIFACTS_DIR (nothing trained here, as on a fresh clone), it answers
HTTP 200 on /, reports every discovered demo 'ready' on /health, and each demo's main endpoint returns a real result
from the shipped default models (each `Demo.api_check`, see apps/common.py) through gradio_client. It binds 127.0.0.1
only. The time from starting `python -m apps.hub` to every demo having answered is printed (run with -s to see it)."""
import os, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 180  # s: importing gradio + torch on a busy 2-core machine takes a while
sys.path.insert(0, str(ROOT))
from apps.common import discover   # noqa: E402
from lab.core.records import evaluate_record, list_records, verdict   # noqa: E402

DEMOS = discover()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r: return r.status
    except Exception: return 0


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    "(url, process, start time): `python -m apps.hub` on a free port with an empty artifacts dir."
    port = _free_port()
    art = tmp_path_factory.mktemp("artifacts")           # fresh: no checkpoint trained here
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1", "LAB_ARTIFACTS_DIR": str(art)}
    log_path = tmp_path_factory.mktemp("hub") / "hub.log"
    log = open(log_path, "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "apps.hub", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        while _get(url) != 200:
            if proc.poll() is not None: pytest.fail(f"the hub exited with {proc.returncode} before serving (log: {log_path})")
            if time.perf_counter() - t0 > START_TIMEOUT: pytest.fail(f"the hub did not answer 200 on {url} within {START_TIMEOUT}s")
            time.sleep(0.5)
        print(f"\n[hub] HTTP 200 after {time.perf_counter() - t0:.1f}s (log {log_path})")
        yield url, proc, t0
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)            # gradio closes its server on KeyboardInterrupt
            try: proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL); proc.wait(timeout=10)
        log.close()


def _recorded_verdicts() -> dict:
    "(paper, run) -> verdict, computed here from the committed records (what the dashboard must show)."
    return {(r.paper, r.run): verdict(evaluate_record(r)) for r in list_records(root=ROOT) if r.claims}


def test_about_tab_shows_the_reproduction_dashboard():
    from apps.hub import about_markdown, dashboard
    expected = _recorded_verdicts()
    assert ("focallens", "default_3seeds") in expected, expected
    md, rows = dashboard(ROOT)
    about = about_markdown([{"notebook": "core/00_base.ipynb", "module": "lab.core.base", "title": "Base", "summary": "seeding"}], md)
    assert "#### Reproduction dashboard" in about and about.index("Reproduction dashboard") < about.index("core/00_base.ipynb")
    for (paper, run), v in expected.items():   # one row per recorded run, with the verdict its claims give
        assert f"| **{paper}**<br>`{run}`" in about and f"| **{v}** |" in about, (paper, run)
    got = {(r["paper"], r["run"]): r["verdict"] for r in rows}
    assert got == expected, got
    focal = next(r for r in rows if r["paper"] == "focallens")
    assert len(focal["claims"]) >= 1 and all(isinstance(c["holds"], bool) for c in focal["claims"]) and "papermill" in focal["command"]


def test_discovers_both_demos():
    titles = [f.title for f in DEMOS]
    assert all(f.error is None for f in DEMOS), [(f.module, f.error) for f in DEMOS]
    assert {"Hallucination spans (RL4HS)", "Conditional retrieval (FocalLens)"} <= set(titles), titles


def test_fresh_hub_answers_with_every_demo_ready(hub):
    from gradio_client import Client
    url, proc, t0 = hub
    client = Client(url, verbose=False, download_files=False)
    h = client.predict(api_name="/health")
    assert h["status"] == "ok"
    assert h["demos"] == {f.title: "ready" for f in DEMOS}, h["demos"]   # the shipped models, nothing pressed
    answers = {}
    for f in DEMOS:
        if f.demo.api_check is None: continue
        answers[f.title] = f.demo.api_check(client)                  # a real result, not a missing-model message
        print(f"[hub] {f.title}: {answers[f.title]} ({time.perf_counter() - t0:.1f}s after start)")
    assert len(answers) == len(DEMOS) >= 2
    print(f"[hub] every demo answered {time.perf_counter() - t0:.1f}s after `python -m apps.hub` started")
    notebooks = {r["notebook"]: r for r in client.predict(api_name="/about")}
    assert notebooks["core/00_base.ipynb"]["module"] == "lab.core.base"
    dash = {(r["paper"], r["run"]): r["verdict"] for r in client.predict(api_name="/dashboard")}
    assert dash == _recorded_verdicts() and ("focallens", "default_3seeds") in dash, dash


def test_hub_binds_localhost_only(hub):
    url, proc, t0 = hub
    port = int(url.rsplit(":", 1)[1].strip("/"))
    addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1", "127.0.1.1"}
    for a in addrs:  # reachable on loopback only, not on the machine's other interfaces
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((a, port)) != 0, f"the hub also listens on {a}:{port}"
