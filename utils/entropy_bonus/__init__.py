"""Notebook 05: entropy bonuses in RLVR. Why Cheng et al.'s psi acts as a baseline (:mod:`~utils.entropy_bonus.identity`),
the problem set and pass@k read-outs (:mod:`~utils.entropy_bonus.exploration`), and the arms compared side by
side (:mod:`~utils.entropy_bonus.arms`)."""
