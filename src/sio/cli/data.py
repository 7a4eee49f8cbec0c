"""`sio import` (validate input and store it as a new, immutable data version) and
`sio data versions|diff` (the data versions in the database and what changed between two)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from sio.cli.common import (
    EXIT_BAD_INPUT,
    NormalPriorityOption,
    err,
    input_errors,
    load_params,
    out,
    warn_problems,
)
from sio.cli.names import NorwegianGroup
from sio.i18n import _
from sio.priority import lower as lower_priority

__all__ = ["data_app", "import_cmd"]

data_app = typer.Typer(
    cls=NorwegianGroup, no_args_is_help=True, help=_("Data versions in the database.")
)


def import_cmd(
    path: Annotated[Path, typer.Argument(help=_("A file or a folder in the input format."))],
    fmt: Annotated[str, typer.Option("--format", help=_("Problem report: text or json."))] = "text",
    override: Annotated[
        Path | None, typer.Option("--overstyring", help=_("YAML file of parameter overrides."))
    ] = None,
    normal_priority: NormalPriorityOption = False,
) -> None:
    """Validate a file or folder and store it as a new, immutable data version."""
    lower_priority(normal_priority)  # yield the CPU to a casework service (decision 0022)
    from sio.data.validation import InputInvalid, problems_json
    from sio.parameters import ParameterError, ParameterLookupError
    from sio.store.db import open_store
    from sio.store.versions import import_path
    from sio.trace import fmt_exact

    try:
        params = load_params(override)
        res = import_path(open_store(), path, params)
    except InputInvalid as exc:
        if fmt == "json":
            sys.stdout.write(problems_json(exc.problems) + "\n")
        else:
            errors = [p for p in exc.problems if p.severity == "error"]
            err.print(
                _("The input has {n} error(s); nothing was stored:").format(n=len(errors)),
                style="bold red",
            )
            err.print(exc.report(), markup=False, highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (ParameterError, ParameterLookupError) as exc:
        err.print(_("Error: {msg}").format(msg=exc), style="bold red", markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    warn_problems(res.problems)
    if not res.ny:
        out.print(
            _("Nothing new: the same content is already stored as version {v}.").format(
                v=res.versjon
            )
        )
        return
    counts = ", ".join(f"{k} {fmt_exact(v)}" for k, v in res.rader.items() if v)
    out.print(
        _("Stored as data version {v} ({counts}).").format(v=res.versjon, counts=counts or "0")
    )


@data_app.command(
    "versjoner",
    help=_("List the data versions: when, who, from which source, content hash and rows."),
)
def data_versions(
    fmt: Annotated[str, typer.Option("--format", help=_("table or json."))] = "table",
) -> None:
    """List the data versions: when, who, from which source, content hash and rows."""
    from rich.table import Table

    from sio.store.db import open_store
    from sio.store.versions import list_versions
    from sio.trace import fmt_exact

    versions = list_versions(open_store())
    if fmt == "json":
        sys.stdout.write(
            json.dumps([v.to_dict() for v in versions], ensure_ascii=False, indent=2) + "\n"
        )
        return
    table = Table(title=_("Data versions"))
    for col in (_("version"), _("created"), _("user"), _("source"), "sha256", _("rows")):
        table.add_column(col)
    for v in versions:
        table.add_row(
            str(v.versjon),
            v.opprettet.strftime("%Y-%m-%d %H:%M:%S"),
            v.bruker,
            v.kilde,
            v.sha256[:12],
            ", ".join(f"{k} {fmt_exact(n)}" for k, n in v.rader.items() if n),
        )
    out.print(table)


@data_app.command(
    "diff", help=_("What changed between two data versions, by table and municipality.")
)
def data_diff(
    v1: Annotated[int, typer.Argument(help=_("From version."))],
    v2: Annotated[int, typer.Argument(help=_("To version."))],
    fmt: Annotated[str, typer.Option("--format", help=_("table or json."))] = "table",
) -> None:
    """What changed between two data versions, by table and municipality."""
    from rich.table import Table

    from sio.store.db import open_store
    from sio.store.versions import diff_versions
    from sio.trace import fmt_exact

    with input_errors():
        changes = diff_versions(open_store(), v1, v2)
    if fmt == "json":
        sys.stdout.write(json.dumps(changes, ensure_ascii=False, indent=2) + "\n")
        return
    labels = {
        "lagt_til": _("added"),
        "erstattet": _("superseded"),
        "fjernet": _("removed"),
    }
    table = Table(title=_("Changes from version {a} to {b}").format(a=v1, b=v2))
    for col in (_("table"), "kommunenummer", _("change"), _("rows")):
        table.add_column(col)
    for c in changes:
        table.add_row(
            c["tabell"], c["kommunenummer"] or "", labels[c["endring"]], fmt_exact(c["rader"])
        )
    if not changes:
        out.print(_("No changes."))
        return
    out.print(table)
