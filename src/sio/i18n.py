"""Translation layer: gettext through Babel, with English msgids and a Norwegian bokmål catalog.

Users speak Norwegian bokmål (``nb``, the default); English (``en``) is available. Messages are
written in English in the code and wrapped in :func:`_`; their translations live in
``sio/locale/<lang>/LC_MESSAGES/sio.po``. The ``.po`` files are read at run time (compiled in
memory to ``.mo`` through Babel), so there is no compile step and no binary file in the repository.

The current language is process-wide: it starts from the environment variable ``SIO_LANG``
(``nb`` if unset) and is changed with :func:`set_language`, or temporarily with :func:`language`.

Placeholders in messages use ``str.format`` with names: ``_("Grants {year}").format(year=y)``.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from importlib import resources
from io import BytesIO

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

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

_lock = threading.Lock()
_cache: dict[str, Translations] = {}


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


def _load(lang: str) -> Translations:
    """Read the ``.po`` catalog of ``lang`` and compile it in memory."""
    po_file = resources.files("sio") / "locale" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_file.open("rb") as fp:
        catalog = read_po(fp, locale=lang, domain=DOMAIN)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=DOMAIN)


def translations(lang: str | None = None) -> Translations:
    """The (cached) Babel translations of ``lang``, or of the current language."""
    code = _current if lang is None else _normalise(lang)
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


def set_language(lang: str) -> None:
    """Make ``lang`` ("nb" or "en") the current language; ValueError for any other."""
    global _current
    code = _normalise(lang)
    translations(code)  # fail now, not at the first message, if the catalog is broken
    _current = code


def get_language() -> str:
    """The current language code: "nb" or "en"."""
    return _current


@contextmanager
def language(lang: str) -> Iterator[str]:
    """Use ``lang`` inside the ``with`` block, then restore the previous language."""
    previous = _current
    set_language(lang)
    try:
        yield _current
    finally:
        set_language(previous)


def babel_locale(lang: str | None = None) -> str:
    """The Babel locale used to format numbers in ``lang`` (default: the current language)."""
    return _BABEL_LOCALES[_current if lang is None else _normalise(lang)]


def _(message: str) -> str:
    """Translate ``message`` (an English msgid) into the current language."""
    return translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """Translate a message with a singular and a plural form, chosen by ``n``."""
    return translations().ngettext(singular, plural, n)


def format_kroner(amount: int) -> str:
    """Whole kroner with the grouping of the current language: "1 234 567" (nb, no-break
    space) or "1,234,567" (en). No currency sign: headers say the unit."""
    return format_decimal(amount, format="#,##0", locale=babel_locale())


def format_kroner_oere(oere: int) -> str:
    """An amount in øre as kroner with two decimals: "1 234,50" (nb) or "1,234.50" (en)."""
    return format_number(Decimal(oere).scaleb(-2), 2)


def format_number(value: int | float | Decimal, decimals: int | None = None) -> str:
    """A number in the current language; with ``decimals``, exactly that many decimals."""
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
