"""utils.nbmeasure: bookkeeping lines are whole statements (a ledger call over two lines counts two), the setup
cell is not counted, and outputs that are tables, figures or Markdown do not count as text output."""

from __future__ import annotations

import nbformat

from utils.nbmeasure import measure_notebook
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
