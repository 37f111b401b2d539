"""``python -m utils.rlvr run --config configs/countdown_top20.yaml --seed 0``: train one condition x seed.

Everything is checked before the model loads -- the profile, the config file and every ``--set`` override, the seed,
where the result goes -- and a bad input gives one line on stderr and exit code 2 (``--debug`` shows the
traceback). The result goes to ``build/rlvr/<profile>/<name>_seed<seed>.json`` (a ``--standin`` run to
``build/rlvr/<profile>/standin/``, so a smoke test never lands on a real run's file) unless ``--out`` names another
file; an existing file of the repository outside ``build/`` (a committed result under ``data/``, or anything else) is
replaced only with ``--force``. ``--out`` must name a file (not a folder, a link or a device) in a writable place, and
``--save-model`` a new or empty folder or a checkpoint this project wrote (never a folder with anything else in it,
with or without ``--force``): both are checked before the model loads.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from utils.infra.cli import Extend, Parser, UsageError, add_debug, path_arg, run, seed_arg
from utils.config import BUILD_DIR, PROFILE_ENV, resolve_profile
from utils.results import guard_overwrite, repo_relative
from utils.rlvr.config import load_config, parse_value

PROG = "python -m utils.rlvr"


def _override(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key.strip(), parse_value(value, where=key.strip())
    except ValueError as e:  # ConfigError: a value the strict YAML reader refuses (010, 1:30, a key twice)
        raise argparse.ArgumentTypeError(str(e)) from None


def overrides(pairs: Sequence[tuple[str, object]]) -> dict[str, object]:
    """The ``--set`` pairs as a mapping (every ``--set`` counts, see :class:`utils.infra.cli.Extend`); a key given twice
    with different values is a :class:`UsageError` naming it (the same value twice is the same request)."""
    out: dict[str, object] = {}
    for k, v in pairs:
        if k in out and (out[k] != v or type(out[k]) is not type(v)):
            raise UsageError(f"--set {k} is given twice, as {out[k]!r} and {v!r}: give it once")
        out[k] = v
    return out


def parser() -> argparse.ArgumentParser:
    ap = Parser(prog=PROG, description=(__doc__ or "").split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train one condition x seed from a config, write its results JSON")
    r.add_argument("--config", required=True, help="a YAML config (a path, or a name in configs/)")
    r.add_argument("--seed", type=seed_arg, default=0)
    r.add_argument("--out", type=path_arg, default=None,
                   help="results file (default build/rlvr/<profile>/[standin/]<name>_seed<seed>.json)")
    r.add_argument("--force", action="store_true", help="allow replacing a committed results file")
    r.add_argument("--save-model", type=path_arg, default=None, help="also save the trained policy into this folder")
    r.add_argument("--profile", default=None, help="ci | default | full (default: FORKING_TOKENS_PROFILE)")
    r.add_argument("--dry-run", action="store_true", help="parse the config and build the trainer, do not train")
    r.add_argument("--standin", action="store_true", help="tiny random model + stand-in task (no Hub, no task model)")
    r.add_argument("--set", nargs="*", action=Extend, default=[], type=_override, metavar="KEY=VALUE",
                   help="override config fields (YAML values, e.g. --set rho=0.1 learning_rate=3e-4; repeated --set "
                        "options add up)")
    add_debug(r)
    return ap


def default_out(name: str, seed: int, profile: str, standin: bool = False) -> Path:
    """Where ``run`` writes without ``--out``: ``build/rlvr/<profile>/<name>_seed<seed>.json``, a stand-in run under
    ``standin/`` there -- one file per profile and kind of run, so a ci or stand-in run never replaces a real one."""
    return BUILD_DIR / "rlvr" / profile / ("standin" if standin else "") / f"{name}_seed{seed}.json"


def _run(a: argparse.Namespace) -> int:
    """``run``, with the profile set in the environment only while it runs: called in-process (a notebook's dry run
    with ``--profile ci``), it must not leave the caller's later cells in another profile."""
    previous = os.environ.get(PROFILE_ENV)
    os.environ[PROFILE_ENV] = resolve_profile(a.profile)  # the run records it; results_dir() follows it
    try:
        return _run_in_profile(a, os.environ[PROFILE_ENV])
    finally:
        if previous is None:
            os.environ.pop(PROFILE_ENV, None)
        else:
            os.environ[PROFILE_ENV] = previous


def _run_in_profile(a: argparse.Namespace, profile: str) -> int:
    cfg = load_config(a.config, profile=profile, **overrides(a.set))
    out = a.out if a.out is not None else default_out(cfg.name, a.seed, profile, a.standin)
    if not a.dry_run:  # before the model loads: ownership (--force) and kind (a file; a checkpoint folder)
        guard_overwrite(out, a.force, kind="file")
        if a.save_model is not None:
            guard_overwrite(a.save_model, a.force, kind="checkpoint")
            model_dir, out_file = Path(os.path.abspath(a.save_model)), Path(os.path.abspath(out))
            if out_file == model_dir or model_dir in out_file.parents:  # the folder is replaced whole, out with it
                raise UsageError(f"--out {repo_relative(out)} lies in --save-model {repo_relative(a.save_model)}, "
                                 "which is replaced whole: write the results file elsewhere")
    from utils.rlvr.run import run_condition

    res = run_condition(cfg, a.seed, out=out, standin=a.standin, dry_run=a.dry_run, save_model=a.save_model)
    if a.dry_run:
        print(json.dumps({"dry_run": True, "name": cfg.name, "trainer": res["trainer"], "condition": cfg.condition,
                          "rho": cfg.rho, "advantage": cfg.advantage, "profile": profile}))
    elif "path" in res:  # only the main process of a distributed run writes (and reports) the results file
        print(json.dumps({"path": repo_relative(out), "final": {k: v for k, v in res["final"].items() if k != "correct"},
                          "median_step_s": res["timing"]["median_step_s"], "total_s": res["timing"]["total_s"]}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    a = parser().parse_args(argv)
    return run(lambda: _run(a), f"{PROG} {a.cmd}", a.debug)


if __name__ == "__main__":
    sys.exit(main())
