"""Forking Tokens: the helper package of the notebook series, laid out in layers (README, Layout; a module imports
only from its own package or a lower layer, ``tests/unit/test_imports.py`` checks it).

The foundation a lesson imports: ``errors``, ``checks``, ``config`` (run profiles, paths, seeds, margins),
``results/`` (atomic writes, results JSON), ``stats/`` (comparisons, confidence intervals, verdicts), ``passk``,
``entropy`` (token entropy, scoring text), ``sampling`` (dual-temperature decoding).

The models and the task: ``infra/`` (command lines, workers, prefill), ``countdown/`` (grammar, verifier, problems),
``toy_lm/`` (the task model, its rollouts, notebook 03's grid), ``models`` (loading LMs online or offline),
``notebook`` (the shared opening), ``forking/`` (where the entropy sits), ``traces/`` (a real LM's traces and their
stored scores).

RL and the experiments: ``rlvr/`` (entropy-guided RL on TRL), ``entropy_bonus/`` (notebook 05), ``ladder/``
(notebook 06), ``tuning/`` (every arm at its own learning rate).

What a notebook shows, and the main job: ``viz/`` (figures), ``exercises/`` (checks and reference solutions),
``lessons/`` (sentences and tables from the numbers), ``reproduce/`` (the main job and the claims ledger).
"""

import sys as _sys

if _sys.argv[:1] == ["-m"]:  # `python -m utils.<module>` being located: a command line starts; before torch imports
    from utils.infra.cli import install_early_signals as _install_early_signals

    _install_early_signals()  # a Ctrl-C while the heavy libraries import is one line, not a traceback (utils.infra.cli)

from utils.config import get_profile, pick, seed_everything

__all__ = ["get_profile", "pick", "seed_everything"]
__version__ = "0.2.0"
