"""TRL as a test oracle for lab.families.rl.dpo (as tests/test_grpo_trl.py is for the GRPO math).

On one fixed batch (the lab's tiny random char-level Llama as the policy, another seed as the reference, three
preference pairs), TRL 1.16's DPOTrainer tokenizes and collates the pairs and computes its loss and metrics with its
own `_compute_loss`; `lab.families.rl.dpo` must give the same batch layout, the same loss, the same
rewards/chosen|rejected|margins|accuracies and the same gradient, for the sigmoid (DPO), hinge and IPO losses and for
DPO with TRL's SFT term. Nothing of TRL is re-implemented here.
"""
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
import pytest
import torch

trl = pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

from lab.families.rl.dpo import DPOConfig, DPOLoss, pair_batch, precompute_ref_logps, tokenize_pair
from lab.families.rl.policy import tiny_causal_lm

ROWS = [{"prompt": "Q: 2+2?", "chosen": " 4", "rejected": " five"},
        {"prompt": "Capital of France?", "chosen": " Paris.", "rejected": " Rome"},
        {"prompt": "Say hi", "chosen": " hi there", "rejected": " no"}]


def _trl(loss_type, loss_weights=None, beta=0.1):
    model, tok = tiny_causal_lm(seed=0)
    ref, _ = tiny_causal_lm(seed=1)
    kw = {} if loss_weights is None else {"loss_weights": loss_weights}
    args = trl.DPOConfig(output_dir="/tmp/lab_test_dpo_trl", beta=beta, loss_type=loss_type, max_length=1024, report_to="none",
                         use_cpu=True, bf16=False, per_device_train_batch_size=len(ROWS), save_strategy="no", logging_steps=1, **kw)
    tr = trl.DPOTrainer(model=model, ref_model=ref, args=args, train_dataset=datasets.Dataset.from_list(ROWS), processing_class=tok)
    inputs = tr.data_collator([tr.train_dataset[i] for i in range(len(ROWS))])
    tr.model.train()
    loss = tr._compute_loss(tr.model, inputs, False)
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in tr.model.named_parameters() if p.grad is not None}
    metrics = {k: v[-1] for k, v in tr._metrics["train"].items()}
    return tok, ref, inputs, loss.detach(), metrics, grads


def _ours(tok, ref, cfg, batch):
    model, _ = tiny_causal_lm(seed=0)                  # the same initial weights as TRL's policy
    model.train()
    out = DPOLoss(cfg, ref_model=ref)(model, batch)
    out["loss"].backward()
    return out, {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("loss_type,sft_weight", [("sigmoid", 0.0), ("hinge", 0.0), ("ipo", 0.0), ("sigmoid", 0.5)])
def test_dpo_matches_trl(loss_type, sft_weight):
    trl_types = [loss_type] + (["sft"] if sft_weight else [])
    tok, ref, inputs, t_loss, t_metrics, t_grads = _trl(trl_types, [1.0, sft_weight] if sft_weight else None)
    ours_batch = pair_batch([tokenize_pair(tok, r["prompt"], r["chosen"], r["rejected"]) for r in ROWS], tok.pad_token_id, max_length=1024)
    for k in ("input_ids", "attention_mask", "completion_mask"):          # the same batch layout as TRL's collator
        torch.testing.assert_close(ours_batch[k], inputs[k])
    out, grads = _ours(tok, ref, DPOConfig(beta=0.1, loss_type=loss_type, sft_weight=sft_weight), ours_batch)
    torch.testing.assert_close(out["loss"].detach(), t_loss, rtol=1e-5, atol=1e-6)
    for ours, theirs in [("rewards_chosen", "rewards/chosen"), ("rewards_rejected", "rewards/rejected"),
                         ("margin", "rewards/margins"), ("accuracy", "rewards/accuracies")]:
        assert abs(out[ours].item() - t_metrics[theirs]) < 1e-5, (ours, out[ours].item(), t_metrics[theirs])
    assert set(grads) == set(t_grads)
    for n in grads:
        torch.testing.assert_close(grads[n], t_grads[n], rtol=1e-4, atol=1e-6)
    assert any(g.abs().sum() > 0 for g in grads.values())


def test_precomputed_reference_equals_on_the_fly():
    model, tok = tiny_causal_lm(seed=0)
    ref, _ = tiny_causal_lm(seed=1)
    ex = [tokenize_pair(tok, r["prompt"], r["chosen"], r["rejected"]) for r in ROWS]
    a = DPOLoss(DPOConfig(), ref_model=ref)(model, pair_batch(ex, tok.pad_token_id))
    b = DPOLoss(DPOConfig())(model, pair_batch(precompute_ref_logps(ref, ex, tok.pad_token_id, batch_size=2), tok.pad_token_id))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-5, atol=1e-6)
