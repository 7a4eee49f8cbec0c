"""`sio kommune`: municipality codes through mergers and renumberings.

``sio kommune vis 0138 --dato 2024-06-01`` shows a code's name and validity, what it came from,
what it became and which code covers it on the date; ``sio kommune liste --dato 2021-06-01``
lists the codes valid on a date. Both read the built-in history (the scheme's municipalities and
the control group) and, with ``--ssb-koder`` / ``--ssb-endringer``, SSB's classification 131
files for the rest of the country (see :mod:`sio.data.kommunehistorikk`). Bad input (an unknown
code, a bad date, an unreadable file) ends with exit code 2.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sio.cli.common import EXIT_BAD_INPUT
from sio.cli.names import NorwegianGroup
from sio.i18n import _, ngettext

if TYPE_CHECKING:
    from sio.data.kommunehistorikk import CodeChange, CodeVersion, KommuneHistorikk

__all__ = ["kommune_app"]

kommune_app = typer.Typer(
    cls=NorwegianGroup,
    no_args_is_help=True,
    help=_("Municipality codes: validity, mergers and renumberings (SSB classification 131)."),
)

SsbCodes = Annotated[
    list[Path] | None,
    typer.Option(
        "--ssb-koder", help=_("SSB code list (KLASS CSV, classification 131); repeatable.")
    ),
]
SsbChanges = Annotated[
    list[Path] | None,
    typer.Option("--ssb-endringer", help=_("SSB change table (KLASS CSV); repeatable.")),
]
Day = Annotated[str | None, typer.Option("--dato", help=_("Date YYYY-MM-DD (default today)."))]


class _BadInput(Exception):
    """Ends the command with exit code 2 and the message."""


def _fail(message: str) -> typer.Exit:
    typer.echo(_("Error: {msg}").format(msg=message), err=True)
    return typer.Exit(EXIT_BAD_INPUT)


def _day(text: str | None) -> dt.date:
    if text is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise _BadInput(_("'{value}' is not a date YYYY-MM-DD").format(value=text)) from None


def _history(codes: list[Path] | None, changes: list[Path] | None) -> KommuneHistorikk:
    from sio.data.kommunehistorikk import KommuneHistorikk, SsbFileError

    history = KommuneHistorikk.shipped()
    if codes or changes:
        try:
            ssb = KommuneHistorikk.from_ssb(codes or [], changes or [])
        except SsbFileError as exc:
            raise _BadInput(str(exc)) from None
        history = history.merged(ssb)  # SSB's names win where the two differ
    return history


def _labelled(history: KommuneHistorikk, code: str, day: dt.date) -> str:
    version = history.version_on(code, day)
    return f"{code} {version.name if version else history.name(code)}"


def _period(version: CodeVersion) -> str:
    start = version.valid_from.isoformat() if version.start_recorded else _("not recorded")
    end = version.valid_to.isoformat() if version.valid_to else _("still valid")
    return f"{start} – {end}"


def _grouped(history: KommuneHistorikk, changes: list[CodeChange], side: str) -> str:
    """Changes grouped by date: "0122 Trøgstad, 0123 Spydeberg (2020-01-01)"."""
    parts: list[str] = []
    for day in sorted({c.date for c in changes}):
        if side == "old":
            codes = sorted({c.old_code for c in changes if c.date == day})
            labels = [_labelled(history, c, day - dt.timedelta(days=1)) for c in codes]
        else:
            codes = sorted({c.new_code for c in changes if c.date == day})
            labels = [_labelled(history, c, day) for c in codes]
        parts.append(f"{', '.join(labels)} ({day.isoformat()})")
    return "; ".join(parts)


def _chains(history: KommuneHistorikk, code: str, since: dt.date) -> list[str]:
    """Every path of changes from ``code`` (each later than the last): "→ 3014 … → 3118 …"."""
    steps = [c for c in history.outgoing(code) if c.date > since]
    if not steps:
        return [""]
    out: list[str] = []
    for step in sorted(steps):
        head = f" → {_labelled(history, step.new_code, step.date)} ({step.date.isoformat()})"
        out.extend(head + rest for rest in _chains(history, step.new_code, step.date))
    return out


@kommune_app.command(
    "vis", help=_("Show a code: name, validity, predecessors, successors and the code on a date.")
)
def vis(
    kode: Annotated[str, typer.Argument(help=_("Municipality code NNNN."))],
    dato: Day = None,
    ssb_koder: SsbCodes = None,
    ssb_endringer: SsbChanges = None,
) -> None:
    """Show a code: name, validity, predecessors, successors and the code on a date."""
    from sio.data.kommunehistorikk import (
        AmbiguousCodeError,
        CodeNotValidError,
        KommuneHistorikkError,
    )

    try:
        day = _day(dato)
        history = _history(ssb_koder, ssb_endringer)
        code = kode.strip()
        versions = history.versions(code)
    except (_BadInput, KommuneHistorikkError) as exc:
        raise _fail(str(exc)) from None

    typer.echo(f"{code} {versions[-1].name}")
    for version in versions:
        if len(versions) == 1:
            typer.echo(_("Valid: {period}").format(period=_period(version)))
        else:
            typer.echo(
                _("Valid: {period} as {name}").format(period=_period(version), name=version.name)
            )

    incoming = history.incoming(code)
    typer.echo(
        _("Predecessors: {codes}").format(
            codes=_grouped(history, incoming, "old") if incoming else _("none")
        )
    )
    direct = set(history.predecessors(code))
    earlier = [c for c in history.all_predecessors(code) if c not in direct]
    if earlier:
        typer.echo(_("Earlier predecessors: {codes}").format(codes=", ".join(earlier)))

    chains = [c for c in _chains(history, code, dt.date.min) if c]
    if not chains:
        typer.echo(_("Successors: {codes}").format(codes=_("none")))
    elif len(chains) == 1:
        typer.echo(_("Successors: {codes}").format(codes=code + chains[0]))
    else:
        typer.echo(_("Successors: {codes}").format(codes=""))
        for chain in chains:
            typer.echo(f"  {code}{chain}")

    try:
        found = history.code_on(code, day)
        typer.echo(
            _("On {day}: {code}").format(day=day.isoformat(), code=_labelled(history, found, day))
        )
    except AmbiguousCodeError as exc:
        codes = ", ".join(_labelled(history, c, day) for c in exc.candidates)
        typer.echo(
            _("On {day}: corresponds to several codes: {codes}").format(
                day=day.isoformat(), codes=codes
            )
        )
    except CodeNotValidError:
        typer.echo(_("On {day}: not valid").format(day=day.isoformat()))


@kommune_app.command(
    "liste", help=_("List the municipality codes valid on a date, with their names.")
)
def liste(
    dato: Day = None,
    ssb_koder: SsbCodes = None,
    ssb_endringer: SsbChanges = None,
) -> None:
    """List the municipality codes valid on a date, with their names."""
    try:
        day = _day(dato)
        history = _history(ssb_koder, ssb_endringer)
    except _BadInput as exc:
        raise _fail(str(exc)) from None
    codes = history.codes_valid_on(day)
    typer.echo(
        ngettext(
            "{n} municipality code valid on {day}:",
            "{n} municipality codes valid on {day}:",
            len(codes),
        ).format(n=len(codes), day=day.isoformat())
    )
    for code in codes:
        typer.echo(f"{code}  {history.name(code, day)}")
