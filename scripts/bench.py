#!/usr/bin/env python3
"""The loops an engineer lives in, timed: `cdk synth` (one tier, all four) against an empty CDK
app run through the same CLI, Python and Node.js, `make check`, `drtiers report` and
`drtiers simulate --failback`; with `--test`, `make test` on a fresh clone. Prints figures
against the budgets of issue 22; it is a measurement, never a test.

Each loop runs three times over: "first" with the cache off (DRTIERS_CACHE=off: a fresh
clone), "changed" with a cache of its own that a warm-up filled but no kept synthesis
(DRTIERS_CACHE_SYNTHESES=off: after a change to the code that leaves the templates as they
were, so only cfn-lint's and Guard's findings per template are read back), and "again" with
that cache whole (nothing changed). All three are printed against the budgets of issue 22.

Usage: .venv/bin/python scripts/bench.py [--runs N] [--test]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "node_modules" / ".bin"
CDK = BIN / "cdk"
PY = ROOT / ".venv" / "bin"
# Budgets of issue 22: a ratio to the empty app for synth, seconds for the rest.
SYNTH_GOALS = {"one tier": 1.1, "all four tiers": 1.4}
SECONDS_GOALS = {"make check": 20.0, "drtiers report": 20.0, "simulate --failback": 5.0}
TEST_GOAL = 180.0

EMPTY_APP = """\
import aws_cdk as cdk

# Same App settings as app.py, so the ratio measures only drtiers' own work.
app = cdk.App(builtin_cloud_formation_validation=False)
cdk.Stack(app, "Empty")  # one stack: the CLI rejects an app with none
app.synth()
"""


# What the `make bench` that runs this script hands down (its command line's ARGS among
# them): a command timed here runs as a user would run it.
_FROM_MAKE = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "ARGS", "TIER"}


def user_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _FROM_MAKE}


def quietly(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    """Run ``args``; only a failure is worth reading: its last lines, then it is raised."""
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode:
        tail = (done.stdout + done.stderr).splitlines()[-60:]
        print("\n".join(tail), file=sys.stderr)
        done.check_returncode()


def timed(
    command: Sequence[str], cwd: Path, runs: int, cache: str, syntheses: bool = True
) -> float:
    """Median wall time of ``runs`` runs after one warm-up run (that fills the cache)."""
    path = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    env = {**user_environment(), "PATH": path, "DRTIERS_CACHE": cache}
    env.pop("DRTIERS_CACHE_SYNTHESES", None)
    if not syntheses:
        env["DRTIERS_CACHE_SYNTHESES"] = "off"
    samples = []
    for index in range(runs + 1):
        with tempfile.TemporaryDirectory() as out:
            args = [part.replace("{out}", out) for part in command]
            start = time.perf_counter()
            quietly(args, cwd, env)
            if index:
                samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def three(command: Sequence[str], cwd: Path, runs: int) -> tuple[float, float, float]:
    """(first: cache off; changed: findings kept, no synthesis; again: a warm cache)."""
    with tempfile.TemporaryDirectory() as folder:
        first = timed(command, cwd, runs, "off")
        changed = timed(command, cwd, runs, folder, syntheses=False)
        return first, changed, timed(command, cwd, runs, folder)


def empty_app(runs: int) -> float:
    settings = json.loads((ROOT / "cdk.json").read_text())
    with tempfile.TemporaryDirectory() as empty_dir:
        empty = Path(empty_dir)
        (empty / "app.py").write_text(EMPTY_APP)
        # Same CLI settings as the project (notices, telemetry, feature flags), other app.
        context = {k: v for k, v in settings["context"].items() if k.startswith(("@", "cli-"))}
        cdk_json = {"app": f"{sys.executable} app.py", "notices": settings.get("notices")}
        (empty / "cdk.json").write_text(json.dumps({**cdk_json, "context": context}))
        return timed([str(CDK), "synth", "--quiet", "--output", "{out}"], empty, runs, "off")


def fresh_clone_test() -> float:
    """`make test` on a fresh clone of this checkout's HEAD, after `make setup`."""
    with tempfile.TemporaryDirectory() as folder:
        clone = Path(folder) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        env = user_environment()
        quietly(["make", "setup"], clone, env)
        start = time.perf_counter()
        quietly(["make", "test"], clone, env)
        return time.perf_counter() - start


def row(name: str, figures: Sequence[float], goal: float, unit: str) -> str:
    verdicts = "/".join("ok" if figure <= goal else "MISSED" for figure in figures)
    cells = "".join(f"{figure:>9.2f}" for figure in figures)
    return f"{name:<22}{cells}{f'<={goal}{unit}':>10} {verdicts}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case (default 3)")
    parser.add_argument("--test", action="store_true", help="also `make test` on a fresh clone")
    options = parser.parse_args()
    runs = options.runs
    baseline = empty_app(runs)
    synth = [str(CDK), "synth", "--quiet", "--output", "{out}"]
    print(f"median of {runs} runs on {os.cpu_count()} cores; first: cache off, changed: a code")
    print("change that leaves the templates, again: nothing changed")
    print(f"{'loop':<22}{'first':>9}{'changed':>9}{'again':>9}{'budget':>10}")
    print(f"{'empty CDK app (s)':<22}{baseline:>9.2f}")
    for name, extra in (("one tier", ["--context", "tier=warm-standby"]), ("all four tiers", [])):
        ratios = [seconds / baseline for seconds in three([*synth, *extra], ROOT, runs)]
        print(row(f"synth {name} (x)", ratios, SYNTH_GOALS[name], "x"))
    loops = {
        "make check": [str(PY / "python"), "-m", "drtiers.checks.gates"],
        "drtiers report": [str(PY / "drtiers"), "report", "--out", "{out}"],
        "simulate --failback": [str(PY / "drtiers"), "simulate", "--failback"],
    }
    for name, command in loops.items():
        print(row(f"{name} (s)", three(command, ROOT, runs), SECONDS_GOALS[name], "s"))
    if options.test:
        seconds = fresh_clone_test()
        print(row("make test, fresh (s)", [seconds], TEST_GOAL, "s"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
