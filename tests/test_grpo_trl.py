"""TRL as a test oracle for lab.families.rl.policy (and the RL4HS reward and CAPO in lab.papers.rl4hs.grpo).

On one fixed batch (a tiny random char-level Llama built from a config, fixed prompts and completions, rewards
from our span reward called *by TRL*), TRL 1.16's GRPOTrainer computes advantages, per-token log-probs and its loss;
we check that `group_advantages`, `completion_logprobs` and `clipped_policy_loss` give the same numbers and the same
gradient. TRL's own methods are called (`_generate_and_score_completions` with generation replaced by the fixed
completions, `_get_per_token_logps_and_entropies`, `_compute_loss`); nothing of TRL is re-implemented here.

Mapping of settings: our agg="token-mean" = TRL loss_type "bnpo" (and "dapo" on one process without gradient
accumulation); agg="seq-mean" = TRL "grpo"; clip_low/clip_high = epsilon/epsilon_high; scale="std"/"none" =
scale_rewards="group"/"none"; beta = beta (k3 KL, added per token before aggregation).
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import pytest
import torch

trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

from lab.families.rl.policy import clipped_policy_loss, completion_logprobs, group_advantages, tiny_causal_lm
from lab.papers.rl4hs.grpo import capo_class, capo_scale, score_completions, span_reward_fn

RESP = "The tower is 330 m tall and was built in 1999 by Eiffel."
GOLD = [(13, 18), (41, 45)]  # "330 m", "1999"
CLEAN = "The tower stands in Paris."
ROWS = [  # (prompt, response, gold spans, G completions)
    ("Find the hallucinated spans.", RESP, GOLD,
     ['{"hallucination list": ["330 m", "1999"]}', '{"hallucination list": ["330 m"]}',
      '{"hallucination list": []}', "no idea"]),
    ("Is the summary grounded?", CLEAN, [],
     ['{"hallucination list": []}', '## Step 1: fine.\n{"hallucination list": []}',
      '{"hallucination list": ["tower"]}', '{"hallucination list": ["Paris"]}']),
    ("Check it.", CLEAN, [],  # a zero-std group: every sample right
     ['{"hallucination list": []}'] * 4),
]
B, G = len(ROWS), 4


def _trainer(loss_type="bnpo", temperature=1.0, scale_rewards="group", clip_high=0.28):
    model, tok = tiny_causal_lm(seed=0)
    rows = [{"prompt": p, "response": r, "gold_spans": [list(s) for s in g]} for p, r, g, _ in ROWS]
    args = trl.GRPOConfig(output_dir="/tmp/lab_test_grpo_trl", num_generations=G, per_device_train_batch_size=B * G,
                          epsilon=0.2, epsilon_high=clip_high, loss_type=loss_type, beta=0.0, temperature=temperature,
                          scale_rewards=scale_rewards, max_completion_length=64, report_to="none", use_cpu=True,
                          bf16=False, save_strategy="no", logging_steps=1)
    tr = trl.GRPOTrainer(model=model, reward_funcs=[span_reward_fn], args=args,
                         train_dataset=datasets.Dataset.from_list(rows), processing_class=tok)
    eos = tok.eos_token_id
    comp_ids = [tok(c, add_special_tokens=False)["input_ids"] + ([eos] if i % 2 == 0 else [])  # some end without EOS
                for _, _, _, cs in ROWS for i, c in enumerate(cs)]
    tr._generate_single_turn = lambda prompt_ids, images, mm, n, has_tool_images=False: (comp_ids, None)
    tr.current_gradient_accumulation_steps = 1  # set by Trainer's training loop; we call _compute_loss directly
    inputs = [rows[b] for b in range(B) for _ in range(G)]  # TRL's RepeatSampler layout: G copies of each prompt
    out = tr._generate_and_score_completions(inputs)
    tr.model.train()
    return tr, out


def _our_logp(tr, out, temperature=1.0):
    return completion_logprobs(tr.model, out["prompt_ids"], out["prompt_mask"], out["completion_ids"],
                               out["completion_mask"], temperature)


def _grads(model):
    g = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}
    model.zero_grad(set_to_none=True)
    return g


def _rewards():
    comps = [c for _, _, _, cs in ROWS for c in cs]
    golds = [g for _, _, g, _ in ROWS for _ in range(G)]
    resps = [r for _, r, _, _ in ROWS for _ in range(G)]
    return torch.tensor(score_completions(comps, golds, resps).rewards).view(B, G)


@pytest.mark.parametrize("scale_rewards,scale", [("group", "std"), ("none", "none")])
def test_advantages_match_trl(scale_rewards, scale):
    tr, out = _trainer(scale_rewards=scale_rewards)
    R = _rewards()
    assert R[2].std() == 0 and R[0].std() > 0 and R[1].std() > 0  # the batch has a zero-std group and two with spread
    ours = group_advantages(R, eps=1e-4, scale=scale).reshape(-1)
    torch.testing.assert_close(ours, out["advantages"], atol=1e-6, rtol=1e-5)
    # TRL called our reward function with its dataset columns; its logged mean reward is ours
    assert abs(tr._metrics["train"]["reward"][-1] - R.mean().item()) < 1e-6


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_logprobs_match_trl(temperature):
    tr, out = _trainer(temperature=temperature)
    ids = torch.cat([out["prompt_ids"], out["completion_ids"]], 1)
    att = torch.cat([out["prompt_mask"], out["completion_mask"]], 1)
    with torch.no_grad():
        theirs, _, _ = tr._get_per_token_logps_and_entropies(tr.model, ids, att, out["completion_ids"].shape[1])
        ours = _our_logp(tr, out, temperature)
    m = out["completion_mask"].bool()
    torch.testing.assert_close(ours[m], theirs[m], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("loss_type,agg", [("bnpo", "token-mean"), ("dapo", "token-mean"), ("grpo", "seq-mean")])
@pytest.mark.parametrize("off_policy", [False, True])
def test_loss_and_grad_match_trl(loss_type, agg, off_policy):
    tr, out = _trainer(loss_type=loss_type)
    m = out["completion_mask"]
    if off_policy:  # a reused batch: old log-probs differ, so ratios leave [0.8, 1.28] and the clip acts
        with torch.no_grad():
            g = torch.Generator().manual_seed(0)
            out["old_per_token_logps"] = _our_logp(tr, out) + 0.4 * torch.randn(m.shape, generator=g)
    loss_trl = tr._compute_loss(tr.model, out)
    loss_trl.backward()
    g_trl = _grads(tr.model)

    logp = _our_logp(tr, out)
    old = out.get("old_per_token_logps", logp.detach())
    parts = clipped_policy_loss(logp, old, out["advantages"], m, clip_low=0.2, clip_high=0.28, agg=agg)
    parts["loss"].backward()
    g_ours = _grads(tr.model)

    torch.testing.assert_close(parts["loss"], loss_trl.detach(), atol=1e-6, rtol=1e-5)
    assert g_ours.keys() == g_trl.keys() and len(g_ours) > 0
    for n in g_trl: torch.testing.assert_close(g_ours[n], g_trl[n], atol=1e-6, rtol=1e-4, msg=lambda s: f"{n}: {s}")
    if off_policy:  # and the same clip statistics
        met = tr._metrics["train"]
        assert 0 < parts["clip_frac"].item() < 1
        for ours, theirs in [("clip_low_frac", "clip_ratio/low_mean"), ("clip_high_frac", "clip_ratio/high_mean"),
                             ("clip_frac", "clip_ratio/region_mean")]:
            assert abs(parts[ours].item() - met[theirs][-1]) < 1e-6, ours


@pytest.mark.parametrize("kl_ratio", [True, False])
def test_kl_term_matches_trl(kl_ratio):
    tr, out = _trainer(loss_type="bnpo")
    tr.beta, tr.args.use_bias_correction_kl = 0.04, kl_ratio  # TRL reads self.beta and inputs["ref_per_token_logps"] in _compute_loss
    with torch.no_grad():
        ref = _our_logp(tr, out) + 0.3 * torch.randn(out["completion_mask"].shape, generator=torch.Generator().manual_seed(1))
    out["ref_per_token_logps"] = ref
    loss_trl = tr._compute_loss(tr.model, out)
    loss_trl.backward(); g_trl = _grads(tr.model)
    logp = _our_logp(tr, out)
    parts = clipped_policy_loss(logp, logp.detach(), out["advantages"], out["completion_mask"], agg="token-mean",
                                ref_logp=ref, beta=0.04, kl_ratio=kl_ratio)
    parts["loss"].backward(); g_ours = _grads(tr.model)
    torch.testing.assert_close(parts["loss"], loss_trl.detach(), atol=1e-6, rtol=1e-5)
    assert abs(parts["kl"].item() - tr._metrics["train"]["kl"][-1]) < 1e-6
    for n in g_trl: torch.testing.assert_close(g_ours[n], g_trl[n], atol=1e-6, rtol=1e-4)


def test_capo_advantages_plug_into_trl_loss():
    "CAPO is ours alone (TRL has no class-aware scaling): scaled advantages given to TRL's loss give our loss."
    tr, out = _trainer()
    adv = capo_scale(group_advantages(_rewards()), capo_class([False, True, True], torch.zeros(B, G, dtype=torch.bool), "gold"), 0.5)
    out["advantages"] = adv.reshape(-1)
    loss_trl = tr._compute_loss(tr.model, out)
    logp = _our_logp(tr, out)
    ours = clipped_policy_loss(logp, logp.detach(), adv.reshape(-1), out["completion_mask"])["loss"]
    torch.testing.assert_close(ours, loss_trl.detach(), atol=1e-6, rtol=1e-5)
