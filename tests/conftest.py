import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """One torch thread: a tiny model gains nothing from two, and loses a lot when the cores are shared."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
