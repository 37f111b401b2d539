"""Benchmark (not a test): token entropy implementations on the same [B, T, V] float32 logits.

    python scripts/bench_entropy.py [--shape 4 256 50257] [--repeats 7] [--chunk 64]

Prints, from one run with the candidates interleaved, the median wall time of each, its ratio to
the compute floor (one chunked exp().sum() pass: an entropy needs at least one exponential per
element) and to utils.entropy.token_entropy, the peak extra memory each allocates, and the largest
deviation from a float64 reference. Targets (issue 2): >= 3x faster than the seed's softmax +
log2(p + 1e-10), faster than TRL's entropy_from_logits, <= 2x the floor, extra memory bounded by
the chunk.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from utils.entropy import token_entropy


def seed_entropy(logits: torch.Tensor) -> torch.Tensor:
    probs = torch.softmax(logits, dim=-1)
    return -torch.sum(probs * torch.log2(probs + 1e-10), dim=-1) * torch.log(torch.tensor(2.0))


def floor(logits: torch.Tensor, chunk: int) -> torch.Tensor:
    flat = logits.reshape(-1, logits.shape[-1])
    out = torch.empty(flat.shape[0])
    for i in range(0, flat.shape[0], chunk):
        out[i : i + chunk] = flat[i : i + chunk].exp().sum(-1)
    return out


def peak_extra_bytes(fn) -> int:
    """Peak CPU memory allocated by torch while running fn (profiler memory events)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    cur = peak = 0
    for ev in sorted(prof.events(), key=lambda e: e.time_range.start):
        cur += ev.cpu_memory_usage if ev.cpu_memory_usage else 0
        peak = max(peak, cur)
    return peak


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", nargs=3, type=int, default=[4, 256, 50257])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--chunk", type=int, default=None, help="rows per chunk for token_entropy (default: auto)")
    args = ap.parse_args()
    B, T, V = args.shape
    torch.manual_seed(0)
    x = torch.randn(B, T, V) * 3
    try:
        from trl.trainer.utils import entropy_from_logits
    except ImportError:
        entropy_from_logits = None
    floor_chunk = args.chunk or max(1, (8 * 2**20) // (4 * V))
    cands = {
        "floor: chunked exp().sum()": lambda: floor(x, floor_chunk),
        "token_entropy (ours)": lambda: token_entropy(x, chunk_size=args.chunk),
        "seed: softmax + log2(p+1e-10)": lambda: seed_entropy(x),
    }
    if entropy_from_logits is not None:
        cands["TRL entropy_from_logits"] = lambda: entropy_from_logits(x)
    ref = torch.distributions.Categorical(logits=x[:1].double()).entropy()
    times: dict[str, list[float]] = {k: [] for k in cands}
    errs = {}
    for k, fn in cands.items():  # warm-up, and accuracy on the first sequence
        out = fn()
        if not k.startswith("floor"):
            errs[k] = float((out.reshape(B, T)[:1].double() - ref).abs().max())
    for _ in range(args.repeats):
        for k, fn in cands.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    mem = {k: peak_extra_bytes(fn) for k, fn in cands.items()}
    f, ours = med["floor: chunked exp().sum()"], med["token_entropy (ours)"]
    print(f"logits [{B}, {T}, {V}] float32 ({x.numel() * 4 / 2**20:.0f} MiB), {args.repeats} interleaved repeats, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{'method':34s} {'median s':>9s} {'x floor':>8s} {'x ours':>7s} {'peak extra MiB':>15s} {'max err (nats)':>15s}")
    for k in cands:
        e = f"{errs[k]:.1e}" if k in errs else "-"
        print(f"{k:34s} {med[k]:9.4f} {med[k] / f:8.2f} {med[k] / ours:7.2f} {mem[k] / 2**20:15.1f} {e:>15s}")
    seed = med["seed: softmax + log2(p+1e-10)"]
    print(f"\nours vs seed: {seed / ours:.1f}x faster (target >= 3x); ours vs floor: {ours / f:.2f}x (target <= 2x)")
    if "TRL entropy_from_logits" in med:
        print(f"ours vs TRL: {med['TRL entropy_from_logits'] / ours:.2f}x faster (target > 1x)")


if __name__ == "__main__":
    main()
