"""utils.rlvr: token masks, loss normalisers, Cheng et al.'s advantage shaping, config + entry point smoke test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from utils.rlvr import (
    RunConfig,
    adv_plus_psi,
    entropy_advantage,
    entropy_advantage_seed_variant,
    entropy_mask,
    load_config,
    load_results,
    main,
    masked_policy_loss,
    n_selected,
    normaliser_comparison,
    update_cost,
)

REPO = Path(__file__).resolve().parent.parent


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
    a=st.floats(-10, 10, allow_nan=False),
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


# ------------------------------------------------------------------------------------ compute claim


def test_update_cost_masking_saves_no_flops() -> None:
    from utils.rlvr import make_standin

    model, _ = make_standin(extra_vocab=200)
    ids = torch.randint(2, 20, (4, 16))
    att = torch.ones_like(ids)
    cm = torch.ones(4, 8, dtype=torch.int)
    sel = entropy_mask(torch.rand(4, 8), cm, 0.2, "top")
    adv = torch.randn(4)
    full = update_cost(model, ids, att, cm, adv, None, "full", repeats=1)
    masked = update_cost(model, ids, att, cm, adv, sel, "masked", repeats=1)
    sparse = update_cost(model, ids, att, cm, adv, sel, "sparse_head", repeats=1)
    assert masked["flops"] == full["flops"]
    assert sparse["flops"] < full["flops"]


# ------------------------------------------------------------------------------- config + entry point


def test_all_configs_parse() -> None:
    paths = sorted((REPO / "configs").glob("*.yaml"))
    assert paths
    for p in paths:
        for prof in ("ci", "default", "full"):
            cfg = load_config(p, profile=prof)
            assert isinstance(cfg, RunConfig) and cfg.name


def test_config_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        RunConfig(condition="middle")
    with pytest.raises(ValueError):
        RunConfig(condition="bottom", rho=1.0)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"steps": 3, "stepz": 4}))
    with pytest.raises(ValueError, match="stepz"):
        load_config(bad)


@pytest.mark.parametrize("config", ["configs/scaleup_qwen_gsm8k.yaml"])
def test_scaleup_dry_run(config: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--config", config, "--dry-run", "--standin", "--profile", "ci"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["dry_run"] and out["trainer"]


@pytest.mark.parametrize(
    "sets",
    [
        ["condition=random", "rho=0.2"],
        ["condition=bottom", "rho=0.2", "normaliser=selected"],
        ["advantage=entropy", "variant=seed"],
    ],
)
def test_entry_point_smoke(tmp_path: Path, sets: list[str]) -> None:
    out = tmp_path / "r.json"
    common = ["steps=2", "eval_every=1", "eval_n=4", "eval_samples=2", "prompts_per_step=2", "num_generations=4",
              "train_size=32", "max_completion_length=8", "final_samples=4"]
    assert main(["run", "--config", "configs/countdown_top20.yaml", "--standin", "--profile", "ci",
                 "--out", str(out), "--set", *common, *sets]) == 0
    r = json.loads(out.read_text())
    assert r["schema"] == "forking-tokens/rlvr-run/1" and r["seed"] == 0
    assert r["eval"]["step"] == [0, 1, 2] and len(r["eval"]["pass1"]) == 3
    assert r["train"]["step"] == [1, 2] and len(r["train"]["entropy"]) == 2
    assert set(r["final"]["pass_at_k"]) == {"1", "2", "4"}
    if "advantage=entropy" in sets:
        assert len(r["train"]["psi_mean"]) == 2 and "psi_baseline" in r["train"]
    else:
        kept = r["train"]["tokens_kept"]
        target = 0.2 if "condition=random" in sets else 0.8
        assert all(abs(x - target) < 0.1 for x in kept)
    assert load_results(directory=tmp_path)[0]["name"] == r["name"]


# ------------------------------------------------------------------------------------ added helpers


def test_set_values_parse_numbers() -> None:
    from utils.rlvr import _parse_value

    assert _parse_value("3e-4") == pytest.approx(3e-4) and _parse_value("1.0e-4") == pytest.approx(1e-4)
    assert _parse_value("top") == "top" and _parse_value("5") == 5 and _parse_value("true") is True


def test_extrapolated_flops_exact() -> None:
    from utils.rlvr import extrapolated_update_flops, llama_like

    shape = dict(hidden_size=16, intermediate_size=32, num_hidden_layers=3, num_attention_heads=2,
                 num_key_value_heads=1, vocab_size=300)
    ids = torch.randint(0, 300, (2, 10))
    att, cm = torch.ones_like(ids), torch.ones(2, 6, dtype=torch.int)
    sel = entropy_mask(torch.rand(2, 6), cm, 0.2, "top")
    adv = torch.randn(2)
    est = extrapolated_update_flops(lambda n: llama_like(n, shape), 3, ids, att, cm, adv, sel)
    model = llama_like(3, shape)
    for v in ("full", "sparse_head"):
        assert est[v] == update_cost(model, ids, att, cm, adv, sel, v, repeats=0)["flops"]  # type: ignore[arg-type]
    assert est["sparse_head"] < est["full"]


def test_policy_batch_and_run_many(tmp_path: Path) -> None:
    from utils.rlvr import Job, policy_batch, run_many

    cfg = load_config("configs/countdown_top20.yaml", profile="ci").replace(
        prompts_per_step=2, num_generations=4, train_size=32, max_completion_length=8, steps=1, eval_every=0,
        eval_n=4, eval_samples=2)
    b = policy_batch(cfg, 0, standin=True)
    cm = b["completion_mask"]
    assert b["entropies"].shape == cm.shape == b["logps"].shape and b["advantages"].shape == (8,)
    assert (b["entropies"] >= 0).all() and (b["logps"] <= 0).all()
    res = normaliser_comparison(b["logps"], b["advantages"], cm, b["entropies"], 0.2)
    assert res["ratio"] == pytest.approx(res["n_valid_over_n_selected"], rel=1e-4) or res["grad_norm_all"] == 0
    # run_many in-process (workers=1), with the standin model saved afterwards
    cfg_s = cfg.replace(task="standin", model="standin")
    out = run_many([Job(cfg_s, 0, str(tmp_path / "a.json"), str(tmp_path / "m"))], workers=1, verbose=False)
    assert out[0]["eval"]["step"] == [0, 1] and (tmp_path / "m" / "config.json").exists()
    assert out[0]["timing"]["cpu_s"] > 0
