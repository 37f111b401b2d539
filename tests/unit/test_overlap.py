"""utils.rlvr.overlap: top-rho overlap of two models' entropies and |Delta H| by base-entropy bucket."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from utils.rlvr.overlap import delta_by_bucket, pad_ragged, top_overlap


def ragged(seed: int = 0, n: int = 30) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.exponential(0.5, size=rng.integers(1, 12)) for _ in range(n)]


def test_pad_ragged() -> None:
    vals, mask = pad_ragged([np.array([1.0, 2.0]), np.array([]), np.array([3.0])])
    assert vals.shape == (3, 2) and mask.tolist() == [[True, True], [False, False], [True, False]]
    assert vals[0].tolist() == [1.0, 2.0] and vals[2, 0] == 3.0


def test_overlap_identity_and_monotone_transform() -> None:
    h = ragged()
    assert top_overlap(h, h)["overlap"] == pytest.approx(1.0)
    # a strictly increasing transform keeps the ranking, so the same positions
    assert top_overlap(h, [np.sqrt(a) * 3 + 1 for a in h], 0.2)["overlap"] == pytest.approx(1.0)
    # reversing the order: no overlap at rho = 0.2
    assert top_overlap(h, [-a for a in h], 0.2)["overlap"] == pytest.approx(0.0, abs=1e-12)


def test_overlap_random_is_near_chance() -> None:
    h = ragged(n=400)
    rng = np.random.default_rng(1)
    r = top_overlap(h, [rng.random(len(a)) for a in h], 0.2)
    assert r["chance"] == pytest.approx(r["k"] / r["n_tokens"])
    assert abs(r["overlap"] - r["chance"]) < 0.06


def test_overlap_needs_same_completions() -> None:
    with pytest.raises(ValueError):
        top_overlap([np.ones(3)], [np.ones(4)])
    with pytest.raises(ValueError):
        top_overlap([np.ones(0)], [np.ones(0)])


def test_delta_by_bucket() -> None:
    h = ragged(n=100)
    new = [a + np.where(a > np.median(np.concatenate(h)), 1.0, 0.0) for a in h]  # only high-entropy tokens move
    d = delta_by_bucket(h, new, n_buckets=4)
    assert sum(d["n"]) == sum(len(a) for a in h)
    assert d["base_mean"] == sorted(d["base_mean"])
    assert d["abs_delta"][0] == pytest.approx(0.0, abs=1e-12) and d["abs_delta"][-1] == pytest.approx(1.0)
    assert np.allclose(d["delta"], d["abs_delta"])
    with pytest.raises(ValueError):
        delta_by_bucket([np.ones(3)], [np.ones(3)], n_buckets=10)


def test_selected_by_role() -> None:
    import torch

    from utils.rlvr.overlap import selected_by_role
    from utils.toy_lm import build_tokenizer

    tok = build_tokenizer()
    texts = ["3+4=7,7*2=14", "9-1=8"]
    ids = [tok(t, add_special_tokens=False)["input_ids"] + [tok.eos_token_id] for t in texts]
    width = max(map(len, ids))
    cid = torch.full((2, width), tok.pad_token_id)
    cm = torch.zeros(2, width, dtype=torch.int)
    for i, x in enumerate(ids):
        cid[i, : len(x)] = torch.tensor(x)
        cm[i, : len(x)] = 1
    sel = torch.zeros(2, width, dtype=torch.bool)
    sel[0, 0] = sel[1, 0] = True  # the first operand of each completion
    out = selected_by_role(tok, cid, cm, sel)
    assert out["operand1"]["share_of_kept"] == pytest.approx(1.0) and out["result"]["share_selected"] == pytest.approx(0.0, abs=1e-12)
    assert sum(v["n"] for v in out.values()) == int(cm.sum())
    assert out["eos"]["n"] == 2


def test_high_minus_rest_and_mean_abs_delta() -> None:
    from utils.rlvr.overlap import high_minus_rest, mean_abs_delta

    base = [np.array([0.0, 0.0, 0.0, 0.0, 2.0]), np.array([0.0, 0.0, 0.0, 0.0, 3.0])]
    new = [np.array([0.1, 0.1, 0.1, 0.1, 1.0]), np.array([0.1, 0.1, 0.1, 0.1, 2.0])]
    assert mean_abs_delta(base, new) == pytest.approx((8 * 0.1 + 2 * 1.0) / 10)
    assert high_minus_rest(base, new, 0.2) == pytest.approx(1.0 - 0.1)   # the change sits on the uncertain tokens
    assert high_minus_rest(base, base, 0.2) == pytest.approx(0.0)


def test_perturbed_model_is_seeded_and_scaled() -> None:
    from utils.rlvr.overlap import perturbed_model

    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.LayerNorm(3))
    a, b, c = perturbed_model(m, 0.1, 1), perturbed_model(m, 0.1, 1), perturbed_model(m, 0.1, 2)
    wa, wb, wc, w0 = (x[0].weight.detach() for x in (a, b, c, m))
    assert torch.equal(wa, wb) and not torch.equal(wa, wc)
    assert torch.equal(perturbed_model(m, 0.0, 1)[0].weight, w0)
    rel = float((wa - w0).pow(2).mean().sqrt() / w0.pow(2).mean().sqrt())
    assert 0.03 < rel < 0.3   # about 0.1 of the tensor's rms (12 draws)
    assert torch.equal(m[0].weight, w0)   # the original is untouched


def test_matched_perturbation_hits_the_target() -> None:
    """On a toy 'model' whose entropies are a smooth function of its weights, the search finds the scale that
    moves the mean |dH| by the target, and the null can come out on either side of a trained model's value."""
    from utils.rlvr.overlap import matched_perturbation, perturbation_null

    torch.manual_seed(0)
    model = torch.nn.Linear(8, 1, bias=False)
    x = torch.randn(40, 8)

    def score(m: torch.nn.Module, n: int | None = None) -> list[np.ndarray]:
        with torch.no_grad():
            h = torch.nn.functional.softplus(m(x)).squeeze(1).double().numpy()
        h = h if n is None else h[: 4 * n]
        return [h[i: i + 4] for i in range(0, len(h), 4)]

    base = score(model)
    found = matched_perturbation(model, score, base, target=0.05, seed=0, rel_tol=0.02)
    from utils.rlvr.overlap import mean_abs_delta

    assert mean_abs_delta(base, found["entropies"]) == pytest.approx(0.05, rel=0.02)
    null = perturbation_null(model, score, base, target=0.05, seeds=[0, 1], n_search=5, rel_tol=0.02)
    assert [r["seed"] for r in null] == [0, 1]
    assert all(0 <= r["overlap"] <= 1 and r["mean_abs_delta"] > 0 for r in null)
    with pytest.raises(ValueError, match="less than the target"):
        matched_perturbation(model, score, base, target=1e6, seed=0)
