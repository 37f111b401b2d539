"""utils.reproduce.measures: bookkeeping lines are whole statements (a ledger call over two lines counts two), the setup
cell is not counted, and outputs that are tables, figures or Markdown do not count as text output."""

from __future__ import annotations

import nbformat

from utils.reproduce.measures import measure_notebook
from utils.notebook import SETUP_MARKER


def test_measures_a_small_notebook(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    ledger = nbformat.v4.new_code_cell('x = 1\nledger.record("a", section="s",\n              verdict="v")\n# a comment\n\ny = x + 1')
    ledger.outputs = [nbformat.v4.new_output("stream", text="one\ntwo\nthree\n")]
    table = nbformat.v4.new_code_cell("display(df)")
    table.outputs = [nbformat.v4.new_output("display_data", data={"text/plain": "\n".join("r" * 40), "text/html": "<table/>"})]
    loop = nbformat.v4.new_code_cell('for i in range(3):\n    z = i\n    print(f"{i}",\n          i,\n          i)')
    nb.cells = [nbformat.v4.new_code_cell(SETUP_MARKER + "\nimport os\nsave_json(1)"), ledger, table, loop]
    path = tmp_path / "07_x.ipynb"
    nbformat.write(nb, path)
    m = measure_notebook(path)
    assert (m.code_lines, m.bookkeeping_lines) == (4 + 1 + 5, 2 + 3)
    assert (m.longest_cell, m.longest_cell_index) == (6, 1)
    assert (m.longest_output, m.longest_output_index) == (3, 1)
    assert "bookkeeping 5/10" in m.line()


def test_classifies_each_code_line() -> None:
    from utils.reproduce.measures import classify_lines

    src = "\n".join([
        "import numpy as np",                                  # 1 plumbing
        "n = pick(ci=1, default=2)",                           # 2 plumbing
        "h = -(p * np.log(p)).sum()",                          # 3 teach
        "# a comment",                                         # 4 (not code)
        "with torch.no_grad():",                               # 5 teach (header)
        "    z = model(ids)",                                  # 6 teach
        "fig = entropy_panels({'a': h},",                      # 7 figure (a statement over two lines)
        "                     bins=40)",                       # 8 figure
        "save_figure(fig, 'x')",                               # 9 figure (not ledger)
        "display(Markdown(f'{h:.2f}'))",                       # 10 display
        "record_01(h=h)",                                      # 11 ledger
        "assert h >= 0",                                       # 12 teach: a check states the lesson's invariant
        "line = f'{h:.2f} nats'",                              # 13 display: formatting only
        "for k in range(3):",                                  # 14 teach
        "    print(k)",                                        # 15 display
        "def show(x):",                                        # 16 display: its body is display
        "    print(x)",                                        # 17 display
        "table",                                               # 18 display: a bare value shown
        "rows.append(h)",                                      # 19 teach: a call is not a bare value
    ])
    kinds = classify_lines(src)
    want = {1: "plumbing", 2: "plumbing", 3: "teach", 5: "teach", 6: "teach", 7: "figure", 8: "figure",
            9: "figure", 10: "display", 11: "ledger", 12: "teach", 13: "display", 14: "teach", 15: "display",
            16: "display", 17: "display", 18: "display", 19: "teach"}
    assert kinds == want


def test_teaching_share_in_the_measure(tmp_path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import os\nx = 1\ny = x + 1\nprint(y)")]
    path = tmp_path / "07_x.ipynb"
    nbformat.write(nb, path)
    m = measure_notebook(path)
    assert dict(m.kinds) == {"ledger": 0, "figure": 0, "display": 1, "plumbing": 1, "teach": 2}
    assert abs(m.teaching_share - 0.5) < 1e-9
    assert "teach 2/4 = 50%" in m.kinds_line()


def test_a_cell_that_does_not_parse_is_plumbing() -> None:
    from utils.reproduce.measures import classify_lines

    assert classify_lines("%pip install x\nx = 1") == {1: "plumbing", 2: "plumbing"}
