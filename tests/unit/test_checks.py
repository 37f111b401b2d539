"""utils.checks: temperatures are finite and > 0 (0 only where greedy is meant), counts are whole numbers; numpy
and torch scalars are numbers, bools and strings are not."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from utils import checks


@pytest.mark.parametrize("value", [1, 0.7, np.float32(0.5), np.float64(2.0), np.int64(3), torch.tensor(1.5)])
def test_temperatures_accepted(value: object) -> None:
    assert checks.temperature(value) == pytest.approx(float(value))  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [0, -1.0, math.nan, math.inf, -math.inf, np.float32("nan"), True, "1", None,
                                   torch.tensor([1.0, 2.0])])
def test_temperatures_refused(value: object) -> None:
    with pytest.raises(ValueError, match="temperature must be"):
        checks.temperature(value)


def test_zero_temperature_only_when_greedy_is_meant() -> None:
    assert checks.temperature(0, allow_zero=True) == 0.0
    with pytest.raises(ValueError, match="greedy"):
        checks.temperature(-0.1, allow_zero=True)


def test_whole_numbers() -> None:
    assert checks.whole(8.0, "x") == 8 and checks.whole(np.int64(3), "x") == 3 and checks.whole(torch.tensor(4), "x") == 4
    for bad in (7.5, math.nan, math.inf, True, "8", None, np.float64(2.5)):
        with pytest.raises(ValueError, match="x must be a whole number"):
            checks.whole(bad, "x")
    with pytest.raises(ValueError, match="size must be >= 1, got 0"):
        checks.positive_int(0, "size")
