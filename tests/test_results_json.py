"""The JSON of the output contract is written as `json.dumps(rows, ensure_ascii=False, indent=2)`
would write it: any text (quotes, backslashes, control characters, non-ASCII), any integer, lists
of text shared between rows or not, and anything else handed to `json.dumps` itself."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sio.report.files import _indented_rows

text = st.text(max_size=12)
value = st.one_of(text, st.integers(), st.lists(text, max_size=4))
row = st.dictionaries(text, value, min_size=1, max_size=6)


@given(st.lists(row, max_size=6))
def test_rows_are_written_as_the_standard_encoder_writes_them(rows: list[dict[str, Any]]) -> None:
    assert _indented_rows(rows) == json.dumps(rows, ensure_ascii=False, indent=2)


@given(st.lists(st.lists(text, max_size=3), min_size=1, max_size=3), st.integers(0, 5))
def test_a_list_shared_by_many_rows_is_written_in_each(lists: list[list[str]], n: int) -> None:
    rows: list[dict[str, Any]] = [{"a": lists[i % len(lists)], "n": i} for i in range(n + 1)]
    assert _indented_rows(rows) == json.dumps(rows, ensure_ascii=False, indent=2)


def test_anything_but_text_integers_and_lists_of_text_is_left_to_the_standard_encoder() -> None:
    # a float, a boolean (an int subclass json writes as true), None, a nested object, a list
    # of numbers, an empty object: none is written by hand
    for odd in (1.5, True, None, {"x": 1}, [1, 2]):
        assert _indented_rows([{"a": odd}]) is None
    assert _indented_rows([{}]) is None
    assert _indented_rows([]) == "[]"
    assert _indented_rows([{"a": '\u00e6"\\\n'}]) == '[\n  {\n    "a": "\u00e6\\"\\\\\\n"\n  }\n]'
