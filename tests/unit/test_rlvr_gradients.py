"""utils.rlvr.gradients: per-mask policy gradients (top + bottom = all), their alignment, and why Adam cancels a
constant loss scale while SGD does not."""

from __future__ import annotations

import pytest
import torch

from utils.rlvr import RunConfig, sample_batches
from utils.rlvr.gradients import alignment, condition_masks, first_step_update, mask_gradients, policy_logps_and_entropies
from utils.rlvr.tasks import make_standin

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_top_plus_bottom_is_the_full_gradient() -> None:
    cfg = RunConfig(task="standin", model="standin", prompts_per_step=2, num_generations=4, train_size=16,
                    max_completion_length=8, eval_n=0)
    batch = sample_batches(cfg, 1, seed=3)[0]
    batch["advantages"] = torch.tensor([1.0, -1.0, 0.5, -0.5, 2.0, 0.0, -2.0, 1.0])
    model, _ = make_standin()
    _, ent = policy_logps_and_entropies(model, batch)
    masks = condition_masks(batch, ent, rho=0.2, seed=0)
    assert set(masks) == {"all", "top", "bottom", "random", "role"}
    assert int(masks["top"].sum()) == int(masks["random"].sum()) == int(masks["role"].sum())
    grads = mask_gradients(model, batch, masks)
    assert torch.allclose(grads["top"] + grads["bottom"], grads["all"], atol=1e-6)
    al = alignment(grads)
    assert al["all"]["cosine"] == pytest.approx(1.0) and al["all"]["norm_ratio"] == pytest.approx(1.0)
    assert all(-1 <= a["cosine"] <= 1 for a in al.values())
    sel = mask_gradients(model, batch, {"top": masks["top"]}, normaliser="selected")["top"]
    ratio = float(batch["completion_mask"].sum()) / float(masks["top"].sum())
    assert torch.allclose(sel, grads["top"] * ratio, rtol=1e-4, atol=1e-7)


def test_adam_cancels_a_constant_loss_scale_sgd_does_not() -> None:
    g = torch.randn(1000, generator=torch.Generator().manual_seed(0))
    adam = first_step_update(g, "adamw", lr=1e-3, scales=(1.0, 5.0))
    sgd = first_step_update(g, "sgd", lr=1e-3, scales=(1.0, 5.0))
    assert adam[5.0] == pytest.approx(adam[1.0], rel=1e-4)
    assert sgd[5.0] == pytest.approx(5 * sgd[1.0], rel=1e-6)
