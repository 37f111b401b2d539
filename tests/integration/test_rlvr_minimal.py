"""The hand-written GRPO step (utils.rlvr.minimal) against the trainer's step on the same batch, on the task model.

The trainer samples (a countdown_top20 config at 4 prompts x 4 completions, one step); the hand step is given the
trainer's completions and must compute the same gradients and move the parameters the same way.

Tolerances: the gradients come from two float32 computations of the same sums (TRL's fused, tiled LM head vs
``log_softmax`` of the logits), so they agree to a few float32 roundings (atol 1e-7 next to gradients up to ~0.03).
AdamW's first step moves each parameter by ``lr * g / (|g| + 1e-8)``, about ``lr * sign(g)``: where a gradient is
rounding noise (``|g| < 1e-6``; e.g. attention key biases, which softmax ignores) that noise flips the update, so
there the parameters are only checked to have moved by at most one step each; everywhere else they agree to
float32 rounding of the parameters (atol 1e-7).
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest
import torch

from utils.rlvr import minimal as M

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


@pytest.fixture(scope="module")
def captured():
    pytest.importorskip("trl")
    import utils.rlvr as R

    cfg = R.load_config("countdown_top20", profile="ci").replace(prompts_per_step=4, num_generations=4)
    return cfg, M.capture_trainer_step(cfg, seed=0)


@pytest.fixture(scope="module")
def hand(captured):
    from utils import toy_lm

    cfg, got = captured
    model, tok = toy_lm.load_task_model()
    for name, p in model.named_parameters():  # the same starting point as the trainer's
        assert torch.equal(p, got["before"][name])
    opt = M.hand_optimizer(model, cfg.learning_rate, cfg.weight_decay)
    grads: dict[str, torch.Tensor] = {}
    opt.register_step_pre_hook(lambda *_: grads.update(
        {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}))
    stats = M.grpo_step(model, tok, opt, got["rows"], num_generations=cfg.num_generations, rho=cfg.rho,
                        temperature=cfg.temperature, max_new_tokens=cfg.max_completion_length,
                        max_grad_norm=cfg.max_grad_norm, sampled=got["sampled"])
    return model, grads, stats


def test_hand_step_computes_the_trainers_gradients(captured, hand):
    _, got = captured
    _, grads, _ = hand
    assert grads.keys() == got["grads"].keys()
    for name, g in grads.items():
        torch.testing.assert_close(g, got["grads"][name], rtol=1e-4, atol=1e-7, msg=name)


def test_hand_step_moves_the_parameters_as_the_trainers_step(captured, hand):
    cfg, got = captured
    model, _, _ = hand
    for name, p in model.named_parameters():
        after, moved = got["after"][name], (got["after"][name] - got["before"][name]).abs()
        assert float(moved.max()) > 0.5 * cfg.learning_rate, name  # the step did move this tensor
        signal = got["grads"][name].abs() > 1e-6
        torch.testing.assert_close(p.detach()[signal], after[signal], rtol=1e-6, atol=1e-7, msg=name)
        noise = (p.detach() - got["before"][name]).abs()[~signal]
        assert bool((noise <= cfg.learning_rate * (1 + 1e-3)).all()), name


def test_hand_step_logs_what_the_trainer_logs(captured, hand):
    _, got = captured
    _, _, stats = hand
    for key in ("loss", "reward", "tokens_kept", "grad_norm", "entropy"):
        assert stats[key] == pytest.approx(got["logs"][key], rel=1e-5, abs=1e-7), key
    assert 0.19 < stats["tokens_kept"] < 0.22  # ceil(0.2 N) of N completion tokens


def test_hand_step_samples_and_trains_on_its_own(captured):
    from utils import toy_lm

    cfg, got = captured
    model, tok = toy_lm.load_task_model()
    opt = M.hand_optimizer(model, cfg.learning_rate)
    torch.manual_seed(0)
    stats = M.grpo_step(model, tok, opt, got["rows"][:2], num_generations=3)
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    assert 0.0 <= stats["reward"] <= 1.0 and 0.0 < stats["tokens_kept"] <= 1.0
    assert any(not torch.equal(p, got["before"][n]) for n, p in model.named_parameters())


def test_completion_mask_keeps_tokens_up_to_the_first_eos():
    ids = torch.tensor([[5, 2, 7, 2], [5, 6, 7, 8], [2, 0, 0, 0]])
    assert M.completion_mask(ids, eos_token_id=2).tolist() == [[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]


def test_the_hand_step_is_at_most_30_lines():
    """Its body, without the docstring, comments and blank lines, fits in 30 lines (issue 22, section 3)."""
    src = textwrap.dedent(inspect.getsource(M.grpo_step))
    fn = ast.parse(src).body[0]
    assert isinstance(fn, ast.FunctionDef)
    lines = src.splitlines()[fn.body[1].lineno - 1 : fn.body[-1].end_lineno]
    code = [ln for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    assert len(code) <= 30, len(code)
