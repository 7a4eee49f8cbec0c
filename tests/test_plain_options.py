"""`sio.cli.plain_options`: options of plain types read without Pydantic give exactly what
Typer's own (Pydantic) coercion gives, value for value, and the same message for a bad value; a
command line of `sio` then does not import Pydantic at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest
import typer
import typer.main
from typer._click import Context
from typer._click.exceptions import BadParameter
from typer._coercion import build_runtime_param
from typer.testing import CliRunner

from sio.cli.plain_options import _Plain, install

app = typer.Typer()


@app.command()
def command(
    year: Annotated[int, typer.Option("--aar")],
    name: Annotated[str, typer.Option("--navn")] = "x",
    folder: Annotated[Path | None, typer.Option("--data")] = None,
    flag: Annotated[bool, typer.Option("--db")] = False,
    codes: Annotated[list[str] | None, typer.Option("--kommune")] = None,
) -> None:
    typer.echo(repr((year, name, folder, flag, codes)))


def _params() -> tuple[Any, Any, dict[str, Any]]:
    cmd = typer.main.get_command(app)
    ctx = Context(cmd, info_name="command")  # not parsed: nothing coerced yet
    install(cmd, ctx)
    return cmd, ctx, {p.name: p for p in cmd.params}


def _typer_coerce(param: Any, value: Any, ctx: Any) -> Any:
    return build_runtime_param(param.type_descriptor).coerce(value, param=param, ctx=ctx)


VALUES = {
    "year": ["2022", "-3", "0", "007", 2016, " 2022", "2022 ", "+5", "1_000", "2.0", "", "abc"],
    "name": ["json", "", " spaced ", "æøå", "--"],
    "folder": ["data", "./a/b", "/abs/path", "-", "a b", Path("p"), ""],
    "flag": [True, False],
    "codes": [(), ("0301",), ("0301", "1103"), ["4601"]],
}


@pytest.mark.parametrize(("name", "value"), [(n, v) for n, vs in VALUES.items() for v in vs])
def test_the_same_value_or_the_same_message_as_typers_own(name: str, value: Any) -> None:
    _cmd, ctx, params = _params()
    param = params[name]
    assert isinstance(param._runtime_param, _Plain)
    try:
        expected: Any = ("ok", _typer_coerce(param, value, ctx))
    except BadParameter as exc:
        expected = ("bad", exc.format_message())
    try:
        got: Any = ("ok", param._runtime_param.coerce(value, param=param, ctx=ctx))
    except BadParameter as exc:
        got = ("bad", exc.format_message())
    assert got == expected
    assert type(got[1]) is type(expected[1])


def test_the_help_option_and_every_plain_option_get_it() -> None:
    cmd, ctx, _params_by_name = _params()
    plain = [p.name for p in cmd.get_params(ctx) if isinstance(p._runtime_param, _Plain)]
    assert plain[:5] == ["year", "name", "folder", "flag", "codes"]
    assert plain[-1] == "help"


def test_a_command_line_gives_what_it_gave() -> None:
    result = CliRunner().invoke(
        app, ["--aar", "2022", "--data", "d", "--kommune", "0301", "--kommune", "1103"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == repr((2022, "x", Path("d"), False, ["0301", "1103"]))


def test_sio_reads_its_options_without_importing_pydantic(tmp_path: Path) -> None:
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('pydantic' in sys.modules))\n"
        "sys.argv = ['sio', '--lang', 'en', 'compute', '--data', sys.argv[1], '--year', '2022',"
        " '--format', 'json', '--kommune', '0301']\n"
        "from sio.entry import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    # the folder is missing: the command stops with its message, after reading every option
    assert "missing" in done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
