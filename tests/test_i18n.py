"""The translation layer: languages, catalogs read from .po at run time, number formats, and every
user-visible message of the report having a Norwegian translation."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from sio import i18n
from sio.i18n import (
    _,
    format_kroner,
    format_number,
    format_percent,
    get_language,
    language,
    ngettext,
    set_language,
)

NBSP = "\u00a0"
SRC = Path(i18n.__file__).parent


@pytest.fixture(autouse=True)
def _norwegian() -> Iterator[None]:
    """Every test starts and ends in Norwegian, whatever it switched to."""
    set_language("nb")
    yield
    set_language("nb")


def _catalog_text(lang: str) -> str:
    path = resources.files("sio") / "locale" / lang / "LC_MESSAGES" / "sio.po"
    return path.read_text(encoding="utf-8")


def _catalog(lang: str) -> dict[str, str | tuple[str, ...]]:
    """Every message of ``lang``'s catalogs (sio.po and the part catalogs beside it), as Babel
    reads them; the first translation of a message counts, as in the package."""
    out: dict[str, str | tuple[str, ...]] = {}
    for path in i18n.catalog_files(lang):
        with path.open("rb") as fp:
            catalog = read_po(fp, locale=lang)
        for key, text in _messages(catalog).items():
            out.setdefault(key, text)
    return out


def _messages(catalog: Any) -> dict[str, str | tuple[str, ...]]:
    out: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id:
            continue
        key = str(message.id[0] if isinstance(message.id, (tuple, list)) else message.id)
        text = message.string
        if isinstance(text, (tuple, list)):
            out[key] = tuple(str(t or "") for t in text)
        else:
            out[key] = str(text or "")
    return out


def _source_msgids() -> dict[str, set[str]]:
    """Every msgid of the `sio` package, with the places it occurs ("cli.py:85"): the first
    argument of each `_()`/`ngettext()` call with a string literal in any module under src/sio
    (the singular of a plural message), and each such call in the Jinja templates."""
    found: dict[str, set[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        where = path.relative_to(SRC).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "ngettext")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.setdefault(node.args[0].value, set()).add(f"{where}:{node.lineno}")
    for template in sorted(SRC.rglob("*.j2")):
        where = template.relative_to(SRC).as_posix()
        with template.open("rb") as fp:
            for line, _func, msg, _notes in babel_extract(fp, ("_", "ngettext"), [], {}):
                msgid = msg[0] if isinstance(msg, tuple) else msg
                if msgid:
                    found.setdefault(str(msgid), set()).add(f"{where}:{line}")
    return found


def test_the_default_language_is_norwegian_bokmal() -> None:
    assert get_language() == "nb"
    assert _("National total") == "Hele landet"
    assert _("Extraction") == "Uttrekk"


def test_english_gives_the_msgid_back() -> None:
    set_language("en")
    assert get_language() == "en"
    assert _("National total") == "National total"


def test_a_message_without_translation_falls_back_to_english() -> None:
    assert _("A message nobody has translated") == "A message nobody has translated"


def test_an_unknown_language_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match=r"Unsupported language 'de'.*nb, en"):
        set_language("de")
    assert get_language() == "nb"


@pytest.mark.parametrize(("spelling", "code"), [("NB", "nb"), ("nb-NO", "nb"), ("en_GB", "en")])
def test_common_spellings_of_a_language_are_accepted(spelling: str, code: str) -> None:
    set_language(spelling)
    assert get_language() == code


def test_language_context_restores_the_previous_language() -> None:
    with language("en"):
        assert _("Net") == "Net"
    assert get_language() == "nb"
    assert _("Net") == "Netto"


def test_the_initial_language_comes_from_sio_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIO_LANG", "en")
    assert i18n._initial_language() == "en"
    monkeypatch.delenv("SIO_LANG")
    assert i18n._initial_language() == "nb"
    monkeypatch.setenv("SIO_LANG", "klingon")
    with pytest.warns(UserWarning, match="SIO_LANG"):
        assert i18n._initial_language() == "nb"


def test_plural_forms_follow_the_count() -> None:
    assert ngettext("{n} municipality", "{n} municipalities", 1).format(n=1) == "1 kommune"
    assert ngettext("{n} municipality", "{n} municipalities", 3).format(n=3) == "3 kommuner"
    set_language("en")
    assert ngettext("{n} municipality", "{n} municipalities", 3).format(n=3) == "3 municipalities"


def test_kroner_are_grouped_the_norwegian_way_with_a_no_break_space() -> None:
    assert format_kroner(1_234_567) == f"1{NBSP}234{NBSP}567"
    assert format_kroner(-220_000) == f"-220{NBSP}000"
    assert format_kroner(0) == "0"
    set_language("en")
    assert format_kroner(1_234_567) == "1,234,567"


def test_numbers_and_percentages() -> None:
    assert format_number(12.5, 1) == "12,5"
    assert format_number(3, 2) == "3,00"
    assert format_number(7, 0) == "7"
    assert format_percent(0.32819) == f"+32,8{NBSP}%"
    assert format_percent(-0.094) == f"-9,4{NBSP}%"
    assert format_percent(0.0) == f"0,0{NBSP}%"
    set_language("en")
    assert format_number(12.5, 1) == "12.5"
    assert format_percent(0.25) == "+25.0%"


def test_catalogs_are_cached_per_language() -> None:
    assert i18n.translations("nb") is i18n.translations("nb")
    assert i18n.translations("nb") is not i18n.translations("en")


def test_every_message_of_the_package_has_a_norwegian_translation() -> None:
    nb = _catalog("nb")
    found = _source_msgids()
    assert len(found) > 100
    assert {"Extraction", "required value is empty", "month {m:02d}"} <= found.keys()
    missing = sorted((m, sorted(places)) for m, places in found.items() if not nb.get(m))
    listing = "\n".join(f"  {m!r}  ({', '.join(places)})" for m, places in missing)
    assert not missing, (
        f"{len(missing)} msgid(s) without a translation in locale/nb/LC_MESSAGES/sio.po:\n"
        + listing
    )


def test_translations_keep_their_placeholders() -> None:
    def fields(text: str) -> set[str]:
        return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}

    for lang in ("nb", "en"):
        catalog = _catalog(lang)
        for msgid, translation in catalog.items():
            forms = translation if isinstance(translation, tuple) else (translation,)
            for form in forms:
                if form:
                    assert fields(form) == fields(msgid), (lang, msgid, form)


def test_catalogs_leave_room_for_engine_and_cli_strings() -> None:
    for lang in ("nb", "en"):
        assert "# --- engine / cli strings ---" in _catalog_text(lang)


def test_part_catalogs_beside_sio_po_are_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "nb" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
    (folder / "sio.po").write_text(header + 'msgid "Grant"\nmsgstr "Tilskudd"\n', encoding="utf-8")
    (folder / "zeta.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=latin-1\\n"\n\n'
        'msgid "Equal treatment"\nmsgstr "Likebehandling"\n\nmsgid "Grant"\nmsgstr "Annet"\n',
        encoding="utf-8",
    )
    (folder / "alpha.po").write_text(
        'msgid "Needs coverage"\nmsgstr "Behovsdekning"\n', encoding="utf-8"
    )
    monkeypatch.setattr(i18n, "_LOCALE_DIR", tmp_path)
    assert [p.name for p in i18n.catalog_files("nb")] == ["sio.po", "alpha.po", "zeta.po"]
    compiled = i18n._load("nb")
    assert compiled.gettext("Equal treatment") == "Likebehandling"
    assert compiled.gettext("Needs coverage") == "Behovsdekning"
    assert compiled.gettext("Grant") == "Tilskudd"  # the first catalog's translation is kept
    assert compiled.charset() == "UTF-8"  # sio.po's header, not the later one's


def test_a_language_block_holds_only_for_its_own_context() -> None:
    """Two requests in two threads, one in English and one in Norwegian, at the same time:
    each sees its own language; the process's language is unchanged after."""
    import threading

    seen: dict[str, str] = {}
    both_inside = threading.Barrier(2)

    def request(lang: str) -> None:
        with language(lang):
            both_inside.wait(10)
            seen[lang] = _("Extraction")
            both_inside.wait(10)

    threads = [threading.Thread(target=request, args=(lang,)) for lang in ("en", "nb")]
    set_language("nb")
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen == {"en": "Extraction", "nb": "Uttrekk"}
    assert _("Extraction") == "Uttrekk"
    with language("en"):
        assert get_language() == "en"
        assert _("Extraction") == "Extraction"
    assert get_language() == "nb"
