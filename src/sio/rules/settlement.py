"""Settlement: what a payment run or a final settlement posts (scheme.md §3.6).

Pure functions over the entitlement (what the rules give, per municipality, year, month and
grant component, in øre) and the ledger (what has been posted so far). A run computes, for every
ledger key (municipality, year, month, component), the *target* — what should have been paid for
that key by the end of this run — and posts the difference `target − posted` as one line, with
a kind (`art`) and a reason. So a run is idempotent by construction: with nothing new, every
difference is 0 and nothing is posted; and after the final settlement of a year, the lines of
that year sum to its entitlement to the øre, whatever happened before.

Targets of a month's run for month M (`lag` = `utbetaling.avregning_forsinkelse`):
- activity grant of a month m ≤ M − lag (its activity is reported): the month's actual grant
  (first time: `avregning`, actual − advance; later: `korreksjon`);
- activity grant of month M itself: the advance (`akonto`) — the actual grant of the latest
  reported activity-financed month of the municipality, or, if there is none yet, the grant that
  the decisions in force give for month M;
- activity grant of a month between (reported later): what was posted (its advance stands);
- lump sum, supplement, earmarked grant of every month m ≤ M: the month's share (`maanedsandel`),
  later `korreksjon` if the figures change;
- after the final settlement of a year: also the year's rounding lines (`avrunding`).
A final settlement of year Y targets every month of Y at its actual figure plus the rounding
lines, posted as `etteroppgjoer` and `avrunding`.

An opening balance (what a municipality was paid for months 1..T of a year before the ledger took
over, `balances`) takes those months out of the ledger, and puts one key in their place:
(municipality, year, None, `inngaende_saldo`), whose target is the entitlement of months 1..T
minus the balance — once month T's activity is reported (the same moment a month of the ledger is
settled), and at the final settlement; before that, what was posted stands (0). So the year's lines
plus the balance add up to the year's entitlement after the final settlement, as without one
(docs/decisions/0016-opening-balance.md).

Month shares of amounts that are exact fractions (lump sum, supplement, earmarked grant, a
phase-out supplement) are rounded cumulatively: the first m months together are paid
round(Σ exact) øre, so the twelve months add up to the year's exact amount rounded once.
The rounding line then brings the year to its annual figure in whole kroner (interfaces.md §2).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction

from sio.i18n import _, format_kroner_oere
from sio.money import round_half_away
from sio.rules.participation import Month, month_index, month_of
from sio.utbetaling.model import KOMPONENTER, SALDO, Postering

AKTIVITET = "aktivitetstilskudd"
Key = tuple[str, int, int | None, str]  # kommunenummer, aar, maaned (None: year line), komponent


@dataclass(frozen=True)
class Balance:
    """An opening balance as the plans use it: the last month it covers and what was paid."""

    til_maaned: int
    utbetalt_oere: int


@dataclass(frozen=True)
class YearEntitlement:
    """What one municipality is entitled to in one year, in øre.

    `months[m][komponent]` is month m's figure (activity: the month's activity grant; other
    components: the cumulative-rounded month share); `rounding[komponent]` is the year's annual
    figure in whole kroner × 100 minus the sum of its months; `activity_months` are the
    activity-financed months (where advances apply).
    """

    kommunenummer: str
    aar: int
    months: Mapping[int, Mapping[str, int]]
    rounding: Mapping[str, int]
    activity_months: frozenset[int] = frozenset()

    def month_total(self, m: int) -> int:
        return sum(self.months.get(m, {}).values())

    def through(self, til: int) -> int:
        """The entitlement of months 1..`til` (what an opening balance to `til` settles)."""
        return sum(self.month_total(m) for m in self.months if m <= til)

    @property
    def annual_oere(self) -> int:
        """The year's entitlement: every month plus the rounding lines."""
        return sum(self.month_total(m) for m in self.months) + sum(self.rounding.values())


def cumulative_shares(exact: Mapping[int, Fraction]) -> dict[int, int]:
    """Month amounts in øre from exact kroner amounts, rounded cumulatively (see module doc)."""
    out: dict[int, int] = {}
    total = Fraction(0)
    paid = 0
    for m in sorted(exact):
        total += exact[m]
        now = round_half_away(total * 100)
        out[m] = now - paid
        paid = now
    return out


def year_entitlement(
    kommunenummer: str,
    aar: int,
    activity_oere: Mapping[int, int],
    exact: Mapping[str, Mapping[int, Fraction]],
    annual_kroner: Mapping[str, int],
) -> YearEntitlement:
    """Assemble a year's entitlement from the engine's month figures.

    `activity_oere` is the activity grant of every activity-financed month (øre, already
    rounded per line; 0 where nothing was decided);
    `exact[komponent][m]` the exact month amounts (kroner) of the other components;
    `annual_kroner[komponent]` the annual figures as reported (whole kroner).
    """
    months: dict[int, dict[str, int]] = {}
    sums: dict[str, int] = {}
    for m, v in activity_oere.items():
        months.setdefault(m, {})[AKTIVITET] = v
        sums[AKTIVITET] = sums.get(AKTIVITET, 0) + v
    for komp, series in exact.items():
        for m, v in cumulative_shares(series).items():
            months.setdefault(m, {})[komp] = v
            sums[komp] = sums.get(komp, 0) + v
    rounding = {
        komp: annual_kroner.get(komp, 0) * 100 - sums.get(komp, 0)
        for komp in KOMPONENTER
        if annual_kroner.get(komp, 0) * 100 != sums.get(komp, 0)
    }
    return YearEntitlement(kommunenummer, aar, months, rounding, frozenset(activity_oere))


@dataclass
class KeyState:
    """What the ledger holds for one key: the sum, the kinds of line, the latest versions."""

    sum_oere: int = 0
    arter: set[str] = field(default_factory=set)
    data_versjon: int | None = None
    parameter_versjon: str | None = None

    def add(self, p: Postering) -> None:
        self.sum_oere += p.beloep_oere
        self.arter.add(p.art)
        self.data_versjon = p.data_versjon
        self.parameter_versjon = p.parameter_versjon


def ledger_state(postings: Iterable[Postering]) -> dict[Key, KeyState]:
    """The state of every key, from the ledger's lines in the order they were posted."""
    out: dict[Key, KeyState] = {}
    for p in postings:
        out.setdefault((p.kommunenummer, p.aar, p.maaned, p.komponent), KeyState()).add(p)
    return out


@dataclass(frozen=True)
class RunContext:
    """The versions a run computes with; every line carries them."""

    data_versjon: int
    parameter_versjon: str


def _month_text(m: Month) -> str:
    return f"{m[0]}-{m[1]:02d}"


def _share_reason(komp: str, aar: int) -> str:
    texts = {
        "rundsumtilskudd": _("monthly share of the lump sum for {year}"),
        "inntektspaaslag": _("monthly share of the income supplement for {year}"),
        "oeremerket_tilskudd": _("monthly share of the earmarked grant for {year}"),
    }
    return texts[komp].format(year=aar)


def _correction_reason(state: KeyState, ctx: RunContext, old: int, new: int) -> str:
    parts = []
    if state.data_versjon is not None and state.data_versjon != ctx.data_versjon:
        parts.append(
            _("data version {old} → {new}").format(old=state.data_versjon, new=ctx.data_versjon)
        )
    if state.parameter_versjon is not None and state.parameter_versjon != ctx.parameter_versjon:
        parts.append(
            _("parameter version {old} → {new}").format(
                old=state.parameter_versjon, new=ctx.parameter_versjon
            )
        )
    why = ", ".join(parts) if parts else _("recomputed")
    return _("correction ({why}): now {new} kr, paid before {old} kr").format(
        why=why, new=format_kroner_oere(new), old=format_kroner_oere(old)
    )


def _line(
    key: Key, art: str, amount: int, reason: str, ctx: RunContext, state: KeyState | None
) -> Postering:
    korr = art == "korreksjon" and state is not None
    return Postering(
        kommunenummer=key[0],
        aar=key[1],
        maaned=key[2],
        komponent=key[3],
        art=art,
        beloep_oere=amount,
        begrunnelse=reason,
        data_versjon=ctx.data_versjon,
        parameter_versjon=ctx.parameter_versjon,
        forrige_data_versjon=state.data_versjon if korr and state else None,
        forrige_parameter_versjon=state.parameter_versjon if korr and state else None,
    )


def advance_source(
    entitlements: Mapping[tuple[str, int], YearEntitlement], code: str, reported_to: Month
) -> Month | None:
    """The latest activity-financed month ≤ `reported_to` of municipality `code`, if any."""
    years = sorted(
        (y for (c, y) in entitlements if c == code and y <= reported_to[0]), reverse=True
    )
    for y in years:
        ent = entitlements[(code, y)]
        for m in sorted(ent.activity_months, reverse=True):
            if (y, m) <= reported_to:
                return (y, m)
    return None


def plan_month_run(
    month: Month,
    entitlements: Mapping[tuple[str, int], YearEntitlement],
    ledger: Mapping[Key, KeyState],
    settled_years: frozenset[int],
    lag: int,
    ctx: RunContext,
    first_month: Month,
    balances: Mapping[tuple[str, int], Balance] | None = None,
) -> list[Postering]:
    """The lines of the payment run for `month` (see the module docstring).

    `entitlements` cover every (municipality, year) with money from `first_month`'s year to
    `month`'s year; `settled_years` are the years whose final settlement is already posted;
    months before `first_month` (the ledger's start) are outside the ledger, and so are the
    months an opening balance covers (`balances`, by municipality and year).
    """
    balances = balances or {}
    if lag < 1:
        raise ValueError("utbetaling.avregning_forsinkelse must be at least 1")
    reported_to = month_of(month_index(month) - lag)
    lines: list[Postering] = []
    targets: dict[Key, tuple[int, str, str]] = {}  # key → (target, art if new, reason if new)
    for (code, y), ent in entitlements.items():
        if y > month[0] or y < first_month[0]:
            continue
        settled = y in settled_years
        before = balances[(code, y)].til_maaned if (code, y) in balances else 0
        for m in range(1, 13):
            if (y, m) > month or (y, m) < first_month or m <= before:
                continue
            figures = ent.months.get(m, {})
            for komp, value in figures.items():
                key: Key = (code, y, m, komp)
                if komp != AKTIVITET:
                    targets[key] = (value, "maanedsandel", _share_reason(komp, y))
                elif settled or (y, m) <= reported_to:
                    targets[key] = (value, "avregning", "")
                elif (y, m) == month or key not in ledger:
                    targets[key] = _advance(entitlements, code, (y, m), reported_to, value)
                else:  # reported later: its advance stands
                    targets[key] = (ledger[key].sum_oere, "akonto", "")
        if settled:
            for komp, value in ent.rounding.items():
                targets[(code, y, None, komp)] = (value, "avrunding", _rounding_reason(y))
    for (code, y), bal in balances.items():
        if y > month[0] or y < first_month[0]:
            continue
        key = (code, y, None, SALDO)
        year_ent = entitlements.get((code, y))
        due = year_ent.through(bal.til_maaned) if year_ent is not None else 0
        if y in settled_years or (y, bal.til_maaned) <= reported_to:
            targets[key] = (due - bal.utbetalt_oere, "avregning", "")
        elif key in ledger:  # the covered months are not all reported yet: what was posted stands
            targets[key] = (ledger[key].sum_oere, "avregning", "")
    for key in ledger:
        if key not in targets and (key[1], key[2] or 12) <= month:
            targets[key] = (0, "korreksjon", "")
    for key in sorted(targets, key=_sort_key):
        target, art, reason = targets[key]
        state = ledger.get(key)
        posted = state.sum_oere if state else 0
        delta = target - posted
        if art == "avregning" and key[3] == SALDO:
            if delta == 0:
                continue
            if state is None:
                bal = balances[(key[0], key[1])]
                reason = _saldo_reason(key[1], bal, target + bal.utbetalt_oere)
                lines.append(_line(key, art, delta, reason, ctx, state))
                continue
            art = "korreksjon"
        elif art == "avregning":
            first = state is None or state.arter <= {"akonto"}
            if first and (state is not None or delta != 0):
                reason = _("reported activity {month}: {actual} kr − advance {advance} kr").format(
                    month=_month_text((key[1], key[2] or 0)),
                    actual=format_kroner_oere(target),
                    advance=format_kroner_oere(posted),
                )
                lines.append(_line(key, art, delta, reason, ctx, state))
                continue
            art = "korreksjon"
        elif state is not None and state.arter:
            art = "korreksjon"
        if delta == 0:
            continue
        if art == "korreksjon":
            reason = _correction_reason(state or KeyState(), ctx, posted, target)
        lines.append(_line(key, art, delta, reason, ctx, state))
    return lines


def _advance(
    entitlements: Mapping[tuple[str, int], YearEntitlement],
    code: str,
    m: Month,
    reported_to: Month,
    own: int,
) -> tuple[int, str, str]:
    src = advance_source(entitlements, code, reported_to)
    if src is None:
        return (
            own,
            "akonto",
            _("advance {month}: estimated from the decisions in force in the month").format(
                month=_month_text(m)
            ),
        )
    value = entitlements[(code, src[0])].months.get(src[1], {}).get(AKTIVITET, 0)
    return (
        value,
        "akonto",
        _("advance {month}: the activity of {source} ({amount} kr)").format(
            month=_month_text(m), source=_month_text(src), amount=format_kroner_oere(value)
        ),
    )


def _saldo_reason(year: int, bal: Balance, due: int) -> str:
    return _(
        "opening balance {year} (months 1–{month}): entitlement {due} kr − paid before the "
        "ledger {paid} kr"
    ).format(
        year=year,
        month=bal.til_maaned,
        due=format_kroner_oere(due),
        paid=format_kroner_oere(bal.utbetalt_oere),
    )


def _rounding_reason(year: int) -> str:
    return _("rounding of the {year} figures to whole kroner").format(year=year)


def plan_final_settlement(
    year: int,
    entitlements: Mapping[tuple[str, int], YearEntitlement],
    ledger: Mapping[Key, KeyState],
    ctx: RunContext,
    balances: Mapping[tuple[str, int], Balance] | None = None,
) -> list[Postering]:
    """The lines of the final settlement (etteroppgjør) of `year`: every key of the year is
    brought to its actual figure, and the rounding lines to the annual figures are posted; an
    opening balance's key to the entitlement of the months it covers minus the balance."""
    balances = balances or {}
    targets: dict[Key, int] = {}
    for (code, y), ent in entitlements.items():
        if y != year:
            continue
        before = balances[(code, y)].til_maaned if (code, y) in balances else 0
        for m, figures in ent.months.items():
            if m <= before:
                continue
            for komp, value in figures.items():
                targets[(code, y, m, komp)] = value
        for komp, value in ent.rounding.items():
            targets[(code, y, None, komp)] = value
    for (code, y), bal in balances.items():
        if y == year:
            year_ent = entitlements.get((code, y))
            due = year_ent.through(bal.til_maaned) if year_ent is not None else 0
            targets[(code, y, None, SALDO)] = due - bal.utbetalt_oere
    for key in ledger:
        if key[1] == year and key not in targets:
            targets[key] = 0
    lines: list[Postering] = []
    for key in sorted(targets, key=_sort_key):
        state = ledger.get(key)
        posted = state.sum_oere if state else 0
        delta = targets[key] - posted
        if delta == 0:
            continue
        if key[3] == SALDO:
            art = "etteroppgjoer"
            bal = balances[(key[0], key[1])]
            reason = _("final settlement {year}: {saldo}; settled before {paid} kr").format(
                year=year,
                saldo=_saldo_reason(year, bal, targets[key] + bal.utbetalt_oere),
                paid=format_kroner_oere(posted),
            )
        elif key[2] is None:
            art = "avrunding"
            reason = _rounding_reason(year)
        else:
            art = "etteroppgjoer"
            reason = _("final settlement {year}: entitlement {target} kr − paid {paid} kr").format(
                year=year, target=format_kroner_oere(targets[key]), paid=format_kroner_oere(posted)
            )
        lines.append(_line(key, art, delta, reason, ctx, state))
    return lines


def _sort_key(key: Key) -> tuple[str, int, int, int]:
    """Municipality, year, month (an opening balance first, the rounding lines last), component."""
    komp = KOMPONENTER.index(key[3]) if key[3] in KOMPONENTER else len(KOMPONENTER)
    month = 0 if key[3] == SALDO else (key[2] if key[2] is not None else 13)
    return (key[0], key[1], month, komp)
