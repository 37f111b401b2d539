"""Forking Tokens: the helper package of the notebook series (one module per idea).

Foundations: ``config`` (run profiles, paths, seeds), ``results`` (atomic writes, results JSON, repo-relative
paths), ``stats`` (comparisons over seeds, confidence intervals, verdicts), ``claims`` (the claims ledger),
``notebook`` (the shared opening), ``reproduce`` (the main job), ``readme`` (README's generated blocks),
``exercises`` (the notebooks' exercise checks).

Language models and entropy: ``entropy`` (token entropy, scoring text), ``models`` (loading LMs online or offline),
``viz`` (plots and colored tokens), ``forking`` (where the entropy sits in a model's own samples), ``explorer``
(notebook 02's threshold explorer), ``traces``
(SmolLM2 answers to word problems), ``sampling`` (dual-temperature decoding), ``passk`` (unbiased pass@k).

The Countdown world: ``countdown`` (grammar, verifier, problems), ``toy_lm`` (the task model and its training),
``rollouts`` (sampling and scoring a task model), ``decoding_grid`` (notebook 03), ``rlvr`` (entropy-guided RL on
TRL: losses, trainers, configs, runs), ``overlap`` (does RL keep the entropy pattern), ``exploration`` (notebook
05), ``ladder`` (notebook 06: the top-20 % effect along model size).
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # `python -m utils.<module>` being located: a command line starts; before torch imports
    from utils.infra.cli import install_early_signals as _install_early_signals

    _install_early_signals()  # a Ctrl-C while the heavy libraries import is one line, not a traceback (utils.infra.cli)

from utils.config import get_profile, pick, seed_everything

__all__ = ["get_profile", "pick", "seed_everything"]
__version__ = "0.2.0"
