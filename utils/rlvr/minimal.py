"""One GRPO training step written out by hand, and the trainer's first step captured to compare it with.

:func:`grpo_step` is the whole of what :class:`utils.rlvr.trainers.TokenSelectGRPOTrainer` does in one optimiser
step of a ``condition: top`` run with TRL's defaults as the project sets them (one micro-batch per step, one policy
iteration per batch, ``beta = 0``, ``loss_type: dapo``, group-scaled advantages): sample a group of completions per
prompt, score them with the verifier, group advantages, the top-rho entropy mask, the masked token-level loss,
backward, gradient clipping, optimiser step -- in under 30 readable lines, from the project's own pieces
(:func:`utils.countdown.countdown_reward`, :func:`utils.rlvr.losses.entropy_mask`,
:func:`utils.rlvr.losses.masked_policy_loss`). Notebook 04 shows it next to the trainer;
``tests/integration/test_rlvr_minimal.py`` checks that it moves the parameters as the trainer's step does on the same batch.

:func:`capture_trainer_step` runs the trainer built by :func:`utils.rlvr.build.build_trainer` for one step and returns
what it sampled (so that the hand step can be given the *same* completions: sampling is the trainer's) and its
parameters before and after. TRL shuffles the rows of a generated batch before the loss; the capture keeps their
order (the shuffle is replaced by the identity), since the loss is a sum over tokens and the order matters only
where the ``count`` rule breaks an entropy tie by position (every member of a group has the same entropy at its
first completion token).

:func:`sample_group` is the sampling stage on its own (the trainer's generation settings), used by
:func:`grpo_step` when it is given no completions, e.g. by the benchmark's hand-written loop (``scripts/bench.py``).
:func:`sample_batches` gives whole training batches exactly as the trainer builds them (notebooks 04 and 05).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any
from unittest import mock

import torch

from utils.countdown import countdown_reward
from utils.rlvr.losses import entropy_mask, masked_policy_loss
from utils.infra.prefill import shared_prefill

__all__ = ["capture_trainer_step", "completion_mask", "grpo_step", "hand_optimizer", "sample_batches", "sample_group"]

Sampled = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


@torch.no_grad()
def sample_group(
    model: Any, tokenizer: Any, prompts: Sequence[str], num_generations: int, max_new_tokens: int = 24,
    temperature: float = 1.0,
) -> Sampled:
    """``(prompt_ids, prompt_mask, completion_ids)``: ``num_generations`` sampled completions of each prompt (the
    copies of a prompt next to each other), prompts left-padded, with the trainer's generation settings (plain
    sampling at ``temperature``, no top-k/top-p); tokens after a completion's first EOS are padding."""
    texts = [p for p in prompts for _ in range(num_generations)]
    enc = tokenizer(text=texts, return_tensors="pt", padding=True, padding_side="left")
    with shared_prefill(model):  # each prompt's copies prefilled once, as the trainer does (the same tokens)
        out = model.generate(
            input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], do_sample=True, temperature=temperature,
            top_k=0, top_p=1.0, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id, bos_token_id=tokenizer.bos_token_id,
        )
    comp = out[:, enc["input_ids"].shape[1]:]
    return enc["input_ids"], enc["attention_mask"], comp.masked_fill(completion_mask(comp, tokenizer.eos_token_id) == 0,
                                                                     tokenizer.pad_token_id)


def completion_mask(completion_ids: torch.Tensor, eos_token_id: int) -> torch.Tensor:
    """(B, T) int mask of a completion's tokens up to and including its first EOS (all of them if it has none)."""
    is_eos = completion_ids == eos_token_id
    first = torch.where(is_eos.any(1), is_eos.int().argmax(1), completion_ids.shape[1])
    return (torch.arange(completion_ids.shape[1]) <= first[:, None]).int()


def grpo_step(
    model: Any,
    tokenizer: Any,
    optimizer: torch.optim.Optimizer,
    rows: Sequence[dict[str, Any]],
    num_generations: int = 8,
    rho: float = 0.2,
    temperature: float = 1.0,
    max_new_tokens: int = 24,
    max_grad_norm: float = 1.0,
    reward_fn: Callable[..., list[float]] = countdown_reward,
    sampled: Sampled | None = None,
) -> dict[str, float]:
    """One GRPO step with the top-``rho`` entropy mask (Wang et al.'s rule, the ``count`` selection) on the prompts
    of ``rows`` (dataset rows: ``prompt`` plus the columns ``reward_fn`` reads, e.g. ``numbers``/``target``).

    ``sampled``: the completions to train on, ``(prompt_ids, prompt_mask, completion_ids)`` as :func:`sample_group`
    returns them (e.g. the trainer's, :func:`capture_trainer_step`); ``None`` samples them. ``optimizer`` holds
    ``model``'s parameters (:func:`hand_optimizer`: the trainer's AdamW). Returns the step's ``loss``, mean
    ``reward``, mean completion-token ``entropy`` (nats), ``tokens_kept`` (share selected) and ``grad_norm``
    (before clipping), the numbers TRL logs under the same names.
    """
    G = num_generations
    # 1. sample a group of G completions per prompt (or take the trainer's)
    prompt_ids, prompt_mask, comp_ids = sampled or sample_group(model, tokenizer, [r["prompt"] for r in rows], G,
                                                                max_new_tokens, temperature)
    mask = completion_mask(comp_ids, tokenizer.eos_token_id)
    # 2. score every completion with the verifier (the dataset's columns as keyword arguments, as TRL passes them)
    texts = tokenizer.batch_decode(comp_ids, skip_special_tokens=True)
    cols = {k: [r[k] for r in rows for _ in range(G)] for k in rows[0] if k != "prompt"}
    rewards = torch.tensor(reward_fn([r["prompt"] for r in rows for _ in range(G)], texts, **cols))
    # 3. group advantages: (r - group mean) / (group std + 1e-4)
    r = rewards.view(-1, G)
    adv = ((r - r.mean(1, keepdim=True)) / (r.std(1, keepdim=True) + 1e-4)).view(-1, 1)
    # 4. one forward pass: log-probs of the sampled tokens and the entropy at every completion position
    logits = model(input_ids=torch.cat([prompt_ids, comp_ids], 1),
                   attention_mask=torch.cat([prompt_mask, mask], 1)).logits
    logp_all = (logits[:, prompt_ids.shape[1] - 1 : -1] / temperature).log_softmax(-1)
    logp = logp_all.gather(-1, comp_ids[..., None]).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    # 5. the top-rho mask: the ceil(rho N) highest-entropy completion tokens of the batch
    selected = entropy_mask(entropy.detach(), mask, rho, "top")
    # 6. the clipped surrogate on-policy (ratio exp(logp - logp.detach()) = 1, gradient = that of logp), summed
    #    over the selected tokens and divided by the number of all completion tokens
    loss = masked_policy_loss(-adv * torch.exp(logp - logp.detach()), mask, selected, "all")
    # 7. backward, clip, step
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    optimizer.step()
    n = mask.sum()
    return {"loss": float(loss.detach()), "reward": float(rewards.mean()), "tokens_kept": float(selected.sum() / n),
            "entropy": float((entropy.detach() * mask).sum() / n), "grad_norm": float(grad_norm)}


def hand_optimizer(model: Any, learning_rate: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """The optimiser the trainer builds for a config with ``optimizer: adamw`` (transformers' default: torch's
    AdamW, betas (0.9, 0.999), eps 1e-8, constant learning rate; weight decay, 0 in every config here, would spare
    biases and norms in the trainer)."""
    return torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=weight_decay)


@contextmanager
def _rows_in_order():
    """TRL's row shuffle of a generated batch replaced by the identity (see the module docstring)."""
    with mock.patch("trl.trainer.grpo_trainer.shuffle_sequence_dict", lambda batch: batch):
        yield


def capture_trainer_step(cfg: Any, seed: int = 0) -> dict[str, Any]:
    """Train ``cfg`` (a :class:`~utils.rlvr.config.RunConfig`) through the project's trainer for one step and return
    what the hand step needs to repeat it: ``rows`` (the step's dataset rows, one per prompt), ``sampled``
    (``(prompt_ids, prompt_mask, completion_ids)``, the trainer's completions), ``before``/``after`` (the policy's
    parameters, name -> tensor), ``grads`` (the gradients as the optimiser received them, after clipping),
    ``logs`` (TRL's logged step) and ``trainer``/``ctx`` (:func:`utils.rlvr.build.build_trainer`'s)."""
    from transformers import TrainerCallback

    from utils.rlvr.build import build_trainer

    trainer, ctx = build_trainer(cfg.replace(steps=1, eval_n=0), seed)
    model = ctx["model"]
    got: dict[str, Any] = {"before": {k: v.detach().clone() for k, v in model.named_parameters()}}
    generate = trainer._generate_and_score_completions

    def recording(inputs: list[dict[str, Any]]) -> dict[str, Any]:
        out = generate(inputs)
        got["rows"] = [{k: v for k, v in row.items()} for row in inputs[:: cfg.num_generations]]
        got["sampled"] = (out["prompt_ids"].clone(), out["prompt_mask"].clone(), out["completion_ids"].clone())
        return out

    class Grads(TrainerCallback):
        def on_pre_optimizer_step(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            got["grads"] = {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}

    trainer._generate_and_score_completions = recording
    trainer.add_callback(Grads())
    with _rows_in_order():
        trainer.train()
    got["after"] = {k: v.detach().clone() for k, v in model.named_parameters()}
    got["logs"] = next(h for h in trainer.state.log_history if "reward" in h)
    got.update(trainer=trainer, ctx=ctx)
    return got


def sample_batches(cfg: Any, n: int, seed: int = 0, model: Any = None) -> list[dict[str, Any]]:
    """``n`` training batches exactly as TRL's trainer builds them for ``cfg`` (sampled completions, rewards, group
    advantages), from ``model`` (default: the config's initial policy). Each dict holds ``input_ids`` (prompt +
    completion), ``attention_mask``, ``completion_ids``, ``completion_mask``, ``advantages``, ``tokenizer`` and
    ``trl_inputs`` (the batch as the trainer's ``compute_loss`` takes it). (Here since it moved out of ``utils.rlvr.run``.)"""
    from utils.rlvr.build import build_trainer

    trainer, ctx = build_trainer(cfg.replace(eval_n=0), seed)
    if model is not None:
        trainer.model = model
        trainer.model_wrapped = model
    loader = iter(trainer.get_train_dataloader())
    out = []
    torch.manual_seed(seed)
    for _ in range(n):
        inputs = trainer._generate_and_score_completions(next(loader))
        out.append({
            "input_ids": torch.cat([inputs["prompt_ids"], inputs["completion_ids"]], 1),
            "attention_mask": torch.cat([inputs["prompt_mask"], inputs["completion_mask"]], 1),
            "completion_ids": inputs["completion_ids"], "completion_mask": inputs["completion_mask"],
            "advantages": inputs["advantages"], "tokenizer": ctx["tokenizer"], "trl_inputs": inputs,
        })
    return out
