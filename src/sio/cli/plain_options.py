"""Options of plain types read without Pydantic: flags, whole numbers, text, paths, lists of text.

Typer (0.29) turns every option value into its Python type with a Pydantic `TypeAdapter`, built
when the command runs; importing Pydantic and building the adapters costs a command about a tenth
of a second before it does anything (`sio beregn` on a national year takes well under a second).
`install` gives the options of a command whose type is one of these plain types a coercion of
its own that returns exactly what the adapter returns for the values a command line gives, and
hands every other value (and every other type) to Typer's own coercion, so that what is accepted
and every message about a bad value stay as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typer._coercion import RuntimeParam, build_runtime_param
from typer._param_types import coerce_cli_path, routes_to_path
from typer.core import _TyperParameter

__all__ = ["install"]

_INT = re.compile(r"-?[0-9]{1,18}")


@dataclass(frozen=True)
class _Plain(RuntimeParam):
    """The coercion of one option of a plain type; anything unusual goes to Typer's own."""

    kind: str  # "bool", "int", "str", "path" or "list_str"

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Any) -> Any:
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
        elif self.kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            if isinstance(value, str) and _INT.fullmatch(value):
                return int(value)
        elif self.kind == "str":
            if isinstance(value, str):
                return value
        elif self.kind == "path":
            if isinstance(value, str) and value and "\x00" not in value:
                value = Path(value)  # what Pydantic makes of it
            if isinstance(value, Path):  # Typer's own checks (exists, resolve_path …)
                return coerce_cli_path(
                    value, self.parameter_info, path_type=Path, param=param, ctx=ctx
                )
        elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return list(value)
        return build_runtime_param(param.type_descriptor)._coerce_value(value, param, ctx)


def _kind(param: _TyperParameter) -> str | None:
    descriptor = param.type_descriptor
    info = descriptor.parameter_info
    if descriptor.is_file or info.parser is not None:
        return None
    if descriptor.choices is not None or descriptor.is_ranged:
        return None
    annotation = descriptor.annotation
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is str:
        return "str"
    if annotation is Path and info.path_type is None and routes_to_path(annotation, info):
        return "path"
    if annotation == list[str]:
        return "list_str"
    return None


def install(command: Any, ctx: Any) -> None:
    """Give each option of `command` of a plain type the coercion above, once per option; `ctx`
    is the context the command is parsed in, or its parent's (for the help option's names)."""
    params = list(getattr(command, "params", ()))
    if "help_option_names" not in (getattr(command, "context_settings", None) or {}):
        params.append(command.get_help_option(ctx))  # created once, and kept, by the command
    for param in params:
        if not isinstance(param, _TyperParameter) or param._runtime_param is not None:
            continue
        kind = _kind(param)
        if kind is not None:
            descriptor = param.type_descriptor
            param._runtime_param = _Plain(descriptor.parameter_info, descriptor.annotation, kind)
