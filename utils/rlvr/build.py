"""The TRL trainer for a :class:`~utils.rlvr.config.RunConfig` and a seed: :func:`build_trainer` (policy and task
from :mod:`utils.rlvr.tasks`, the trainers of :mod:`utils.rlvr.trainers`); re-exported by :mod:`utils.rlvr.run`,
whose :func:`~utils.rlvr.run.run_condition` trains it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from utils.config import BUILD_DIR, seed_everything
from utils.infra.prefill import install_shared_prefill
from utils.rlvr.config import ConfigError, RunConfig
from utils.rlvr.tasks import load_policy_info, load_task
from utils.rlvr.trainers import EntropyAdvantageGRPOTrainer, TokenSelectGRPOTrainer, reference_from_policy

__all__ = ["build_trainer"]


def _grpo_kwargs(cfg: RunConfig, seed: int, output_dir: str | Path | None) -> dict[str, Any]:
    """``trl.GRPOConfig``'s settings from ``cfg``'s fields and ``seed`` (before ``grpo_overrides``)."""
    use_cpu = not torch.cuda.is_available()
    return dict(
        output_dir=str(output_dir or (BUILD_DIR / "rlvr_tmp" / cfg.name)),
        per_device_train_batch_size=cfg.prompts_per_step * cfg.num_generations // cfg.gradient_accumulation_steps,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="constant",
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        beta=cfg.beta,
        temperature=cfg.temperature,
        loss_type=cfg.loss_type,
        epsilon=cfg.epsilon,
        epsilon_high=cfg.epsilon_high,
        max_steps=cfg.steps,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
        use_cpu=use_cpu,
        bf16=cfg.bf16,
        dataloader_num_workers=0,
        disable_dropout=True,
        gradient_checkpointing=False,  # TRL's default is True: an extra forward per backward, pointless on CPU
        seed=seed,
        data_seed=seed,
    )


def _grpo_args(cfg: RunConfig, seed: int, output_dir: str | Path | None, stock_trl: bool) -> Any:
    """``trl.GRPOConfig`` for ``cfg`` (``grpo_overrides`` applied last), made before the model loads: a setting TRL
    refuses, or one the config's fields own, is a :class:`ConfigError`."""
    from trl import GRPOConfig

    grpo_kwargs = _grpo_kwargs(cfg, seed, output_dir)
    if cfg.optimizer == "sgd":
        grpo_kwargs["optim"] = "sgd"  # torch.optim.SGD, no momentum: the update is lr x gradient
    if stock_trl:
        if (cfg.condition, cfg.normaliser, cfg.advantage) != ("top", "all", "grpo"):
            raise ConfigError(f"{cfg.name}: TRL's own trainer implements condition top, normaliser all, advantage "
                              f"grpo only, got {cfg.condition}, {cfg.normaliser}, {cfg.advantage}")
        grpo_kwargs["top_entropy_quantile"] = cfg.rho
    if "top_entropy_quantile" in cfg.grpo_overrides:  # the trainer sets it from condition and rho
        raise ConfigError(f"{cfg.name}: grpo_overrides may not set top_entropy_quantile: the token selection is the "
                          f"config's condition and rho (here {cfg.condition}, rho {cfg.rho:g})")
    grpo_kwargs.update(cfg.grpo_overrides)
    try:  # before the model loads: a bad grpo_overrides entry is a config error, not a crash after loading
        return GRPOConfig(**grpo_kwargs)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"{cfg.name}: TRL's GRPOConfig refuses these settings (grpo_overrides?): "
                          f"{str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}") from None


def _project_trainer(cfg: RunConfig, seed: int, args: Any, model: Any, tok: Any, train: Any,
                     reward_fn: Any) -> Any:
    """The project's trainer for ``cfg``: :class:`EntropyAdvantageGRPOTrainer` for ``advantage: entropy``, else
    :class:`TokenSelectGRPOTrainer` (the token selection of ``condition``, ``rho``, ``normaliser``, ``mask_rule``)."""
    role_ranker = None
    if cfg.condition == "role":
        from utils.countdown import role_priority

        role_ranker = role_priority
    common = dict(
        model=model, reward_funcs=reward_fn, args=args, train_dataset=train, processing_class=tok,
        condition=cfg.condition, rho=cfg.rho, normaliser=cfg.normaliser, mask_rule=cfg.mask_rule, mask_seed=seed,
        role_ranker=role_ranker,
    )
    with reference_from_policy(model):  # beta > 0: the KL reference is a frozen copy of the loaded policy
        if cfg.advantage == "entropy":
            return EntropyAdvantageGRPOTrainer(alpha=cfg.alpha, kappa=cfg.kappa, variant=cfg.variant, ema=cfg.ema,
                                               cap=cfg.psi_cap, **common)
        return TokenSelectGRPOTrainer(**common)


def build_trainer(
    cfg: RunConfig, seed: int, standin: bool = False, output_dir: str | Path | None = None, stock_trl: bool = False
) -> tuple[Any, dict[str, Any]]:
    """Build the TRL trainer for ``cfg`` (model, data and reward from ``cfg.task``/``cfg.model``; ``standin=True``
    swaps in the tiny random model and the stand-in task, e.g. to dry-run a GPU config on CPU).

    ``stock_trl=True`` builds TRL's own ``GRPOTrainer`` instead, with ``GRPOConfig(top_entropy_quantile=rho)`` and
    the same settings otherwise: TRL's route to the top-rho mask, for ``condition: top`` with the ``all``
    normaliser and the GRPO advantage only (:class:`ConfigError` otherwise).

    Returns ``(trainer, ctx)`` with ``ctx = {"model", "tokenizer", "held_out", "reward_fn", "policy"}`` (``policy``:
    what was loaded, :func:`utils.rlvr.tasks.load_policy_info`).
    """
    args = _grpo_args(cfg, seed, output_dir, stock_trl)
    seed_everything(seed)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    model, tok, policy = load_policy_info(cfg, standin)
    train, held, reward_fn = load_task(cfg, seed, standin)
    ctx = {"model": model, "tokenizer": tok, "held_out": held, "reward_fn": reward_fn, "policy": policy}
    if stock_trl:
        from trl import GRPOTrainer

        with reference_from_policy(model):  # beta > 0: the KL reference is a frozen copy of the loaded policy
            trainer = GRPOTrainer(model=model, reward_funcs=reward_fn, args=args, train_dataset=train,
                                  processing_class=tok)
        return trainer, ctx
    trainer = _project_trainer(cfg, seed, args, model, tok, train, reward_fn)
    # TRL samples each prompt num_generations times in one batch: prefill each prompt once (the same tokens, sooner)
    install_shared_prefill(model)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # logs are read from state.log_history instead of printed
    return trainer, ctx
