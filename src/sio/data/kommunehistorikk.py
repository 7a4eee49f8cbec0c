"""Municipality history: every code with its validity, and the changes that link old codes to new.

A municipality code (kommunenummer, four digits as text) is valid for one or more periods
(:class:`CodeVersion`; a new name starts a new version). A :class:`CodeChange` says that the area of
``old_code`` belongs to ``new_code`` from ``date`` (the new code's first day):

- a *merger* is several changes with the same ``new_code`` and date (Hobøl, Spydeberg, Askim,
  Eidsberg, Trøgstad → Indre Østfold 3014 on 2020-01-01);
- a *split* is several changes with the same ``old_code`` and date;
- a *renumbering* is one change (Stjørdal 1714 → 5035 on 2018-01-01).

:class:`KommuneHistorikk` answers, for any code and any date, whether the code is valid, what it
was called, which code(s) it has become (following chains: 0138 → 3014 → 3118) and what it came
from. It is built from

- :meth:`KommuneHistorikk.shipped`: the built-in data set ``kommunehistorikk.yaml`` (the scheme's
  municipalities, their merger partners and the evaluation's control group, scheme.md §1, with
  sources per entry);
- :meth:`KommuneHistorikk.from_ssb`: the files Statistics Norway publishes for classification
  131 "Standard for kommuneinndeling" in KLASS, for the rest of the country;
- :meth:`KommuneHistorikk.from_kommuner_frame`: the ``kommuner`` input table (interfaces.md §1);
- :meth:`KommuneHistorikk.merged`: two histories combined.

**SSB's file format** (KLASS, ``data.ssb.no/api/klass/v1``; the API's CSV writer quotes every
string and leaves null fields empty; the default character set is ISO-8859-1, UTF-8 on request;
the separator is ``,`` unless ``csvSeparator=;`` is asked for, which the web pages use):

- codes (``/classifications/131/codesAt`` or ``/codes``): ``code``, ``parentCode``, ``level``,
  ``name``, ``shortName``, ``presentationName``, ``validFrom``, ``validTo``, ``notes`` (``/codes``
  adds ``validFromInRequestedRange`` and ``validToInRequestedRange``);
- changes (``/classifications/131/changes``): ``oldCode``, ``oldName``, ``oldShortName``,
  ``newCode``, ``newName``, ``newShortName``, ``changeOccurred``. An empty ``oldCode`` means the
  new code started to exist, an empty ``newCode`` that the old one ceased; the same code on both
  sides with two names is a change of name. A correspondence table with ``sourceCode`` /
  ``targetCode`` and ``validFrom`` is read the same way (source = old, target = new).

KLASS date ranges include ``validFrom`` and *exclude* ``validTo`` (the first day the code is no
longer valid); this module stores the last valid day, as the ``kommuner`` table does. Files are
read as UTF-8 or, failing that, ISO-8859-1, with ``;``, ``,`` or a tab as separator. A file that
cannot be read gives :class:`SsbFileError` naming the file, the line and the column.

What a file does not date stays open: a code listed by ``codesAt`` without a change that starts
or ends it is valid from the conventional :data:`EARLIEST` date (1838-01-01, "before our
records", as in the demo data) and, without an end, until further notice. The first and last
days of a ``/codes`` range download (``…InRequestedRange``) are read as the edges of the
download, not of the codes: give the changes file for the dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from sio.i18n import _

__all__ = [
    "EARLIEST",
    "AmbiguousCodeError",
    "CodeChange",
    "CodeNotValidError",
    "CodeVersion",
    "KommuneHistorikk",
    "KommuneHistorikkError",
    "SsbFileError",
    "UnknownCodeError",
]

EARLIEST = dt.date(1838, 1, 1)
"""Conventional first day of a code whose real first day is not recorded (the 1837 local-government
acts; the demo data use the same convention). Not a real date: reports should say "not recorded"."""

SHIPPED_FILE = "kommunehistorikk.yaml"
_ONE_DAY = dt.timedelta(days=1)
_CODE_RE = re.compile(r"^\d{4}$")
_SHORT_CODE_RE = re.compile(r"^\d{1,3}$")
_NORWEGIAN_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")

# ---------------------------------------------------------------------------------------------
# Public value types and errors
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class CodeVersion:
    """One period in which ``code`` was valid under one name; ``valid_to`` is the last valid day
    (``None`` = still valid). ``valid_from`` is :data:`EARLIEST` when not recorded."""

    code: str
    valid_from: dt.date
    valid_to: dt.date | None
    name: str

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def start_recorded(self) -> bool:
        """False when ``valid_from`` is the conventional :data:`EARLIEST`."""
        return self.valid_from > EARLIEST


@dataclass(frozen=True, order=True)
class CodeChange:
    """From ``date`` on, the area of ``old_code`` belongs to ``new_code`` (``date`` is the first
    day of the new code, the day after the old one's last)."""

    date: dt.date
    old_code: str
    new_code: str


class KommuneHistorikkError(LookupError):
    """A question the municipality history cannot answer as asked."""


class UnknownCodeError(KommuneHistorikkError):
    """The code is not in the history at all."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(_("Unknown municipality code {code}").format(code=code))


class CodeNotValidError(KommuneHistorikkError):
    """The code is not valid on the day and nothing valid on that day corresponds to it."""

    def __init__(self, code: str, day: dt.date) -> None:
        self.code = code
        self.day = day
        super().__init__(
            _("Municipality code {code} is not valid on {day} and has no successor").format(
                code=code, day=day.isoformat()
            )
        )


class AmbiguousCodeError(KommuneHistorikkError):
    """A split (or, going back in time, a merger) gives several codes for one code and day."""

    def __init__(self, code: str, day: dt.date, candidates: Sequence[str]) -> None:
        self.code = code
        self.day = day
        self.candidates = list(candidates)
        super().__init__(
            _(
                "Municipality code {code} corresponds to several codes on {day}: {codes}; "
                "choose one of them"
            ).format(code=code, day=day.isoformat(), codes=", ".join(self.candidates))
        )


class SsbFileError(ValueError):
    """An SSB classification file that cannot be read: where, and what is wrong."""

    def __init__(self, path: Path, line: int | None, column: str | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.problem = problem
        where = str(path) + (f":{line}" if line is not None else "")
        col = f" {column}:" if column else ""
        super().__init__(f"{where}:{col} {problem}")


# ---------------------------------------------------------------------------------------------
# Facts and how a history is built from them
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claim:
    """A source says: ``code`` was called ``name`` from ``start`` to ``end`` (inclusive).
    ``None`` = not dated by this source. Higher ``rank`` wins when names disagree."""

    code: str
    name: str
    start: dt.date | None
    end: dt.date | None
    rank: int


@dataclass(frozen=True)
class _Row:
    """One line of a changes table: ``old`` → ``new`` from ``day`` (either side may be empty)."""

    old: str | None
    old_name: str
    new: str | None
    new_name: str
    day: dt.date


def _claim_of(version: CodeVersion, rank: int) -> _Claim:
    start = version.valid_from if version.valid_from > EARLIEST else None
    return _Claim(version.code, version.name, start, version.valid_to, rank)


def _segments(
    code: str, claims: Sequence[_Claim], rows: Sequence[_Row]
) -> list[tuple[dt.date, dt.date | None]]:
    """The valid periods of ``code``, split at every dated start (a start while valid is a new
    name or a continuation through a merger)."""
    starts: set[dt.date] = set()
    ends: set[dt.date] = set()  # first day no longer valid
    for c in claims:
        if c.start is not None:
            starts.add(c.start)
        if c.end is not None:
            ends.add(c.end + _ONE_DAY)
    for r in rows:
        if r.new == code:
            starts.add(r.day)
        elif r.old == code:
            ends.add(r.day)
    existed_before = {r.day for r in rows if r.old == code}  # incl. a new name, same code
    events = sorted(starts | ends)
    # Valid before the first event if the history of this code begins with an end (or has none),
    # or with a change from this code (a new name under the same code).
    current: dt.date | None = (
        EARLIEST if not events or events[0] not in starts or events[0] in existed_before else None
    )
    out: list[tuple[dt.date, dt.date | None]] = []
    for day in events:
        if current is not None and current < day:
            out.append((current, day - _ONE_DAY))
        if day in starts:  # a start on the same day as an end wins: the code continues
            current = day
        elif current is not None:
            current = None
    if current is not None:
        out.append((current, None))
    return out


def _segment_name(
    code: str,
    start: dt.date,
    end: dt.date | None,
    claims: Sequence[_Claim],
    rows: Sequence[_Row],
) -> str:
    for r in rows:  # the name the code got on the day it started
        if r.new == code and r.day == start and r.new_name:
            return r.new_name
    if end is not None:  # the name it had on the day it ended
        for r in rows:
            if r.old == code and r.day == end + _ONE_DAY and r.old_name:
                return r.old_name
    covering = [
        c
        for c in claims
        if (c.start is None or end is None or c.start <= end)
        and (c.end is None or c.end >= start)
        and c.name
    ]
    if covering:
        best = max(covering, key=lambda c: (c.rank, c.start or EARLIEST))
        return best.name
    named = [r.new_name for r in rows if r.new == code and r.new_name]
    named += [r.old_name for r in rows if r.old == code and r.old_name]
    return named[-1] if named else code


def _build(
    claims: Sequence[_Claim], rows: Sequence[_Row]
) -> tuple[dict[str, tuple[CodeVersion, ...]], tuple[CodeChange, ...]]:
    for c in claims:
        if c.start is not None and c.end is not None and c.end < c.start:
            raise ValueError(
                _("Municipality code {code}: valid to {end} is before valid from {start}").format(
                    code=c.code, end=c.end.isoformat(), start=c.start.isoformat()
                )
            )
    by_code: dict[str, list[_Claim]] = {}
    rows_of: dict[str, list[_Row]] = {}
    for c in claims:
        by_code.setdefault(c.code, []).append(c)
    for r in rows:
        for code in (r.old, r.new):
            if code:
                rows_of.setdefault(code, []).append(r)
    versions: dict[str, tuple[CodeVersion, ...]] = {}
    for code in sorted(set(by_code) | set(rows_of)):
        code_claims = by_code.get(code, [])
        code_rows = rows_of.get(code, [])
        merged: list[CodeVersion] = []
        for start, end in _segments(code, code_claims, code_rows):
            name = _segment_name(code, start, end, code_claims, code_rows)
            last = merged[-1] if merged else None
            if (
                last is not None
                and last.name == name
                and last.valid_to is not None
                and last.valid_to + _ONE_DAY == start
            ):
                merged[-1] = CodeVersion(code, last.valid_from, end, name)
            else:
                merged.append(CodeVersion(code, start, end, name))
        versions[code] = tuple(merged)
    links = {CodeChange(r.day, r.old, r.new) for r in rows if r.old and r.new and r.old != r.new}
    return versions, tuple(sorted(links))


# ---------------------------------------------------------------------------------------------
# The history
# ---------------------------------------------------------------------------------------------


class KommuneHistorikk:
    """Municipality codes through time: validity, names, successors and predecessors."""

    def __init__(
        self, versions: Iterable[CodeVersion] = (), changes: Iterable[CodeChange] = ()
    ) -> None:
        claims = [_claim_of(v, 0) for v in versions]
        rows = [_Row(c.old_code, "", c.new_code, "", c.date) for c in changes]
        self._set(*_build(claims, rows))

    @classmethod
    def _from_facts(cls, claims: Sequence[_Claim], rows: Sequence[_Row]) -> KommuneHistorikk:
        obj = cls.__new__(cls)
        obj._set(*_build(claims, rows))
        return obj

    def _set(
        self, versions: dict[str, tuple[CodeVersion, ...]], changes: tuple[CodeChange, ...]
    ) -> None:
        self._versions = versions
        self._changes = changes
        self._out: dict[str, list[CodeChange]] = {}
        self._in: dict[str, list[CodeChange]] = {}
        for c in changes:
            self._out.setdefault(c.old_code, []).append(c)
            self._in.setdefault(c.new_code, []).append(c)

    # -- constructors -----------------------------------------------------------------------

    @classmethod
    def shipped(cls) -> KommuneHistorikk:
        """The built-in data set: the scheme's municipalities, their merger partners and the
        evaluation's control group (scheme.md §1), from ``kommunehistorikk.yaml``."""
        return _shipped()

    @classmethod
    def from_ssb(
        cls, codes_files: Sequence[Path], changes_files: Sequence[Path] = ()
    ) -> KommuneHistorikk:
        """Read SSB's classification 131 files: code lists (later files win when names
        disagree) and change tables. See the module docstring for the format."""
        claims: list[_Claim] = []
        for rank, path in enumerate(codes_files):
            claims.extend(_read_codes_file(Path(path), rank))
        rows: list[_Row] = []
        for path in changes_files:
            rows.extend(_read_changes_file(Path(path)))
        return cls._from_facts(claims, rows)

    @classmethod
    def from_kommuner_frame(cls, df: pl.DataFrame) -> KommuneHistorikk:
        """From a ``kommuner`` table (interfaces.md §1): ``kommunenummer``, ``navn``,
        ``gyldig_fra``, ``gyldig_til`` and ``etterfolger`` (dates as ``date`` or ISO text)."""
        required = ("kommunenummer", "navn", "gyldig_fra", "gyldig_til", "etterfolger")
        missing = [c for c in required if c not in df.columns]
        if missing:
            raise ValueError(
                _("kommuner: missing column(s): {columns}").format(columns=", ".join(missing))
            )
        claims: list[_Claim] = []
        rows: list[_Row] = []
        for i, r in enumerate(df.select(required).iter_rows(named=True), start=2):
            where = f"kommuner:{i}"
            code = _text(r["kommunenummer"])
            if not _CODE_RE.match(code):
                raise ValueError(
                    f"{where}: kommunenummer: "
                    + _("a municipality code has four digits as text (e.g. 0301)")
                )
            name = _text(r["navn"])
            start = _frame_date(r["gyldig_fra"], where, "gyldig_fra")
            end = _frame_date(r["gyldig_til"], where, "gyldig_til")
            claims.append(_Claim(code, name, start if start and start > EARLIEST else None, end, 0))
            successors = [s for s in re.split(r"[,;\s]+", _text(r["etterfolger"])) if s]
            if successors and end is None:
                raise ValueError(f"{where}: " + _("a successor requires 'gyldig_til'"))
            for successor in successors:
                if not _CODE_RE.match(successor):
                    raise ValueError(
                        f"{where}: etterfolger: "
                        + _("a municipality code has four digits as text (e.g. 0301)")
                    )
                assert end is not None
                rows.append(_Row(code, name, successor, "", end + _ONE_DAY))
        return cls._from_facts(claims, rows)

    def merged(self, other: KommuneHistorikk) -> KommuneHistorikk:
        """Both histories in one: every code and change of either; where they disagree on a
        name for the same days, ``other`` wins; a date known to one of them is kept."""
        claims = [_claim_of(v, 0) for v in self.versions()]
        claims += [_claim_of(v, 1) for v in other.versions()]
        rows = [_Row(c.old_code, "", c.new_code, "", c.date) for c in self._changes]
        rows += [_Row(c.old_code, "", c.new_code, "", c.date) for c in other._changes]
        return KommuneHistorikk._from_facts(claims, rows)

    # -- contents ---------------------------------------------------------------------------

    def __contains__(self, code: object) -> bool:
        return code in self._versions

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, KommuneHistorikk):
            return NotImplemented
        return self._versions == other._versions and self._changes == other._changes

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"KommuneHistorikk({len(self._versions)} codes, {len(self._changes)} changes)"

    def codes(self) -> list[str]:
        """Every code in the history, sorted."""
        return sorted(self._versions)

    def versions(self, code: str | None = None) -> list[CodeVersion]:
        """The versions of ``code`` in time order, or of every code."""
        if code is None:
            return [v for c in sorted(self._versions) for v in self._versions[c]]
        return list(self._get(code))

    def changes(self) -> list[CodeChange]:
        """Every change, in date order."""
        return list(self._changes)

    def outgoing(self, code: str) -> list[CodeChange]:
        """The changes that took ``code`` to other codes."""
        self._get(code)
        return list(self._out.get(code, []))

    def incoming(self, code: str) -> list[CodeChange]:
        """The changes that made other codes into ``code``."""
        self._get(code)
        return list(self._in.get(code, []))

    def _get(self, code: str) -> tuple[CodeVersion, ...]:
        found = self._versions.get(code)
        if found is None:
            raise UnknownCodeError(code)
        return found

    # -- queries ----------------------------------------------------------------------------

    def valid_on(self, code: str, day: dt.date) -> bool:
        """Whether ``code`` is a valid municipality code on ``day`` (False for unknown codes)."""
        return any(v.valid_on(day) for v in self._versions.get(code, ()))

    def version_on(self, code: str, day: dt.date) -> CodeVersion | None:
        """The version of ``code`` valid on ``day``, if any."""
        return next((v for v in self._get(code) if v.valid_on(day)), None)

    def name(self, code: str, day: dt.date | None = None) -> str:
        """The name of ``code`` on ``day``, or its latest name. Raises
        :class:`CodeNotValidError` if the code is not valid on ``day``."""
        versions = self._get(code)
        if day is None:
            return versions[-1].name
        version = self.version_on(code, day)
        if version is None:
            raise CodeNotValidError(code, day)
        return version.name

    def successors(self, code: str, day: dt.date) -> list[str]:
        """The code(s) ``code`` has become by ``day``, following chains of changes (each step
        later than the one before): ``["3118"]`` for Hobøl 0138 in 2024, ``[code]`` itself when
        nothing has changed by then, several codes after a split."""
        self._get(code)
        out: set[str] = set()
        stack: list[tuple[str, dt.date]] = [(code, dt.date.min)]
        seen: set[tuple[str, dt.date]] = set()
        while stack:
            current, since = stack.pop()
            if (current, since) in seen:
                continue
            seen.add((current, since))
            steps = [c for c in self._out.get(current, []) if since < c.date <= day]
            if not steps:
                out.add(current)
            stack.extend((c.new_code, c.date) for c in steps)
        return sorted(out)

    def predecessors(self, code: str) -> list[str]:
        """The codes that became ``code`` directly (all dates), sorted."""
        return sorted({c.old_code for c in self.incoming(code)})

    def all_predecessors(self, code: str) -> list[str]:
        """Every code that ``code`` came from, directly or through earlier changes, sorted."""
        self._get(code)
        found: set[str] = set()
        stack: list[tuple[str, dt.date]] = [(code, dt.date.max)]
        seen: set[tuple[str, dt.date]] = set()
        while stack:
            current, before = stack.pop()
            if (current, before) in seen:
                continue
            seen.add((current, before))
            for c in self._in.get(current, []):
                if c.date < before and c.old_code != code:
                    found.add(c.old_code)
                    stack.append((c.old_code, c.date))
        return sorted(found)

    def code_on(self, code: str, day: dt.date) -> str:
        """The one code valid on ``day`` that covers ``code``: itself if valid, its successor
        after a merger or renumbering, its predecessor before it began. Raises
        :class:`AmbiguousCodeError` (naming the codes) after a split or before a merger,
        :class:`CodeNotValidError` if nothing valid corresponds."""
        versions = self._get(code)
        if self.valid_on(code, day):
            return code
        later = self.successors(code, day)
        if later != [code]:
            if len(later) == 1:
                return later[0]
            raise AmbiguousCodeError(code, day, later)
        if day < versions[0].valid_from:
            earlier = self._predecessors_valid_on(code, day)
            if len(earlier) == 1:
                return earlier[0]
            if earlier:
                raise AmbiguousCodeError(code, day, earlier)
        raise CodeNotValidError(code, day)

    def _predecessors_valid_on(self, code: str, day: dt.date) -> list[str]:
        found: set[str] = set()
        stack: list[tuple[str, dt.date]] = [(code, dt.date.max)]
        seen: set[tuple[str, dt.date]] = set()
        while stack:
            current, before = stack.pop()
            if (current, before) in seen:
                continue
            seen.add((current, before))
            for c in self._in.get(current, []):
                if c.date < before:
                    if self.valid_on(c.old_code, day):
                        found.add(c.old_code)
                    else:
                        stack.append((c.old_code, c.date))
        return sorted(found)

    def codes_valid_on(self, day: dt.date) -> list[str]:
        """Every code valid on ``day``, sorted."""
        return sorted(c for c in self._versions if self.valid_on(c, day))

    # -- SSB files --------------------------------------------------------------------------

    def write_ssb(
        self,
        codes_file: Path,
        changes_file: Path,
        *,
        encoding: str = "utf-8",
        separator: str = ";",
    ) -> None:
        """Write the history in SSB's KLASS CSV format (codes with their validity, ``validTo``
        exclusive, and the changes), readable again with :meth:`from_ssb`."""
        codes_rows: list[list[str | None]] = [
            [
                v.code,
                None,
                "1",
                v.name,
                "",
                "",
                v.valid_from.isoformat() if v.start_recorded else None,
                (v.valid_to + _ONE_DAY).isoformat() if v.valid_to is not None else None,
                "",
            ]
            for v in self.versions()
        ]
        _write_klass_csv(codes_file, _CODES_HEADER, codes_rows, encoding, separator)
        change_rows: list[list[str | None]] = [
            [
                c.old_code,
                self._name_near(c.old_code, c.date - _ONE_DAY),
                "",
                c.new_code,
                self._name_near(c.new_code, c.date),
                "",
                c.date.isoformat(),
            ]
            for c in self._changes
        ]
        _write_klass_csv(changes_file, _CHANGES_HEADER, change_rows, encoding, separator)

    def _name_near(self, code: str, day: dt.date) -> str:
        version = self.version_on(code, day)
        return version.name if version is not None else self.name(code)


# ---------------------------------------------------------------------------------------------
# The shipped data set
# ---------------------------------------------------------------------------------------------

_SHIPPED_KEYS = frozenset(
    {"kode", "navn", "gyldig_fra", "gyldig_til", "etterfolger", "rolle", "bekreftet", "kilde"}
)


@cache
def _shipped() -> KommuneHistorikk:
    text = (resources.files("sio.data") / SHIPPED_FILE).read_text(encoding="utf-8")
    return _parse_shipped(text, SHIPPED_FILE)


def _parse_shipped(text: str, source: str) -> KommuneHistorikk:
    # libyaml's safe loader where PyYAML has it: the same data, ten times faster (the history is
    # read by every check of an input directory)
    data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, Mapping) or not isinstance(data.get("kommuner"), list):
        raise ValueError(f"{source}: " + _("a list 'kommuner' is required"))
    claims: list[_Claim] = []
    rows: list[_Row] = []
    for i, entry in enumerate(data["kommuner"], start=1):
        where = f"{source}: kommuner[{i}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: " + _("an entry must be a mapping"))
        unknown = sorted(set(entry) - _SHIPPED_KEYS)
        if unknown:
            raise ValueError(
                f"{where}: " + _("unknown key(s): {keys}").format(keys=", ".join(unknown))
            )
        code = entry.get("kode")
        if not isinstance(code, str) or not _CODE_RE.match(code):
            raise ValueError(
                f"{where}: kode: " + _("a municipality code has four digits as text (e.g. 0301)")
            )
        name = entry.get("navn")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: navn: " + _("required value is empty"))
        start = _frame_date(entry.get("gyldig_fra"), where, "gyldig_fra")
        end = _frame_date(entry.get("gyldig_til"), where, "gyldig_til")
        claims.append(_Claim(code, name, start, end, 0))
        successors = entry.get("etterfolger") or []
        if not isinstance(successors, list):
            successors = [successors]
        if successors and end is None:
            raise ValueError(f"{where}: " + _("a successor requires 'gyldig_til'"))
        for successor in successors:
            if not isinstance(successor, str) or not _CODE_RE.match(successor):
                raise ValueError(
                    f"{where}: etterfolger: "
                    + _("a municipality code has four digits as text (e.g. 0301)")
                )
            assert end is not None
            rows.append(_Row(code, name, successor, "", end + _ONE_DAY))
    return KommuneHistorikk._from_facts(claims, rows)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _frame_date(value: Any, where: str, column: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {column}: " + _("not a date YYYY-MM-DD")) from None


# ---------------------------------------------------------------------------------------------
# SSB (KLASS) CSV files
# ---------------------------------------------------------------------------------------------

_CODES_HEADER = (
    "code",
    "parentCode",
    "level",
    "name",
    "shortName",
    "presentationName",
    "validFrom",
    "validTo",
    "notes",
)
_CHANGES_HEADER = (
    "oldCode",
    "oldName",
    "oldShortName",
    "newCode",
    "newName",
    "newShortName",
    "changeOccurred",
)
# Column aliases (lower case) → the name used here.
_CHANGE_ALIASES: dict[str, str] = {
    "sourcecode": "oldCode",
    "sourcename": "oldName",
    "targetcode": "newCode",
    "targetname": "newName",
    "validfrom": "changeOccurred",
}


def _write_klass_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[str | None]],
    encoding: str,
    separator: str,
) -> None:
    """As KLASS writes: every string quoted, null fields empty and unquoted."""

    def cell(value: str | None) -> str:
        return "" if value is None else '"' + value.replace('"', '""') + '"'

    lines = [separator.join(cell(h) for h in header)]
    lines += [separator.join(cell(v) for v in row) for row in rows]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))


@dataclass
class _CsvTable:
    path: Path
    header: dict[str, int]  # canonical (lower-case) column name → index
    names: dict[str, str]  # lower-case → as written in the file
    rows: list[tuple[int, list[str]]]  # (line number, fields)

    def has(self, column: str) -> bool:
        return column.lower() in self.header

    def get(self, fields: list[str], column: str) -> str:
        i = self.header.get(column.lower())
        if i is None or i >= len(fields):
            return ""
        return fields[i].strip()

    def error(self, line: int | None, column: str | None, problem: str) -> SsbFileError:
        shown = self.names.get(column.lower(), column) if column else None
        return SsbFileError(self.path, line, shown, problem)


def _decode(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SsbFileError(
            path, None, None, _("cannot read the file: {error}").format(error=exc.strerror)
        ) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("iso-8859-1")  # KLASS's default for CSV; decodes any byte


def _separator(header_line: str) -> str:
    counts = {sep: header_line.count(sep) for sep in (";", "\t", ",")}
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _read_table(path: Path, required: Sequence[str], aliases: Mapping[str, str]) -> _CsvTable:
    text = _decode(path)
    first = text.splitlines()[0] if text.strip() else ""
    if not first.strip():
        raise SsbFileError(path, 1, None, _("the file is empty; a header line is expected"))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(first), strict=True)
    try:
        header_fields = next(reader)
        header: dict[str, int] = {}
        names: dict[str, str] = {}
        for i, raw_name in enumerate(header_fields):
            name = raw_name.strip().strip('"').strip()
            key = aliases.get(name.lower(), name).lower()
            if key and key not in header:
                header[key] = i
                names[key] = name
        table = _CsvTable(path, header, names, [])
        for column in required:
            if not table.has(column):
                raise table.error(1, column, _("required column is missing"))
        for fields in reader:
            if not any(f.strip() for f in fields):
                continue
            if len(fields) > len(header_fields):
                raise table.error(
                    reader.line_num,
                    None,
                    _("the line has {n} fields, the header {m}").format(
                        n=len(fields), m=len(header_fields)
                    ),
                )
            table.rows.append((reader.line_num, fields))
    except csv.Error as exc:
        raise SsbFileError(
            path, reader.line_num, None, _("not valid CSV: {error}").format(error=exc)
        ) from None
    return table


def _read_code(table: _CsvTable, line: int, fields: list[str], column: str) -> str | None:
    value = table.get(fields, column)
    if not value:
        return None
    if _CODE_RE.match(value):
        return value
    if _SHORT_CODE_RE.match(value):
        problem = _("'{value}' has lost its leading zero(s): SSB writes {fixed}").format(
            value=value, fixed=value.zfill(4)
        )
    else:
        problem = _("a municipality code has four digits as text (e.g. 0301)")
    raise table.error(line, column, problem)


def _read_date(table: _CsvTable, line: int, fields: list[str], column: str) -> dt.date | None:
    value = table.get(fields, column)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        pass
    m = _NORWEGIAN_DATE_RE.match(value)
    if m:
        try:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
        except ValueError:
            pass
    raise table.error(line, column, _("not a date YYYY-MM-DD"))


def _read_codes_file(path: Path, rank: int) -> Iterator[_Claim]:
    """Claims of an SSB code list (``codesAt`` or ``codes``)."""
    table = _read_table(path, ("code", "name"), {})
    parsed: list[tuple[str, str, dt.date | None, dt.date | None, bool]] = []
    for line, fields in table.rows:
        code = _read_code(table, line, fields, "code")
        if code is None:
            raise table.error(line, "code", _("required value is empty"))
        name = table.get(fields, "name")
        if not name:
            raise table.error(line, "name", _("required value is empty"))
        start = _read_date(table, line, fields, "validFrom")
        until = _read_date(table, line, fields, "validTo")  # exclusive
        ranged = False
        if start is None and until is None:
            start = _read_date(table, line, fields, "validFromInRequestedRange")
            until = _read_date(table, line, fields, "validToInRequestedRange")
            ranged = start is not None or until is not None
        if start is not None and until is not None and until <= start:
            raise table.error(line, "validTo", _("'validTo' must be after 'validFrom'"))
        parsed.append((code, name, start, until, ranged))
    # The edges of a range download are the request's, not the codes'.
    ranged_starts = [s for _c, _n, s, _u, r in parsed if r and s is not None]
    ranged_untils = [u for _c, _n, _s, u, r in parsed if r and u is not None]
    edge_start = min(ranged_starts, default=None)
    edge_until = max(ranged_untils, default=None)
    for code, name, start, until, ranged in parsed:
        if ranged and start == edge_start:
            start = None
        if ranged and until == edge_until:
            until = None
        if start is not None and start <= EARLIEST:
            start = None
        yield _Claim(code, name, start, until - _ONE_DAY if until else None, rank)


def _read_changes_file(path: Path) -> Iterator[_Row]:
    """Rows of an SSB change table (``changes``, or a correspondence table with dates)."""
    table = _read_table(path, ("oldCode", "newCode", "changeOccurred"), _CHANGE_ALIASES)
    for line, fields in table.rows:
        old = _read_code(table, line, fields, "oldCode")
        new = _read_code(table, line, fields, "newCode")
        if old is None and new is None:
            raise table.error(line, "oldCode", _("'oldCode' and 'newCode' are both empty"))
        day = _read_date(table, line, fields, "changeOccurred")
        if day is None:
            raise table.error(line, "changeOccurred", _("required value is empty"))
        yield _Row(old, table.get(fields, "oldName"), new, table.get(fields, "newName"), day)
