"""Every notebook exercise: its solution (the ```python block inside the collapsed "Solution" of an ``Exercise``
section) passes its check, and an untouched stub fails it with a "not implemented yet" line."""

from __future__ import annotations

import math
import json
import re

import pytest

from utils import exercises
from utils.notebook import notebook_paths

_SOLUTION = re.compile(r"<summary>\s*Solution\s*</summary>.*?```python\n(.*?)```", re.S)


def _exercises() -> list[tuple[str, str, str]]:
    out = []
    for path in notebook_paths():
        cells = json.loads(path.read_text())["cells"]
        for i, c in enumerate(cells):
            src = "".join(c["source"])
            if c["cell_type"] != "markdown" or not re.match(r"#+ *Exercise", src.lstrip()):
                continue
            title = src.lstrip().splitlines()[0].lstrip("# ").strip()
            sol = next((m.group(1) for cc in cells[i:i + 6] if cc["cell_type"] == "markdown"
                        for m in [_SOLUTION.search("".join(cc["source"]))] if m), None)
            out.append((path.name, title, sol))
    return out


EXERCISES = _exercises()


def test_every_notebook_has_two_exercises() -> None:
    for path in notebook_paths():
        n = sum(1 for nb, _, _ in EXERCISES if nb == path.name)
        assert n >= 2, f"{path.name} has {n} exercises (want >= 2)"


@pytest.mark.parametrize(("notebook", "title", "solution"), EXERCISES, ids=[f"{n[:2]}:{t}" for n, t, _ in EXERCISES])
def test_solution_passes_its_check(notebook: str, title: str, solution: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    assert solution, f"{notebook}: exercise {title!r} has no collapsed Solution with a ```python block"
    checks = re.findall(r"\b(check_\w+)\(", solution)
    assert checks, f"{notebook}: the solution of {title!r} must end by calling its check"
    ns: dict = {"__name__": "exercise"}
    exec("import math\nimport numpy as np\nimport torch\nfrom utils.exercises import *\n" + solution, ns)  # noqa: S102
    out = capsys.readouterr().out
    assert "✗" not in out and out.count("✓") >= len(checks), out


def test_every_check_is_exported_by_the_package() -> None:
    """The checks live one module per notebook; ``from utils.exercises import check_...`` finds every one."""
    assert set(exercises.CHECKS) <= set(exercises.__all__)
    assert all(getattr(exercises, name) is fn for name, fn in exercises.CHECKS.items())


@pytest.mark.parametrize("name", sorted(exercises.CHECKS))
def test_untouched_stub_says_not_implemented(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    def stub(*args, **kwargs):
        raise NotImplementedError

    exercises.CHECKS[name](stub)
    out = capsys.readouterr().out
    assert out.startswith("✗") and "not implemented yet" in out and len(out.strip().splitlines()) == 1


def _out(check: str, fn, capsys: pytest.CaptureFixture[str]) -> str:
    exercises.CHECKS[check](fn)
    return capsys.readouterr().out


def test_the_write_ups_epsilon_trick_fails_in_float16(capsys: pytest.CaptureFixture[str]) -> None:
    """softmax then log(p + 1e-10) passed every case before the float16 one: 1e-10 rounds to 0 in float16."""
    import torch

    def writeup(logits, unit="nats"):
        p = torch.softmax(logits, -1)
        h = -(p * torch.log(p + 1e-10)).sum(-1)
        return h / torch.log(torch.tensor(2.0)) if unit == "bits" else h

    out = _out("check_entropy_from_logits", writeup, capsys)
    assert out.startswith("✗") and "float16" in out and "1e-10 rounds to 0" in out


def test_a_threshold_fails_on_equal_entropies(capsys: pytest.CaptureFixture[str]) -> None:
    """A strict-< quantile threshold passed the four old cases and keeps nothing when every entropy is equal."""
    import torch

    def threshold(ent, mask, rho):
        valid = mask.bool()
        return (ent < torch.quantile(ent[valid], 1 - rho)) & valid if valid.any() else valid

    out = _out("check_bottom_k_mask", threshold, capsys)
    assert out.startswith("✗") and "expected 8 selected, got 0" in out and "rank the tokens" in out


@pytest.mark.parametrize(("wrong", "why"), [
    ("unbiased=False", "std with ddof=0"), ("no_eps", "missing the + 1e-4"), ("batch", "whole batch")])
def test_group_advantage_mistakes_say_why(wrong: str, why: str, capsys: pytest.CaptureFixture[str]) -> None:
    def fn(r, g):
        x = r.view(-1, g)
        if wrong == "batch":
            return (r - r.mean()) / (r.std() + 1e-4)
        sd = x.std(1, unbiased=False, keepdim=True) + 1e-4 if wrong == "unbiased=False" else x.std(1, keepdim=True)
        return ((x - x.mean(1, keepdim=True)) / sd).view(-1)

    out = _out("check_group_advantages", fn, capsys)
    assert out.startswith("✗") and why in out, out


def test_group_advantages_names_a_transposed_view(capsys: pytest.CaptureFixture[str]) -> None:
    """Exercise 4.1's usual slip, ``rewards.view(G, -1)``, gets a sentence that says why (either normalised dim)."""
    import torch

    from utils.exercises import check_group_advantages

    for d in (0, 1):
        def transposed(r: torch.Tensor, g: int, d: int = d) -> torch.Tensor:
            x = r.view(g, -1)
            return ((x - x.mean(d, keepdim=True)) / (x.std(d, keepdim=True) + 1e-4)).reshape(-1)

        check_group_advantages(transposed)
        assert "transposed" in capsys.readouterr().out


def test_usual_slips_of_04_to_06_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    """Each exercise of 05 and 06 says why for its usual mistake, not only "expected X, got Y"."""
    import numpy as np
    import torch

    from utils.exercises import check_gap_ci, check_psi
    from utils.exercises.nb05 import check_cap_trim, check_score

    def z_interval(t: list[float], a: list[float]) -> tuple[float, float]:
        x, y = np.asarray(t), np.asarray(a)
        d, se = x.mean() - y.mean(), np.sqrt(x.var(ddof=1) / x.size + y.var(ddof=1) / y.size)
        return d - 1.96 * se, d + 1.96 * se

    cases = [(check_psi, lambda A, H, a, k: torch.minimum(a * H.detach(), A[:, None] / k), "abs()"),
             (check_score, lambda z, a: torch.softmax(z, -1) - torch.nn.functional.one_hot(torch.tensor(a), 6).float(),
              "sign is flipped"),
             (check_cap_trim, lambda A, H, a, k: a * H.detach() - A[:, None].abs() / k, "never negative"),
             (check_gap_ci, z_interval, "1.96")]
    for check, wrong, why in cases:
        check(wrong)
        assert why in capsys.readouterr().out, check.__name__


def test_entropy_in_bits_multiplied_by_ln2_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    """The common slip of Exercise 1.1: bits by multiplying the nats by ln 2 instead of dividing."""
    import torch

    def slip(logits, unit="nats"):
        logp = torch.log_softmax(logits.float(), -1)
        h = -torch.where(logp.exp() > 0, logp.exp() * logp, torch.zeros_like(logp)).sum(-1)
        return h * math.log(2) if unit == "bits" else h

    out = _out("check_entropy_from_logits", slip, capsys)
    assert out.startswith("✗") and "divided by ln 2, not multiplied" in out


def test_pass_at_k_with_replacement_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    out = _out("check_pass_at_k", lambda n, c, k: 1 - (1 - c / n) ** k, capsys)
    assert out.startswith("✗") and "without replacement" in out


def test_find_forks_without_ties_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    import numpy as np

    def strict(records, q=80):
        scored = [r for r in records if r.entropy is not None]
        t = np.percentile([r.entropy for r in scored], q)
        return [r.token for r in scored if r.entropy > t]

    out = _out("check_find_forks", strict, capsys)
    assert out.startswith("✗") and "tied at the threshold" in out


def test_use_says_which_function_the_next_cells_use(capsys: pytest.CaptureFixture[str]) -> None:
    from utils.exercises.core import use
    from utils.passk import pass_at_k

    def my_pass_at_k(n, c, k):
        return pass_at_k(n, c, k)

    assert use(my_pass_at_k, exercises.check_pass_at_k, pass_at_k, "Exercise 9.9") is my_pass_at_k
    assert "→ Exercise 9.9 done: the next cells use your `my_pass_at_k`" in capsys.readouterr().out
