"""The demos' shipped default models (models/, made by `make demo-models` = scripts/make_demo_models.py): float16
safetensors within the 25 MB budget, found by the demo logic when nothing was trained locally, and reproducing the
test metrics recorded in their record.json when reloaded and re-evaluated here (deterministic data and seeds; the
tolerance covers float differences between machines, not training noise: nothing is retrained)."""
import json, os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"
BUDGET_MB = 25
TOL = 0.02   # absolute, per metric: a token or a rank flipping on another CPU's kernels


def _record(paper: str) -> dict:
    f = MODELS / paper / "record.json"
    assert f.exists(), f"{f} is missing: run `make demo-models`"
    return json.loads(f.read_text())


def _compare(got: dict, want: dict):
    assert set(got) == set(want), (sorted(got), sorted(want))
    off = {k: (got[k], want[k]) for k in want if abs(got[k] - want[k]) > TOL}
    assert not off, f"metrics differ from models/*/record.json by more than {TOL}: {off}"


def test_files_budget_and_dtype():
    from safetensors import safe_open
    files = [f for f in MODELS.rglob("*") if f.is_file()]
    total = sum(f.stat().st_size for f in files) / 1e6
    assert total <= BUDGET_MB, f"models/ holds {total:.1f} MB > {BUDGET_MB} MB"
    for paper in ("rl4hs", "focallens", "structure", "mobileclip2"):
        rec = _record(paper)
        assert rec["metrics"] and rec["dtype"] == "float16"
        for name in rec["files"].values():
            if name.endswith(".json"):                     # the verifier: a few numbers, no tensors
                assert json.loads((MODELS / paper / name).read_text())["coef"], name; continue
            with safe_open(str(MODELS / paper / name), "pt") as f:
                dts = {str(f.get_tensor(k).dtype) for k in f.keys()}   # integer buffers (BatchNorm's batch count) stay integers
                assert {d for d in dts if "int" not in d} == {"torch.float16"}, (name, dts)


def test_demo_logic_falls_back_to_shipped(tmp_path, monkeypatch):
    monkeypatch.setenv("LAB_ARTIFACTS_DIR", str(tmp_path))          # nothing trained here
    from lab.papers.rl4hs.detect import detector_source, describe_detector
    from lab.papers.focallens.experiment import checkpoint_source, shipped_dir
    assert detector_source("sft") == (MODELS / "rl4hs" / "tagger_sft.safetensors", "shipped")
    assert detector_source("capo")[1] == "missing"
    assert "shipped default model" in describe_detector("sft") and "test span F1" in describe_detector("sft")
    assert checkpoint_source() == (shipped_dir(), "shipped") and shipped_dir() == MODELS / "focallens"
    from lab.papers.structure.demo import demo_source
    assert demo_source() == (MODELS / "structure", "shipped")
    from lab.papers.mobileclip2.demo import demo_source as mc2_source
    assert mc2_source() == (MODELS / "mobileclip2", "shipped")


def test_tagger_reproduces_recorded_metrics():
    from lab.papers.rl4hs.detect import load_shipped_tagger, tagger_test_metrics
    rec = _record("rl4hs")
    model = load_shipped_tagger(MODELS / "rl4hs" / rec["files"]["sft"])
    _compare(tagger_test_metrics(model, rec["config"]["n_test"], rec["config"]["bench_seed"]), rec["metrics"])
    assert rec["metrics"]["span/all/f1"] > 0.2, rec["metrics"]          # a tagger that finds spans, not an empty one


def test_focallens_record_is_the_demo_recipe():
    "record.json's config is the recipe `QuickTrainConfig()` (nested stages; a flat record of the older form reads the same)."
    from lab.papers.focallens.experiment import QuickTrainConfig
    cfg = QuickTrainConfig.from_record(_record("focallens")["config"])
    assert cfg == QuickTrainConfig(), ("the shipped FocalLens models were made with another recipe than the demo's Retrain "
                                       "(QuickTrainConfig()): re-make them with `make demo-models`", cfg)
    assert [cfg.train.clip.steps, cfg.train.stage1.steps, cfg.train.stage2.steps] == [300, 150, 450]


def test_focallens_reproduces_recorded_metrics():
    from lab.papers.focallens.experiment import demo_metrics, load_checkpoints
    rec = _record("focallens")
    models, meta = load_checkpoints(MODELS / "focallens")
    _compare(demo_metrics(models, **rec["test"]), rec["metrics"])
    m = rec["metrics"]   # what the demo shows: conditioning on colour ranks same-colour scenes first, the baseline does not
    assert m["focal/sym/color_p@8"] > m["clip/color_p@8"] + 0.2, m


def test_shipped_verifier_matches_its_record():
    "The shipped verifier reloads and re-scores the synthetic test split exactly as its record says (what ships is what was measured)."
    from lab.papers.rl4hs.detect import ShippedVerifierConfig, verifier_metrics
    from lab.families.spans.bench import load_spanbench
    from lab.families.spans.claims import claims_from_examples
    from lab.families.spans.verify import Verifier
    rec = _record("rl4hs")["verifier"]
    cfg = ShippedVerifierConfig(**rec["config"])
    test = load_spanbench(cfg.bench_seed)["test"]
    test = [e for t in ("Summary", "QA", "Data2txt") for e in [e for e in test if e.task_type == t][:cfg.n_test // 3]]
    got = verifier_metrics(Verifier.load(MODELS / "rl4hs" / "verifier.json"), claims_from_examples(test))
    for k in ("claim/f1", "response/f1", "flag_rate"):
        assert abs(got[k] - rec["synthetic_test"][k]) < 0.02, (k, got[k], rec["synthetic_test"][k])


def test_structure_reproduces_recorded_metrics():
    "The shipped STRUCTURE / CLIP-only heads, reloaded through the demo's explorer, give the recorded held-out metrics."
    from lab.papers.structure.demo import DemoConfig, demo_explorer, demo_metrics
    rec = _record("structure")
    assert DemoConfig.from_dict(rec["config"]) == DemoConfig(), "models/structure was made with another recipe than the demo's Retrain"
    got = demo_metrics(demo_explorer(MODELS / "structure"), **rec["test"])
    _compare(got, rec["metrics"])
    m = rec["metrics"]   # what the demo shows: both spaces read the scenes far above chance (1/4 for background, 1/6 for colour)
    assert min(m["STRUCTURE/zs_background"], m["CLIP-only/zs_background"]) > 0.9 and m["STRUCTURE/zs_color"] > 0.5, m


def test_mobileclip2_reproduces_recorded_metrics():
    "The shipped MobileCLIP2 / CLIP-only students, reloaded with their vocabulary through the explorer, give the recorded held-out metrics."
    from lab.papers.mobileclip2.demo import DemoConfig, demo_explorer, demo_metrics
    rec = _record("mobileclip2")
    assert json.loads(json.dumps(DemoConfig().to_dict())) == rec["config"], "models/mobileclip2 was made with another recipe than the demo's"
    _compare(demo_metrics(demo_explorer(MODELS / "mobileclip2"), **rec["test"]), rec["metrics"])
    m = rec["metrics"]   # what the demo shows: both students read the scenes far above chance (1/4 for background)
    assert min(m["MobileCLIP2/zs_background"], m["CLIP-only/zs_background"]) > 0.9 and min(m["MobileCLIP2/zs_mean"], m["CLIP-only/zs_mean"]) > 0.4, m

