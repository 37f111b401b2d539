"""Benchmark (not a test): dual-temperature sampling vs plain sampling, same model, prompts and seeds.

    python scripts/bench_sampling.py                 # task model if data/task_model exists
    python scripts/bench_sampling.py --random-gpt2   # tiny random GPT-2 with the GPT-2 vocab (50257)

Both arms call ``model.generate(do_sample=True, temperature=1)`` on the same left-padded batch with the
same seed per repeat; the dual arm adds :class:`utils.sampling.DualTemperatureLogitsProcessor` (through
``dual_temperature_generate``). Repeats are interleaved (the order alternates) so that load from other
processes hits both arms alike; the figure of merit is median(dual) / median(plain), target <= 1.10.

By default every row generates exactly ``--max-new-tokens`` tokens (EOS stopping off) so both arms do
the same number of steps; ``--stop-at-eos`` measures natural stopping instead. ``top_k`` defaults to 0
(pure sampling, as in the papers; transformers' own default would be 50).

On a shared 2-core machine use ``--threads 1``: with 2 OpenMP threads and other processes running, the
many small per-chunk ops of ``token_entropy`` stall at thread barriers and the ratio measures the
contention, not the processor (measured 1.35x at 2 threads under load vs 1.08x at 1 thread, random
GPT-2, batch 256, 24 tokens, torch 2.13 CPU).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from utils.config import DATA_DIR  # noqa: E402
from utils.sampling import DualTemperatureLogitsProcessor, dual_temperature_generate  # noqa: E402


def _task_model(batch: int) -> tuple[Any, dict[str, torch.Tensor], int, str]:
    from utils.toy_lm import load_task_model

    model, tok = load_task_model()
    rows = [json.loads(line) for line in (DATA_DIR / "countdown_eval.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    prompts = [rows[i % len(rows)]["prompt"] for i in range(batch)]
    enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
    desc = f"Countdown task model (data/task_model, vocab {model.config.vocab_size}), prompts from data/countdown_eval.jsonl"
    return model, dict(enc), tok.pad_token_id, desc


def _random_gpt2(batch: int, seed: int) -> tuple[Any, dict[str, torch.Tensor], int, str]:
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=50257, n_positions=128, n_embd=64, n_layer=2, n_head=2, pad_token_id=0)
    model = GPT2LMHeadModel(cfg).eval()
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(4, 13, (batch,), generator=g)
    L = int(lengths.max())
    ids = torch.zeros(batch, L, dtype=torch.long)
    mask = torch.zeros(batch, L, dtype=torch.long)
    for i, n in enumerate(lengths.tolist()):  # left padding
        ids[i, L - n :] = torch.randint(1, 50257, (n,), generator=g)
        mask[i, L - n :] = 1
    desc = "tiny RANDOM GPT-2 (vocab 50257, 2 layers x 64 wide; no task model used), random left-padded prompts"
    return model, {"input_ids": ids, "attention_mask": mask}, 0, desc


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--max-new-tokens", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats per arm (after one warm-up each)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threshold", type=float, default=0.672, help="nats (Wang et al.'s 80th percentile)")
    ap.add_argument("--t-fork", type=float, default=1.3)
    ap.add_argument("--t-rest", type=float, default=0.8)
    ap.add_argument("--top-k", type=int, default=0)
    ap.add_argument("--record", action="store_true", help="also record entropies in the dual arm")
    ap.add_argument("--stop-at-eos", action="store_true", help="let rows stop at EOS (step counts may differ)")
    ap.add_argument("--random-gpt2", action="store_true", help="use the random GPT-2 even if the task model exists")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = ap.parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    have_task = (DATA_DIR / "task_model" / "config.json").exists()
    if have_task and not args.random_gpt2:
        model, enc, pad_id, desc = _task_model(args.batch)
    else:
        model, enc, pad_id, desc = _random_gpt2(args.batch, args.seed)
        if not have_task:
            desc += " -- data/task_model not found"
    proc = DualTemperatureLogitsProcessor(args.threshold, args.t_fork, args.t_rest, record=args.record)
    kw: dict[str, Any] = dict(max_new_tokens=args.max_new_tokens, top_k=args.top_k, pad_token_id=pad_id)
    if not args.stop_at_eos:
        kw["eos_token_id"] = None  # fixed length: both arms do exactly max_new_tokens steps

    def plain(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        return model.generate(**enc, do_sample=True, temperature=1.0, **kw)

    def dual(seed: int) -> torch.Tensor:
        torch.manual_seed(seed)
        return dual_temperature_generate(model, enc, proc, **kw)

    arms = {"plain": plain, "dual": dual}
    times: dict[str, list[float]] = {k: [] for k in arms}
    steps: dict[str, list[int]] = {k: [] for k in arms}
    prompt_len = enc["input_ids"].shape[1]
    fork_frac: list[float] = []
    with torch.inference_mode():
        for name, fn in arms.items():  # warm-up
            fn(args.seed)
        for r in range(args.repeats):
            order = list(arms) if r % 2 == 0 else list(arms)[::-1]
            for name in order:
                t0 = time.perf_counter()
                out = arms[name](args.seed + 1 + r)
                times[name].append(time.perf_counter() - t0)
                steps[name].append(out.shape[1] - prompt_len)
                if name == "dual" and args.record:
                    fork_frac.append(float(proc.history()[1].float().mean()))

    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["dual"] / med["plain"]
    res: dict[str, Any] = {
        "model": desc,
        "batch": args.batch,
        "max_new_tokens": args.max_new_tokens,
        "fixed_length": not args.stop_at_eos,
        "top_k": args.top_k,
        "processor": repr(proc),
        "repeats": args.repeats,
        "median_s": med,
        "times_s": times,
        "steps": steps,
        "ratio_dual_over_plain": ratio,
        "target": 1.10,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": platform.platform(),
    }
    if fork_frac:
        res["fork_fraction"] = statistics.mean(fork_frac)
    print(f"model: {desc}")
    print(f"batch {args.batch}, max_new_tokens {args.max_new_tokens} ({'fixed length' if not args.stop_at_eos else 'stop at EOS'}), "
          f"top_k {args.top_k}, {args.repeats} interleaved repeats, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"processor: {proc!r}")
    for k in arms:
        print(f"  {k:5s}: median {med[k] * 1e3:8.1f} ms  steps {sorted(set(steps[k]))}  all {[round(t * 1e3) for t in times[k]]}")
    if fork_frac:
        print(f"  fork fraction (dual arm): {res['fork_fraction']:.3f}")
    verdict = "OK" if ratio <= 1.10 else "ABOVE TARGET"
    print(f"ratio median(dual)/median(plain) = {ratio:.3f}x  (target <= 1.10x: {verdict})")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2), encoding="utf-8")
    return res


if __name__ == "__main__":
    main()
