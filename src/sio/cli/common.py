"""What the command groups of `sio` share: the consoles, the exit codes, and turning bad input into
a clear message and exit code 2.

Exit codes: 0 success, 2 bad input (validation problems, bad parameters or overrides, missing data
a rule needs, a payment made out of order), 1 anything unexpected. Input problems are reported as
``file:line: field: rule`` (:meth:`sio.data.validation.InputInvalid.report`).

Nothing heavy is imported here at module level: the data, parameter, store and payment modules
are imported inside the functions, when a command runs (docs/decisions, lazy imports).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from sio.i18n import _

if TYPE_CHECKING:
    from sio.data.model import InputData
    from sio.data.readers import ReadAhead
    from sio.data.validation import Problem
    from sio.engine import YearResult
    from sio.parameters import ParameterSet

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILURE",
    "BadInput",
    "NormalPriorityOption",
    "err",
    "estimate_note",
    "input_errors",
    "load_params",
    "load_source",
    "out",
    "payment_errors",
    "payment_params",
    "read_ahead",
    "source_options",
    "store",
    "table_console",
    "warn_ended_phase_outs",
    "warn_problems",
]

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2

# batch commands lower their CPU priority unless told not to (sio.priority, decision 0022)
NormalPriorityOption = Annotated[
    bool,
    typer.Option(
        "--normal-prioritet",
        help=_(
            "Run at normal CPU priority. By default the command lowers its own priority "
            "(SIO_BATSJ_NICE, default 10), so that a casework service on the same machine "
            "answers first."
        ),
    ),
]

out = Console()
err = Console(stderr=True)


def table_console() -> Console:
    """The console for wide tables: the terminal as it is, or 200 columns when writing to a
    file or a pipe (where nothing wraps and every column should be there)."""
    return out if out.is_terminal else Console(width=200)


class BadInput(Exception):
    """Raised inside commands for anything that should end with exit code 2."""


@contextmanager
def input_errors() -> Iterator[None]:
    """Turn input problems into a clear message and exit code 2."""
    from sio.data.validation import InputInvalid
    from sio.parameters import ParameterError, ParameterLookupError
    from sio.rules.uttrekk import DataGap

    try:
        yield
    except InputInvalid as exc:
        errors = [p for p in exc.problems if p.severity == "error"]
        err.print(
            _("The input has {n} error(s); nothing was computed:").format(n=len(errors)),
            style="bold red",
        )
        err.print(exc.report(), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (ParameterError, ParameterLookupError, DataGap, BadInput) as exc:
        err.print(_("Error: {msg}").format(msg=exc), style="bold red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


@contextmanager
def payment_errors() -> Iterator[None]:
    """Bad input, parameters or run order: a clear message and exit code 2."""
    from sio.utbetaling.run import PaymentError

    try:
        with input_errors():
            yield
    except PaymentError as exc:
        err.print(_("Error: {msg}").format(msg=exc), style="bold red", markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def source_options(
    data: Path | None, db: bool, versjon: int | None
) -> tuple[Path | None, int | None]:
    """(--data DIR, --versjon) after checking that exactly one source is given."""
    if (data is None) == (not db):
        err.print(_("give either --data DIR or --db"))
        raise typer.Exit(EXIT_BAD_INPUT)
    if versjon is not None and not db:
        err.print(_("--versjon goes with --db"))
        raise typer.Exit(EXIT_BAD_INPUT)
    return data, versjon


def load_source(
    source: tuple[Path | None, int | None],
    params: ParameterSet,
    evaluation: bool = True,
    ahead: ReadAhead | None = None,
) -> tuple[InputData, int | None]:
    """The input data from a folder, or from the database as of a version (and that version);
    `evaluation=False`: without the evaluation's tables, which the engine does not read;
    `ahead`: the folder's read, already started (`read_ahead`)."""
    data, versjon = source
    if data is not None:
        from sio.data.validation import load_input

        inp, problems = load_input(data, params, evaluation, ahead)
        warn_problems(problems)
        return inp, None
    from sio.store.db import open_store
    from sio.store.versions import load_version

    return load_version(open_store(), params, versjon, evaluation)


def read_ahead(source: tuple[Path | None, int | None], evaluation: bool = True) -> ReadAhead | None:
    """The read of the input folder of `source` started in the background (`load_source` takes
    it), so that it goes on while the command imports what it validates and computes with;
    None for the database."""
    data, _versjon = source
    if data is None:
        return None
    from sio.data.readers import ReadAhead

    return ReadAhead(data, evaluation)


def load_params(override: Path | None) -> ParameterSet:
    """The parameters, with the overrides of ``--override FILE`` (if given) applied."""
    from sio.parameters import apply_override_file, load_parameters

    return apply_override_file(load_parameters(), override)


def payment_params(override: Path | None) -> tuple[ParameterSet, Any]:
    """The parameters with ``--override FILE`` applied, and the overrides as the payment ledger
    records them (None without an override file)."""
    from sio.parameters import read_override_file
    from sio.utbetaling.run import overrides_json

    params = load_params(override)
    return params, overrides_json(read_override_file(override)) if override else None


def store() -> Any:
    """The store of ``SIO_DATABASE_URL`` (SQLite by default), created or migrated if need be."""
    from sio.store.db import open_store

    return open_store()


def warn_ended_phase_outs(result: YearResult) -> None:
    """Say which phase-outs ended this year because the payee participates again, and how much
    is not paid (interfaces.md §2: money is never dropped silently)."""
    from sio.money import round_half_away
    from sio.report.common import compact_paths
    from sio.trace import fmt_exact

    for e in result.ended_phase_outs:
        line = _(
            "{code}: the phase-out after the exit in {exit} ends in {year}, since {payee} "
            "participates again: {amount} kr not paid"
        ).format(
            code=e.kommunenummer,
            exit=f"{e.exit[0]}-{e.exit[1]:02d}",
            year=e.aar,
            payee=e.mottaker,
            amount=fmt_exact(round_half_away(e.amount)),
        )
        if e.estimates:
            paths = ", ".join(compact_paths(list(e.estimates)))
            line += " " + _("(based on estimated parameters: {paths})").format(paths=paths)
        err.print(
            line,
            style="yellow",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


def warn_problems(problems: Sequence[Problem]) -> None:
    """Print the warnings among ``problems`` (at most 20) to standard error."""
    from sio.data.validation import format_problems

    warnings = [p for p in problems if p.severity != "error"]
    if warnings:
        err.print(format_problems(warnings, limit=20), markup=False, highlight=False)


def estimate_note(paths: Sequence[str], present: Sequence[str] | None = None) -> None:
    """The one note naming the figures (among `present`, if given) that rest on estimated
    parameters, and where the parameter list is (`sio.report.estimates`; the paths themselves
    are in the trace and the data files)."""
    from sio.report.estimates import note_for_paths

    note = note_for_paths(paths, present)
    if note:
        out.print(note, style="yellow", markup=False, highlight=False)
