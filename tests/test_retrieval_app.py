"""The conditional-retrieval tab (apps/retrieval_tab.py): its functions called directly, and the same through
gradio_client against a Blocks holding just this tab on a free local port. Models are tiny ones trained in a
temporary artifacts dir (seconds; a checkpoint trained here wins over the shipped one), so this tests the plumbing and
the input checks, not retrieval quality; the shipped models are checked in tests/test_demo_models.py, test_hub.py and
test_browser.py, and here only for the fallback when nothing was trained."""
import os, socket

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

import numpy as np
import pytest
from PIL import Image

TINY = dict(n_train=16, per_scene=2, dim=32, depth=1, heads=2, n_gallery=12)
TINY_TRAIN = dict(clip_steps=3, stage1_steps=2, stage2_steps=3, batch_size=8)   # FocalTrainConfig.recipe: the three stages


@pytest.fixture(scope="module")
def tab(tmp_path_factory):
    "The tab module with tiny trained checkpoints in a temporary LAB_ARTIFACTS_DIR."
    art = tmp_path_factory.mktemp("artifacts")
    old = os.environ.get("LAB_ARTIFACTS_DIR"); os.environ["LAB_ARTIFACTS_DIR"] = str(art)
    from lab.papers.focallens.experiment import QuickTrainConfig, quick_train
    from apps import retrieval_tab
    from lab.papers.focallens.model import FocalTrainConfig
    quick_train(QuickTrainConfig(**TINY, train=FocalTrainConfig.recipe(**TINY_TRAIN)), progress_bar=False)
    retrieval_tab.reset()
    yield retrieval_tab
    retrieval_tab.reset()
    if old is None: os.environ.pop("LAB_ARTIFACTS_DIR", None)
    else: os.environ["LAB_ARTIFACTS_DIR"] = old


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    "Query files: valid images in odd colour modes, a non-image, a huge image."
    d = tmp_path_factory.mktemp("queries")
    Image.new("RGB", (64, 48), (200, 30, 30)).save(d / "rgb.png")
    Image.new("CMYK", (64, 64), (0, 255, 255, 0)).save(d / "cmyk.jpg")
    Image.new("RGBA", (64, 64), (0, 0, 255, 128)).save(d / "rgba.png")
    Image.fromarray((np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)).save(d / "gray16.png")
    Image.new("P", (64, 64), 3).save(d / "palette.png")
    (d / "notes.txt").write_text("this is not an image\n")
    (d / "fake.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 10)
    Image.new("L", (8000, 6000)).save(d / "huge.png")
    return d


def _ok(out, k):
    q, md, focal, base = out
    assert q is not None and "Condition" in md and "⚠️" not in md, md
    assert len(focal) == k and len(base) == k
    scores = [float(cap.split(" ")[0]) for _, cap in focal]
    assert scores == sorted(scores, reverse=True)
    return md


def _bad(out, *needles):
    q, md, focal, base = out
    assert md.startswith("⚠️") and focal == [] and base == [], md
    for n in needles: assert n in md, (n, md)


def test_direct_valid(tab, files):
    s = tab.sample_names()[0]
    _ok(tab.run_search(None, s, "What color is the largest object?", 5, True), 5)
    _ok(tab.run_search(None, s, "Which hue does the most prominent figure have?", 3, False), 3)
    md = _ok(tab.run_search(str(files / "rgb.png"), None, "Where is the largest object?", 4, True), 4)
    assert "Input:" not in md   # a plain RGB image needs no conversion


@pytest.mark.parametrize("name,mode", [("cmyk.jpg", "CMYK"), ("rgba.png", "RGBA"), ("gray16.png", "I;16"), ("palette.png", "P")])
def test_direct_odd_modes(tab, files, name, mode):
    md = _ok(tab.run_search(str(files / name), None, "What shape is the largest object?", 3, True), 3)
    assert mode.split(";")[0] in md, md   # the conversion is reported


def test_direct_bad_inputs(tab, files):
    s = tab.sample_names()[0]
    _bad(tab.run_search(str(files / "notes.txt"), None, "color", 3, True), "notes.txt", "not an image file")
    _bad(tab.run_search(str(files / "fake.png"), None, "color", 3, True), "fake.png")
    _bad(tab.run_search(str(files / "huge.png"), None, "color", 3, True), "48 MP", "limit")
    _bad(tab.run_search(None, s, "", 3, True), "empty")
    _bad(tab.run_search(None, s, "   ", 3, True), "empty")
    _bad(tab.run_search(None, s, "x" * 10_000, 3, True), "10,000 characters")
    _bad(tab.run_search(None, None, "color", 3, True), "No query image")
    _bad(tab.run_search(None, "no such sample", "color", 3, True), "unknown sample")
    _bad(tab.run_search(None, s, "color", 0, True), "between 1 and 50")


def test_missing_checkpoints_message(tab, tmp_path, monkeypatch):
    "Nothing trained here and no shipped models: the status and the search say how to make them."
    import lab.papers.focallens.experiment as X
    monkeypatch.setenv("LAB_ARTIFACTS_DIR", str(tmp_path))
    monkeypatch.setattr(X, "shipped_dir", lambda: tmp_path / "no-shipped-models")
    tab.reset()
    try:
        assert not tab.models_ready() and "Train now" in tab.status_markdown() and "make demo-models" in tab.status_markdown()
        _bad(tab.run_search(None, tab.sample_names()[0], "color", 3, True), "No trained models", "lab.papers.focallens.experiment train")
    finally:
        monkeypatch.undo(); tab.reset()


def test_shipped_models_when_nothing_trained(tab, tmp_path, monkeypatch):
    "An empty artifacts dir (a fresh clone): the shipped models in models/focallens are used, and the status says so."
    from lab.papers.focallens.experiment import shipped_dir
    if not (shipped_dir() / "focallens.safetensors").exists(): pytest.fail("models/focallens is missing: run `make demo-models`")
    monkeypatch.setenv("LAB_ARTIFACTS_DIR", str(tmp_path))
    tab.reset()
    try:
        assert tab.models_ready() and "shipped defaults" in tab.status_markdown() and "models/focallens" in tab.status_markdown()
        q, md, focal, base = tab.run_search(None, tab.sample_names()[0], "What color is the largest object?", 4, True)
        assert len(focal) == 4 and "⚠️" not in md
        assert tab.get_search().source == (shipped_dir(), "shipped")
    finally:
        monkeypatch.undo(); tab.reset()


def _free_port() -> int:
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def test_through_gradio_client(tab, files):
    import gradio as gr
    from gradio_client import Client, handle_file
    with gr.Blocks(title=tab.TITLE) as demo: tab.build()
    port = _free_port()
    demo.queue(default_concurrency_limit=1).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True,
                                                   quiet=True, show_error=True)
    try:
        c = Client(f"http://127.0.0.1:{port}/", verbose=False)
        s = tab.sample_names()[1]
        q, md, focal, base = c.predict(None, s, "What color is the largest object?", 6, True, api_name="/search")
        assert q and "Condition" in md and len(focal) == 6 and len(base) == 6
        assert all(os.path.exists(g["image"]) if isinstance(g["image"], str) else os.path.exists(g["image"]["path"]) for g in focal)
        q, md, focal, base = c.predict(handle_file(str(files / "cmyk.jpg")), None, "Which hue does the most prominent figure have?", 3, False, api_name="/search")
        assert "CMYK" in md and len(focal) == 3
        for f, cond, needle in [("notes.txt", "color", "not an image file"), ("huge.png", "color", "MP"),
                                ("rgb.png", "", "empty"), ("rgb.png", "y" * 10_000, "10,000 characters")]:
            q, md, focal, base = c.predict(handle_file(str(files / f)), None, cond, 3, True, api_name="/search")
            assert md.startswith("⚠️") and needle in md and focal == [] and base == [], (f, md)
    finally:
        demo.close()
