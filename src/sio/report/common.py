"""What every report format shares: the displayed columns and their labels, national totals, the
estimate marker and footnote, and writing a file so that a failure leaves no half-written file."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sio.i18n import _, format_kroner
from sio.results import AMOUNT_COLUMNS, AnnualResult

# Columns shown in the tables, in order (the contract's columns less `aar` and the estimates).
TABLE_COLUMNS: tuple[str, ...] = (
    "kommunenummer",
    "navn",
    "modell",
    "maaneder",
    *AMOUNT_COLUMNS,
)

# Appended to the name of a row whose figures rest on estimate-level parameters.
ESTIMATE_MARK = "*"


def column_labels() -> dict[str, str]:
    """Header of each output column in the current language."""
    return {
        "kommunenummer": _("Municipality no."),
        "navn": _("Name"),
        "aar": _("Year"),
        "modell": _("Model"),
        "maaneder": _("Months"),
        "uttrekk": _("Extraction"),
        "toppfinansiering": _("Top-up financing"),
        "aktivitetstilskudd": _("Activity grant"),
        "rundsumtilskudd": _("Lump-sum grant"),
        "oeremerket_tilskudd": _("Earmarked grant"),
        "inntektspaaslag": _("Income supplement"),
        "tilskudd": _("Total grant"),
        "netto": _("Net"),
        "estimerte_parametere": _("Estimated parameters"),
    }


def model_label(modell: str) -> str:
    """The model as shown to a reader: "A", "B", or "phase-out" in the current language."""
    return _("phase-out") if modell == "utfasing" else modell


def national_total_label() -> str:
    """Label of the national-totals row."""
    return _("National total")


def year_title(year: int) -> str:
    """Title of the table of one year."""
    return _("Grants and extraction {year}").format(year=year)


def amounts_note() -> str:
    """The unit of the amounts."""
    return _("Amounts in whole kroner.")


def rows_of_year(results: Iterable[AnnualResult], year: int) -> list[AnnualResult]:
    """The results of ``year``, sorted by municipality number."""
    return sorted((r for r in results if r.aar == year), key=lambda r: r.kommunenummer)


def totals(results: Iterable[AnnualResult]) -> dict[str, int]:
    """Sum of every amount column over ``results``."""
    sums = dict.fromkeys(AMOUNT_COLUMNS, 0)
    for r in results:
        for col in AMOUNT_COLUMNS:
            sums[col] += int(getattr(r, col))
    return sums


def uses_estimates(result: AnnualResult) -> bool:
    """Whether the figures of ``result`` rest on estimate-level parameters."""
    return bool(result.estimerte_parametere)


def marked_name(result: AnnualResult, marked: bool = False) -> str:
    """The municipality name, with the estimate marker when its row is `marked` (only where not
    every row rests on the same estimates: `sio.report.estimates.rows_to_mark`)."""
    return f"{result.navn} {ESTIMATE_MARK}" if marked else result.navn


def estimate_paths(results: Iterable[AnnualResult]) -> list[str]:
    """The distinct estimate-level parameter paths used by ``results``, sorted."""
    return sorted({p for r in results for p in r.estimerte_parametere})


def compact_paths(paths: Sequence[str]) -> list[str]:
    """Paths with a shared parent listed once: `a.b.{X, Y}`; deeper tables (unit prices per
    service and price group) are grouped by their table: `aktivitetstilskudd.enhetspris.{…}`."""
    groups: dict[str, list[str]] = {}
    for p in sorted(paths):
        parts = p.split(".")
        head = ".".join(parts[:2]) if len(parts) > 2 else ".".join(parts[:-1])
        groups.setdefault(head, []).append(p[len(head) + 1 :] if head else p)
    out: list[str] = []
    for head, tails in groups.items():
        if len(tails) == 1 or not head:
            out.extend(f"{head}.{t}" if head else t for t in tails)
        else:
            out.append(f"{head}.{{{', '.join(tails)}}}")
    return out


def estimate_footnote(paths: Sequence[str]) -> str:
    """The footnote explaining the estimate marker, or "" when no estimate was used."""
    if not paths:
        return ""
    return _("{mark} based on estimated parameters: {paths}").format(
        mark=ESTIMATE_MARK, paths=", ".join(compact_paths(paths))
    )


def cell_text(result: AnnualResult, column: str, marked: bool = False) -> str:
    """The displayed text of one table cell (amounts formatted in the current language; the
    name with the estimate marker if the row is `marked`)."""
    if column == "navn":
        return marked_name(result, marked)
    if column == "modell":
        return model_label(result.modell)
    if column in AMOUNT_COLUMNS:
        return format_kroner(int(getattr(result, column)))
    return str(getattr(result, column))


@dataclass(frozen=True)
class YearTotal:
    """National totals of one year, with the change from the year before when it is known."""

    year: int
    municipalities: int
    sums: Mapping[str, int]
    previous: Mapping[str, int] | None

    def growth(self, column: str) -> float | None:
        """Relative change of ``column`` from the previous year; None if unknown or from 0."""
        if self.previous is None or self.previous[column] == 0:
            return None
        return (self.sums[column] - self.previous[column]) / self.previous[column]


def year_totals(results_by_year: Mapping[int, Sequence[AnnualResult]]) -> list[YearTotal]:
    """National totals per year, in year order; growth is against the calendar year before."""
    sums = {year: totals(rows_of_year(rows, year)) for year, rows in results_by_year.items()}
    return [
        YearTotal(
            year=year,
            municipalities=len(rows_of_year(results_by_year[year], year)),
            sums=sums[year],
            previous=sums.get(year - 1),
        )
        for year in sorted(results_by_year)
    ]


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on failure it is
    removed, so ``path`` is never left half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(0o644)  # mkstemp makes it private; a report is an ordinary file
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
