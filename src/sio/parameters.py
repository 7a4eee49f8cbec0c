"""The scheme's parameters: load the dated YAML tree, validate it, look values up by date.

The files under `sio/params/` follow decision 0001 (the OpenFisca parameter format with inherited
metadata and per-value evidence). A `ParameterSet` answers `value(path, date)` with OpenFisca
semantics: a value holds from its date until the next dated value. Overrides (scenarios) replace
whole dated series and are marked with the evidence level `override`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sio.money import to_fraction

EVIDENCE_LEVELS = ("confirmed", "secondary", "estimate")
OVERRIDE = "override"
UNITS = ("NOK", "/1", "flag", "enhet", "maaned")
COMMON_KEYS = frozenset({"description", "metadata", "documentation", "unit", "reference"})
LEAF_KEYS = COMMON_KEYS | {"values"}
VALUE_KEYS = frozenset({"value", "metadata", "unit", "reference"})
METADATA_KEYS = frozenset({"unit", "evidence", "reference", "label_en"})
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_PATH_PART_RE = re.compile(r"^[A-Za-z0-9_]+$")

Value = Fraction | str


class ParameterError(ValueError):
    """A parameter file or override is invalid; the message names the file and the rule."""

    def __init__(self, file: str | Path, message: str) -> None:
        self.file = str(file)
        self.message = message
        super().__init__(f"{file}: {message}")


class ParameterLookupError(LookupError):
    """A parameter has no value at the date asked for (or does not exist)."""


@dataclass(frozen=True)
class Reference:
    """Where a value comes from."""

    title: str
    href: str = ""


@dataclass(frozen=True)
class DatedValue:
    """One dated value of a parameter, with its evidence and references."""

    start: dt.date
    value: Value | None  # None ends the series
    evidence: str
    references: tuple[Reference, ...]


@dataclass(frozen=True)
class Parameter:  # not slotted: `_starts` is a cached property
    """A leaf parameter: its path, metadata and dated values (sorted by date)."""

    path: str
    description: str
    unit: str
    file: str
    values: tuple[DatedValue, ...]
    label_en: str = ""
    documentation: str = ""

    def at(self, on: dt.date) -> DatedValue | None:
        """The value in force on `on` (the latest dated on or before it), or None."""
        i = bisect.bisect_right(self._starts, on)
        if i == 0:
            return None
        found = self.values[i - 1]
        return None if found.value is None else found

    @cached_property
    def _starts(self) -> list[dt.date]:
        return [v.start for v in self.values]


@dataclass(frozen=True)
class Use:
    """A recorded lookup: which value of which parameter a computation used."""

    path: str
    on: dt.date
    value: DatedValue


@dataclass
class UsageLog:
    """Collects the parameter lookups made by one computation (for traces and estimate flags)."""

    uses: dict[tuple[str, dt.date], Use] = field(default_factory=dict)

    def add(self, use: Use) -> None:
        """Record a use; one entry per parameter value (the first date it was looked up on)."""
        self.uses.setdefault((use.path, use.value.start), use)

    def estimate_paths(self) -> tuple[str, ...]:
        """Paths whose used value rests on the evidence level `estimate`, sorted."""
        return tuple(sorted({u.path for u in self.uses.values() if u.value.evidence == "estimate"}))

    def merge(self, other: UsageLog) -> None:
        self.add_all(other.uses)

    def add_all(self, uses: dict[tuple[str, dt.date], Use]) -> None:
        """Record many uses at once (keys as in `uses`); existing entries are kept."""
        if not self.uses:
            self.uses.update(uses)
        elif uses:
            merged = dict(uses)
            merged.update(self.uses)  # existing entries win
            self.uses = merged


class ParameterSet:
    """All parameters of the scheme, by path."""

    def __init__(self, params: Mapping[str, Parameter], source: str = "") -> None:
        self._params = dict(sorted(params.items()))
        self.source = source
        self.version = _version_of(self._params)

    # -- browsing -----------------------------------------------------------------------------
    def paths(self, prefix: str = "") -> list[str]:
        """All leaf paths (under `prefix` if given), sorted."""
        if not prefix:
            return list(self._params)
        return [p for p in self._params if p == prefix or p.startswith(prefix + ".")]

    def children(self, prefix: str) -> list[str]:
        """The immediate child names under a node path (e.g. the services under `enhet`)."""
        n = len(prefix) + 1
        return sorted({p[n:].split(".")[0] for p in self._params if p.startswith(prefix + ".")})

    def has(self, path: str) -> bool:
        return path in self._params

    def get(self, path: str) -> Parameter:
        try:
            return self._params[path]
        except KeyError:
            raise ParameterLookupError(f"unknown parameter '{path}'") from None

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self._params.values())

    # -- lookups ------------------------------------------------------------------------------
    def at(self, path: str, on: dt.date, log: UsageLog | None = None) -> DatedValue:
        """The dated value of `path` in force on `on`; records the use in `log`."""
        dv = self.get(path).at(on)
        if dv is None:
            raise ParameterLookupError(f"parameter '{path}' has no value on {on.isoformat()}")
        if log is not None:
            log.add(Use(path, on, dv))
        return dv

    def value(self, path: str, on: dt.date, log: UsageLog | None = None) -> Value:
        v = self.at(path, on, log).value
        assert v is not None
        return v

    def number(self, path: str, on: dt.date, log: UsageLog | None = None) -> Fraction:
        v = self.value(path, on, log)
        if not isinstance(v, Fraction):
            raise ParameterLookupError(f"parameter '{path}' is not a number")
        return v

    def text(self, path: str, on: dt.date, log: UsageLog | None = None) -> str:
        v = self.value(path, on, log)
        if not isinstance(v, str):
            raise ParameterLookupError(f"parameter '{path}' is not text")
        return v

    def flag(self, path: str, on: dt.date, log: UsageLog | None = None) -> bool:
        """A 0/1 flag; a path that does not exist or has no value counts as 0."""
        if path not in self._params or self._params[path].at(on) is None:
            return False
        return self.number(path, on, log) == 1

    # -- scenarios ----------------------------------------------------------------------------
    def with_overrides(
        self, overrides: Mapping[str, Mapping[dt.date, Any]], source: str = "override"
    ) -> ParameterSet:
        """A new set where each named path's whole dated series is replaced."""
        params = dict(self._params)
        for path, series in overrides.items():
            base = params.get(path) or self._sibling_template(path, source)
            values = []
            for start, raw in sorted(series.items()):
                value = None if raw is None else _convert(raw, base.unit, source, path)
                values.append(DatedValue(start, value, OVERRIDE, (Reference(source),)))
            _check_gaps(values, source, path)
            params[path] = replace(base, values=tuple(values), file=source)
        return ParameterSet(params, source=f"{self.source}+{source}")

    def _sibling_template(self, path: str, source: str) -> Parameter:
        """A template for a new path an override may add (a new price group, service, KOSTRA
        function or Covid month); any other unknown path is refused."""
        for pattern, unit, description in _EXTENSIBLE:
            if pattern.match(path):
                return Parameter(path, description, unit, source, ())
        raise ParameterError(source, f"'{path}': unknown parameter path")


_EXTENSIBLE: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"^aktivitetstilskudd\.enhetspris\.[A-Z0-9_]+\.[A-Z0-9_]+$"), "NOK", "Enhetspris"),
    (re.compile(r"^aktivitetstilskudd\.enhet\.[A-Z0-9_]+$"), "enhet", "Prisenhet"),
    (re.compile(r"^aktivitetstilskudd\.hjemmebasert\.[A-Z0-9_]+$"), "flag", "Hjemmebasert"),
    (re.compile(r"^rundsumtilskudd\.tjenester\.[A-Z0-9_]+$"), "flag", "Dekket av rundsum"),
    (re.compile(r"^uttrekk\.kostra_funksjoner\.f\d{3}$"), "flag", "KOSTRA-funksjon i grunnlaget"),
    (re.compile(r"^saerordning\.covid\.(maaned|referanse)_\d+$"), "maaned", "Covid-måned"),
)


def _version_of(params: Mapping[str, Parameter]) -> str:
    canon = [
        [p.path, [[v.start.isoformat(), str(v.value), v.evidence] for v in p.values]]
        for p in params.values()
    ]
    digest = hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()
    return f"p-{digest[:12]}"


# -- loading ----------------------------------------------------------------------------------


def default_params_dir() -> Path:
    return Path(str(resources.files("sio") / "params"))


@lru_cache(maxsize=4)
def _load_cached(root: str) -> ParameterSet:
    return _load(Path(root))


def load_parameters(root: Path | None = None) -> ParameterSet:
    """Load and validate the parameter tree (the package's own by default)."""
    return _load_cached(str(root or default_params_dir()))


def _load(root: Path) -> ParameterSet:
    if not root.is_dir():
        raise ParameterError(root, "parameter folder not found")
    params: dict[str, Parameter] = {}
    _load_dir(root, root, "", {}, params)
    if not params:
        raise ParameterError(root, "no parameters found")
    return ParameterSet(params, source=str(root))


def _read_yaml(file: Path) -> Any:
    try:
        with file.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        raise ParameterError(file, f"not valid YAML: {exc}") from None
    except ValueError as exc:  # e.g. a date key like 2016-13-01
        raise ParameterError(file, f"is not a date or number as written: {exc}") from None


def _merge_meta(
    inherited: Mapping[str, Any], data: Mapping[str, Any], file: Path
) -> dict[str, Any]:
    meta = dict(inherited)
    own = data.get("metadata") or {}
    if not isinstance(own, dict):
        raise ParameterError(file, "'metadata' must be a mapping")
    unknown = set(own) - METADATA_KEYS
    if unknown:
        raise ParameterError(file, f"unknown metadata key(s): {', '.join(sorted(unknown))}")
    meta.update(own)
    for key in ("unit", "reference"):
        if key in data:
            meta[key] = data[key]
    if "description" in data:
        meta["description"] = data["description"]
    return meta


def _load_dir(
    root: Path, folder: Path, prefix: str, inherited: Mapping[str, Any], out: dict[str, Parameter]
) -> None:
    meta = dict(inherited)
    index = folder / "index.yaml"
    if index.exists():
        data = _read_yaml(index) or {}
        if not isinstance(data, dict):
            raise ParameterError(index, "must be a mapping")
        unknown = set(data) - COMMON_KEYS
        if unknown:
            raise ParameterError(index, f"unknown key(s): {', '.join(sorted(unknown))}")
        meta = _merge_meta(meta, data, index)
    for child in sorted(folder.iterdir()):
        name = child.stem if child.is_file() else child.name
        path = f"{prefix}.{name}" if prefix else name
        if child.is_dir():
            _load_dir(root, child, path, meta, out)
        elif child.suffix in (".yaml", ".yml") and child.stem != "index":
            data = _read_yaml(child)
            if not isinstance(data, dict):
                raise ParameterError(child, "must be a mapping")
            _load_node(child, path, data, meta, out)


def _load_node(
    file: Path,
    path: str,
    data: Mapping[str, Any],
    inherited: Mapping[str, Any],
    out: dict[str, Parameter],
) -> None:
    if not _PATH_PART_RE.match(path.rsplit(".", 1)[-1]):
        raise ParameterError(file, f"'{path}': name must be letters, digits and _")
    if "values" in data:
        unknown = set(data) - LEAF_KEYS
        if unknown:
            raise ParameterError(file, f"'{path}': unknown key(s): {', '.join(sorted(unknown))}")
        meta = _merge_meta({k: v for k, v in inherited.items() if k != "description"}, data, file)
        out[path] = _make_leaf(file, path, data, meta)
        return
    meta = _merge_meta(inherited, data, file)
    children = [k for k in data if k not in COMMON_KEYS]
    if not children:
        raise ParameterError(file, f"'{path}': neither 'values' nor children")
    for key in children:
        child = data[key]
        if not isinstance(child, dict):
            raise ParameterError(file, f"'{path}.{key}': must be a mapping with 'values'")
        _load_node(file, f"{path}.{key}", child, meta, out)


def _make_leaf(
    file: Path, path: str, data: Mapping[str, Any], meta: Mapping[str, Any]
) -> Parameter:
    description = data.get("description")
    if not isinstance(description, str) or not description.strip():
        raise ParameterError(file, f"'{path}': missing 'description'")
    unit = meta.get("unit")
    if unit not in UNITS:
        raise ParameterError(
            file, f"'{path}': unit must be one of {', '.join(UNITS)}, not {unit!r}"
        )
    evidence = meta.get("evidence")
    refs = _references(file, path, meta.get("reference"))
    raw_values = data["values"]
    if not isinstance(raw_values, dict) or not raw_values:
        raise ParameterError(file, f"'{path}': 'values' must be a non-empty mapping of dates")
    values: list[DatedValue] = []
    for key, entry in raw_values.items():
        start = _as_date(key, file, path)
        v_evidence, v_refs, raw = evidence, refs, entry
        if isinstance(entry, dict):
            unknown = set(entry) - VALUE_KEYS
            if unknown:
                raise ParameterError(
                    file, f"'{path}' {start}: unknown key(s): {', '.join(sorted(unknown))}"
                )
            if "value" not in entry:
                raise ParameterError(file, f"'{path}' {start}: missing 'value'")
            raw = entry["value"]
            vmeta = entry.get("metadata") or {}
            if not isinstance(vmeta, dict) or set(vmeta) - METADATA_KEYS:
                raise ParameterError(file, f"'{path}' {start}: bad value metadata")
            v_evidence = vmeta.get("evidence", v_evidence)
            if "reference" in vmeta or "reference" in entry:
                v_refs = _references(file, path, vmeta.get("reference", entry.get("reference")))
        if v_evidence not in EVIDENCE_LEVELS:
            raise ParameterError(
                file,
                f"'{path}' {start}: evidence must be one of {', '.join(EVIDENCE_LEVELS)}, "
                f"not {v_evidence!r}",
            )
        value = None if raw is None else _convert(raw, str(unit), file, path, start)
        values.append(DatedValue(start, value, str(v_evidence), v_refs))
    values.sort(key=lambda v: v.start)
    _check_gaps(values, file, path)
    return Parameter(
        path=path,
        description=description.strip(),
        unit=str(unit),
        file=str(file),
        values=tuple(values),
        label_en=str(meta.get("label_en", "")),
        documentation=str(data.get("documentation", "") or ""),
    )


def _references(file: Path, path: str, raw: Any) -> tuple[Reference, ...]:
    if isinstance(raw, dict):
        raw = [raw]
    if isinstance(raw, str):
        raw = [{"title": raw}]
    if not isinstance(raw, list) or not raw:
        raise ParameterError(file, f"'{path}': missing 'reference'")
    refs = []
    for r in raw:
        if not isinstance(r, dict) or not isinstance(r.get("title"), str) or not r["title"]:
            raise ParameterError(file, f"'{path}': each reference needs a 'title'")
        refs.append(Reference(r["title"], str(r.get("href", ""))))
    return tuple(refs)


def _as_date(key: Any, file: Path | str, path: str) -> dt.date:
    if isinstance(key, dt.date) and not isinstance(key, dt.datetime):
        return key
    try:
        return dt.date.fromisoformat(str(key))
    except ValueError:
        raise ParameterError(file, f"'{path}': '{key}' is not a date YYYY-MM-DD") from None


def _convert(
    raw: Any, unit: str, file: Path | str, path: str, start: dt.date | None = None
) -> Value:
    where = f"'{path}'" + (f" {start}" if start else "")
    if unit in ("NOK", "/1", "flag"):
        if isinstance(raw, bool) or not isinstance(raw, int | float | str | Fraction):
            raise ParameterError(file, f"{where}: {raw!r} is not a number")
        try:
            num = to_fraction(raw)
        except (ValueError, ZeroDivisionError, TypeError):
            raise ParameterError(file, f"{where}: {raw!r} is not a number") from None
        if unit == "flag" and num not in (0, 1):
            raise ParameterError(file, f"{where}: a flag must be 0 or 1, not {raw!r}")
        return num
    if unit == "enhet":
        if raw not in ("time", "doegn"):
            raise ParameterError(file, f"{where}: unit must be 'time' or 'doegn', not {raw!r}")
        return str(raw)
    if not isinstance(raw, str) or not _MONTH_RE.match(raw):
        raise ParameterError(file, f"{where}: {raw!r} is not a month YYYY-MM")
    return raw


def _check_gaps(values: Iterable[DatedValue], file: Path | str, path: str) -> None:
    ended: DatedValue | None = None
    for v in values:
        if v.value is None:
            ended = v
        elif ended is not None:
            raise ParameterError(
                file, f"'{path}': gap — the series ends {ended.start} and starts again {v.start}"
            )


# libyaml's parser where PyYAML has it (about 5× faster on the parameter tree), else PyYAML's own
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _DecimalLoader(_SafeBase):  # type: ignore[valid-type,misc]
    """A safe YAML loader that keeps the decimal text of floats (read as Fraction)."""


def _construct_float(loader: yaml.SafeLoader, node: yaml.Node) -> Fraction:
    text = str(loader.construct_scalar(node)).replace("_", "")  # type: ignore[arg-type]
    try:
        return Fraction(text)
    except ValueError:
        return Fraction(repr(float(text)))


_DecimalLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


# -- override files ---------------------------------------------------------------------------


def read_override_file(file: Path) -> dict[str, dict[dt.date, Any]]:
    """Read an override file: `path: {YYYY-MM-DD: value, ...}` per path."""
    if not file.is_file():
        raise ParameterError(file, "override file not found")
    data = _read_yaml(file)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ParameterError(file, "must be a mapping of parameter paths to dated values")
    out: dict[str, dict[dt.date, Any]] = {}
    for path, series in data.items():
        if not isinstance(series, dict) or not series:
            raise ParameterError(file, f"'{path}': must be a mapping {{YYYY-MM-DD: value}}")
        out[str(path)] = {_as_date(k, file, str(path)): v for k, v in series.items()}
    return out


def apply_override_file(params: ParameterSet, file: Path | None) -> ParameterSet:
    """The parameter set with the override file applied (or unchanged if no file)."""
    if file is None:
        return params
    return params.with_overrides(read_override_file(file), source=str(file))
