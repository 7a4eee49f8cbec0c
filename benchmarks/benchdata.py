"""Where the benchmarks keep their generated data sets: named by size, year, seed and the
generator's own source, so that a changed generator never reuses a stale data set."""

from __future__ import annotations

import hashlib
from importlib import resources


def data_set_name(persons: int, year: int, seed: int) -> str:
    source = (resources.files("sio.data") / "synth.py").read_bytes()
    version = hashlib.sha256(source).hexdigest()[:8]
    return f"national-p{persons}-y{year}-s{seed}-g{version}"
