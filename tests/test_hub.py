"""The demo hub starts on a free port, answers HTTP 200 on /, and its API works through gradio_client."""
import os, signal, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 180  # s: importing gradio + torch on a busy 2-core machine takes a while


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as r: return r.status
    except Exception: return 0


@pytest.fixture(scope="module")
def hub():
    port = _free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    log = open(ROOT / ".pytest_cache" / "hub.log", "w") if (ROOT / ".pytest_cache").is_dir() else subprocess.DEVNULL
    proc = subprocess.Popen([sys.executable, "-m", "apps.hub", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        t0 = time.time()
        while _get(url) != 200:
            if proc.poll() is not None: pytest.fail(f"the hub exited with {proc.returncode} before serving (log: .pytest_cache/hub.log)")
            if time.time() - t0 > START_TIMEOUT: pytest.fail(f"the hub did not answer 200 on {url} within {START_TIMEOUT}s")
            time.sleep(1)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)            # gradio closes its server on KeyboardInterrupt
            try: proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL); proc.wait(timeout=10)
        if log is not subprocess.DEVNULL: log.close()


def test_hub_serves_and_answers(hub):
    from gradio_client import Client
    url, proc = hub
    assert _get(url) == 200
    client = Client(url, verbose=False, download_files=False)
    h = client.predict(api_name="/health")
    assert h["status"] == "ok"
    assert len(h["demos"]) == 2 and all(s == "ready" or s == "placeholder" for s in h["demos"].values()), h["demos"]
    notebooks = {r["notebook"]: r for r in client.predict(api_name="/about")}
    assert notebooks["core/00_base.ipynb"]["module"] == "lab.core.base"


def test_hub_binds_localhost_only(hub):
    url, proc = hub
    port = int(url.rsplit(":", 1)[1].strip("/"))
    addrs = {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)} - {"127.0.0.1", "127.0.1.1"}
    for a in addrs:  # reachable on loopback only, not on the machine's other interfaces
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((a, port)) != 0, f"the hub also listens on {a}:{port}"
