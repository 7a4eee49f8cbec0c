"""Typer's and Click's own words ("Usage:", "Show this message and exit.", "[required]", "No such
option", the error box title …) through :mod:`sio.i18n`, so that the command line speaks one
language.

The Click that Typer ships has no translation hook: its words are plain strings in a few places.
:func:`install` (called once when the app is built) wraps exactly those places — the usage line,
the help option, the ``format_message`` of Click's exceptions — and sets the words of Typer's
help and error boxes (module constants of ``typer.rich_utils``) each time a usage line is written,
which is the first thing both a help page and an error box print. ``typer.rich_utils`` is not
imported here (it is slow to import, and only help and errors need it).

When a help page is written, :func:`import_rich_utils` imports ``typer.rich_utils`` without the
two modules it imports at its top but uses only elsewhere: ``rich.markdown`` (markdown-it, for help
written in Markdown, which `sio` does not use) and ``rich.traceback`` (Pygments, for a crash's
traceback) — between them about a third of ``sio --help``. Stand-ins take their place in it and
import the real class when it is used, so a help page prints as before.

Error messages are translated by pattern (`translate_message`): Click builds them with the option
or value inside, so the English sentence is matched and its parts put into the Norwegian one; an
unknown sentence stays as Click wrote it.
"""

from __future__ import annotations

import importlib
import re
import sys
import types
from collections.abc import Callable
from typing import Any

from sio.i18n import _

__all__ = ["import_rich_utils", "install", "translate_message"]

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


class _StandIn(type):
    """The class of a stand-in: its attributes are those of the real class."""

    _module: str
    _real: type | None

    def real(cls) -> type:
        if cls._real is None:
            cls._real = getattr(importlib.import_module(cls._module), cls.__name__)
        return cls._real

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls.real(), name)


def _stand_in(module: str, name: str) -> type:
    """A class named `name` that, called, returns an instance of `module`'s class of that name
    (imported then) and whose attributes (``Traceback.from_exception``) are the real class's."""

    def new(cls: _StandIn, *args: Any, **kwargs: Any) -> Any:
        return cls.real()(*args, **kwargs)

    return _StandIn(name, (), {"__new__": new, "_module": module, "_real": None})


# the modules `typer.rich_utils` imports at its top and a help page does not use, and their names
# it imports
_UNUSED_BY_HELP = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


def import_rich_utils() -> None:
    """Import ``typer.rich_utils`` (if it is not yet) with stand-ins for ``rich.markdown`` and
    ``rich.traceback``, which are imported only if a stand-in is used. The stand-in modules are
    in ``sys.modules`` only while ``typer.rich_utils`` is imported."""
    if "typer.rich_utils" in sys.modules:
        return
    stand_ins: dict[str, types.ModuleType] = {}
    for module, name in _UNUSED_BY_HELP.items():
        if module not in sys.modules:
            stand_ins[module] = types.ModuleType(module)
            setattr(stand_ins[module], name, _stand_in(module, name))
    sys.modules.update(stand_ins)
    try:
        importlib.import_module("typer.rich_utils")
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]


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


def _import_before_help(cls: type) -> None:
    original: Callable[..., None] = cls.__dict__["format_help"]

    def format_help(self: Any, ctx: Any, formatter: Any) -> None:
        import_rich_utils()
        original(self, ctx, formatter)

    cls.format_help = format_help  # type: ignore[attr-defined]


def install() -> None:
    """Route Click's and Typer's own words through :mod:`sio.i18n` (once per process)."""
    global _installed
    if _installed:
        return
    _installed = True
    from typer import core as typer_core
    from typer._click import core, exceptions, formatting

    for command_class in (typer_core.TyperCommand, typer_core.TyperGroup):
        _import_before_help(command_class)

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
