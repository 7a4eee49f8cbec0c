"""The pages' numbers (`sio.web.fmt.Formatter.number`) are Babel's own text for the pattern
`#,##0.00…` in the page's language, written without Babel's per-call pattern parsing."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from babel.numbers import format_decimal
from hypothesis import given
from hypothesis import strategies as st

from sio.i18n import babel_locale
from sio.web.fmt import Formatter


def _babel(value: int | Decimal, decimals: int, lang: str) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(value, format=pattern, locale=babel_locale(lang))


@given(
    st.integers(-(10**15), 10**15),
    st.integers(0, 4),
    st.sampled_from(["nb", "en"]),
)
def test_whole_numbers_are_babel_s_text(value: int, decimals: int, lang: str) -> None:
    assert Formatter(lang).number(value, decimals) == _babel(value, decimals, lang)


@given(
    st.fractions(max_denominator=1000).filter(lambda x: abs(x) < 10**12),
    st.integers(0, 3),
    st.sampled_from(["nb", "en"]),
)
def test_fractions_are_rounded_half_away_then_babel_s_text(
    value: Fraction, decimals: int, lang: str
) -> None:
    scaled = value * 10**decimals
    whole = int(abs(scaled) + Fraction(1, 2)) * (1 if scaled >= 0 else -1)  # half away from 0
    expected = _babel(Decimal(whole).scaleb(-decimals), decimals, lang)
    assert Formatter(lang).number(value, decimals) == expected


def test_by_hand() -> None:
    nb, en = Formatter("nb"), Formatter("en")
    assert nb.number(-1_234_567) == "-1\u00a0234\u00a0567"
    assert nb.number(Fraction(123_456_789, 100), 2) == "1\u00a0234\u00a0567,89"
    assert nb.number(Fraction(5, 2)) == "3" and nb.number(Fraction(-5, 2)) == "-3"
    assert en.number(1234, 1) == "1,234.0"
    assert nb.number(999) == "999"
