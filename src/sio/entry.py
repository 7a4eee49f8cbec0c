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


def main() -> None:
    lang = _lang_argument(sys.argv[1:])
    if lang in ("nb", "en"):
        os.environ["SIO_LANG"] = lang
    from sio.cli import main as cli_main

    cli_main()
