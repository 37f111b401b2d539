"""Forking Tokens: helpers for the notebook series (one module per idea).

Modules: ``config`` (run profiles, paths, seeds), ``entropy`` (token entropy, scoring text),
``models`` (loading LMs online or offline), ``viz`` (plots and colored tokens), ``countdown``
(the verifiable toy task), ``toy_lm`` (the small task model), ``sampling``, ``rlvr``, ``passk``.
"""

from utils.config import get_profile, pick, seed_everything

__all__ = ["get_profile", "pick", "seed_everything"]
__version__ = "0.1.0"
