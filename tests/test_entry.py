"""The `sio` entry point's settings of the process environment: OpenBLAS gets one thread (no
command multiplies float matrices; its idle threads only cost CPU), unless the user set it; a
command on the store gets the allocator setting that returns pages at once."""

from __future__ import annotations

import os
import sys

import pytest

import sio.cli
from sio import entry


def _unset(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Unset `name` for the test; what the entry point sets is undone afterwards too."""
    monkeypatch.setenv(name, "")
    monkeypatch.delenv(name)


def _environment_seen_by_the_app(
    monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> dict[str, str]:
    seen: dict[str, str] = {}
    monkeypatch.setattr(sio.cli, "main", lambda: seen.update(os.environ))
    monkeypatch.setattr(sys, "argv", ["sio", *argv])
    entry.main()
    return seen


def test_openblas_gets_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    _unset(monkeypatch, "OPENBLAS_NUM_THREADS")
    seen = _environment_seen_by_the_app(monkeypatch, ["--help"])
    assert seen["OPENBLAS_NUM_THREADS"] == "1"


def test_the_users_openblas_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "4")
    seen = _environment_seen_by_the_app(monkeypatch, ["--help"])
    assert seen["OPENBLAS_NUM_THREADS"] == "4"


def test_allocator_returns_pages_at_once_only_on_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    _unset(monkeypatch, "_RJEM_MALLOC_CONF")
    assert "_RJEM_MALLOC_CONF" not in _environment_seen_by_the_app(monkeypatch, ["compute"])
    seen = _environment_seen_by_the_app(monkeypatch, ["compute", "--db"])
    assert seen["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:0,muzzy_decay_ms:0"
