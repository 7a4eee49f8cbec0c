"""The organisation-number check of an input file: the compact nine-digit form is checked inline
(the mod-11 check digit) with exactly python-stdnum's answer, every other form by python-stdnum."""

from __future__ import annotations

import random

from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.no import orgnr

from sio.data.validation import _orgnr


def _stdnum(value: str) -> tuple[str | None, str | None]:
    try:
        return orgnr.validate(value), None
    except InvalidChecksum:
        return None, "check_digit"
    except ValidationError:
        return None, "orgnr"


def test_nine_digits_give_python_stdnums_answer() -> None:
    rng = random.Random(12)
    values = ["974760673", "123456785", "123456789", "000000000", "999999999"]
    values += [f"{rng.randrange(10**9):09d}" for _ in range(5000)]
    valid = 0
    for v in values:
        assert _orgnr(v) == _stdnum(v), v
        valid += _orgnr(v)[1] is None
    assert 300 < valid < 700  # about one in eleven has the right check digit


def test_other_forms_still_go_to_python_stdnum() -> None:
    assert _orgnr("974 760 673") == ("974760673", None)
    assert _orgnr("97476067") == (None, "orgnr")
    assert _orgnr("9747606731") == (None, "orgnr")
    assert _orgnr("97476067x") == (None, "orgnr")
    assert _orgnr("974 760 674") == (None, "check_digit")
    assert _orgnr("  ") == (None, None)
    assert _orgnr(None) == (None, None)
