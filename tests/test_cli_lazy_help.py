"""A help page of `sio` imports Typer's help formatting without ``rich.markdown`` (markdown-it) and
``rich.traceback`` (Pygments), which it does not use; the stand-ins that take their place in
``typer.rich_utils`` give the real classes when they are used (a crash's traceback, Markdown)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

UNUSED = ("rich.markdown", "rich.traceback", "markdown_it", "pygments")


def _run(code: str) -> str:
    env = {**os.environ, "SIO_LANG": "nb", "COLUMNS": "120", "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("args", [["--help"], ["beregn", "--help"], ["utbetaling", "--help"]])
def test_help_leaves_markdown_and_tracebacks_unimported(args: list[str]) -> None:
    out = _run(
        "import sys\n"
        f"sys.argv = ['sio', *{args!r}]\n"
        "from sio.entry import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print('-----')\n"
        "print('\\n'.join(sys.modules))\n"
    )
    text, _mark, names = out.partition("-----\n")
    assert "--help" in text  # the help page was printed
    loaded = set(names.split())
    assert "typer.rich_utils" in loaded
    assert [m for m in loaded if any(m == u or m.startswith(u + ".") for u in UNUSED)] == []


def test_stand_ins_give_the_real_classes() -> None:
    out = _run(
        "import sys\n"
        "from sio.cli.click_words import import_rich_utils\n"
        "import_rich_utils()\n"
        "import typer.rich_utils as ru\n"
        "from typer.models import DeveloperExceptionConfig\n"
        "print('rich.markdown' in sys.modules, 'rich.traceback' in sys.modules)\n"
        "md = ru._make_rich_text(text='**x**', markup_mode='markdown')\n"
        "try:\n    1 / 0\nexcept ZeroDivisionError as exc:\n"
        "    tb = ru.get_traceback(exc, DeveloperExceptionConfig(), [])\n"
        "import rich.markdown, rich.traceback\n"
        "print(type(md) is rich.markdown.Markdown, type(tb) is rich.traceback.Traceback)\n"
    )
    assert out.split() == ["False", "False", "True", "True"]
