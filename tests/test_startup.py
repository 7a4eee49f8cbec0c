"""Start-up of the `sio` command stays light: building the app and printing its help imports none
of the heavy libraries (polars, numpy, pyarrow, SQLAlchemy, FastAPI, Jinja2) nor the engine, data,
store, report or payment modules — each command imports those when it runs. The speed itself is
measured by the benchmarks, not here; this checks which modules are loaded, which is
deterministic. Also: the catalog reader of :mod:`sio.i18n` (which lets start-up skip
``babel.messages``) gives the same translations as Babel's own ``read_po`` + ``write_mo``."""

from __future__ import annotations

import os
import subprocess
import sys
from io import BytesIO

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from sio import i18n

HEAVY = (
    "polars",
    "numpy",
    "pyarrow",
    "sqlalchemy",
    "fastapi",
    "jinja2",
    "uvicorn",
    "yaml",
    "babel.numbers",
    "babel.messages",
    "sio.engine",
    "sio.parameters",
    "sio.data",
    "sio.rules",
    "sio.store",
    "sio.report",
    "sio.utbetaling",
    "sio.casework",
)

MARK = "----- modules -----"

SCRIPT = f"""
import sys
sys.argv = ["sio", *sys.argv[1:]]
import sio.entry
try:
    sio.entry.main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print({MARK!r})
print(code)
print("\\n".join(sorted(sys.modules)))
"""


def modules_after(*args: str) -> tuple[str, int, set[str]]:
    """Run the `sio` entry point with ``args`` in a fresh process: (its output, its exit code,
    the modules loaded when it is done)."""
    env = {**os.environ, "SIO_LANG": "nb", "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
        check=True,
    )
    text, _mark, rest = result.stdout.partition(MARK + "\n")
    code, _nl, names = rest.partition("\n")
    return text, int(code), set(names.split())


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (("--help",), "Beregn årstallene for alle kommuner for ett år."),
        (("--lang", "en", "--help"), "Compute every municipality's annual figures for one year."),
        (("compute", "--help"), "Året som skal beregnes."),
        (("--lang", "en", "utbetaling", "--help"), "Make the payment run of a month (once)."),
        (("explain", "--help"), "Forklar denne posteringen (id) helt ned til vedtakene."),
    ],
)
def test_help_imports_nothing_heavy(args: tuple[str, ...], phrase: str) -> None:
    text, code, loaded = modules_after(*args)
    assert code == 0
    assert phrase in " ".join(text.replace("│", " ").split())  # the help was really printed
    assert "sio.cli.application" in loaded
    heavy = sorted(m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY))
    assert heavy == []


def test_app_import_alone_is_light() -> None:
    """Importing the app (what the tests and `python -m sio.cli` do first) is just as light."""
    code = "import sys, sio.cli; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(result.stdout.split())
    assert "sio.cli.compute" in loaded
    assert not [m for m in loaded if any(m == h or m.startswith(h + ".") for h in HEAVY)]


def _babel(po_text: str, lang: str) -> Translations:
    catalog = read_po(BytesIO(po_text.encode("utf-8")), locale=lang, domain=i18n.DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=i18n.DOMAIN)


TRICKY_PO = r"""# A catalog with the corners of the format.
msgid ""
msgstr ""
"Language: nb\n"
"Content-Type: text/plain; charset=UTF-8\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\n"

#, fuzzy
msgid "fuzzy"
msgstr "uklar"

#, python-format, fuzzy
msgid "fuzzy among flags"
msgstr "uklar blant flagg"

msgid "untranslated"
msgstr ""

msgid ""
"multi "
"line \"quoted\"\n"
"tab\there \\ back"
msgstr ""
"fler"
"linjer \"sitert\"\n"

msgctxt "menu"
msgid "File"
msgstr "Fil (meny)"

msgid "File"
msgstr "Fil"

msgid "{n} thing"
msgid_plural "{n} things"
msgstr[0] "{n} ting"
msgstr[1] ""

msgid "{n} empty"
msgid_plural "{n} empties"
msgstr[0] ""
msgstr[1] ""

msgid "twice"
msgstr "første"

#, fuzzy
msgid "twice"
msgstr "andre"

msgid "plural later"
msgstr "a"

msgid "plural later"
msgid_plural "plurals later"
msgstr[0] "b"
msgstr[1] "bs"

#~ msgid "obsolete"
#~ msgstr "foreldet"

#: a.py:1
# a user comment
#. an automatic comment
msgid "after comments"
msgstr "etter kommentarer"
msgid "no blank line before"
msgstr "ingen tom linje foran"
"""


def _same(po_text: str, lang: str) -> None:
    """The same messages, plural forms and plural rule as Babel's compiled catalog (the header
    entry aside: Babel writes its own)."""
    ours = i18n._compile(po_text)
    babel = _babel(po_text, lang)
    messages = {k: v for k, v in ours._catalog.items() if k != ""}
    assert messages == {k: v for k, v in babel._catalog.items() if k != ""}
    assert [ours.plural(n) for n in range(4)] == [babel.plural(n) for n in range(4)]


@pytest.mark.parametrize("lang", i18n.SUPPORTED_LANGUAGES)
def test_catalog_reader_agrees_with_babel(lang: str) -> None:
    path = i18n._LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po"
    _same(path.read_text(encoding="utf-8"), lang)


def test_catalog_reader_agrees_with_babel_on_the_corners() -> None:
    _same(TRICKY_PO, "nb")
    t = i18n._compile(TRICKY_PO)
    assert t.gettext("fuzzy") == "fuzzy"  # a fuzzy translation is not used
    assert t.gettext("twice") == "twice"  # fuzzy in its second occurrence: not used either
    assert t.gettext("untranslated") == "untranslated"
    assert t.gettext('multi line "quoted"\ntab\there \\ back') == 'flerlinjer "sitert"\n'
    assert t.pgettext("menu", "File") == "Fil (meny)"
    assert t.gettext("File") == "Fil"
    assert t.ngettext("{n} thing", "{n} things", 1) == "{n} ting"
    assert t.ngettext("{n} thing", "{n} things", 3) == "{n} things"  # empty form: the English
    assert t.ngettext("plural later", "plurals later", 2) == "bs"
    assert t.gettext("obsolete") == "obsolete"
    assert t.gettext("after comments") == "etter kommentarer"
    assert t.gettext("no blank line before") == "ingen tom linje foran"
