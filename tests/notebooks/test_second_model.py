"""Notebook 01 with a second model (issue 22, section 7): in Colab, with the Hub reachable, ``load_lm("gpt2")`` returns
GPT-2 instead of the offline SmolLM2, so 01's prose and asserts must not be SmolLM2's facts. Here every ``load_lm``
returns a small randomly initialised GPT-2 built offline with SmolLM2's tokenizer and a larger output vocabulary
(64 unused rows), and notebook 01 must run through in the ci profile with the numbers of *that* model in its text.
"""

from __future__ import annotations

import nbformat
import pytest

from utils.config import PROFILE_ENV
from utils.notebook import SETUP_MARKER, notebook_paths

pytestmark = pytest.mark.slow  # executes notebook 01

EXTRA_ROWS = 64

#: Put after the setup cell: every load_lm(...) in the notebook returns the second model.
SECOND_MODEL = f'''import dataclasses
import torch
import utils.models as _models
from transformers import GPT2Config, GPT2LMHeadModel

_smol = _models.load_lm("smollm2-135m-instruct", verbose=False)   # only its tokenizer is kept
torch.manual_seed(0)
_gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(_smol.tokenizer) + {EXTRA_ROWS}, n_positions=512, n_embd=64, n_layer=2,
                                   n_head=2, bos_token_id=_smol.tokenizer.bos_token_id,
                                   eos_token_id=_smol.tokenizer.eos_token_id)).eval()
with torch.no_grad():
    _gpt2.transformer.wte.weight.normal_(0.0, 2.0)   # peaked distributions: some tokens under 1 bit, as in a trained LM
_second = dataclasses.replace(_smol, model=_gpt2, loaded="random-gpt2-tiny", source="local", path="(random init)",
                              n_params=sum(p.numel() for p in _gpt2.parameters()), notes=[])
_models.load_lm = lambda name="gpt2", verbose=True: dataclasses.replace(_second, requested=name)'''


def test_notebook_01_runs_with_a_second_model(monkeypatch) -> None:
    from nbclient import NotebookClient

    path = next(p for p in notebook_paths() if p.name.startswith("01_"))
    nb = nbformat.read(path, as_version=4)
    i = next(k for k, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.startswith(SETUP_MARKER))
    nb.cells.insert(i + 1, nbformat.v4.new_code_cell(SECOND_MODEL))
    monkeypatch.setenv(PROFILE_ENV, "ci")
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    text = "\n".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/markdown", ""))
                     for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    v = 49152 + EXTRA_ROWS
    assert f"rows of {v:,} logits" in text, "the vocabulary size in 01's text must be the model's"
    assert "random-gpt2-tiny" in text
