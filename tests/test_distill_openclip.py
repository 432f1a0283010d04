"""open_clip as a test oracle for lab.families.contrastive.losses' distillation loss (MobileCLIP / MobileCLIP2).

With one teacher, `distill_clip_loss` must equal open_clip's own `DistillClipLoss` (open-clip-torch 3.3.0,
`open_clip/loss.py`, loaded on its own by `open_clip_losses`: the package import needs torchvision, which does not
load beside the lab's CPU torch), in value and in the gradients with respect to the student's image features, text
features and logit scale, for several weightings of the two terms. With two teachers open_clip has no reference (the
ensemble is MobileCLIP2's patch to open_clip), so the test checks the patch's formula on concatenated teacher
features split by dimension (`get_logits_ensemble`: the mean of row-softmaxed similarities), written out here.
"""
import pytest
import torch
import torch.nn.functional as F

from lab.families.contrastive.losses import distill_clip_loss, open_clip_losses

oc = open_clip_losses()
pytestmark = pytest.mark.skipif(oc is None, reason="open-clip-torch is not installed (scripts/setup.sh installs it)")


def _batch(seed, B=7, E=12, Et=(16,)):
    g = torch.Generator().manual_seed(seed)
    nf = lambda *s: F.normalize(torch.randn(*s, generator=g, dtype=torch.float64), dim=-1)
    return nf(B, E), nf(B, E), [nf(B, e) for e in Et], [nf(B, e) for e in Et]


def _leaf(*ts):
    return [t.clone().requires_grad_() for t in ts]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weights", [(1.0, 1.0), (0.0, 1.0), (0.5, 2.0)])
def test_one_teacher_matches_open_clip(seed, weights):
    img, txt, t_img, t_txt = _batch(seed)
    s, ts = torch.tensor(10.0, dtype=torch.float64), 50.0
    a_img, a_txt, a_s = _leaf(img, txt, s)
    ours = distill_clip_loss(a_img, a_txt, a_s, t_img, t_txt, ts, weights=weights)
    ours["loss"].backward()
    b_img, b_txt, b_s = _leaf(img, txt, s)
    theirs = oc.DistillClipLoss()(b_img, b_txt, b_s, t_img[0], t_txt[0], torch.tensor(ts, dtype=torch.float64), output_dict=True)
    (weights[0] * theirs["contrastive_loss"] + weights[1] * theirs["distill_loss"]).backward()
    torch.testing.assert_close(ours["contrastive"], theirs["contrastive_loss"])
    torch.testing.assert_close(ours["distill"], theirs["distill_loss"])
    for a, b in [(a_img, b_img), (a_txt, b_txt), (a_s, b_s)]:
        torch.testing.assert_close(a.grad, b.grad)
    assert a_img.grad.abs().sum() > 0


def test_two_teachers_follow_the_mobileclip2_formula():
    img, txt, t_img, t_txt = _batch(3, Et=(16, 8))
    scales, s = [70.0, 60.0], 10.0
    ours = distill_clip_loss(img, txt, s, t_img, t_txt, scales, weights=(0.0, 1.0))
    # MobileCLIP2 (training/open_clip_v2.patch): teacher features concatenated, split by --distill-teacher-dimension,
    # softmax per member, averaged; the student's log-softmax against that average, both directions, halved.
    cat_i, cat_t, dims = torch.cat(t_img, 1), torch.cat(t_txt, 1), [0, 16, 24]
    def ens(a, b):
        return sum(F.softmax(scales[k] * a[:, dims[k]:dims[k + 1]] @ b[:, dims[k]:dims[k + 1]].T, dim=1) for k in range(2)) / 2
    Z = s * img @ txt.T
    want = (-(ens(cat_i, cat_t) * Z.log_softmax(1)).sum(1).mean() - (ens(cat_t, cat_i) * Z.T.log_softmax(1)).sum(1).mean()) / 2
    torch.testing.assert_close(ours["distill"], want)
    torch.testing.assert_close(ours["loss"], want)
    # the second teacher matters: the ensemble's loss is not teacher 1's alone (open_clip's one-teacher loss)
    first_only = (oc.DistillClipLoss()(img, txt, torch.tensor(s, dtype=torch.float64), cat_i[:, :16], cat_t[:, :16],
                                       torch.tensor(70.0, dtype=torch.float64), output_dict=True)["distill_loss"])
    assert not torch.isclose(ours["distill"], first_only)
