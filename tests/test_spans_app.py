"""The span-highlighting tab (apps/spans_tab.py): its functions directly, and through gradio_client on a free port.

A tiny randomly initialised tagger saved as `tagger_sft` in a temporary LAB_ARTIFACTS_DIR stands in for the trained
one (fast; a checkpoint trained here wins over the shipped one; its spans are meaningless but their offsets, texts and
the UI plumbing are what is tested). The shipped default tagger is checked in tests/test_demo_models.py, test_hub.py
and test_browser.py, and here only for the status line when nothing was trained.
"""
import socket

import pytest

BIN = "PK\x03\x04\x00\x00\x08\x00binary\x00\x00paste"


@pytest.fixture(scope="module")
def tab(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    art = tmp_path_factory.mktemp("artifacts")
    mp.setenv("LAB_ARTIFACTS_DIR", str(art))
    from lab.papers.rl4hs.tagger import tiny_tagger, save_tagger
    save_tagger(tiny_tagger(init_bias=3.0), "tagger_sft", {"note": "tiny random test tagger"})
    import apps.spans_tab as t
    yield t
    mp.undo()


def _ok(out, response):
    hl, rows, reasoning, info = out
    assert "".join(seg for seg, _ in hl) == response                 # the highlighted segments are the response
    assert any(lab == "hallucinated" for _, lab in hl) and rows
    for start, end, text, score in rows: assert response[start:end] == text and 0 <= score <= 1
    assert "span" in info and "⚠️" not in info


def _bad(out, *needles):
    hl, rows, reasoning, info = out
    assert rows == [] and "⚠️" in info and all(n in info for n in needles), info
    assert "Traceback" not in info


def test_direct_valid(tab):
    r = "The tower is 450 m tall and was built in 1999."
    _ok(tab.run_detect("The tower is 330 m tall. It was built in 1889.", "", r, "sft"), r)
    _ok(tab.run_detect("Paris is in France.", "Where is Paris?", "Paris is in Spain.", "sft"), "Paris is in Spain.")
    long = "The cat sat on the mat. " * 300                               # several windows: a note, not an error
    hl, rows, _, info = tab.run_detect("A dog.", "", long, "sft")
    assert rows and "windows" in info


def test_direct_bad_inputs(tab):
    _bad(tab.run_detect("", "", "resp", "sft"), "Source is empty")
    _bad(tab.run_detect("src", "", "   ", "sft"), "Response is empty")
    _bad(tab.run_detect(None, None, None, "sft"), "empty")
    _bad(tab.run_detect("src", "", "x" * 100_000, "sft"), "100,000 characters")
    _bad(tab.run_detect("y" * 100_000, "", "resp", "sft"), "100,000 characters")
    _bad(tab.run_detect("src", "", BIN, "sft"), "binary", "NUL")
    _bad(tab.run_detect("src", "", "ok \udcff text", "sft"), "binary")     # invalid text (a lone surrogate)
    _bad(tab.run_detect("src", "", "resp", "capo"), "10_rl4hs")             # missing checkpoint: how to make it
    _bad(tab.run_detect("src", "", "resp", "nonsense"), "unknown detector")


def test_generative_not_json_is_a_message(tab, monkeypatch):
    "Model output that is not JSON: a warning and the raw output as reasoning, never an exception."
    from lab.papers.rl4hs import detect as d
    class FakeGen(d.Detector):
        name = "generative"
        def __call__(self, source, response, question=None):
            import lab.papers.rl4hs.generative as g
            from lab.papers.rl4hs.grpo import parse_hallucination_list
            p = parse_hallucination_list("I think the answer looks fine, no JSON here.")
            return d.Detection([], "generative", reasoning="I think the answer looks fine, no JSON here.", ok=p.ok,
                               warnings=[] if p.ok else ["the model's output had no parsable {\"hallucination list\": [...]}; shown as no spans"])
    monkeypatch.setattr(d, "load_detector", lambda name, max_new_tokens=192: FakeGen())
    hl, rows, reasoning, info = tab.run_detect("src", "", "resp", "generative")
    assert rows == [] and "no JSON here" in reasoning and "no parsable" in info and "No hallucinated span" in info


def test_status_and_examples(tab):
    st = tab.status_markdown()
    assert "LettuceDetect-style): **ready**" in st and "nbs/papers/rl4hs/11_rl4hs_generative.ipynb" in st   # sft ready; the others say how to make them
    ex = tab.examples()
    assert ex and all(len(e) == 4 and e[0] and e[2] for e in ex)


def test_status_names_the_model_in_use(tab, tmp_path, monkeypatch):
    sft_line = lambda: next(l for l in tab.status_markdown().splitlines() if "LettuceDetect" in l)
    assert "trained here" in sft_line()                                          # the fixture's tagger_sft
    monkeypatch.setenv("LAB_ARTIFACTS_DIR", str(tmp_path))                      # nothing trained: the shipped defaults
    from lab.papers.rl4hs.detect import shipped_dir
    first = sft_line()
    if (shipped_dir() / "tagger_sft.safetensors").exists(): assert "shipped default model" in first and "models/rl4hs" in first, first
    else: assert "**missing**" in first, first
    ver = tab.status_markdown().splitlines()[0]                                  # the default detector comes first
    assert "Evidence verifier" in ver and ("real RAGTruth dev claim F1" in ver or "**missing**" in ver or "synthetic" in ver), ver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def test_through_gradio_client(tab):
    import gradio as gr
    from gradio_client import Client
    with gr.Blocks(analytics_enabled=False) as demo: tab.build()
    port = _free_port()
    demo.queue(default_concurrency_limit=1).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        c = Client(f"http://127.0.0.1:{port}/", verbose=False)
        r = "Paris is in Spain and has 9 parks."
        hl, table, reasoning, info = c.predict("Paris is in France.", "", r, "sft", api_name="/detect")
        assert table["data"] and "span" in info
        for start, end, text, score in table["data"]: assert r[int(start):int(end)] == text
        for args, needle in [(("", "", r, "sft"), "Source is empty"), (("src", "", "z" * 100_000, "sft"), "100,000"),
                             (("src", "", BIN, "sft"), "binary"), (("src", "", r, "capo"), "10_rl4hs")]:
            hl, table, reasoning, info = c.predict(*args, api_name="/detect")
            assert needle in info and "⚠️" in info and not table["data"], info
    finally: demo.close()
