"""Typer's and Click's own words ("Usage:", "Show this message and exit.", "[required]", "No such
option", the error box title …) through :mod:`sio.i18n`, so that the command line speaks one
language.

The Click that Typer ships has no translation hook: its words are plain strings in a few places.
:func:`install` (called once when the app is built) wraps exactly those places — the usage line,
the help option, the ``format_message`` of Click's exceptions — and sets the words of Typer's
help and error boxes (module constants of ``typer.rich_utils``) each time a usage line is written,
which is the first thing both a help page and an error box print. ``typer.rich_utils`` is not
imported here (it is slow to import, and only help and errors need it).

Error messages are translated by pattern (`translate_message`): Click builds them with the option
or value inside, so the English sentence is matched and its parts put into the Norwegian one; an
unknown sentence stays as Click wrote it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from sio.i18n import _

__all__ = ["install", "translate_message"]

_installed = False


def _rich_words() -> None:
    """The words of Typer's help and error boxes, in the current language."""
    rich_utils = sys.modules.get("typer.rich_utils")
    if rich_utils is None:
        return
    words = {
        "ARGUMENTS_PANEL_TITLE": _("Arguments"),
        "OPTIONS_PANEL_TITLE": _("Options"),
        "COMMANDS_PANEL_TITLE": _("Commands"),
        "ERRORS_PANEL_TITLE": _("Error"),
        "ABORTED_TEXT": _("Aborted."),
        "RICH_HELP": _("Try [blue]'{command_path} {help_option}'[/] for help."),
        "DEFAULT_STRING": _("[default: {}]"),
        "ENVVAR_STRING": _("[env var: {}]"),
        "REQUIRED_LONG_STRING": _("[required]"),
        "DEPRECATED_STRING": _("(deprecated) "),
    }
    for name, text in words.items():
        setattr(rich_utils, name, text)


def _usage_pieces(args: str) -> str:
    """The metavariables of a usage line ("[OPTIONS]", "COMMAND [ARGS]...") in the language."""
    return (
        args.replace("[OPTIONS]", _("[OPTIONS]"))
        .replace("COMMAND [ARGS]...", _("COMMAND [ARGS]..."))
        .replace("[ARGS]...", _("[ARGS]..."))
    )


def _kind(word: str) -> str:
    return {"option": _("option"), "argument": _("argument"), "parameter": _("parameter")}.get(
        word, word
    )


def _value_problem(text: str) -> str:
    """The reason a value was refused (the part after "Invalid value for X: ")."""
    if m := re.fullmatch(r"Input should be a valid integer.*", text):
        return _("not a whole number")
    if m := re.fullmatch(r"Input should be a valid number.*", text):
        return _("not a number")
    if m := re.fullmatch(r"'(.*)' is not a valid (integer|float)\.", text):
        return _("'{value}' is not a number").format(value=m.group(1))
    if m := re.fullmatch(r"(File|Directory|Path) '(.*)' does not exist\.", text):
        return _("'{path}' does not exist").format(path=m.group(2))
    if m := re.fullmatch(r"'(.*)' is not one of (.*)\.", text):
        return _("'{value}' is not one of {choices}").format(value=m.group(1), choices=m.group(2))
    return text


def translate_message(text: str) -> str:
    """A message of Click's in the current language (as it was, if it is not known)."""
    if m := re.fullmatch(r"Missing (option|argument|parameter)(?: (.+?))?\.(?: (.*))?", text):
        hint = f" {m.group(2)}" if m.group(2) else ""
        out = _("Missing {kind}{hint}.").format(kind=_kind(m.group(1)), hint=hint)
        return out + (f" {m.group(3)}" if m.group(3) else "")
    if m := re.fullmatch(r"Invalid value for (.+?): (.*)", text, re.S):
        return _("Invalid value for {hint}: {problem}").format(
            hint=m.group(1), problem=_value_problem(m.group(2))
        )
    if m := re.fullmatch(r"No such option: (\S+)(?: \(Possible options: (.*)\))?", text):
        out = _("No such option: {name}").format(name=m.group(1))
        if m.group(2):
            out += " " + _("(possible options: {options})").format(options=m.group(2))
        return out
    if m := re.fullmatch(r"No such command '(.*?)'(?:\. Did you mean (.*)\?|\.)", text):
        out = _("No such command '{name}'.").format(name=m.group(1))
        if m.group(2):
            out += " " + _("Did you mean {names}?").format(names=m.group(2))
        return out
    if m := re.fullmatch(r"Got unexpected extra arguments? \((.*)\)", text):
        return _("Unexpected extra argument ({args})").format(args=m.group(1))
    if m := re.fullmatch(r"Got unexpected extra argument\(s\) \((.*)\)", text):
        return _("Unexpected extra argument ({args})").format(args=m.group(1))
    if m := re.fullmatch(r"Option '(.*)' requires (an argument|\d+ arguments)\.", text):
        return _("The option '{name}' needs a value.").format(name=m.group(1))
    if m := re.fullmatch(r"Option '(.*)' does not take a value\.", text):
        return _("The option '{name}' takes no value.").format(name=m.group(1))
    return text


def _wrap_format_message(cls: type) -> None:
    original: Callable[[Any], str] = cls.__dict__["format_message"]

    def format_message(self: Any) -> str:
        _rich_words()
        return translate_message(original(self))

    cls.format_message = format_message  # type: ignore[attr-defined]


def install() -> None:
    """Route Click's and Typer's own words through :mod:`sio.i18n` (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    from typer._click import core, exceptions, formatting

    write_usage = formatting.HelpFormatter.write_usage

    def translated_usage(
        self: formatting.HelpFormatter, prog: str, args: str = "", prefix: str | None = None
    ) -> None:
        _rich_words()
        write_usage(self, prog, _usage_pieces(args), _("Usage: ") if prefix is None else prefix)

    formatting.HelpFormatter.write_usage = translated_usage  # type: ignore[method-assign]

    get_help_option = core.Command.get_help_option

    def translated_help_option(self: core.Command, ctx: core.Context) -> Any:
        option = get_help_option(self, ctx)
        if option is not None:
            option.help = _("Show this message and exit.")
        return option

    core.Command.get_help_option = translated_help_option  # type: ignore[method-assign]

    classes = {c for c in vars(exceptions).values() if isinstance(c, type)}
    classes |= set(exceptions.ClickException.__mro__)  # Typer's base of Click's exceptions
    for cls in classes:
        if issubclass(cls, BaseException) and "format_message" in cls.__dict__:
            _wrap_format_message(cls)
