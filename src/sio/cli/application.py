"""The `sio` app: the top-level Typer application, its ``--lang`` option, and the registration of
every command and command group (in the order the help lists them).

The help texts are translated with ``_()`` when the command modules are imported, so they follow
``SIO_LANG``; :mod:`sio.entry` sets it from ``--lang`` before importing this package, and the
callback here parses ``--lang`` again for the messages and output of the command. Commands get an
explicit ``help=_("…")``; their docstrings stay in English for developers.

Importing this module builds the whole app but imports none of the computing, data, store or
report modules: each command imports what it needs when it runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from sio import i18n
from sio.cli.casework import konto_app, serve
from sio.cli.click_words import install as install_click_words
from sio.cli.common import EXIT_BAD_INPUT, err
from sio.cli.compute import compute, demo
from sio.cli.data import data_app, import_cmd
from sio.cli.evaluation import evaluate_cmd
from sio.cli.explain import explain
from sio.cli.kommune import kommune_app
from sio.cli.names import NorwegianGroup
from sio.cli.params import params_app
from sio.cli.scenario import scenario_app
from sio.cli.synth import synth_app
from sio.cli.utbetaling import etteroppgjoer, utbetaling_app
from sio.i18n import _

__all__ = ["app", "main"]

install_click_words()

app = typer.Typer(
    cls=NorwegianGroup,
    add_completion=False,
    no_args_is_help=True,
    help=_("SIO — state funding of care services."),
)

# Norwegian names (docs/guide.md); the English ones are hidden aliases (`sio.cli.names`)
app.add_typer(params_app, name="parametere", cls=NorwegianGroup)
app.add_typer(synth_app, name="syntetisk", help=_("Synthetic data sets."), cls=NorwegianGroup)
app.add_typer(
    kommune_app, name="kommune", help=_("Municipality codes over time."), cls=NorwegianGroup
)
app.add_typer(
    utbetaling_app,
    name="utbetaling",
    help=_("Payments: monthly runs, status and the ledger."),
    cls=NorwegianGroup,
)
app.command("etteroppgjoer", help=_("Make the final settlement of a year (once)."))(etteroppgjoer)
app.command("serve", help=_("Start the casework JSON API (OpenAPI at /openapi.json)."))(serve)
app.add_typer(
    konto_app, name="konto", help=_("Accounts of the casework service."), cls=NorwegianGroup
)
app.add_typer(
    scenario_app,
    name="scenario",
    help=_("Scenarios: projections and national rollouts with uncertainty."),
    cls=NorwegianGroup,
)


@app.callback()
def _main(
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help=_("Language of messages, output and help: nb (default) or en."),
        ),
    ] = None,
) -> None:
    if lang:
        try:
            i18n.set_language(lang)
        except ValueError as exc:
            err.print(str(exc))
            raise typer.Exit(EXIT_BAD_INPUT) from None


app.command("beregn", help=_("Compute every municipality's annual figures for one year."))(compute)
app.command(
    "forklar",
    help=_("Show how a figure was computed: formula, parameters with dates and sources, inputs."),
)(explain)
app.command(
    help=_(
        "Compute the whole scheme 2016–2024 on the built-in (synthetic) demo data and report it."
    )
)(demo)
app.add_typer(data_app, name="data", cls=NorwegianGroup)
app.command(
    "importer",
    help=_("Validate a file or folder and store it as a new, immutable data version."),
)(import_cmd)
app.command(
    "evaluer",
    help=_("Evaluate equal treatment given need, needs coverage and the trial against control."),
)(evaluate_cmd)


def main() -> None:
    """Entry point: run the app; an unexpected error exits with 1, bad input with 2; a fault of
    the machine or the configuration is one line, not a traceback (`SIO_DEBUG=1` shows it)."""
    try:
        app()
    except Exception as exc:
        import os

        from sio.cli.faults import fault_message

        known = fault_message(exc)
        if known is None or os.environ.get("SIO_DEBUG"):
            raise
        from sio.cli.common import err

        err.print(known[0], style="bold red", markup=False, highlight=False, soft_wrap=True)
        raise SystemExit(known[1]) from None
