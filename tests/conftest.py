"""Shared fixtures, and the guard of the tiers (README, "Testing"): a test not marked ``slow`` may
not execute a notebook or load a real language model, so ``pytest -m "not slow"`` (``make unit``)
stays fast."""

import json
import os
import shutil
import sys
import tempfile

import pytest
import torch

#: What a test not marked ``slow`` is told when it starts what only a ``slow`` test may start.
SLOW_ONLY = "{what} in a test not marked slow: mark it @pytest.mark.slow (tests/conftest.py)"


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread: a tiny model gains nothing from two, and loses a lot when the cores are
    shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _refuse(what: str):
    def refuse(*args, **kwargs):
        pytest.fail(SLOW_ONLY.format(what=what), pytrace=False)

    return refuse


def _refuse_async(what: str):
    async def refuse(*args, **kwargs):
        pytest.fail(SLOW_ONLY.format(what=what), pytrace=False)

    return refuse


_NO_KERNELS: list[str] = []  # the folder made by _dead_kernel_spec, once per session


def _dead_kernel_spec() -> str:
    """A folder for ``JUPYTER_PATH`` whose ``python3`` kernel exits at once, saying why: a kernel
    started by a subprocess of a test not marked slow (out of reach of the patches below) dies
    before it runs a cell."""
    if not _NO_KERNELS:
        root = tempfile.mkdtemp(prefix="ft-no-kernels-")
        spec = os.path.join(root, "kernels", "python3")
        os.makedirs(spec)
        message = SLOW_ONLY.format(what="a Jupyter kernel started")
        argv = [sys.executable, "-c", f"import sys; sys.exit({message!r})"]
        with open(os.path.join(spec, "kernel.json"), "w", encoding="utf-8") as f:
            json.dump({"argv": argv, "display_name": "no kernel", "language": "python"}, f)
        _NO_KERNELS.append(root)
    return _NO_KERNELS[0]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for root in _NO_KERNELS:
        shutil.rmtree(root, ignore_errors=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """nbval's cells (``make test``: ``--nbval-lax notebooks``) execute notebooks: ``slow``, so the
    guard below leaves their kernel alone and ``-m "not slow"`` leaves them out."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Around each test not marked ``slow``, its fixtures included: executing a notebook (nbclient,
    in this process, or through ``JUPYTER_PATH`` in a subprocess) or loading a language model with
    ``AutoModelForCausalLM.from_pretrained`` (SmolLM2, any Hub model; the task model loads through
    GPT-2's own class) fails the test."""
    if item.get_closest_marker("slow") is not None:
        return (yield)
    mp = pytest.MonkeyPatch()
    try:
        from nbclient import NotebookClient

        mp.setattr(NotebookClient, "execute", _refuse("a notebook executed"))
        mp.setattr(NotebookClient, "async_execute", _refuse_async("a notebook executed"))
    except ImportError:
        pass
    try:
        from transformers import AutoModelForCausalLM

        refuse = classmethod(_refuse("a language model loaded"))
        mp.setattr(AutoModelForCausalLM, "from_pretrained", refuse)
    except ImportError:
        pass
    paths = [_dead_kernel_spec(), os.environ.get("JUPYTER_PATH")]
    mp.setenv("JUPYTER_PATH", os.pathsep.join(p for p in paths if p))
    try:
        return (yield)
    finally:
        mp.undo()
