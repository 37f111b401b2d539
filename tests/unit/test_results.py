"""utils.results: atomic writes leave the old file on failure, loaders name the bad file and the fix, paths are stored
repository-relative, committed artifacts are not overwritten without force."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from utils import results as R
from utils.config import REPO_ROOT


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    p = tmp_path / "f.json"
    p.write_text("old")
    with pytest.raises(RuntimeError):
        with R.atomic_path(p) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert p.read_text() == "old" and sorted(x.name for x in tmp_path.iterdir()) == ["f.json"]
    R.atomic_write_text(p, "new")
    assert p.read_text() == "new" and sorted(x.name for x in tmp_path.iterdir()) == ["f.json"]


def test_atomic_dir_swaps_whole_folders(tmp_path: Path) -> None:
    d = tmp_path / "ckpt"  # a checkpoint (atomic_dir replaces nothing else)
    d.mkdir()
    (d / "config.json").write_text("old")
    with pytest.raises(RuntimeError):
        with R.atomic_dir(d) as tmp:
            (tmp / "config.json").write_text("half")
            raise RuntimeError("crash")
    assert (d / "config.json").read_text() == "old"
    with R.atomic_dir(d) as tmp:
        (tmp / "train_info.json").write_text("new")
    assert sorted(x.name for x in d.iterdir()) == ["train_info.json"]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["ckpt"]


def test_json_roundtrip_schema_and_portable_paths(tmp_path: Path) -> None:
    obj = {"x": np.float32(0.5), "nan": math.nan, "arr": np.arange(3), "path": REPO_ROOT / "data" / "results" / "a.json",
           "t": (1, 2)}
    p = R.save_json(obj, tmp_path / "r.json", schema="test/1")
    back = R.load_json(p, schema="test/1")
    assert back == {"schema": "test/1", "x": 0.5, "nan": None, "arr": [0, 1, 2], "path": "data/results/a.json", "t": [1, 2]}
    with pytest.raises(R.ResultsError, match="not a 'other/1' file"):
        R.load_json(p, schema="other/1")
    with pytest.raises(TypeError, match="cannot store"):
        R.to_jsonable(object())


def test_loaders_name_the_file_and_the_fix(tmp_path: Path) -> None:
    p = tmp_path / "cut.json"
    p.write_text('{"a": [1, 2')
    with pytest.raises(R.ResultsError, match=r"cut.json is truncated or not valid JSON .*regenerate it with: make it"):
        R.load_json(p, regenerate="make it")
    p.write_text('{"a": }')
    with pytest.raises(R.ResultsError, match="truncated or not valid JSON"):
        R.load_json(p)
    with pytest.raises(R.ResultsError, match="missing"):
        R.load_json(tmp_path / "none.json")
    q = tmp_path / "rows.jsonl"
    q.write_text('{"a": 1}\n\n{"a": 2\n')
    with pytest.raises(R.ResultsError, match="line 3 is not valid JSON"):
        R.read_jsonl(q)
    R.write_jsonl([{"a": 1}, {"a": 2}], q)
    assert R.read_jsonl(q) == [{"a": 1}, {"a": 2}]


def test_guard_overwrite(tmp_path: Path) -> None:
    committed = REPO_ROOT / "data" / "countdown_eval.jsonl"
    with pytest.raises(FileExistsError, match="data/countdown_eval.jsonl is a committed artifact"):
        R.guard_overwrite(committed)
    assert R.guard_overwrite(committed, force=True) == committed
    assert R.guard_overwrite(REPO_ROOT / "data" / "new_file.json") == REPO_ROOT / "data" / "new_file.json"
    (tmp_path / "x").write_text("")
    assert R.guard_overwrite(tmp_path / "x") == tmp_path / "x"  # outside the committed folders
    assert R.repo_relative(REPO_ROOT / "figures" / "a.png") == "figures/a.png"
    assert R.resolve("data/countdown_eval.jsonl") == committed or R.resolve("data/countdown_eval.jsonl").exists()
