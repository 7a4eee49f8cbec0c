"""A read-only mapping whose dictionary is built on first use: for lookups that a national year
computes for every row but that are read only when someone asks (a trace, a log, a test)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class LazyMapping(Mapping[K, V], Generic[K, V]):
    """The dictionary `build()` returns, built on the first read and kept."""

    def __init__(self, build: Callable[[], dict[K, V]]) -> None:
        self._build = build
        self._built: dict[K, V] | None = None

    def _get(self) -> dict[K, V]:
        if self._built is None:
            self._built = self._build()
        return self._built

    def __getitem__(self, key: K) -> V:
        return self._get()[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())
