"""utils.entropy_bonus.identity: the loss terms' gradients and the Monte-Carlo statistics behind notebook 05's mechanism."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from utils.entropy_bonus import identity as BL


class TinyLM(torch.nn.Module):
    def __init__(self, vocab: int = 7, dim: int = 5) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.emb, self.head = torch.nn.Embedding(vocab, dim), torch.nn.Linear(dim, vocab)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> SimpleNamespace:
        return SimpleNamespace(logits=self.head(torch.tanh(self.emb(input_ids).cumsum(1))))


def _batch(adv: list[float], seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, 7, (len(adv), 6), generator=g)
    cm = torch.ones(len(adv), 3, dtype=torch.long)
    cm[0, -1] = 0
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "completion_ids": ids[:, -3:],
            "completion_mask": cm, "advantages": torch.tensor(adv)}


def test_term_gradients_match_autograd_and_the_cap_limits() -> None:
    model, b = TinyLM(), _batch([0.5, 1.5, 1.0])
    g = BL.term_gradients(model, b, alphas=(0.0, 1e6), kappa=2.0)
    assert set(g) == {"adv", "H", "cap0", "cap1e+06", "entropy"}
    logits = model(b["input_ids"], b["attention_mask"]).logits[:, -4:-1]
    lp = torch.log_softmax(logits, -1)
    logp = lp.gather(-1, b["completion_ids"][..., None]).squeeze(-1)
    m = b["completion_mask"].float()
    h = -(lp.exp() * lp).sum(-1)
    want = torch.autograd.grad((h.detach() * logp * m).sum() / m.sum(), list(model.parameters()))
    torch.testing.assert_close(g["H"], torch.cat([w.reshape(-1) for w in want]).double(), rtol=1e-5, atol=1e-7)
    assert float(g["cap0"].abs().max()) < 1e-12                      # alpha = 0: no bonus
    torch.testing.assert_close(g["cap1e+06"], g["adv"] / 2.0)       # huge alpha, A > 0: psi = |A| / kappa = A / 2


def test_state_baseline_has_zero_expected_gradient_exactly() -> None:
    """E_{a ~ pi}[b(s) grad log pi(a|s)] = 0: enumerate the actions of a softmax and weigh them by pi."""
    logits = torch.randn(6, requires_grad=True, generator=torch.Generator().manual_seed(1))
    pi = torch.softmax(logits, -1).detach()
    b = 0.7 * float(-(pi * pi.log()).sum())  # alpha * H(s), a function of the state only
    total = sum(pi[a] * b * torch.autograd.grad(torch.log_softmax(logits, -1)[a], logits)[0] for a in range(6))
    torch.testing.assert_close(total, torch.zeros(6), atol=1e-6, rtol=0)


def _acc(mu: np.ndarray, B: int = 200, group: int = 10, seed: int = 0) -> dict:
    """Synthetic products: terms adv (mean mu), H (mean 0), caps and entropy, Gaussian noise."""
    rng = np.random.default_rng(seed)
    names = ["adv", "H", "cap0.4", "cap4", "entropy"]
    V = np.stack([mu + rng.normal(size=(B, mu.size)) * 0.5, rng.normal(size=(B, mu.size)),
                  0.1 * mu + rng.normal(size=(B, mu.size)) * 0.2, 0.5 * mu + rng.normal(size=(B, mu.size)) * 0.3,
                  -mu + rng.normal(size=(B, mu.size))], axis=1)  # (B, terms, P)
    S = V.reshape(B // group, group, len(names), -1).sum(1)
    return {"names": names, "group": group, "per_batch": np.einsum("btp,bup->btu", V, V),
            "gram": np.einsum("mtp,nup->tumn", S, S)}


def test_monte_carlo_recovers_known_means_and_the_sqrt_n_law() -> None:
    mu = np.zeros(50)
    mu[0] = 1.0
    mc = BL.monte_carlo(_acc(mu), Ns=[1, 10, 50], alpha=0.4, n_boot=200)
    lo, hi = mc["sq_norm"]["psi"]["ci"]
    assert lo < 0 < hi                                              # the zero-mean term: ||E g||^2 = 0 inside the CI
    lo, hi = mc["sq_norm"]["adv"]["ci"]
    assert lo < 1.0 < hi                                            # ||mu||^2 = 1
    for N in (1, 10, 50):                                           # zero mean: norm of the mean ~ sqrt(tr Sigma / N)
        c, want = mc["curve"]["psi"][N], 0.4 * np.sqrt(50 / N)      # psi = 0.4 H, H's tr Sigma = 50
        assert abs(c["measured"] / want - 1) < 0.15 and abs(c["predicted_null"] / want - 1) < 0.1
    assert mc["curve"]["adv"][50]["measured"] > 0.9                 # the mean term does not shrink below ||mu||
    assert mc["cos_cap_adv"]["value"] > 0.8 and mc["cos_cap_entropy"]["value"] < -0.8


def test_unbiased_sq_norm_ignores_self_pairs() -> None:
    K = np.array([[5.0, 1.0], [1.0, 9.0]])
    assert BL.unbiased_sq_norm(K) == pytest.approx(1.0)
    assert np.isnan(BL.unbiased_sq_norm(K, np.array([0, 0])))  # a resample of one unit has no pair of different ones
