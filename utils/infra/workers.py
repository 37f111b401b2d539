"""Worker processes that end with their parent.

A pool's workers (``utils.rlvr.run_many`` trains in spawned processes) must not outlive the process that started
them: killed with SIGKILL, a parent cannot clean up, and its workers would keep training -- and writing results --
with parent 1, holding hundreds of MB each. :func:`die_with_parent`, run first in each worker (a pool's
``initializer``), makes the kernel send the worker SIGKILL when its parent dies (Linux ``prctl(PR_SET_PDEATHSIG)``),
and starts a watchdog thread that ends the worker once its parent is gone (every POSIX system, within a second).
The multiprocessing resource tracker then sees its last writers close and ends too.

:func:`quiet_worker` is the whole set-up of a worker of the series' pools (``utils.rlvr.run_many``,
``utils.toy_lm.decoding_grid.run_grid``): it dies with its parent, computes with the parent's thread count and prints no
library notices into a notebook; :func:`stop_pool` ends a pool's workers at once on Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent", "quiet_worker", "stop_pool"]

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _set_parent_death_signal(sig: int) -> bool:
    """Ask Linux to send ``sig`` to this process when the thread that created it ends; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int, poll_s: float) -> None:
    while True:
        time.sleep(poll_s)
        if os.getppid() != parent_pid:  # re-parented: the parent is gone
            os._exit(1)


def die_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """End this process as soon as ``parent_pid`` (the process that started it) is gone.

    Call it first in a worker, passing the parent's ``os.getpid()`` (e.g. a pool's ``initializer``/``initargs``):
    on Linux the parent's death sends this process SIGKILL at once; everywhere a daemon thread checks
    ``os.getppid()`` every ``poll_s`` seconds and exits when it changed. A parent that died before this call is
    caught by the same check, immediately."""
    if parent_pid <= 1:
        raise ValueError(f"parent_pid must be the starting process's pid, got {parent_pid}")
    _set_parent_death_signal(signal.SIGKILL)
    if os.getppid() != parent_pid:  # it died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_watch, args=(parent_pid, poll_s), daemon=True, name="die-with-parent").start()


def quiet_worker(parent_pid: int, threads: int) -> None:
    """Set up a pool worker: :func:`die_with_parent`, ``threads`` torch (and OpenMP) threads -- the parent's count, so
    that its numbers are the ones the parent would compute -- and no warnings, transformers notices or progress
    bars in the output of the notebook that started it."""
    import warnings

    import torch

    die_with_parent(parent_pid)  # a killed parent (or notebook kernel) takes its workers with it
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    warnings.filterwarnings("ignore")
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bars in a notebook's output


def stop_pool(ex: object) -> None:
    """Kill a ``ProcessPoolExecutor``'s workers and drop its queue without waiting (on Ctrl-C or SIGTERM: the
    caller re-raises)."""
    for proc in list((getattr(ex, "_processes", None) or {}).values()):
        proc.kill()
    ex.shutdown(wait=False, cancel_futures=True)  # type: ignore[attr-defined]
