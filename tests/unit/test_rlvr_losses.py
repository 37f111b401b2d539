"""utils.rlvr.losses: token masks (entropy and role), loss normalisers, Cheng et al.'s advantage shaping -- pure
tensor functions, checked against hand-computed values and properties."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from utils.rlvr.losses import (
    adv_plus_psi,
    entropy_advantage,
    entropy_advantage_seed_variant,
    entropy_mask,
    masked_policy_loss,
    n_selected,
    normaliser_comparison,
    role_mask,
)


def batch(B: int = 6, T: int = 9, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    ent = torch.rand(B, T, generator=g) * 3
    lengths = torch.randint(1, T + 1, (B,), generator=g)
    mask = (torch.arange(T)[None, :] < lengths[:, None]).int()
    return ent, mask


# ------------------------------------------------------------------------------------------------ masks


@pytest.mark.parametrize("rho", [0.1, 0.2, 0.5, 1.0])
def test_exact_shares_and_complement(rho: float) -> None:
    ent, mask = batch()
    n = int(mask.sum())
    top = entropy_mask(ent, mask, rho, "top")
    bottom = entropy_mask(ent, mask, rho, "bottom")
    rnd = entropy_mask(ent, mask, rho, "random", generator=torch.Generator().manual_seed(1))
    k = n_selected(n, rho)
    assert int(top.sum()) == k == int(rnd.sum())
    assert int(bottom.sum()) == n - k
    assert torch.equal(top | bottom, mask.bool()) and not (top & bottom).any()
    assert not (rnd & ~mask.bool()).any()
    # top really holds the highest entropies
    if 0 < k < n:
        assert ent[top].min() >= ent[bottom].max()


def test_n_selected_float_tolerance() -> None:
    assert n_selected(10, 0.2) == 2 and n_selected(11, 0.2) == 3 and n_selected(1, 0.1) == 1
    assert n_selected(0, 0.2) == 0
    with pytest.raises(ValueError):
        n_selected(10, 0.0)


def test_ties_are_deterministic() -> None:
    ent = torch.ones(2, 5)
    mask = torch.ones(2, 5, dtype=torch.int)
    top = entropy_mask(ent, mask, 0.2, "top")  # 2 of 10 tied tokens: the first two flat positions
    assert top.reshape(-1).nonzero().flatten().tolist() == [0, 1]
    assert torch.equal(top, entropy_mask(ent, mask, 0.2, "top"))
    # the quantile rule (TRL's) keeps every tie at the threshold
    assert int(entropy_mask(ent, mask, 0.2, "top", rule="quantile").sum()) == 10
    q_top = entropy_mask(ent, mask, 0.2, "top", rule="quantile")
    q_bot = entropy_mask(ent, mask, 0.2, "bottom", rule="quantile")
    assert torch.equal(q_top | q_bot, mask.bool()) and not (q_top & q_bot).any()


def test_quantile_rule_matches_trl() -> None:
    from trl import GRPOTrainer

    ent, mask = batch(seed=3)

    class Fake:
        class accelerator:  # noqa: N801
            pad_across_processes = staticmethod(lambda t, dim, pad_index: t)
            gather = staticmethod(lambda t: t)

    trl_mask = GRPOTrainer.get_high_entropy_mask(Fake, ent, mask, 0.8)
    assert torch.equal(trl_mask, entropy_mask(ent, mask, 0.2, "top", rule="quantile"))


def test_random_is_seeded_and_padding_free() -> None:
    ent, mask = batch()
    a = entropy_mask(ent, mask, 0.2, "random", generator=torch.Generator().manual_seed(5))
    b = entropy_mask(ent, mask, 0.2, "random", generator=torch.Generator().manual_seed(5))
    c = entropy_mask(ent, mask, 0.2, "random", generator=torch.Generator().manual_seed(6))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("mode", ["top", "bottom", "random"])
@pytest.mark.parametrize("rule", ["count", "quantile"])
def test_empty_and_all_padding(mode: str, rule: str) -> None:
    for shape in [(0, 0), (3, 0), (3, 4)]:
        ent = torch.rand(shape)
        out = entropy_mask(ent, torch.zeros(shape, dtype=torch.int), 0.2, mode, rule=rule)  # type: ignore[arg-type]
        assert out.shape == shape and not out.any()


# ---------------------------------------------------------------------------------------- normaliser


def test_normaliser_ratio() -> None:
    ent, mask = batch(B=8, T=12, seed=2)
    adv = torch.randn(8)
    logps = -torch.rand(8, 12)
    res = normaliser_comparison(logps, adv, mask, ent, rho=0.2)
    assert res["ratio"] == pytest.approx(res["n_valid_over_n_selected"], rel=1e-5)
    assert 3.5 < res["ratio"] <= 5.0  # about 1/rho
    full = masked_policy_loss(torch.ones(8, 12), mask, None, "all")
    assert full.item() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        masked_policy_loss(torch.ones(2, 2), torch.ones(2, 2), None, "tokens")  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------- psi (Cheng)


def test_psi_hand_values() -> None:
    adv = torch.tensor([1.0, -1.0, 0.0, 0.1])
    ent = torch.tensor([[0.5, 2.0], [0.5, 2.0], [0.5, 2.0], [0.5, 2.0]])
    mask = torch.tensor([[1, 1], [1, 1], [1, 1], [1, 0]])
    shaped, psi, binds = adv_plus_psi(adv, ent, mask, alpha=0.4, kappa=2.0)
    # alpha*H = 0.2 / 0.8; |A|/kappa = 0.5 / 0.5 / 0 / 0.05
    expected_psi = torch.tensor([[0.2, 0.5], [0.2, 0.5], [0.0, 0.0], [0.05, 0.0]])
    assert torch.allclose(psi, expected_psi)
    assert torch.allclose(shaped, torch.tensor([[1.2, 1.5], [-0.8, -0.5], [0.0, 0.0], [0.15, 0.1]]))
    assert binds.tolist() == [[False, True], [False, True], [True, True], [True, False]]
    assert torch.allclose(entropy_advantage(adv, ent, mask), shaped)


def test_psi_is_detached() -> None:
    ent = torch.tensor([[0.5, 2.0]], requires_grad=True)
    out = entropy_advantage(torch.tensor([1.0]), ent)
    assert not out.requires_grad


def test_zero_advantage_group_gets_no_bonus() -> None:
    adv = torch.zeros(8)  # a group whose completions all got the same reward
    ent = torch.rand(8, 5) * 4
    assert torch.equal(entropy_advantage(adv, ent), torch.zeros(8, 5))
    assert torch.equal(entropy_advantage_seed_variant(adv, ent, None, baseline=0.0), torch.zeros(8, 5))


@settings(max_examples=200, deadline=None)
@given(
    a=st.floats(-10, 10, allow_nan=False, allow_subnormal=False),  # a subnormal A times (1 - 1/kappa) underflows to 0
    h=st.floats(0, 20, allow_nan=False),
    alpha=st.floats(0, 5),
    kappa=st.floats(1.01, 10),
    b=st.floats(0, 5),
)
def test_sign_never_flips(a: float, h: float, alpha: float, kappa: float, b: float) -> None:
    adv, ent = torch.tensor([a], dtype=torch.float64), torch.tensor([[h]], dtype=torch.float64)
    for out in (entropy_advantage(adv, ent, None, alpha, kappa),
                entropy_advantage_seed_variant(adv, ent, None, b, alpha, kappa)):
        assert torch.sign(out).item() == torch.sign(adv).item()
        assert out.item() >= a  # psi >= 0


def test_seed_variant_hand_values() -> None:
    adv = torch.tensor([1.0, -1.0])
    ent = torch.tensor([[0.5, 1.5], [3.0, 0.0]])
    out = entropy_advantage_seed_variant(adv, ent, None, baseline=1.0, alpha=0.4, kappa=2.0)
    # max(H - 1, 0) * 0.4 = 0 / 0.2 / 0.8 -> clipped to 0.5 / 0
    assert torch.allclose(out, torch.tensor([[1.0, 1.2], [-0.5, -1.0]]))


def test_psi_per_token_advantages_and_clip() -> None:
    adv = torch.tensor([[2.0, -2.0, 0.4], [-0.2, 0.0, 1.0]])  # (B, T) advantages are accepted as they are
    ent = torch.tensor([[1.0, 1.0, 3.0], [5.0, 5.0, 0.0]])
    shaped, psi, binds = adv_plus_psi(adv, ent, None, alpha=0.4, kappa=2.0)
    # alpha*H: 0.4 0.4 1.2 / 2.0 2.0 0.0 ; |A|/kappa: 1.0 1.0 0.2 / 0.1 0.0 0.5
    assert torch.allclose(psi, torch.tensor([[0.4, 0.4, 0.2], [0.1, 0.0, 0.0]]))
    assert binds.tolist() == [[False, False, True], [True, True, False]]
    assert torch.allclose(shaped, adv + psi)


def test_psi_zero_on_padding_and_kappa_checks() -> None:
    adv = torch.tensor([1.0, -1.0])
    ent = torch.full((2, 3), 2.0)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]])
    shaped, psi, binds = adv_plus_psi(adv, ent, mask)
    assert (psi[mask == 0] == 0).all() and not binds[mask == 0].any()
    assert torch.allclose(shaped[mask == 0], torch.tensor([1.0, -1.0, -1.0]))
    with pytest.raises(ValueError, match="kappa"):
        entropy_advantage(adv, ent, kappa=0.0)
    # why kappa > 1: with kappa < 1 the cap |A|/kappa exceeds |A| and a negative advantage can turn positive
    flipped = entropy_advantage(torch.tensor([-1.0]), torch.tensor([[10.0]]), alpha=0.4, kappa=0.5)
    assert flipped.item() > 0
    assert entropy_advantage(torch.tensor([-1.0]), torch.tensor([[10.0]]), alpha=0.4, kappa=2.0).item() == -0.5


def test_seed_variant_only_rewards_entropy_above_baseline() -> None:
    adv = torch.tensor([1.0, 1.0])
    ent = torch.tensor([[0.2, 0.9, 1.5], [0.0, 1.0, 4.0]])
    b = 1.0
    out = entropy_advantage_seed_variant(adv, ent, None, baseline=b, alpha=0.4, kappa=2.0)
    psi = out - 1.0
    assert (psi[ent <= b] == 0).all() and (psi[ent > b] > 0).all()
    assert torch.allclose(entropy_advantage_seed_variant(adv, ent, None, baseline=0.0), entropy_advantage(adv, ent))
    # the bonus never exceeds the paper rule's
    assert (out <= entropy_advantage(adv, ent) + 1e-7).all()


# ------------------------------------------------------------------------------------------- role mask


def test_role_mask_takes_levels_in_order_then_random() -> None:
    pri = torch.tensor([[0, 1, 2, 1, 2, 0], [1, 2, 2, 0, 1, 2]])
    mask = torch.ones(2, 6, dtype=torch.int)
    sel = role_mask(pri, mask, 0.5, torch.Generator().manual_seed(0))  # 6 of 12: all 3 operators, 3 of 4 operands
    assert int(sel.sum()) == n_selected(12, 0.5) == 6
    assert sel[pri == 0].all() and int(sel[pri == 1].sum()) == 3 and not sel[pri == 2].any()
    again = role_mask(pri, mask, 0.5, torch.Generator().manual_seed(0))
    other = [role_mask(pri, mask, 0.5, torch.Generator().manual_seed(s)) for s in range(1, 6)]
    assert torch.equal(sel, again) and any(not torch.equal(sel, o) for o in other)  # seeded choice within a level


def test_role_mask_padding_and_edges() -> None:
    pri = torch.zeros(2, 4, dtype=torch.long)
    mask = torch.tensor([[1, 1, 0, 0], [1, 0, 0, 0]])
    sel = role_mask(pri, mask, 1.0)
    assert torch.equal(sel, mask.bool())
    assert not role_mask(pri, torch.zeros_like(mask), 0.2).any()
    with pytest.raises(ValueError, match="shape"):
        role_mask(pri[:, :3], mask, 0.2)


def test_psi_uncapped_is_alpha_h_and_never_binds() -> None:
    """cap=False (notebook 05's control): psi = alpha * H on every completion token, whatever the advantage."""
    adv = torch.tensor([1.0, -1.0, 0.0])
    ent = torch.tensor([[0.05, 3.0], [0.5, 2.0], [1.0, 1.0]])
    mask = torch.tensor([[1, 1], [1, 0], [1, 1]])
    shaped, psi, binds = adv_plus_psi(adv, ent, mask, alpha=0.4, kappa=2.0, cap=False)
    torch.testing.assert_close(psi, 0.4 * ent * mask)
    torch.testing.assert_close(shaped, adv[:, None] + psi)
    assert not binds.any()
    capped = adv_plus_psi(adv, ent, mask, alpha=0.4, kappa=2.0)[1]
    assert (capped <= psi + 1e-7).all() and (capped[2] == 0).all()  # the cap only lowers psi; A = 0 gets none
