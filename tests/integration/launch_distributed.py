"""One short Countdown run under ``accelerate launch --cpu --num_processes 2`` (gloo), for
``tests/integration/test_rlvr_trainers.py::test_two_process_run``. Not a test itself.

    CUDA_VISIBLE_DEVICES= accelerate launch --multi_gpu --num_processes 2 tests/integration/launch_distributed.py OUT_DIR

(``accelerate launch --cpu --num_processes 2`` starts a *single* process: accelerate's simple launcher ignores
``--num_processes`` on CPU. ``--multi_gpu`` starts two through ``torch.distributed.run``; with no GPU visible the
trainer's ``use_cpu`` makes accelerate pick ``MULTI_CPU`` with the gloo backend.)

Each rank trains ``configs/countdown_top20.yaml`` (ci profile, 2 steps, small batches) twice through the real entry
point ``utils.rlvr.run.run_condition``, once per mask rule (``count``, then ``quantile``), and writes
``OUT_DIR/rank<r>.json``: per rule, a digest of its parameters before and after training, every selection the
trainer made (the rank's own valid-token entropies and which of them were kept), and every path it passed to
``save_json``. The result files are ``OUT_DIR/result_<rule>.json``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import torch


def digest(model: torch.nn.Module) -> str:
    h = hashlib.sha256()
    for name, p in sorted(model.named_parameters()):
        h.update(name.encode())
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def main(out_dir: Path) -> None:
    import utils.rlvr.run as run_module
    from utils.rlvr import load_config
    from utils.rlvr.trainers import TokenSelectGRPOTrainer

    torch.set_num_threads(1)
    rank = int(os.environ.get("RANK", "0"))
    out: dict = {"rank": rank, "world_size": int(os.environ.get("WORLD_SIZE", "1"))}
    record: dict = {}

    original_mask = TokenSelectGRPOTrainer.get_high_entropy_mask

    def spy_mask(self, entropies, mask, threshold):  # type: ignore[no-untyped-def]
        sel = original_mask(self, entropies, mask, threshold)
        valid = mask.bool()
        record["selections"].append({"entropies": entropies[valid].float().tolist(),
                                     "kept": sel[valid].bool().tolist(), "rho": self.rho})
        return sel

    TokenSelectGRPOTrainer.get_high_entropy_mask = spy_mask  # type: ignore[method-assign]

    trainers: list = []
    original_build = run_module.build_trainer

    def spy_build(*args, **kwargs):  # type: ignore[no-untyped-def]
        trainer, ctx = original_build(*args, **kwargs)
        trainers.append(trainer)
        record["before"] = digest(trainer.model)
        record["distributed_type"] = str(trainer.accelerator.distributed_type)
        record["backend"] = str(trainer.accelerator.state.backend)
        return trainer, ctx

    run_module.build_trainer = spy_build

    original_save = run_module.save_json

    def spy_save(obj, path, *args, **kwargs):  # type: ignore[no-untyped-def]
        record["saved"].append(str(path))
        return original_save(obj, path, *args, **kwargs)

    run_module.save_json = spy_save

    for rule in ("count", "quantile"):
        record.clear()
        record.update(selections=[], saved=[])
        cfg = load_config("countdown_top20", profile="ci").replace(
            steps=2, eval_every=0, eval_n=4, eval_samples=1, final_samples=0, prompts_per_step=4, num_generations=8,
            train_size=64, mask_rule=rule, num_threads=1)
        run_module.run_condition(cfg, 0, out=out_dir / f"result_{rule}.json", verbose=False)
        record["after"] = digest(trainers[-1].model)
        out[rule] = dict(record)
    (out_dir / f"rank{rank}.json").write_text(json.dumps(out))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
