"""Benchmark (not a test): token entropy implementations on the same [B, T, V] float32 logits.

    python scripts/bench_entropy.py [--shape 4 256 50257] [--repeats 7] [--chunk 64]
    python scripts/bench_entropy.py --breakdown [--chunks 2 8 41 128]   # where token_entropy's time goes

Prints, from one run with the candidates interleaved, the median wall time of each, its ratio to
the compute floor (one chunked exp().sum() pass: an entropy needs at least one exponential per
element) and to utils.entropy.token_entropy, the peak extra memory each allocates, and the largest
deviation from a float64 reference. Targets (issue 2): >= 3x faster than the seed's softmax +
log2(p + 1e-10), faster than TRL's entropy_from_logits, <= 2x the floor, extra memory bounded by
the chunk.

``--breakdown`` (one thread, CPU time of that thread, interleaved, per chunk size) splits token_entropy
into the ops it runs per chunk -- ``log_softmax`` (a max, an exp and a sum per row, then z - max - log sum
written out), ``exp`` of the log-probabilities, the product and its sum -- next to the floor, and times
a one-exp variant (H = log S - sum(e * (z - max)) / S with e = exp(z - max), S = sum(e)) that is NOT
the library's kernel: its results differ from token_entropy's in the last float32 digits, so adopting
it would change committed numbers (see README, "Performance"). Run it once per vector width, e.g.
``ATEN_CPU_CAPABILITY=avx2 python scripts/bench_entropy.py --breakdown``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from bench import exp_floor  # scripts/bench.py (this folder is on sys.path when run as a script)
from utils.entropy import token_entropy
from utils.stats import ratio_summary


def seed_entropy(logits: torch.Tensor) -> torch.Tensor:
    probs = torch.softmax(logits, dim=-1)
    return -torch.sum(probs * torch.log2(probs + 1e-10), dim=-1) * torch.log(torch.tensor(2.0))


def one_exp_rows(z: torch.Tensor, buf: torch.Tensor, buf2: torch.Tensor) -> torch.Tensor:
    """Entropy (nats) of the rows of ``z`` with one exp per element (NOT the library's kernel; see the docstring):
    d = z - max, e = exp(d), H = log(sum e) - sum(e * d) / sum(e)."""
    d = torch.sub(z, z.amax(dim=-1, keepdim=True), out=buf)
    e = torch.exp(d, out=buf2)
    s = e.sum(dim=-1)
    return s.log() - e.mul_(d).sum(dim=-1) / s


def breakdown(x: torch.Tensor, chunks: list[int], repeats: int) -> None:
    """Per chunk size: CPU times of token_entropy, of the ops it runs, of the floor and of the one-exp variant."""
    torch.set_num_threads(1)
    V = x.shape[-1]
    flat = x.reshape(-1, V)
    n = flat.shape[0]
    print(f"logits {list(x.shape)} float32, {torch.backends.cpu.get_cpu_capability()} kernels, 1 thread, "
          f"CPU ms (median of {repeats} interleaved repeats); ratios: median per-repeat ratio to the floor [IQR]")
    ops = ("floor", "token_entropy", "log_softmax", "exp", "mul+sum", "one-exp variant")
    print(f"{'rows/chunk':>10s} " + " ".join(f"{k:>15s}" for k in ops) + "   x floor: token_entropy, one-exp")
    for rows in chunks:
        buf = torch.empty(rows, V)
        buf2 = torch.empty(rows, V)
        out = torch.empty(n)

        def per_chunk(op, rows=rows, buf=buf, buf2=buf2, out=out):
            def run():
                for i in range(0, n, rows):
                    z = flat[i : i + rows]
                    k = z.shape[0]
                    op(z, buf[:k], buf2[:k], out[i : i + k])
            return run

        def lsm(z, b, b2, o):
            torch.log_softmax(z, dim=-1, out=b)

        def ex(z, b, b2, o):
            torch.exp(b, out=b2)

        def mulsum(z, b, b2, o):
            o.copy_(b2.mul_(b).sum(dim=-1))

        def onex(z, b, b2, o):
            o.copy_(one_exp_rows(z, b, b2))

        fns = {"floor": lambda rows=rows: exp_floor(x, rows),
               "token_entropy": lambda rows=rows: token_entropy(x, chunk_size=rows),
               "log_softmax": per_chunk(lsm), "exp": per_chunk(ex), "mul+sum": per_chunk(mulsum),
               "one-exp variant": per_chunk(onex)}
        for fn in fns.values():
            fn()
        times = {k: [] for k in fns}
        for r in range(repeats):
            for k in (ops if r % 2 == 0 else ops[::-1]):
                t0 = time.thread_time()
                fns[k]()
                times[k].append(time.thread_time() - t0)
        med = {k: 1e3 * statistics.median(v) for k, v in times.items()}
        te = ratio_summary(times["token_entropy"], times["floor"])
        oe = ratio_summary(times["one-exp variant"], times["floor"])
        print(f"{rows:10d} " + " ".join(f"{med[k]:15.1f}" for k in ops)
              + f"   {te['median']:.2f} [{te['q1']:.2f}-{te['q3']:.2f}], {oe['median']:.2f} [{oe['q1']:.2f}-{oe['q3']:.2f}]")
    m = min(64, n)
    ref = torch.distributions.Categorical(logits=flat[:m].double()).entropy()
    ours = token_entropy(flat[:m])
    buf = torch.empty(m, V)
    alt = one_exp_rows(flat[:m], buf, torch.empty_like(buf))
    print(f"max |error| vs float64 on {m} rows: token_entropy {float((ours.double() - ref).abs().max()):.1e}, one-exp "
          f"{float((alt.double() - ref).abs().max()):.1e}; they differ by up to {float((ours - alt).abs().max()):.1e} "
          f"nats ({int((ours != alt).sum())} of {m} rows differ)")


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
    ap.add_argument("--breakdown", action="store_true", help="where token_entropy's time goes, per chunk size")
    ap.add_argument("--chunks", nargs="+", type=int, default=[2, 8, 41, 128], help="--breakdown's chunk sizes")
    args = ap.parse_args()
    B, T, V = args.shape
    torch.manual_seed(0)
    x = torch.randn(B, T, V) * 3
    if args.breakdown:
        breakdown(x, args.chunks, args.repeats)
        return
    try:
        from trl.trainer.utils import entropy_from_logits
    except ImportError:
        entropy_from_logits = None
    floor_chunk = args.chunk  # None: exp_floor picks the automatic chunk of token_entropy
    cands = {
        "floor: chunked exp().sum()": lambda: exp_floor(x, floor_chunk),
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
