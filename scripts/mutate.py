#!/usr/bin/env python3
"""The mutation score of the recovery checks: every mutant of drtiers.checks.mutants planted in
the tiers as synthesized with cdk.json's context, each run through the simulator and the
drtiers-dr rule pack. Prints one line per mutant, the kill rate and every survivor. The rate is
a measurement: the exit status is 0 unless the harness breaks, or --min-rate is not reached.

Usage: .venv/bin/python scripts/mutate.py [--min-rate N] [--only ID ...] [--category C ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Run jsii on the project's pinned Node.js 22 (node_modules), as the CDK CLI does.
_NODE = ROOT / "node_modules" / ".bin" / "node"
if _NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_NODE))

from drtiers.build import synthesize  # noqa: E402
from drtiers.checks.mutants import GAPS, MUTANTS, Mutant, Result, kill_rate, run  # noqa: E402
from drtiers.config.context import cdk_json_context  # noqa: E402


def context() -> dict[str, Any]:
    """cdk.json's context, its feature flags included (as `cdk synth` and the tests), with
    drtiers' own workload."""
    return {**cdk_json_context(ROOT), "workload": "reference"}


def line(result: Result) -> str:
    mutant = result.mutant
    if result.caught_by:
        verdict = "KILLED by " + ",".join(result.caught_by)
    elif result.error:
        verdict = f"KILLED (the checks fail: {result.error})"
    else:
        verdict = "SURVIVED"
    return f"{mutant.id:<34} {mutant.category:<15} {mutant.tier:<15} {verdict}"


def chosen(only: list[str], categories: list[str]) -> list[Mutant]:
    known = {m.id for m in MUTANTS}
    unknown = [i for i in only if i not in known]
    if unknown:
        raise SystemExit(f"no such mutant: {', '.join(unknown)}")
    return [
        m
        for m in MUTANTS
        if (not only or m.id in only) and (not categories or m.category in categories)
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--min-rate", type=float, default=None, help="exit 1 below N %%")
    parser.add_argument("--only", nargs="+", default=[], metavar="ID", help="these mutants")
    parser.add_argument("--category", nargs="+", default=[], help="mutants of these categories")
    args = parser.parse_args(argv)
    mutants = chosen(args.only, args.category)
    with tempfile.TemporaryDirectory(prefix="drtiers-mutate-") as out:
        directory = Path(out) / "cdk.out"
        print(f"synthesizing the tiers (cdk.json context) for {len(mutants)} mutants", flush=True)
        synthesize(context(), directory)
        results = run(mutants, directory, context(), synthesize, report=lambda r: print(line(r)))
    killed = sum(r.killed for r in results)
    rate = kill_rate(results)
    print(f"\nkill rate: {killed}/{len(results)} = {rate:.1f} %")
    survivors = [r for r in results if not r.killed]
    if survivors:
        print(f"\nsurvivors ({len(survivors)}): the defect, why it breaks recovery, and why it")
        print("survives (what the simulator or the rule pack does not model):")
        for result in survivors:
            m = result.mutant
            print(f"  {m.id} [{m.tier}, {m.category}]: {m.description}; {m.why}")
            print(f"    survives: {GAPS.get(m.id, 'NEW SURVIVOR: no gap recorded yet')}")
    since = [r.mutant.id for r in results if r.killed and r.mutant.id in GAPS]
    if since:
        print(f"\nkilled since their gap was recorded (remove it from GAPS): {', '.join(since)}")
    if args.min_rate is not None and rate < args.min_rate:
        print(f"\nbelow the minimum rate of {args.min_rate:g} %")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
