"""The ledger at a glance and the main job's comparison: the forest plot builds from the committed claims files, the
verdict look is one mapping, README's ledger is short and current, and a verdict changed in a clone of the
repository is reported as a flip (utils.reproduce.claims, utils.reproduce.forest, utils.reproduce.check, utils.reproduce)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from utils.reproduce import claims
from utils.config import REPO_ROOT
from utils.reproduce.check import compare_rows, compare_with_committed, evidence_by_place
from utils.reproduce.forest import DPI, PANELS, WIDTH_IN, forest_lines, save_forest


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return claims.load_claims("default")


def test_forest_builds_from_the_committed_claims(rows: list[dict], tmp_path: Path) -> None:
    path = save_forest(rows, tmp_path / "forest.png")
    with Image.open(path) as im:
        assert im.size[0] <= 1000 and im.size[0] == round(WIDTH_IN * DPI)
    panels = forest_lines(rows)
    drawn = [ln for lines in panels.values() for ln in lines if "heading" not in ln]
    parts = [p for r in rows for p in claims.evidence_parts(r)]
    assert len(drawn) == len(parts) > 20  # every comparative claim, every part, one line each
    assert set(panels) <= set(PANELS), "a comparative row without a quantity: add it to utils.reproduce.claims.QUANTITY"
    bands = next(ln for ln in drawn if ln["id"] == "seed.dual_temp_21")  # "greater", measured below: drawn left
    hurts = next(ln for ln in drawn if ln["id"] == "wang.bottom80_hurts")  # "less", measured below: drawn right
    assert bands["x"] < 0 < hurts["x"] and hurts["ci95"][0] > 0


def test_one_verdict_look_for_every_word() -> None:
    words = set(claims.VERDICTS) | {"holds", "fails"}
    assert words <= set(claims.VERDICT_STYLE)
    looks = [(s.marker, s.fill) for s in claims.VERDICT_STYLE.values()]
    assert len(set(looks)) == len(looks)  # marker and fill tell them apart in greyscale
    assert claims.verdict_label("not reproduced") == f"{claims.VERDICT_STYLE['not reproduced'].symbol} **NOT REPRODUCED**"


def test_rows_carry_their_presentation_fields(rows: list[dict]) -> None:
    raw = json.loads((REPO_ROOT / "data/results/claims/03.json").read_text(encoding="utf-8"))["rows"]
    shape = raw["wang.dual_temp_shape"]
    assert shape["short"] and len(shape["numbers"]["quantity"]) == len(shape["numbers"]["evidence"]) == 4
    assert set(claims.SHORT) == set(claims.PUBLISHED)
    old = {k: v for k, v in shape.items() if k != "short"}  # a row recorded before the fields: filled on load
    old["numbers"] = {k: v for k, v in shape["numbers"].items() if k not in ("quantity", "parts")}
    assert claims.presentation(old) == claims.presentation(shape) == shape


def test_readme_ledger_is_short_current_and_links_to_every_row(rows: list[dict]) -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- claims:start -->\n", 1)[1].split("\n<!-- claims:end -->", 1)[0]
    assert block + "\n" == claims.summary_markdown(rows, "data/results/claims.md", "figures/ledger_forest.png"), \
        "README's ledger is stale: run python -m utils.reproduce.readme"
    assert max(len(line) for line in block.splitlines()) <= 400
    assert block.startswith("![") and "figures/ledger_forest.png" in block.splitlines()[0]
    details = (REPO_ROOT / "data/results/claims.md").read_text(encoding="utf-8")
    for r in rows:
        assert f"data/results/claims.md#{claims.anchor(r['id'])})" in block
        assert f'<a id="{claims.anchor(r["id"])}"></a>' in details


def test_deciding_number_reads_an_equivalence_on_its_90_ci(rows: list[dict]) -> None:
    top = next(r for r in rows if r["id"] == "wang.top20_matches_full")
    ev = top["numbers"]["evidence"]
    assert claims.deciding_number(top).startswith(f"{ev['diff']:+.4f} [90% CI {ev['ci90'][0]:+.4f}")
    assert claims.deciding_number(next(r for r in rows if r["id"] == "seed.off_by_one")) == "–"


def test_compare_rows_sees_flips_and_moved_numbers() -> None:
    ev = {"diff": 0.1, "ci95": [0.05, 0.15]}
    old = {"a": {"verdict": "reproduced", "numbers": {"evidence": ev}}, "b": {"verdict": "corrected", "numbers": {}}}
    new = {"a": {"verdict": "inconclusive", "numbers": {"evidence": {**ev, "diff": 0.2}}},
           "c": {"verdict": "corrected", "numbers": {}}}
    flips, missing, added, moved, n = compare_rows(old, new)
    assert flips == [("a", "reproduced", "inconclusive")] and missing == ["b"] and added == ["c"] and n == 1
    assert moved and moved[0].startswith("a evidence: now +0.2000")
    assert set(evidence_by_place({"x": [ev, {"y": ev}]})) == {"x[0]", "x[1]/y"}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clone of this repository's committed state (HEAD)."""
    dest = tmp_path_factory.mktemp("clone") / "repo"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{REPO_ROOT}", str(dest)], check=True,
                   capture_output=True, timeout=300)
    return dest


def test_the_committed_state_reproduces_itself(clone: Path) -> None:
    c = compare_with_committed("default", repo=clone)
    assert c.reproduced is True and not c.flips and not c.moved and not c.figures_changed
    assert c.lines()[-1].startswith("REPRODUCED: all")


def test_a_changed_verdict_is_reported_as_a_flip(clone: Path) -> None:
    path = clone / "data/results/claims/04.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    row = data["rows"]["wang.top20_matches_full"]
    assert row["verdict"] == "reproduced"
    row["verdict"] = "not reproduced"
    row["numbers"]["evidence"]["diff"] = row["numbers"]["evidence"]["ci95"][1] + 0.01
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    fig = next(p for p in sorted((clone / "figures").glob("*.png")) if p.stem != "ledger_forest")
    with Image.open(fig) as im:
        px = np.asarray(im.convert("RGBA")).copy()
    Image.fromarray(px).save(clone / "figures/ledger_forest_copy.png")  # a new figure, not committed
    same = clone / "figures/ledger_forest.png"
    with Image.open(same) as im:
        im.convert("RGBA").save(same, compress_level=1)  # other bytes, the same pixels: not a change
    px[0, 0] = 255 - px[0, 0]
    Image.fromarray(px).save(fig)
    try:
        c = compare_with_committed("default", repo=clone)
        assert c.flips == [("wang.top20_matches_full", "reproduced", "not reproduced")]
        assert c.reproduced is False and any(m.startswith("wang.top20_matches_full evidence:") for m in c.moved)
        assert [f.split(" ")[0] for f in c.figures_changed] == [fig.stem] and c.figures_new == ["ledger_forest_copy"]
        text = "\n".join(c.lines())
        assert "wang.top20_matches_full: reproduced -> not reproduced" in text
        assert c.lines()[-1].startswith("NOT REPRODUCED: 1 of")
    finally:
        _git(clone, "checkout", "--", ".")
        (clone / "figures/ledger_forest_copy.png").unlink()


def test_the_ci_profile_has_nothing_to_compare_with(clone: Path) -> None:
    c = compare_with_committed("ci", repo=clone)
    assert c.against is None and c.reproduced is None and c.lines()[-1].startswith("NOTHING TO COMPARE WITH")


def test_the_main_job_ends_with_the_comparison(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from utils import reproduce

    monkeypatch.setattr(reproduce, "execute_notebook", lambda *a, **k: 0.0)
    assert reproduce.main(["--profile", "ci", "--only", "01", "--no-ledger"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert "== comparison with the committed ledger (profile ci) ==" in out
    assert out[-1].startswith("NOTHING TO COMPARE WITH")


@pytest.mark.slow  # executes a notebook in a Jupyter kernel
def test_kernels_run_without_the_tcp_warning(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    import nbformat

    from utils import reproduce

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "98_tiny.ipynb"
    nbformat.write(nb, path)
    reproduce.execute_notebook(path, "ci", timeout=120)
    assert "without encryption" not in capfd.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["98_tiny.ipynb"]  # no socket files left beside it
