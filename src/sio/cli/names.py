"""The names of the command line: Norwegian, chosen once (docs/guide.md lists them), with the
English names of earlier versions kept as hidden aliases so that nothing written with them breaks.

The help lists only the Norwegian names. An English command name (``sio compute``) finds the
Norwegian command (``sio beregn``); an English option name (``--year``) is read as the Norwegian
one (``--aar``) by the command that has it. :class:`NorwegianGroup` is the group class of the app
and of every command group; it does both, when it resolves the command of a command line (and
lets the command read its plain options without Pydantic, `sio.cli.plain_options`).
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup

__all__ = ["COMMANDS", "OPTIONS", "NorwegianGroup"]

# English command name → Norwegian (at any level: the names do not collide)
COMMANDS: dict[str, str] = {
    "compute": "beregn",
    "explain": "forklar",
    "params": "parametere",
    "import": "importer",
    "synth": "syntetisk",
    "list": "liste",
    "show": "vis",
    "versions": "versjoner",
    "national": "nasjonal",
    "opening-balance": "inngaende-saldo",
    "evaluate": "evaluer",
}

# English option name → Norwegian
OPTIONS: dict[str, str] = {
    "--year": "--aar",
    "--out": "--ut",
    "--at": "--dato",
    "--override": "--overstyring",
    "--month": "--maaned",
    "--from": "--fra",
    "--to": "--til",
    "--permutations": "--permutasjoner",
}


def _option_names(command: Any) -> set[str]:
    names: set[str] = set()
    for param in getattr(command, "params", ()):
        names.update(param.opts)
        names.update(param.secondary_opts)
    return names


def rename_options(command: Any, args: list[str]) -> list[str]:
    """`args` of `command` with each English option name that it does not have itself replaced
    by its Norwegian name where the command has that (``--year 2016``, ``--year=2016``); nothing
    after ``--``."""
    have = _option_names(command)
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + args[i:]
        name, eq, value = arg.partition("=")
        nb = OPTIONS.get(name)
        if nb is not None and name not in have and nb in have:
            arg = nb + eq + value
        out.append(arg)
    return out


class NorwegianGroup(TyperGroup):
    """A command group that also answers to the English names of its commands and options."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in COMMANDS:
            command = super().get_command(ctx, COMMANDS[cmd_name])
        return command

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        from sio.cli.plain_options import install

        install(self, ctx)  # the group's own options of plain types are read without Pydantic
        result: list[str] = super().parse_args(ctx, args)
        return result

    def resolve_command(self, ctx: Any, args: list[str]) -> tuple[str | None, Any, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if command is not None and not isinstance(command, TyperGroup):
            rest = rename_options(command, rest)
            from sio.cli.plain_options import install

            install(command, ctx)  # its options of plain types are read without Pydantic
        return name, command, rest
