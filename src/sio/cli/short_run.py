"""Commands that run once over a whole data set and end (`sio beregn`): what the process does not
need to spend time on around them.

Two costs of a short run that its result does not need, about a fifth of a national year's
whole-process time between them:

- Python's cyclic garbage collector, which rescans the hundreds of thousands of objects that
  loading Polars, NumPy and the engine creates, several times while the command runs. Such a
  command creates little cyclic garbage, and its process ends right after; `short_run` turns the
  collector off while the command runs and back on afterwards (also when it fails), so that a
  command called in process (the tests) leaves the collector as it found it.
- The interpreter's teardown at exit, which frees every module and object one by one. Once a
  `short_run` command has returned, the entry point (`sio.entry`) ends the process with
  `exit_now`: the standard streams flushed and the `atexit` handlers run, as at any exit, but
  without the teardown. A process that still has another thread running, or that a profiler
  or coverage measures, exits the usual way.
"""

from __future__ import annotations

import atexit
import functools
import gc
import os
import sys
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

__all__ = ["exit_now", "requested", "short_run"]

P = ParamSpec("P")
R = TypeVar("R")

_requested = False


def short_run(command: Callable[P, R]) -> Callable[P, R]:
    """`command` without the cyclic garbage collector while it runs, and marked for `exit_now`
    once it has run (Typer reads the options from the wrapped function)."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        global _requested
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return command(*args, **kwargs)
        finally:
            _requested = True
            if was_enabled:
                gc.enable()

    return run


def requested() -> bool:
    """Whether a `short_run` command has run in this process."""
    return _requested


def exit_now(code: object) -> None:
    """End the process as ``sys.exit(code)`` would — the same exit status, a code that is not an
    integer printed to standard error, the standard streams flushed, the `atexit` handlers run —
    but without tearing the interpreter down. Returns, leaving the exit to the caller, when
    another (non-daemon) thread is still running, a profiler or tracer is active (it reports
    once the program has returned) or a standard stream cannot be flushed."""
    main = threading.main_thread()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not main):
        return
    if sys.getprofile() is not None or sys.gettrace() is not None:
        return  # a profiler or coverage wraps the process: it writes its report after this
    if not _flushed():
        return  # e.g. a closed pipe: the usual exit reports it
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    atexit._run_exitfuncs()  # they are run once: the list is empty afterwards
    _flushed()
    os._exit(status)


def _flushed() -> bool:
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return False
    return True
