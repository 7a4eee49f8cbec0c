"""The `sio` command line: one module per command group, built into one Typer app.

:mod:`sio.cli.application` builds the app and registers the groups; :mod:`sio.cli.common` holds
what several groups share (consoles, exit codes, input-error reporting, data and parameter
loading); :mod:`sio.cli.trace_view` prints traces. The command modules are thin: they parse the
options, call the same functions the tests call, and print. Heavy modules (the engine, polars,
the store, the reports) are imported inside the command functions, so that ``sio --help`` starts
fast (docs/decisions/0010-cli-package-and-lazy-imports.md).

Exit codes: 0 success, 2 bad input, 1 anything unexpected.
"""

from sio.cli.application import app, main

__all__ = ["app", "main"]
