"""The main job: execute every notebook in order, headless, and write them back executed.

``python -m utils.reproduce [--profile default] [--only 01 03] [--debug]`` (what ``make reproduce`` runs).

* Everything is checked before the first notebook starts: the profile (``--profile``, else the environment's as
  :func:`utils.config.get_profile` reads it -- ``FORKING_TOKENS_PROFILE``, else ``ci`` when ``CI=true``, else
  ``default``; ``CI`` means ``ci``; anything but ci, default, full is one line and exit code 2), the ``--only``
  prefixes, and the recorded run times.
* Each notebook runs in a fresh kernel with ``FORKING_TOKENS_PROFILE`` set, from the notebooks/ folder, with a
  progress bar (one tick per cell); the first failing cell stops the job, naming notebook and cell. A notebook's
  claims-ledger rows replace its old ones only when it finished (:func:`utils.reproduce.claims.staged_claims`).
* Ctrl-C or SIGTERM interrupts the running cell (the kernel's whole process group, workers included), writes
  nothing of that notebook -- no executed notebook, no ledger rows (:func:`utils.reproduce.claims.staged_claims`) -- and ends
  with one line, ``interrupted``, and exit code 130 (SIGTERM: 143). A second signal stops at once.
* ``default`` writes the executed notebooks back to ``notebooks/`` (the committed ones); ``ci`` and ``full`` write
  them to ``build/<profile>/notebooks/``. Each file is written atomically.
* Wall times go to ``data/results/run_times_default.json`` / ``data/results/full/run_times_full.json`` (``ci``
  only with ``--record-times``), then the claims ledger is rebuilt and -- for ``default`` and ``full`` -- README's
  generated blocks and every notebook's "How long" line are refreshed.
* Last, a comparison block (:mod:`utils.reproduce.check`): the verdict counts, every verdict that differs from the
  committed ledger (``git show HEAD:``; a profile whose ledger is not committed, such as ``ci``, has nothing to compare
  with and says so), the numbers that moved outside their committed 95 % CI, the figures whose pixels changed, and
  one line: reproduced or not. The ``ci`` profile writes only under ``build/ci``, never over the committed ledger.
* Kernels talk to the job over IPC sockets in a private temporary folder, not TCP (:func:`kernel_config`).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from utils.infra.cli import Extend, Parser, Terminated, UsageError, add_debug, printable, run, strip_ansi
from utils.config import PROFILE_ENV, REPO_ROOT, notebooks_out_dir, resolve_profile
from utils.notebook import load_run_times, notebook_paths, refresh_openings, run_times_path
from utils.results import atomic_path, save_json


#: The kernelspec as JupyterLab writes it for ipykernel's ``python3`` kernel: stored so, opening a notebook does not
#: mark it modified (and autosave does not rewrite it).
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}


class NotebookFailed(RuntimeError):
    pass


def _kernel_pid(client: Any) -> int | None:
    """The pid of the client's running kernel, if one runs (jupyter_client's local provisioner)."""
    proc = getattr(getattr(getattr(client, "km", None), "provisioner", None), "process", None)
    pid = getattr(proc, "pid", None)
    return pid if isinstance(pid, int) and proc.poll() is None else None


class _SignalsInterruptKernel:
    """While a notebook runs (``with``): the first SIGINT or SIGTERM interrupts the kernel's process group -- the
    cell stops with KeyboardInterrupt, pool workers too, and nbclient shuts the kernel down as usual -- instead of
    breaking into nbclient's event loop; a second one, or one before the kernel runs, raises here at once.
    ``got`` lists the signals received.

    nbclient adds loop handlers of its own for both signals once the kernel starts, which kill the kernel mid-cell
    and end in an AssertionError of its cleanup; :meth:`take_over`, its ``on_notebook_start`` hook (the kernel is
    ready), removes them and puts this handler back."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, client: Any) -> None:
        self.client, self.got, self.previous = client, [], {}  # type: ignore[var-annotated]
        self.active = threading.current_thread() is threading.main_thread()

    def handler(self, signum: int, frame: Any) -> None:
        self.got.append(signum)
        pid = _kernel_pid(self.client)
        if len(self.got) == 1 and pid is not None:
            with contextlib.suppress(OSError):
                pgid = os.getpgid(pid)
                if pgid != os.getpgrp():  # the kernel leads its own session (jupyter_client starts it so)
                    os.killpg(pgid, signal.SIGINT)
                else:
                    os.kill(pid, signal.SIGINT)
                return
        raise _interrupted(self.got)

    def take_over(self, **_: Any) -> None:
        if not self.active:
            return
        import asyncio

        with contextlib.suppress(RuntimeError):
            loop = asyncio.get_running_loop()
            for s in self.SIGNALS:
                loop.remove_signal_handler(s)
        for s in self.SIGNALS:
            signal.signal(s, self.handler)

    def __enter__(self) -> _SignalsInterruptKernel:
        if self.active:
            self.previous = {s: signal.signal(s, self.handler) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc: object) -> None:
        for s, h in self.previous.items():
            signal.signal(s, h if h is not None else signal.SIG_DFL)


def _interrupted(got: list[int]) -> KeyboardInterrupt:
    """The exception that reports an interruption: :class:`utils.infra.cli.Terminated` for SIGTERM (exit code 143),
    else ``KeyboardInterrupt`` (130)."""
    return Terminated() if signal.SIGTERM in got else KeyboardInterrupt()


def kernel_config(socket_dir: str) -> Any:
    """nbclient's config for a notebook's kernel: IPC transport, its sockets in ``socket_dir`` (an absolute path, so
    the kernel, which runs in notebooks/, and the client find the same files). Over TCP ipykernel logs "Kernel is
    running over TCP without encryption" once per notebook into the main job's output; over IPC it does not."""
    from traitlets.config import Config

    c = Config()
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = os.path.join(socket_dir, "kernel")
    return c


def execute_notebook(path: Path, profile: str, timeout: int = 3600, write_to: Path | None = None) -> float:
    """Execute one notebook (outputs and execution counts kept) and write it atomically to ``write_to`` (default:
    in place); returns its wall time. Raises :class:`NotebookFailed` naming the failing cell."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from tqdm.auto import tqdm

    nb = nbformat.read(path, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    previous = os.environ.get(PROFILE_ENV)
    os.environ[PROFILE_ENV] = profile  # the kernel inherits the environment
    bar = tqdm(total=n_code, desc=path.name, unit="cell", file=sys.stdout)
    sockets = tempfile.mkdtemp(prefix="ft-kernel-")  # IPC, not TCP: the kernel has no "without encryption" warning
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_executed=lambda cell, cell_index, execute_reply: bar.update(1) if cell.cell_type == "code" else None,
        config=kernel_config(sockets),
    )
    signals = _SignalsInterruptKernel(client)
    client.on_notebook_start = signals.take_over
    got = signals.got
    t0 = time.perf_counter()
    try:
        with signals:
            client.execute()
    except CellExecutionError as e:
        if got or getattr(e, "ename", "") == "KeyboardInterrupt":  # interrupted, not a failing cell
            raise _interrupted(got) from None
        idx = next((i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
        text = strip_ansi(str(e)).strip()  # the kernel's traceback is coloured: no raw escape codes in the one line
        first_line = printable(text.splitlines()[-1]) if text else type(e).__name__
        raise NotebookFailed(f"{path.name}: cell {idx} failed: {first_line}") from None
    except BaseException:
        if got:  # whatever nbclient raised while the interrupted kernel went down
            raise _interrupted(got) from None
        raise
    finally:
        bar.close()
        shutil.rmtree(sockets, ignore_errors=True)
        if previous is None:
            os.environ.pop(PROFILE_ENV, None)
        else:
            os.environ[PROFILE_ENV] = previous
    seconds = time.perf_counter() - t0
    nb.metadata["forking_tokens"] = {"profile": profile}
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    with atomic_path(write_to or path) as tmp:
        nbformat.write(nb, tmp)
    return seconds


PROG = "python -m utils.reproduce"


def parser() -> Parser:
    ap = Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", default=None,
                    help="ci | default | full (default: FORKING_TOKENS_PROFILE, else ci when CI=true, else default)")
    ap.add_argument("--only", nargs="*", action=Extend,
                    help="notebook number prefixes to run, e.g. 01 03 (default: all; repeated --only options add up)")
    ap.add_argument("--no-ledger", action="store_true", help="do not rebuild the claims ledger at the end")
    ap.add_argument("--record-times", action="store_true", help="ci profile: also record its run times (committed)")
    add_debug(ap)
    return ap


def _check(args: argparse.Namespace) -> tuple[str, list[Path], dict[str, float], bool]:
    """Everything that can be wrong with the arguments or the recorded run times, before any work."""
    profile = resolve_profile(args.profile)  # None: the environment's, decided by utils.config.get_profile
    all_paths = notebook_paths()
    if args.only is not None and not [o for o in args.only if o.strip()]:  # `--only $NB` with NB unset or empty
        raise UsageError("--only needs notebook numbers (e.g. --only 01 03); leave --only out to run every notebook")
    only = args.only or []
    missing = [o for o in only if not o.strip() or not any(p.name.startswith(o) for p in all_paths)]
    paths = [p for p in all_paths if not only or any(p.name.startswith(o) for o in only)]
    if missing or not paths:
        raise UsageError(f"--only {' '.join(only)}: no such notebook; they are " + ", ".join(p.name[:2] for p in all_paths))
    record = profile != "ci" or args.record_times
    times = load_run_times(profile) if record else {}  # a corrupt file fails here, before any work
    return profile, paths, times, record


def _reproduce(args: argparse.Namespace) -> int:
    from utils.reproduce.claims import staged_claims

    profile, paths, times, record = _check(args)
    os.environ[PROFILE_ENV] = profile
    out_dir = notebooks_out_dir(profile)
    out_dir.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    for p in paths:
        try:
            timeout = 12 * 3600 if profile == "full" else 3600  # a full-profile cell may train for hours
            with staged_claims(p.name, profile):  # its ledger rows count only if it finishes
                times[p.name] = round(execute_notebook(p, profile, timeout=timeout, write_to=out_dir / p.name), 1)
        except NotebookFailed as e:
            print(f"\nFAILED: {e}\nOpen notebooks/{p.name}, fix that cell, then rerun: make reproduce", file=sys.stderr)
            return 1
        print(f"  {p.name}: {times[p.name]:.0f} s")
    total = time.perf_counter() - t_all
    print(f"all {len(paths)} notebooks ran in {total / 60:.1f} min (profile {profile})")
    if record:
        out = save_json({**times, "_last_run_total_s": round(total, 1)}, run_times_path(profile))
        print(f"run times: {out.relative_to(REPO_ROOT)}")
        refresh_openings(notebook_paths())
    if not args.no_ledger:
        from utils.reproduce.claims import build_ledger
        from utils.reproduce.readme import refresh_readme

        print(f"claims ledger: {build_ledger(profile).relative_to(REPO_ROOT)}")
        if profile != "ci":
            print(f"README blocks refreshed: {refresh_readme().relative_to(REPO_ROOT)}")
    print_comparison(profile, [p.name[:2] for p in paths])
    return 0


def print_comparison(profile: str, ran: list[str]) -> None:
    """The block the main job ends with (:func:`utils.reproduce.check.compare_with_committed`): verdict counts, verdicts
    and numbers that differ from the committed ledger, figures whose pixels changed, and one line saying whether the
    run reproduced the committed verdicts. The notebooks' work is done and written by then, so a comparison that
    cannot be made is one line, never a failure of the job."""
    from utils.reproduce.check import compare_with_committed

    try:
        lines = compare_with_committed(profile, ran=ran).lines()
    except Exception as e:  # noqa: BLE001 -- reported in one line; the run itself succeeded
        lines = ["", f"comparison with the committed ledger not made: {type(e).__name__}: {e}"]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    """Run the main job (see the module docstring). A bad profile, ``--only`` or run-times file gives one line and
    exit code 2 before any notebook starts; a failing notebook gives exit code 1 naming the cell."""
    args = parser().parse_args(argv)
    return run(lambda: _reproduce(args), PROG, args.debug)
