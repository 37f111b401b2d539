"""The main job: execute every notebook in order, headless, and write them back executed.

``python -m utils.reproduce [--profile default] [--only 01 03]`` (what ``make reproduce`` runs).
Each notebook runs in a fresh kernel with ``FORKING_TOKENS_PROFILE`` set, from the notebooks/
folder; figures/ and data/results/ are rewritten by the notebooks themselves. Progress is shown
per notebook (one tick per cell); the first failing cell stops the job, naming notebook and cell.
Wall times are written to data/results/run_times_<profile>.json. In the ``ci`` profile the executed
notebooks go to build/ci/notebooks/ instead, so the committed (default-profile) outputs stay as they are.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from utils.config import DATA_DIR, PROFILES, REPO_ROOT
from utils.notebook import notebook_paths


class NotebookFailed(RuntimeError):
    pass


def _restore(previous: str | None) -> None:
    if previous is None:
        os.environ.pop("FORKING_TOKENS_PROFILE", None)
    else:
        os.environ["FORKING_TOKENS_PROFILE"] = previous


def execute_notebook(path: Path, profile: str, timeout: int = 1800, write_to: Path | None = None) -> float:
    """Execute one notebook (outputs and execution counts kept) and write it to ``write_to`` (default: in
    place); returns its wall time."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm

    nb = nbformat.read(path, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    previous = os.environ.get("FORKING_TOKENS_PROFILE")
    os.environ["FORKING_TOKENS_PROFILE"] = profile  # the kernel inherits the environment
    bar = tqdm(total=n_code, desc=path.name, unit="cell", file=sys.stdout)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=lambda cell, cell_index, execute_reply: bar.update(1) if cell.cell_type == "code" else None,
    )
    t0 = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as e:
        bar.close()
        _restore(previous)
        idx = next((i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        first_line = str(e).strip().splitlines()[-1] if str(e).strip() else type(e).__name__
        raise NotebookFailed(f"{path.name}: cell {idx} failed: {first_line}") from None
    bar.close()
    _restore(previous)
    nbformat.write(nb, write_to or path)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=os.environ.get("FORKING_TOKENS_PROFILE") or "default", choices=PROFILES)
    ap.add_argument("--only", nargs="*", help="notebook number prefixes to run, e.g. 01 03 (default: all)")
    ap.add_argument("--no-ledger", action="store_true", help="do not rebuild the claims ledger at the end")
    args = ap.parse_args(argv)
    os.environ["FORKING_TOKENS_PROFILE"] = args.profile
    paths = [p for p in notebook_paths() if not args.only or any(p.name.startswith(o) for o in args.only)]
    if not paths:
        print(f"no notebooks matched {args.only}", file=sys.stderr)
        return 2
    times: dict[str, float] = {}
    t_all = time.perf_counter()
    for p in paths:
        try:
            target = None
            if args.profile == "ci":
                (REPO_ROOT / "build" / "ci" / "notebooks").mkdir(parents=True, exist_ok=True)
                target = REPO_ROOT / "build" / "ci" / "notebooks" / p.name
            times[p.name] = round(execute_notebook(p, args.profile, write_to=target), 1)
        except NotebookFailed as e:
            print(f"\nFAILED: {e}\nOpen notebooks/{p.name}, fix that cell, then rerun: make reproduce", file=sys.stderr)
            return 1
        print(f"  {p.name}: {times[p.name]:.0f} s")
    total = time.perf_counter() - t_all
    out = DATA_DIR / "results" / f"run_times_{args.profile}.json"  # every profile: README's run-time table
    previous = json.loads(out.read_text()) if out.exists() else {}
    previous.update(times)
    previous["_last_run_total_s"] = round(total, 1)
    out.write_text(json.dumps(previous, indent=1, sort_keys=True) + "\n")
    print(f"all {len(paths)} notebooks ran in {total / 60:.1f} min (profile {args.profile}); times in {out.relative_to(REPO_ROOT)}")
    if not args.no_ledger:
        from utils.claims import build_ledger
        from utils.readme import refresh_readme

        print(f"claims ledger: {build_ledger(args.profile).relative_to(REPO_ROOT)}")
        if args.profile != "ci":
            print(f"README blocks refreshed: {refresh_readme(args.profile).relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
