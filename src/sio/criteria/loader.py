"""Load the criteria files: validate them, date their versions, give each version its identifier.

A criteria source is a YAML file or a folder of them (the package's `criteria/data/` by default;
a user's file or folder replaces the defaults as a whole). Together the files hold the four
parts `need_level`, `care_ladder`, `justifications`, `deadlines`, each exactly once, as

    <part>:
      description: ...
      evidence: estimate                      # inherited by every version and item
      reference: [{title: ..., href: ...}]
      versions:
        2016-05-01: {...}                     # in force from this date until the next one

A version of the whole criteria starts wherever a version of any part starts (once all four have
begun). Its identifier is `k-` + the first 12 hex digits of the SHA-256 of its canonical content
(as `sio.parameters` names parameter versions `p-…`). Errors name the file, the path inside it and
the rule broken.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from sio.criteria.model import (
    PART_NAMES,
    CareLadder,
    CriteriaVersion,
    Justification,
    NeedLevelRule,
    ProcessDeadlines,
)
from sio.i18n import _

PART_KEYS = frozenset({"description", "evidence", "reference", "versions"})
INHERITED = ("evidence", "reference")
_ADAPTERS: dict[str, TypeAdapter[Any]] = {
    "need_level": TypeAdapter(NeedLevelRule),
    "care_ladder": TypeAdapter(CareLadder),
    "justifications": TypeAdapter(dict[str, Justification]),
    "deadlines": TypeAdapter(ProcessDeadlines),
}


class CriteriaError(ValueError):
    """A criteria file is invalid: the message names the file, the path in it and the rule."""

    def __init__(self, file: str | Path, path: str, rule: str) -> None:
        self.file = str(file)
        self.path = path
        self.rule = rule
        super().__init__(f"{file}: {path}: {rule}" if path else f"{file}: {rule}")


class CriteriaLookupError(LookupError):
    """No criteria version is in force on the date, or none has the identifier asked for."""


class CriteriaSet:
    """All dated versions of the criteria from one source."""

    def __init__(self, versions: tuple[CriteriaVersion, ...], source: str) -> None:
        self.versions = versions
        self.source = source
        self._starts = [v.valid_from for v in versions]
        self._by_id = {v.id: v for v in versions}

    def at(self, on: dt.date) -> CriteriaVersion:
        """The version in force on `on`."""
        i = bisect.bisect_right(self._starts, on)
        if i == 0:
            raise CriteriaLookupError(
                _("no allocation criteria are in force on {date}").format(date=on.isoformat())
            )
        return self.versions[i - 1]

    def by_id(self, version_id: str) -> CriteriaVersion:
        """The version with this identifier (the one a case was decided under)."""
        try:
            return self._by_id[version_id]
        except KeyError:
            raise CriteriaLookupError(
                _("unknown criteria version {id}").format(id=version_id)
            ) from None

    def __iter__(self) -> Iterator[CriteriaVersion]:
        return iter(self.versions)


def default_criteria_dir() -> Path:
    return Path(str(resources.files("sio") / "criteria" / "data"))


def load_criteria(source: Path | str | None = None) -> CriteriaSet:
    """Load and validate the criteria: the package's defaults, or a user's file or folder
    (which replaces the defaults as a whole)."""
    root = Path(source) if source is not None else default_criteria_dir()
    return _load_cached(str(root.resolve()))


@lru_cache(maxsize=8)
def _load_cached(root: str) -> CriteriaSet:
    return _load(Path(root))


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise CriteriaError(root, "", _("criteria file or folder not found"))
    files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise CriteriaError(root, "", _("no criteria files (*.yaml) in the folder"))
    return files


def _load(root: Path) -> CriteriaSet:
    parts: dict[str, tuple[Path, dict[dt.date, Any]]] = {}
    for file in _files(root):
        data = _read_yaml(file)
        if not isinstance(data, dict):
            raise CriteriaError(file, "", _("a criteria file must be a mapping of parts"))
        unknown = sorted(str(k) for k in data if k not in PART_NAMES and k != "description")
        if unknown:
            raise CriteriaError(
                file,
                unknown[0],
                _("unknown part; the parts are: {parts}").format(parts=", ".join(PART_NAMES)),
            )
        for name in PART_NAMES:
            if name not in data:
                continue
            if name in parts:
                raise CriteriaError(
                    file,
                    name,
                    _("the part is given twice (also in {other})").format(other=parts[name][0]),
                )
            parts[name] = (file, _read_part(file, name, data[name]))
    missing = [p for p in PART_NAMES if p not in parts]
    if missing:
        raise CriteriaError(
            root, "", _("missing part(s): {parts}").format(parts=", ".join(missing))
        )
    return CriteriaSet(_compose(parts), source=str(root))


def _read_part(file: Path, name: str, raw: Any) -> dict[dt.date, Any]:
    if not isinstance(raw, dict):
        raise CriteriaError(file, name, _("must be a mapping with 'versions'"))
    unknown = sorted(str(k) for k in raw if k not in PART_KEYS)
    if unknown:
        raise CriteriaError(
            file,
            f"{name}.{unknown[0]}",
            _("unknown key; allowed: {keys}").format(keys=", ".join(sorted(PART_KEYS))),
        )
    versions = raw.get("versions")
    if not isinstance(versions, dict) or not versions:
        raise CriteriaError(
            file, f"{name}.versions", _("must be a non-empty mapping of dates YYYY-MM-DD")
        )
    inherited = {k: raw[k] for k in INHERITED if k in raw}
    out: dict[dt.date, Any] = {}
    for key, content in versions.items():
        where = f"{name}.versions.{key}"
        start = _as_date(key, file, where)
        if not isinstance(content, dict):
            raise CriteriaError(file, where, _("a version must be a mapping"))
        out[start] = _validate(file, name, where, _inherit(name, content, inherited))
    return out


def _with_sources(item: Any, defaults: Mapping[str, Any]) -> Any:
    return {**defaults, **item} if isinstance(item, dict) else item


def _inherit(name: str, content: dict[str, Any], part: Mapping[str, Any]) -> Any:
    """The version's content with `evidence` and `reference` filled in where an item has none:
    from the version if it gives them, else from the part."""
    defaults = {**part, **{k: content[k] for k in INHERITED if k in content}}
    if name == "need_level":
        return _with_sources(content, defaults)
    if name == "care_ladder":
        out = _with_sources(content, defaults)
        services = content.get("services")
        if isinstance(services, dict):
            out["services"] = {k: _with_sources(v, defaults) for k, v in services.items()}
        return out
    # justifications and deadlines: a mapping of items
    return {k: _with_sources(v, defaults) for k, v in content.items() if k not in INHERITED}


def _validate(file: Path, name: str, where: str, content: Any) -> Any:
    try:
        return _ADAPTERS[name].validate_python(content)
    except ValidationError as exc:
        problems = [_problem(where, e) for e in exc.errors(include_url=False)]
        first_path, first_rule = problems[0]
        rest = "; ".join(f"{p}: {r}" for p, r in problems[1:])
        raise CriteriaError(file, first_path, first_rule + (f"; {rest}" if rest else "")) from None


def _problem(where: str, error: Mapping[str, Any]) -> tuple[str, str]:
    loc: list[str] = []
    for part in error.get("loc", ()):
        text = str(part)
        if not (loc and loc[-1] == text):  # a tagged union repeats its tag: say it once
            loc.append(text)
    path = ".".join([where, *loc])
    return path, str(error.get("msg", "invalid"))


def _as_date(key: Any, file: Path, where: str) -> dt.date:
    if isinstance(key, dt.date) and not isinstance(key, dt.datetime):
        return key
    try:
        return dt.date.fromisoformat(str(key))
    except ValueError:
        raise CriteriaError(file, where, _("not a date YYYY-MM-DD")) from None


def _compose(parts: Mapping[str, tuple[Path, dict[dt.date, Any]]]) -> tuple[CriteriaVersion, ...]:
    first = max(min(series) for _file, series in parts.values())
    starts = sorted({d for _f, series in parts.values() for d in series if d >= first} | {first})
    versions = []
    for i, start in enumerate(starts):
        content: dict[str, Any] = {}
        sources = []
        for name in PART_NAMES:
            file, series = parts[name]
            content[name] = series[max(d for d in series if d <= start)]
            sources.append(str(file))
        until = starts[i + 1] if i + 1 < len(starts) else None
        versions.append(
            CriteriaVersion(
                id=version_id(content),
                valid_from=start,
                valid_until=until,
                source=", ".join(sorted(set(sources))),
                **content,
            )
        )
    return tuple(versions)


def version_id(content: Mapping[str, Any]) -> str:
    """`k-` + 12 hex digits of the SHA-256 of the canonical JSON of the four parts."""
    canon = {
        name: (
            {k: v.model_dump(mode="json") for k, v in value.items()}
            if isinstance(value, dict)
            else value.model_dump(mode="json")
        )
        for name, value in content.items()
        if isinstance(value, BaseModel | dict)
    }
    text = json.dumps(canon, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "k-" + hashlib.sha256(text.encode()).hexdigest()[:12]


class _StrictLoader(yaml.SafeLoader):
    """A safe YAML loader that refuses a key given twice in one mapping."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _read_yaml(file: Path) -> Any:
    try:
        with file.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise CriteriaError(file, "", _("not valid YAML: {error}").format(error=exc)) from None
    except ValueError as exc:  # e.g. a date key like 2016-13-01
        raise CriteriaError(
            file, "", _("a date or number is not valid as written: {error}").format(error=exc)
        ) from None
