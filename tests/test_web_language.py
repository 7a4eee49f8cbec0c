"""The page's language reaches the explain tree: with the English switch, a figure's trace
speaks English — its labels made when the year is computed and those made when the tree is
opened — while Norwegian pages on the same server keep Norwegian (the language is per request,
not per process)."""

from __future__ import annotations

from typing import Any

from web_support import Server, browser, server, sign_in

__all__ = ["browser", "server"]  # the fixtures

TRACE = "/kommune/5035/forklaring?aar=2019"


def test_the_explain_tree_speaks_the_pages_language(browser: Any, server: Server) -> None:
    english = sign_in(browser, server, "direktorat")
    english.goto(server.url + "/spraak/en?neste=" + TRACE)
    english.wait_for_load_state("networkidle")
    text = english.locator("main").text_content() or ""
    assert "demographic index W(5035, 2019)" in text  # made when the year is computed
    assert "successor: sum over its predecessors" in text or "sum of" in text
    assert "demografiindeks" not in text

    norwegian = sign_in(browser, server, "direktorat")
    norwegian.goto(server.url + TRACE)
    norwegian.wait_for_load_state("networkidle")
    text = norwegian.locator("main").text_content() or ""
    assert "demografiindeks W(5035, 2019)" in text
    assert "demographic index" not in text
