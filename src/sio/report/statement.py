"""The statement letters of a payment run: one self-contained HTML letter per municipality from
Helsedirektoratet (every ledger line of the run explained, the amount to be paid or paid back,
the year-to-date position against the entitlement, a print stylesheet for A4 PDF) and an index
page listing the letters with their totals.

The letters are built from `sio.utbetaling.model.Brev` only; they never read the ledger.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency

from sio.i18n import _, babel_locale, get_language, language
from sio.report.common import atomic_path
from sio.report.estimates import letter_note
from sio.report.html import template_environment
from sio.utbetaling.model import ARTER, KOMPONENTER, SALDO, Brev, Hittil, Kjoring, Postering

__all__ = [
    "INDEX_NAME",
    "INDEX_TEMPLATE",
    "TEMPLATE",
    "component_label",
    "format_oere",
    "kind_label",
    "render_index",
    "render_statement",
    "statement_name",
    "write_statements",
]

TEMPLATE = "statement.html.j2"
INDEX_TEMPLATE = "statement_index.html.j2"
INDEX_NAME = "index.html"
SENDER = "Helsedirektoratet"


# --- formatting --------------------------------------------------------------------------------


def format_oere(oere: int) -> str:
    """An amount in øre as kroner with øre in the current language: "1 234 567,89 kr" (nb, with
    no-break spaces; negative "-1 234,50 kr") or "1,234,567.89 NOK" (en)."""
    return format_currency(
        Decimal(oere).scaleb(-2), "NOK", format="#,##0.00\u00a0¤", locale=babel_locale()
    )


def _month_name(month: int) -> str:
    return format_date(dt.date(2000, month, 1), "LLLL", locale=babel_locale())


def _month_label(year: int, month: int) -> str:
    """ "mars 2020" (nb) / "March 2020" (en)."""
    return format_date(dt.date(year, month, 1), "LLLL y", locale=babel_locale())


def _run_period(kjoring: Kjoring) -> str:
    """The period of a run in words: "mars 2020", or "2020" for a final settlement."""
    try:
        if kjoring.art == "maaned":
            year, month = kjoring.periode.split("-")
            return _month_label(int(year), int(month))
    except ValueError:
        pass
    return kjoring.periode


def _run_name(kjoring: Kjoring) -> str:
    """ "mars 2020" for a month's run, "Etteroppgjør 2020" for a final settlement."""
    if kjoring.art == "etteroppgjoer":
        return f"{_('Final settlement')} {kjoring.periode}"
    return _run_period(kjoring)


def _title(kjoring: Kjoring) -> str:
    if kjoring.art == "etteroppgjoer":
        return _("Final settlement statement {year}").format(year=kjoring.periode)
    return _("Payment statement for {period}").format(period=_run_period(kjoring))


def _line_period(line: Postering) -> str:
    """``YYYY-MM``, or the year alone for a line without a month (``avrunding``)."""
    return str(line.aar) if line.maaned is None else f"{line.aar}-{line.maaned:02d}"


def _org_number(number: str | None) -> str | None:
    """A nine-digit organisation number grouped "974 760 673"; other text as given."""
    if number is None or not number.strip():
        return None
    digits = number.strip()
    if len(digits) == 9 and digits.isdigit():
        return f"{digits[:3]}\u00a0{digits[3:6]}\u00a0{digits[6:]}"
    return digits


def _recipient_name(navn: str) -> str:
    if navn.lower().endswith("kommune"):
        return navn
    return _("{name} municipality").format(name=navn)


def component_label(komponent: str) -> str:
    """The grant component in plain words of the current language (unknown codes as given)."""
    labels = {
        "aktivitetstilskudd": _("Activity grant"),
        "rundsumtilskudd": _("Lump-sum grant"),
        "oeremerket_tilskudd": _("Earmarked grant"),
        "inntektspaaslag": _("Income supplement"),
        "inngaende_saldo": _("Opening balance"),
    }
    return labels.get(komponent, komponent)


def kind_label(art: str) -> str:
    """The kind of a ledger line in plain words of the current language."""
    labels = {
        "akonto": _("Advance (a-konto)"),
        "maanedsandel": _("Monthly share"),
        "avregning": _("Settlement of reported activity"),
        "korreksjon": _("Correction"),
        "etteroppgjoer": _("Final settlement"),
        "avrunding": _("Rounding to whole kroner"),
    }
    return labels.get(art, art)


def _kind_explanations() -> list[tuple[str, str]]:
    texts = {
        "akonto": _(
            "An advance on the activity grant for the month of the run, estimated from the "
            "activity of the latest settled month."
        ),
        "maanedsandel": _(
            "The month's share (one twelfth) of the lump-sum grant and the income supplement, "
            "or of the earmarked grant."
        ),
        "avregning": _(
            "The activity reported for a month minus the advance paid for it. Posted once, when "
            "the month is first settled; it may be zero."
        ),
        "korreksjon": _(
            "A change of an amount already paid, because a new data version or parameter "
            "version has come in. The line shows both the new and the previous version. Earlier "
            "lines are never changed."
        ),
        "etteroppgjoer": _(
            "The final settlement of a year from the final figures, month by month and "
            "component by component."
        ),
        "avrunding": _(
            "The line of the final settlement that brings a component's year to its annual "
            "amount in whole kroner; it belongs to the year, not to a month."
        ),
    }
    return [(kind_label(art), texts[art]) for art in ARTER]


def _letter_figures(lines: Sequence[Postering]) -> set[str]:
    """The figures a letter's lines show: their grants (an opening balance's line: every grant
    of its months), and the timing of settlements where advances are settled."""
    grants = {"aktivitetstilskudd", "rundsumtilskudd", "oeremerket_tilskudd", "inntektspaaslag"}
    out = {p.komponent for p in lines if p.komponent in grants}
    if any(p.komponent == SALDO for p in lines):
        out |= grants
    if any(p.art in ("akonto", "avregning") for p in lines):
        out.add("utbetaling")
    return out


def _balance_note(h: Hittil) -> str | None:
    """The sentence under the year-to-date table on an opening balance of the year, if any."""
    if h.inngaende_saldo_oere is None:
        return None
    return _(
        "Paid so far for {year} includes the opening balance: {amount} paid before this ledger "
        "took over, for January to {month} {year}. The ledger settles it against the "
        "entitlement of those months, in the lines of the grant Opening balance."
    ).format(
        year=h.aar,
        amount=format_oere(h.inngaende_saldo_oere),
        month=_month_name(h.saldo_til_maaned) if 1 <= h.saldo_til_maaned <= 12 else "?",
    )


def _line_key(line: Postering) -> tuple[int, int, int, int]:
    """Lines in period order (a year's line without month after its months), then kind, then
    component; lines with equal keys keep their given order."""
    return (
        line.aar,
        0 if line.komponent == SALDO else 13 if line.maaned is None else line.maaned,
        ARTER.index(line.art) if line.art in ARTER else len(ARTER),
        KOMPONENTER.index(line.komponent) if line.komponent in KOMPONENTER else len(KOMPONENTER),
    )


# --- what the templates show -------------------------------------------------------------------


@dataclass(frozen=True)
class LineView:
    """One ledger line as displayed; a correction also shows the versions it corrects."""

    period: str
    component: str
    kind: str
    reason: str
    data_version: str
    data_version_was: str | None
    parameter_version: str
    parameter_version_was: str | None
    amount: str
    negative: bool
    correction: bool


@dataclass(frozen=True)
class YearToDateView:
    """One row of the year-to-date table."""

    year: int
    up_to: str
    entitlement: str
    paid: str
    outstanding: str
    outstanding_negative: bool
    balance_note: str | None = None


@dataclass(frozen=True)
class IndexRow:
    """One letter in the index page."""

    href: str
    kommunenummer: str
    navn: str
    organisasjonsnummer: str | None
    amount: str
    negative: bool


def _was(current: str, previous: str | None) -> str | None:
    """ "(før: 4)" under a corrected version, or None when there is no other previous one."""
    if previous is None or previous == current:
        return None
    return _("(was: {old})").format(old=previous)


def _line_view(line: Postering) -> LineView:
    correction = line.art == "korreksjon"
    previous_data = None if line.forrige_data_versjon is None else str(line.forrige_data_versjon)
    return LineView(
        period=_line_period(line),
        component=component_label(line.komponent),
        kind=kind_label(line.art),
        reason=line.begrunnelse,
        data_version=str(line.data_versjon),
        data_version_was=_was(str(line.data_versjon), previous_data) if correction else None,
        parameter_version=line.parameter_versjon,
        parameter_version_was=(
            _was(line.parameter_versjon, line.forrige_parameter_versjon) if correction else None
        ),
        amount=format_oere(line.beloep_oere),
        negative=line.beloep_oere < 0,
        correction=correction,
    )


def _total_sentence(brev: Brev) -> tuple[str, str]:
    """The heading of the amount box and the sentence saying what happens with the total."""
    total = brev.sum_oere
    name = _recipient_name(brev.mottaker.navn)
    if total > 0:
        return _("To be paid"), _("Helsedirektoratet pays {amount} to {name}.").format(
            amount=format_oere(total), name=name
        )
    if total < 0:
        return _("To be paid back or set off"), _(
            "The lines of this run add up to {amount} in the state's favour: {name} owes "
            "{owed}. The amount is set off against later payments or claimed back."
        ).format(amount=format_oere(-total), name=name, owed=format_oere(-total))
    return _("No payment"), _(
        "The lines of this run add up to zero: nothing is paid and nothing is owed."
    )


@contextlib.contextmanager
def _in_language(lang: str | None) -> Iterator[str]:
    if lang is None:
        yield get_language()
    else:
        with language(lang) as code:
            yield code


def _css_string(text: str) -> str:
    """``text`` as a quoted CSS string (for generated content in the page margins). Every
    character but letters, digits and plain punctuation is written as a CSS escape ending in the
    space that closes it, so the string is safe inside <style>."""
    escaped = "".join(c if c.isalnum() or c in " -_.,:()/" else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


def _page_number_content() -> str:
    """CSS ``content`` of the page number in the margin: "Side " counter(page) " av " ..."""
    parts = re.split(r"(\{page\}|\{pages\})", _("Page {page} of {pages}"))
    tokens = []
    for part in parts:
        if part == "{page}":
            tokens.append("counter(page)")
        elif part == "{pages}":
            tokens.append("counter(pages)")
        elif part:
            tokens.append(_css_string(part))
    return " ".join(tokens)


# --- rendering ---------------------------------------------------------------------------------


def render_statement(brev: Brev, lang: str | None = None) -> str:
    """One municipality's statement of one payment run as a self-contained HTML letter (inline
    CSS, no scripts, no external resources), in ``lang`` ("nb" or "en"; default: the current
    language, Norwegian bokmål unless changed)."""
    with _in_language(lang) as code:
        kjoring, mottaker = brev.kjoring, brev.mottaker
        lines = sorted(brev.linjer, key=_line_key)
        heading, sentence = _total_sentence(brev)
        total = brev.sum_oere
        estimates = letter_note(brev.estimerte_parametere, _letter_figures(brev.linjer))
        year_to_date = [
            YearToDateView(
                year=h.aar,
                up_to=_month_name(h.til_maaned) if 1 <= h.til_maaned <= 12 else str(h.til_maaned),
                entitlement=format_oere(h.rettighet_oere),
                paid=format_oere(h.utbetalt_oere),
                outstanding=format_oere(h.utestaaende_oere),
                outstanding_negative=h.utestaaende_oere < 0,
                balance_note=_balance_note(h),
            )
            for h in sorted(brev.hittil, key=lambda h: h.aar)
        ]
        page_footer = _("Payment reference {reference}").format(reference=brev.referanse)
        return (
            template_environment()
            .get_template(TEMPLATE)
            .render(
                lang=code,
                title=_title(kjoring),
                sender=SENDER,
                scheme=_("State financing of municipal care services (SIO)"),
                recipient=_recipient_name(mottaker.navn),
                kommunenummer=mottaker.kommunenummer,
                organisasjonsnummer=_org_number(mottaker.organisasjonsnummer),
                date=format_date(kjoring.startet.date(), "long", locale=babel_locale()),
                reference=brev.referanse,
                period=_run_period(kjoring),
                run_id=kjoring.id,
                run_data_version=kjoring.data_versjon,
                run_parameter_version=kjoring.parameter_versjon,
                lines=[_line_view(p) for p in lines],
                total=format_oere(total),
                total_abs=format_oere(abs(total)),
                total_negative=total < 0,
                total_heading=heading,
                total_sentence=sentence,
                year_to_date=year_to_date,
                estimate_note=estimates,
                kinds=_kind_explanations(),
                page_header=_css_string(f"{SENDER} – {_title(kjoring)}"),
                page_recipient=_css_string(_recipient_name(mottaker.navn)),
                page_footer=_css_string(page_footer),
                page_number=_page_number_content(),
            )
        )


def statement_name(brev: Brev) -> str:
    """The file name of a municipality's letter: ``<kommunenummer>.html``."""
    return f"{brev.mottaker.kommunenummer}.html"


def _check_one_run(brever: Sequence[Brev]) -> None:
    runs = {b.kjoring.id for b in brever}
    if len(runs) > 1:
        raise ValueError(
            _("the letters belong to more than one payment run: {runs}").format(
                runs=", ".join(str(r) for r in sorted(runs))
            )
        )
    seen: set[str] = set()
    for b in brever:
        if b.mottaker.kommunenummer in seen:
            raise ValueError(
                _("more than one letter for municipality {code}").format(
                    code=b.mottaker.kommunenummer
                )
            )
        seen.add(b.mottaker.kommunenummer)


def render_index(brever: Sequence[Brev], lang: str | None = None) -> str:
    """The index page of the letters of one run: a row per municipality with its total and a
    link to its letter, and the totals of the run."""
    _check_one_run(brever)
    with _in_language(lang) as code:
        ordered = sorted(brever, key=lambda b: b.mottaker.kommunenummer)
        rows = [
            IndexRow(
                href=statement_name(b),
                kommunenummer=b.mottaker.kommunenummer,
                navn=b.mottaker.navn,
                organisasjonsnummer=_org_number(b.mottaker.organisasjonsnummer),
                amount=format_oere(b.sum_oere),
                negative=b.sum_oere < 0,
            )
            for b in ordered
        ]
        paid = sum(b.sum_oere for b in ordered if b.sum_oere > 0)
        owed = -sum(b.sum_oere for b in ordered if b.sum_oere < 0)
        missing_org = sum(1 for r in rows if r.organisasjonsnummer is None)
        if ordered:
            kjoring = ordered[0].kjoring
            title = _("Letters of the payment run: {title}").format(title=_run_name(kjoring))
            run = _(
                "Run {id}, started {date} by {user}; data version {data}, parameter version "
                "{parameters}."
            ).format(
                id=kjoring.id,
                date=format_date(kjoring.startet.date(), "long", locale=babel_locale()),
                user=kjoring.bruker,
                data=kjoring.data_versjon,
                parameters=kjoring.parameter_versjon,
            )
        else:
            title, run = _("Letters of the payment run"), ""
        return (
            template_environment()
            .get_template(INDEX_TEMPLATE)
            .render(
                lang=code,
                title=title,
                run=run,
                rows=rows,
                total=format_oere(paid - owed),
                paid=format_oere(paid),
                owed=format_oere(owed),
                missing_org=missing_org,
                estimates=letter_note(
                    {p for b in ordered for p in b.estimerte_parametere},
                    {f for b in ordered for f in _letter_figures(b.linjer)},
                ),
                page_footer=_css_string(title),
                page_number=_page_number_content(),
            )
        )


def write_statements(brever: Sequence[Brev], folder: Path, lang: str | None = None) -> list[Path]:
    """Write one letter per municipality, ``<kommunenummer>.html``, and ``index.html`` into
    ``folder`` (created if missing); return the paths, the letters in municipality order and the
    index last. Everything is rendered before anything is written, and every file is written
    through a temporary file, so a failure never leaves a half-written file. ValueError if the
    letters belong to different runs or two letters have the same municipality."""
    _check_one_run(brever)
    folder = Path(folder)
    ordered = sorted(brever, key=lambda b: b.mottaker.kommunenummer)
    pages = [(folder / statement_name(b), render_statement(b, lang)) for b in ordered]
    pages.append((folder / INDEX_NAME, render_index(ordered, lang)))
    for path, page in pages:
        with atomic_path(path) as tmp:
            tmp.write_text(page, encoding="utf-8")
    return [path for path, _page in pages]
