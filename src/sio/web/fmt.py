"""Numbers, amounts and dates as the pages show them, in the page's language: `1 234 567 kr`,
`1. mai 2016` (nb) or `1,234,567 kr`, `1 May 2016` (en), through Babel with the locale that
`sio.i18n` uses for the language."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol

from sio.i18n import babel_locale
from sio.money import round_half_away

__all__ = ["Formatter"]

MONTHS_NB = [
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
]


@lru_cache(maxsize=8)
def _symbols(lang: str) -> tuple[str, str]:
    """The language's group and decimal symbols (Babel's)."""
    locale = babel_locale(lang)
    return get_group_symbol(locale), get_decimal_symbol(locale)


class Formatter:
    """The formatting functions of one language ("nb" or "en")."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.locale = babel_locale(lang)
        self._group, self._decimal = _symbols(lang)

    def number(self, value: int | Decimal | Fraction, decimals: int = 0) -> str:
        """A number with the language's grouping; a Fraction is shown to `decimals` places."""
        if isinstance(value, Fraction):
            return self._digits(round_half_away(value * 10**decimals), decimals)
        if isinstance(value, int) and not isinstance(value, bool):
            return self._digits(value * 10**decimals, decimals)
        pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def _digits(self, scaled: int, decimals: int) -> str:
        """`scaled` / 10^decimals as Babel's pattern `#,##0.00…` writes it in the language
        (the same text; a page of a run formats some thousand amounts, and Babel parses its
        pattern on every call)."""
        whole, part = divmod(abs(scaled), 10**decimals)
        text = f"{whole:,}".replace(",", self._group)
        if decimals > 0:
            text += self._decimal + f"{part:0{decimals}d}"
        return "-" + text if scaled < 0 else text

    def oere(self, amount: int) -> str:
        """Øre as kroner with øre and the unit: `1 234 567,89 kr` (no-break spaces; the text of
        `number(Fraction(amount, 100), 2)`, without the exact fraction: a run's page shows some
        thousand amounts)."""
        return self._digits(amount, 2) + "\u00a0kr"

    def value(self, value: object) -> str:
        """A parameter value: an exact number with as many decimals as it has (at most 6),
        a flag as yes/no, anything else as text."""
        if isinstance(value, bool):
            return (
                {"nb": "ja", "en": "yes"}[self.lang]
                if value
                else {"nb": "nei", "en": "no"}[self.lang]
            )
        if isinstance(value, int | Fraction | Decimal):
            x = Fraction(value)
            for places in range(7):
                if (x * 10**places).denominator == 1:
                    return self.number(x, places)
            return self.number(x, 6)
        return str(value)

    def kr(self, amount: int | Fraction) -> str:
        """Whole kroner with the unit: `1 234 567 kr` (no-break spaces)."""
        return self.number(amount) + "\u00a0kr"

    def date(self, day: dt.date | str | None) -> str:
        """`1. mai 2016` (nb) or `1 May 2016` (en); an ISO string is read first."""
        if day is None or day == "":
            return ""
        if isinstance(day, str):
            day = dt.date.fromisoformat(day[:10])
        if self.lang == "nb":
            return f"{day.day}. {MONTHS_NB[day.month - 1]} {day.year}"
        return format_date(day, format="d MMMM y", locale=self.locale)

    def month(self, month: int) -> str:
        """The month's name: `mai` / `May`."""
        if self.lang == "nb":
            return MONTHS_NB[month - 1]
        return format_date(dt.date(2000, month, 1), format="LLLL", locale=self.locale)

    def percent(self, fraction: Fraction | None) -> str:
        """A signed percentage with one decimal: `+5,2 %`; empty when there is none."""
        if fraction is None:
            return ""
        sign = "+" if fraction > 0 else ("−" if fraction < 0 else "")
        text = self.number(abs(fraction) * 100, 1)
        return f"{sign}{text}\u00a0%" if self.lang == "nb" else f"{sign}{text}%"
