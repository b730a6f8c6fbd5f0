"""`make bench` (scripts/bench.py): the fresh clone's `make test` runs as a user runs it, not
with the variables of the `make bench` that started it."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench", ROOT / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_clones_make_test_never_sees_bench_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    """`make bench ARGS=--test` exported ARGS (and MAKEFLAGS) to the clone's `make test`, whose
    `make check` then ran the gates with --test and failed."""
    monkeypatch.setenv("MAKEFLAGS", " -- ARGS=--test")
    monkeypatch.setenv("MAKELEVEL", "1")
    monkeypatch.setenv("ARGS", "--test")
    bench = _bench()
    env = bench.user_environment()
    assert {"MAKEFLAGS", "MAKELEVEL", "ARGS"}.isdisjoint(env)
    assert env["PATH"]  # the rest of the environment stays
    # and the clone's set-up and make test are run with it
    ran: list[tuple[list[str], dict[str, str] | None]] = []
    monkeypatch.setattr(bench.subprocess, "run", lambda *args, **kwargs: None)  # git clone
    monkeypatch.setattr(bench, "quietly", lambda args, cwd, env=None: ran.append((args, env)))
    bench.fresh_clone_test()
    assert [args for args, _ in ran] == [["make", "setup"], ["make", "test"]]
    assert all(env is not None and "ARGS" not in env for _, env in ran)
