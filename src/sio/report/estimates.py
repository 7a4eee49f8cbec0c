"""Which figures rest on estimated parameters, said once for a table, a report or a letter.

A parameter path belongs to the figures the scheme computes with it (scheme.md §3): `uttrekk.*`
to the extraction and the grants that are shares of it (lump sum, earmarked grant, income
supplement), `aktivitetstilskudd.*` and the Covid rule `saerordning.*` to the activity grant,
`rundsumtilskudd.*` and `inntektspaaslag.*` to their own grant, `utbetaling.*` to when payments
are settled. A figure of a row rests on estimates when it is not 0 and one of the row's estimated
parameters belongs to it. The note names those figures — and the municipalities, where not every
row is concerned — and where the parameter list is: `sio parametere liste` and the service's
page `/parametere` (address from `SIO_TJENESTE_URL`, default the address `sio serve` listens on).
The paths themselves stay in the data files (`estimerte_parametere`) and in `sio forklar`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING
from urllib.parse import quote

from sio.i18n import _

if TYPE_CHECKING:
    from sio.results import AnnualResult

__all__ = [
    "FIGURES",
    "figures_of_paths",
    "figures_sentence",
    "letter_note",
    "note_for_paths",
    "parameter_page",
    "present_figures",
    "rows_to_mark",
    "table_note",
]

# figure → the parameter trees it is computed with (scheme.md §3)
FIGURES: dict[str, tuple[str, ...]] = {
    "uttrekk": ("uttrekk",),
    "aktivitetstilskudd": ("aktivitetstilskudd", "saerordning"),
    "rundsumtilskudd": ("uttrekk", "rundsumtilskudd"),
    "oeremerket_tilskudd": ("uttrekk",),
    "inntektspaaslag": ("uttrekk", "inntektspaaslag"),
    "utbetaling": ("utbetaling",),
}
OTHER = "andre"  # figures computed with parameters outside the trees above
DEFAULT_SERVICE = "http://127.0.0.1:8000"


def _labels() -> dict[str, str]:
    return {
        "uttrekk": _("the extraction"),
        "aktivitetstilskudd": _("the activity grant"),
        "rundsumtilskudd": _("the lump-sum grant"),
        "oeremerket_tilskudd": _("the earmarked grant"),
        "inntektspaaslag": _("the income supplement"),
        "utbetaling": _("the timing of the settlements"),
        OTHER: _("other figures"),
    }


def figures_of_paths(paths: Iterable[str], present: Iterable[str] | None = None) -> list[str]:
    """The figures (keys of FIGURES, in their order) that `paths` belong to; with `present`,
    only those among them."""
    trees = {p.split(".", 1)[0] for p in paths}
    keep = set(present) if present is not None else set(FIGURES)
    out = [f for f, roots in FIGURES.items() if f in keep and trees & set(roots)]
    if trees - {root for roots in FIGURES.values() for root in roots}:
        out.append(OTHER)  # a parameter outside the scheme's trees: said, if not by name
    return out


def present_figures(row: AnnualResult) -> list[str]:
    """The figures of an annual result that are not 0."""
    return [f for f in FIGURES if f != "utbetaling" and int(getattr(row, f)) != 0]


def _row_figures(row: AnnualResult) -> list[str]:
    return figures_of_paths(row.estimerte_parametere, present_figures(row))


def parameter_page(tree: str = "") -> str:
    """The address of the service's parameter list (searched for `tree` if given)."""
    base = os.environ.get("SIO_TJENESTE_URL", "").strip().rstrip("/") or DEFAULT_SERVICE
    return f"{base}/parametere" + (f"?q={quote(tree)}" if tree else "")


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return _("{first} and {last}").format(first=", ".join(words[:-1]), last=words[-1])


def figures_sentence(figures: Sequence[str]) -> str:
    """ "the activity grant and the extraction" for a list of figures."""
    labels = _labels()
    return _join([labels[f] for f in figures])


def rows_to_mark(rows: Sequence[AnnualResult]) -> set[str]:
    """The municipalities whose row is to be marked: none when every row rests on the same
    estimates (the note says it once), else those whose figures rest on estimates."""
    concerned = {r.kommunenummer: tuple(_row_figures(r)) for r in rows}
    if len(set(concerned.values())) <= 1:
        return set()
    return {code for code, figs in concerned.items() if figs}


def table_note(rows: Sequence[AnnualResult], mark: str = "*") -> str:
    """The one note under a table of annual results, or "" when no estimate is used."""
    figures: list[str] = []
    for r in rows:
        figures += [f for f in _row_figures(r) if f not in figures]
    figures = [f for f in (*FIGURES, OTHER) if f in figures]
    if not figures:
        return ""
    some = bool(rows_to_mark(rows))
    scope = _("in the rows marked {mark}").format(mark=mark) if some else _("in every row")
    return _(
        "Estimates: {figures} rest {scope} on parameters that are estimates, not confirmed "
        "values (and so do the total grant and the net). The parameters and their sources: "
        "sio parametere liste, or {url}"
    ).format(figures=figures_sentence(figures), scope=scope, url=parameter_page())


def note_for_paths(paths: Iterable[str], present: Iterable[str] | None = None) -> str:
    """The one note for figures computed with `paths` (e.g. a payment run's), or ""."""
    figures = figures_of_paths(paths, present)
    if not figures:
        return ""
    return _(
        "Estimates: {figures} rest on parameters that are estimates, not confirmed values. "
        "The parameters and their sources: sio parametere liste, or {url}"
    ).format(figures=figures_sentence(figures), url=parameter_page())


def letter_note(paths: Iterable[str], present: Iterable[str]) -> str:
    """The sentence of a letter to a municipality on the figures in it that rest on estimates
    (no parameter paths: the figures by name, and where the list is), or ""."""
    figures = figures_of_paths(paths, present)
    if not figures:
        return ""
    text = figures_sentence(figures)
    return _(
        "{figures} in this letter rest on parameters that are still estimates, not confirmed "
        "values: when they are confirmed, any difference comes as correction lines in a later "
        "payment. The parameters and their sources are listed at {url}"
    ).format(figures=text[:1].upper() + text[1:], url=parameter_page())
