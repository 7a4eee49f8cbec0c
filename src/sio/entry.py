"""The `sio` command's entry point: picks the language before the command-line app is built.

The help texts of the app are translated when `sio.cli` is imported, so `--lang` must be known
first: it is read from the arguments here (`sio --lang en compute --help`), set as `SIO_LANG`,
and only then is `sio.cli` imported. `sio.cli` still parses and checks `--lang` itself.
"""

from __future__ import annotations

import os
import sys


def _lang_argument(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--":
            return None
        if arg == "--lang" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--lang="):
            return arg.split("=", 1)[1]
    return None


# Polars' allocator (jemalloc) keeps freed pages for a while before it gives them back. Reading a
# stored version holds the database driver's columns and Polars' copy at once, so a command on
# the store returns pages at once (a national year from SQLite: 600 → 537 MiB, for about 3 % of
# its time; from files the default is faster and well below 600 MiB). Read when Polars loads.
_STORE_ALLOCATOR = "dirty_decay_ms:0,muzzy_decay_ms:0"


# NumPy's OpenBLAS starts a thread per core when NumPy is imported, and they spin a while waiting
# for work that never comes: no command multiplies float matrices (the engine's one product is of
# integers, which NumPy does without BLAS), so one thread costs nothing and saves a national
# `sio compute` about 0.07 s of CPU. Read when NumPy loads; a user's own setting wins.
_BLAS_THREADS = "1"


def main() -> None:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", _BLAS_THREADS)
    if "--db" in sys.argv[1:]:
        os.environ.setdefault("_RJEM_MALLOC_CONF", _STORE_ALLOCATOR)
    lang = _lang_argument(sys.argv[1:])
    if lang in ("nb", "en"):
        os.environ["SIO_LANG"] = lang
    from sio.cli import main as cli_main

    try:
        cli_main()
    except SystemExit as exc:
        from sio.cli.short_run import exit_now, requested

        if requested():  # a command that ran once and is done: no teardown (`short_run`)
            exit_now(exc.code)
        raise
