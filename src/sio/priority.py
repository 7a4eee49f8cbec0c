"""CPU priority of batch commands: `sio import` and the payment runs yield the processor to the
casework service when they share a machine with it (decision 0022).

A batch command calls `lower()` before its heavy work. On a machine with CPU to spare this
changes nothing; when the CPUs are full — an import or a payment run beside `sio serve` — the
kernel runs the service's workers first and the batch in what is left, so the batch takes longer
and the caseworkers' requests do not wait behind it. The batch's own process is lowered (every
thread of it, on Linux: Polars' worker threads too), not its PostgreSQL backend, which a client
cannot renice and which does a small part of the work (measured: a few hundredths of a second of
an import's or a payment run's ~2 s of CPU).

The step is `SIO_BATSJ_NICE` (default 10, 0–19; 0 leaves the priority as it is); a command's
`--normal-prioritet` turns it off for one run. The step is added to the process's niceness as
`nice` does, so a command started under `nice` is lowered no less than it was asked to be.
"""

from __future__ import annotations

import os

ENV = "SIO_BATSJ_NICE"
DEFAULT_STEP = 10
MAX_NICE = 19


def step() -> int:
    """The niceness a batch command adds to its own (`SIO_BATSJ_NICE`, default 10, 0–19)."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_STEP
    try:
        value = int(text)
    except ValueError:
        return DEFAULT_STEP
    return min(max(value, 0), MAX_NICE)


def lower(normal: bool = False) -> int:
    """Lower this process's CPU priority by `step()` (nothing when `normal` or the step is 0);
    returns the niceness it runs at. Never fails: a platform without priorities runs as is."""
    by = 0 if normal else step()
    try:
        current = os.getpriority(os.PRIO_PROCESS, 0)
    except (AttributeError, OSError):
        return 0  # no priorities here (Windows)
    target = min(current + by, MAX_NICE)
    if target <= current:
        return current
    # On Linux a niceness belongs to a thread; threads started later inherit the caller's. Set
    # every thread that already runs (a library may have started its pool), the caller last.
    try:
        threads = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        threads = []
    own = getattr(os, "gettid", lambda: 0)()
    for tid in [t for t in threads if t != own] + [0]:
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < target:
                os.setpriority(os.PRIO_PROCESS, tid, target)
        except OSError:
            continue  # the thread ended meanwhile
    return os.getpriority(os.PRIO_PROCESS, 0)
