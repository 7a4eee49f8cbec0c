"""Translation layer: gettext through Babel, with English msgids and a Norwegian bokmål catalog.

Users speak Norwegian bokmål (``nb``, the default); English (``en``) is available. Messages are
written in English in the code and wrapped in :func:`_`; their translations live in
``sio/locale/<lang>/LC_MESSAGES/sio.po`` and, for the larger parts of the package, in catalogs
beside it named after the part (``evaluation.po``, ``web_casework.po`` …), merged in file-name
order after ``sio.po`` into one catalog. The ``.po`` files are read at run time (into the
standard library's :class:`gettext.GNUTranslations`, with the catalog it would read from the
``.mo`` file that Babel's ``read_po`` and ``write_mo`` make), so there is no compile step and no
binary file in the repository.

Importing this module is cheap, and so is the first message (the catalog is compiled by the small
reader below, not by ``babel.messages``): the help texts of `sio` are translated when the command
line is built, and ``sio --help`` must start fast. Babel's number formatting is imported inside the
functions that format numbers.

The current language starts from the environment variable ``SIO_LANG`` (``nb`` if unset) and is
changed process-wide with :func:`set_language`. :func:`language` changes it temporarily for the
current context only (a ``contextvars`` variable): a web request renders in its own language
while another request, in another thread, renders in another; threads and tasks started inside
the block with a copied context (``asyncio``, ``anyio``'s thread pool) see it too.

Placeholders in messages use ``str.format`` with names: ``_("Grants {year}").format(year=y)``.
"""

from __future__ import annotations

import os
import struct
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from gettext import GNUTranslations
from io import BytesIO
from pathlib import Path
from typing import Any

__all__ = [
    "DEFAULT_LANGUAGE",
    "SUPPORTED_LANGUAGES",
    "_",
    "babel_locale",
    "format_kroner",
    "format_number",
    "format_percent",
    "get_language",
    "language",
    "ngettext",
    "set_language",
    "translations",
]

DOMAIN = "sio"
DEFAULT_LANGUAGE = "nb"
SUPPORTED_LANGUAGES: tuple[str, ...] = ("nb", "en")
ENV_VAR = "SIO_LANG"

# Babel locale used for number formatting, per language.
_BABEL_LOCALES: dict[str, str] = {"nb": "nb_NO", "en": "en_GB"}
# Spellings accepted for a language besides its code (compared lower-case, "-" read as "_").
_ALIASES: dict[str, str] = {
    "nb_no": "nb",
    "no": "nb",
    "nob": "nb",
    "norsk": "nb",
    "bokmal": "nb",
    "bokmål": "nb",
    "en_gb": "en",
    "en_us": "en",
    "eng": "en",
    "english": "en",
}

_LOCALE_DIR = Path(__file__).parent / "locale"

_lock = threading.Lock()
_cache: dict[str, GNUTranslations] = {}


def _normalise(lang: str) -> str:
    """The supported language code for ``lang``; ValueError if it is not supported."""
    key = lang.strip().lower().replace("-", "_")
    code = key if key in SUPPORTED_LANGUAGES else _ALIASES.get(key)
    if code is None:
        raise ValueError(
            f"Unsupported language {lang!r}: choose one of {', '.join(SUPPORTED_LANGUAGES)} "
            "(nb = Norwegian bokmål, en = English)"
        )
    return code


def _unescape(quoted: str) -> str:
    """The text of one quoted ``.po`` string: ``"a \\"b\\"\\n"`` → ``a "b"`` and a newline."""
    text = quoted[1:-1]
    if "\\" not in text:
        return text
    escapes = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in escapes:
            out.append(escapes[text[i + 1]])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _joined(pieces: list[str]) -> str:
    """The text of a message's quoted pieces (`_unescape` on each, unless none has a backslash)."""
    if any("\\" in piece for piece in pieces):
        return "".join(map(_unescape, pieces))
    return "".join([piece[1:-1] for piece in pieces])


# {(msgid, msgctxt): (id, string, fuzzy)}: id and string are tuples for a plural message.
_Messages = dict[tuple[str, str | None], tuple[Any, Any, bool]]


class _Entry:
    """One message of a ``.po`` file while it is read."""

    def __init__(self, flags: set[str]) -> None:
        self.flags = flags
        self.ids: list[list[str]] = []  # msgid (and msgid_plural), each as its quoted pieces
        self.strings: list[tuple[int, list[str]]] = []  # (index, pieces) of msgstr / msgstr[n]
        self.context: list[str] | None = None
        self.obsolete = False
        self.current: list[str] | None = None  # where a continuation line goes


def _po_messages(lines: list[str]) -> tuple[str, _Messages]:
    """The header and the messages of a ``.po`` file, read as Babel's ``read_po`` reads them
    (obsolete ``#~`` entries left out). A message that occurs twice keeps its first translation
    (unless only the second is a plural message) and is fuzzy if either is."""
    header = ""
    messages: _Messages = {}
    num_plurals = 2
    entry = _Entry(set())

    def finish() -> _Entry:
        nonlocal header, num_plurals
        if not entry.ids:
            return entry
        if not entry.strings:
            entry.strings.append((0, []))
        text = [_joined(pieces) for pieces in entry.ids]
        msgid: Any
        string: Any
        if len(text) > 1:
            msgid = tuple(text)
            forms = ["" for _ in range(num_plurals)]
            for idx, pieces in sorted(entry.strings, key=lambda s: s[0]):
                if idx < num_plurals:
                    forms[idx] = _joined(pieces)
            string = tuple(forms)
        else:
            msgid = text[0]
            string = _joined(entry.strings[0][1])
        context = None if entry.context is None else _joined(entry.context)
        key = (text[0], context)
        fuzzy = "fuzzy" in entry.flags
        if entry.obsolete:
            pass
        elif key in messages:
            old_id, old_string, old_fuzzy = messages[key]
            if isinstance(msgid, tuple) and not isinstance(old_id, tuple):
                old_id, old_string = msgid, string
            messages[key] = (old_id, old_string, old_fuzzy or fuzzy)
        elif msgid == "":
            if header:  # a later catalog's header: the first (sio.po's) is the one kept
                return _Entry(set())
            header = string
            for line in header.splitlines():
                name, _sep, value = line.partition(":")
                if name.strip().lower() == "plural-forms":
                    for part in value.split(";"):
                        k, _eq, v = part.partition("=")
                        if k.strip() == "nplurals" and v.strip().isdigit():
                            num_plurals = int(v)
        else:
            messages[key] = (msgid, string, fuzzy)
        return _Entry(set())

    for raw in lines:
        line = raw.strip()
        if not line:
            continue
        first = line[0]
        if first == '"':
            if entry.current is not None:
                entry.current.append(line)
            continue
        obsolete = False
        if first == "#":
            if line.startswith("#~"):
                line, obsolete = line[2:].lstrip(), True
                if line.startswith('"'):
                    if entry.current is not None:
                        entry.current.append(line)
                    continue
            else:
                entry = finish()
                if line.startswith("#,"):
                    entry.flags.update(f.strip() for f in line[2:].lstrip().split(","))
                continue
        keyword, _sep, arg = line.partition(" ")
        arg = arg.strip()
        if keyword in ("msgid", "msgctxt"):
            entry = finish()
        entry.obsolete = obsolete
        if keyword in ("msgid", "msgid_plural"):
            entry.current = [arg]
            entry.ids.append(entry.current)
        elif keyword == "msgctxt":
            entry.current = entry.context = [arg]
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            _kw, bracket, index = keyword.partition("[")
            entry.current = [] if arg == '""' else [arg]
            entry.strings.append((int(index[:-1]) if bracket else 0, entry.current))
    finish()
    return header, messages


def _mo_bytes(header: str, messages: _Messages) -> bytes:
    """The ``.mo`` file of a catalog, as Babel's ``write_mo`` writes it: no fuzzy and no
    untranslated messages; an untranslated plural form falls back to the English form."""
    pairs: list[tuple[bytes, bytes]] = [(b"", header.encode())]
    for (_key, context), (msgid, string, fuzzy) in messages.items():
        if fuzzy or not string:
            continue
        if isinstance(msgid, tuple):
            ids = b"\0".join(i.encode() for i in msgid)
            forms = [s or msgid[min(idx, 1)] for idx, s in enumerate(string)]
            strs = b"\0".join(s.encode() for s in forms)
        else:
            ids, strs = msgid.encode(), string.encode()
        if context is not None:
            ids = context.encode() + b"\x04" + ids
        pairs.append((ids, strs))
    pairs.sort()
    offsets: list[tuple[int, int, int, int]] = []
    ids_at = strs_at = 0  # the blobs are joined once: adding to a bytes object copies it
    for msgid_b, msgstr_b in pairs:
        offsets.append((ids_at, len(msgid_b), strs_at, len(msgstr_b)))
        ids_at += len(msgid_b) + 1
        strs_at += len(msgstr_b) + 1
    ids_blob = b"".join(i + b"\0" for i, _s in pairs)
    strs_blob = b"".join(s + b"\0" for _i, s in pairs)
    start = 7 * 4 + 16 * len(pairs)
    koffsets: list[int] = []
    voffsets: list[int] = []
    for o1, l1, o2, l2 in offsets:
        koffsets += [l1, o1 + start]
        voffsets += [l2, o2 + start + len(ids_blob)]
    head = struct.pack("Iiiiiii", 0x950412DE, 0, len(pairs), 7 * 4, 7 * 4 + len(pairs) * 8, 0, 0)
    table = struct.pack(f"{len(koffsets) + len(voffsets)}i", *koffsets, *voffsets)
    return head + table + ids_blob + strs_blob


def _load(lang: str) -> GNUTranslations:
    """Read the ``.po`` catalogs of ``lang`` (``sio.po``, then the others by name) and compile them
    in memory as one catalog."""
    return _compile("\n".join(path.read_text(encoding="utf-8") for path in catalog_files(lang)))


def catalog_files(lang: str) -> list[Path]:
    """The ``.po`` files of ``lang``: ``sio.po`` (with the header) first, then the others by
    name."""
    folder = _LOCALE_DIR / lang / "LC_MESSAGES"
    main = folder / f"{DOMAIN}.po"
    return [main, *sorted(p for p in folder.glob("*.po") if p != main)]


def _compile(po_text: str) -> GNUTranslations:
    """The translations of a ``.po`` file's text: the catalog that ``GNUTranslations`` reads from
    the ``.mo`` file of `_mo_bytes`, filled in directly (the header alone is read from a ``.mo``:
    the metadata, charset and plural rule as the standard library sets them). A catalog it
    could not read the same way directly (another charset than UTF-8, a NUL character, a plural
    message with other than two ids) goes through the ``.mo`` file."""
    header, messages = _po_messages(po_text.splitlines())
    translations = GNUTranslations(BytesIO(_mo_bytes(header, {})))
    if (translations.charset() or "").lower() not in ("utf-8", "utf8") or "\0" in po_text:
        return GNUTranslations(BytesIO(_mo_bytes(header, messages)))
    catalog: dict[Any, str] = translations._catalog  # type: ignore[attr-defined]
    for (_key, context), (msgid, string, fuzzy) in messages.items():
        if fuzzy or not string:
            continue
        prefix = "" if context is None else context + "\x04"
        if isinstance(msgid, tuple):
            if len(msgid) != 2:
                return GNUTranslations(BytesIO(_mo_bytes(header, messages)))
            for idx, form in enumerate(string):
                catalog[(prefix + msgid[0], idx)] = form or msgid[min(idx, 1)]
        else:
            catalog[prefix + msgid] = string
    return translations


def translations(lang: str | None = None) -> GNUTranslations:
    """The (cached) Babel translations of ``lang``, or of the current language."""
    code = _active() if lang is None else _normalise(lang)
    with _lock:
        found = _cache.get(code)
        if found is None:
            found = _cache[code] = _load(code)
        return found


def _initial_language() -> str:
    value = os.environ.get(ENV_VAR, "").strip()
    if not value:
        return DEFAULT_LANGUAGE
    try:
        return _normalise(value)
    except ValueError as exc:
        warnings.warn(f"{ENV_VAR}: {exc}; using {DEFAULT_LANGUAGE!r}", stacklevel=2)
        return DEFAULT_LANGUAGE


_current: str = _initial_language()
# the language of the current context inside `language()`; None: the process-wide `_current`
_override: ContextVar[str | None] = ContextVar("sio_language", default=None)


def _active() -> str:
    return _override.get() or _current


def set_language(lang: str) -> None:
    """Make ``lang`` ("nb" or "en") the current language; ValueError for any other."""
    global _current
    code = _normalise(lang)
    translations(code)  # fail now, not at the first message, if the catalog is broken
    _current = code


def get_language() -> str:
    """The current language code: "nb" or "en"."""
    return _active()


@contextmanager
def language(lang: str) -> Iterator[str]:
    """Use ``lang`` inside the ``with`` block (in the current context only), then restore the
    previous language."""
    code = _normalise(lang)
    translations(code)  # fail now, not at the first message, if the catalog is broken
    token = _override.set(code)
    try:
        yield code
    finally:
        _override.reset(token)


def babel_locale(lang: str | None = None) -> str:
    """The Babel locale used to format numbers in ``lang`` (default: the current language)."""
    return _BABEL_LOCALES[_active() if lang is None else _normalise(lang)]


def _(message: str) -> str:
    """Translate ``message`` (an English msgid) into the current language."""
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a singular and a plural form, chosen by ``n``."""
    return translations().ngettext(singular, plural, n)


def format_kroner(amount: int) -> str:
    """Whole kroner with the grouping of the current language: "1 234 567" (nb, no-break
    space) or "1,234,567" (en). No currency sign: headers say the unit."""
    from babel.numbers import format_decimal

    return format_decimal(amount, format="#,##0", locale=babel_locale())


def format_kroner_oere(oere: int) -> str:
    """An amount in øre as kroner with two decimals: "1 234,50" (nb) or "1,234.50" (en)."""
    return format_number(Decimal(oere).scaleb(-2), 2)


def format_number(value: int | float | Decimal, decimals: int | None = None) -> str:
    """A number in the current language; with ``decimals``, exactly that many decimals."""
    from babel.numbers import format_decimal

    if decimals is None:
        return format_decimal(value, locale=babel_locale())
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=babel_locale())


def format_percent(fraction: float | Decimal, decimals: int = 1) -> str:
    """A fraction as a signed percentage in the current language: 0.0523 → "+5,2 %" (nb)."""
    percent = -fraction * 100 if fraction < 0 else fraction * 100
    number = format_number(percent, decimals)
    sign = "+" if fraction > 0 else ("-" if fraction < 0 else "")
    return f"{sign}{number}\u00a0%" if get_language() == "nb" else f"{sign}{number}%"
