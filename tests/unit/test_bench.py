"""scripts/bench.py's side-by-side ratios (make bench): the floor it divides by, the timing record's shape, and the
summary line. No timing is asserted (benchmarks are not tests)."""

from __future__ import annotations

import pytest
import torch

import sys

from utils.config import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import bench  # noqa: E402 - scripts/bench.py, a benchmark script, not a module of utils


def test_exp_floor_is_one_exp_and_one_sum_per_row() -> None:
    x = torch.randn(3, 5, 17, generator=torch.Generator().manual_seed(0))
    for chunk in (None, 1, 4, 100):
        got = bench.exp_floor(x, chunk)
        assert got.shape == (15,)
        torch.testing.assert_close(got, x.reshape(15, 17).exp().sum(-1))


def test_entropy_times_are_paired_and_interleaved() -> None:
    r = bench.entropy_times(repeats=3, shape=(2, 3, 50), chunk=2)
    assert set(r["times"]) == {"token_entropy", "floor"}
    assert all(len(v) == 3 and all(t >= 0 for t in v) for v in r["times"].values())
    assert r["shape"] == [2, 3, 50] and r["chunk"] == 2


def test_ratio_lines_show_both_measurements_with_their_spread(capsys: pytest.CaptureFixture[str]) -> None:
    summary = {"median": 1.5, "q1": 1.4, "q3": 1.6, "ci95_lo": 1.45, "ci95_hi": 1.55, "n": 21}
    row = {"capability": "AVX2", "torch": "2", "cpu": "Some CPU", "load": [0.5, 0.7],
           "entropy": {"ratio": summary, "median_s": {"token_entropy": 0.15, "floor": 0.1}, "shape": [4, 256, 50257]},
           "psi": {"ratio": {**summary, "median": 1.01}, "median_s": {"psi": 0.101, "plain": 0.1}, "batch": [64, 15],
                   "completion_tokens": 873, "psi_mean": 0.07, "cap_binds": 0.2}}
    bench._print_ratios({"native": row, "avx2": row})
    out = capsys.readouterr().out
    assert "Some CPU" in out and "ATEN_CPU_CAPABILITY=avx2" in out and "native kernels" in out
    assert out.count("1.500x [IQR 1.400-1.600; 95% CI 1.450-1.550; n 21]") == 2
    assert out.count("1.010x") == 2 and "load average 0.5 -> 0.7" in out


def test_bench_command_line_checks_its_arguments_first(capsys):
    """`python scripts/bench.py` (make bench): a bad argument is one line and exit code 2, before any timing."""
    for bad in (["--steps", "1"], ["--repeats", "0"], ["fly"], ["--profile-steps", "x"],
                ["ratios", "--capability", "sse9"], ["ratios", "--psi-repeats", "1"]):
        with pytest.raises(SystemExit) as e:
            bench.main(bad)
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "error" in err[0]
