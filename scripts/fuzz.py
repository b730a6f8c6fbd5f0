#!/usr/bin/env python3
"""Generated workloads, long profile: workload files through every gate, in both region pairs.

Holds the hand-written workload files of tests/fixtures/workloads first, then files drawn from
what the schema accepts (issue 18), to the bar of tests/test_generated.py (every tier in both
region pairs, through every gate and the simulator's region loss and failback, backup-restore's
rebuild included): `make test` runs cfn-lint, cdk-nag and Guard over the reference, one drawn
file and the kept ones, not these. Prints each file's outcome,
then how many it tried and what failed; each failing file is written to --out with its findings,
and (--shrink) shrunk to the smallest file that still fails the same way.

Usage: .venv/bin/python scripts/fuzz.py [--examples 300] [--seed 0] [--out fuzz-out] [--shrink]
                                         [--minutes M]
Slow: about a minute per file on a small machine (every tier is synthesized three times);
--minutes ends the run after M minutes with the same summary.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "workloads"
sys.path.insert(0, str(ROOT))
# Run jsii on the project's pinned Node.js 22 (node_modules), as the CDK CLI does.
if (ROOT / "node_modules" / ".bin" / "node").exists():
    os.environ.setdefault("JSII_NODE", str(ROOT / "node_modules" / ".bin" / "node"))

import yaml  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

from tests.generated import PAIRS, Raw, gate_findings, shrink, workloads  # noqa: E402


def kind(finding: str) -> str:
    """What a finding is, without where or which resource: the run and the checker, and the
    exception (a crash) or the rule."""
    where, _, rest = finding.partition(": ")
    checker, _, detail = rest.partition(": ")
    if checker == "crash":
        return f"{where}: crash: {detail.split(':')[0]}"
    rule = next((part for part in detail.split(": ")[1:2]), detail[:40])
    return f"{where}: {checker}: {rule}"


def _pairs_of(kinds: set[str]) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """Only the runs (region pair and tier) that failed: what shrinking has to repeat."""
    return tuple(
        (
            p,
            r,
            tuple(
                t for t in tiers if any(k.startswith(f"{p}/{r} {t or 'all tiers'}:") for k in kinds)
            ),
        )
        for p, r, tiers in PAIRS
        if any(k.startswith(f"{p}/{r} ") for k in kinds)
    )


def save(raw: Raw, findings: list[str], path: Path) -> None:
    header = "".join(f"# {line}\n" for line in findings)
    path.write_text(header + yaml.safe_dump(raw, sort_keys=False))


def shrunk(raw: Raw, findings: list[str], workdir: Path) -> Raw:
    """The smallest file that still shows every kind of finding ``raw`` showed."""
    kinds = {kind(f) for f in findings}
    runs = _pairs_of(kinds)

    def still_fails(candidate: Raw) -> bool:
        return kinds <= {kind(f) for f in gate_findings(candidate, workdir, runs)}

    return shrink(raw, still_fails)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=300, help="workload files to draw")
    parser.add_argument(
        "--seed", type=int, default=0, help="hypothesis seed (same seed, same files)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "fuzz-out", help="failing files go here")
    parser.add_argument("--shrink", action="store_true", help="shrink each failing file")
    parser.add_argument(
        "--minutes", type=float, default=0, help="try no new file after this long (0: no limit)"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    tried: list[int] = []
    shapes: set[str] = set()
    failed: dict[str, list[str | int]] = {}
    ends = time.monotonic() + args.minutes * 60 if args.minutes else float("inf")

    @seed(args.seed)
    @settings(
        max_examples=args.examples,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(workloads())
    def one(raw: Raw) -> None:
        if time.monotonic() > ends:  # hypothesis draws the rest, each returns at once
            return
        # Hypothesis draws small files first (a tenth of the examples, up to 50), mostly the
        # same stateless service: a shape already held to the bar is not worth minutes again.
        if _shape(raw) in shapes:
            print(f"[-] skipped, a shape already tried: {_shape(raw)}", flush=True)
            return
        shapes.add(_shape(raw))
        number = len(tried) + 1
        tried.append(number)
        with tempfile.TemporaryDirectory(prefix="drtiers-fuzz-") as workdir:
            findings = _held(number, raw, Path(workdir), args.out, failed, f": {_shape(raw)}")
            if findings and args.shrink:
                small = shrunk(raw, findings, Path(workdir))
                save(small, findings, args.out / f"failed-{number}.shrunk.yaml")
                print(f"    shrunk: {args.out / f'failed-{number}.shrunk.yaml'}", flush=True)

    written = _hand_written(failed, args.out, ends)
    one()
    failing = len({n for ns in failed.values() for n in ns})
    print(
        f"tried {written} hand-written and {len(tried)} drawn workload files of distinct "
        f"shapes; {failing} failed"
    )
    for what, numbers in sorted(failed.items()):
        print(f"  {what}: files {', '.join(dict.fromkeys(map(str, numbers)))}")
    return 1 if failed else 0


def _hand_written(failed: dict[str, list[str | int]], out: Path, ends: float) -> int:
    """The fixture files a person wrote (the kept generated ones are test_generated's), each
    through the whole bar, a failing one written to ``out``; how many were tried by ``ends``."""
    files = [p for p in sorted(FIXTURES.glob("*.yaml")) if not p.name.startswith("generated-")]
    tried = 0
    for path in files:
        if time.monotonic() > ends:
            break
        tried += 1
        with tempfile.TemporaryDirectory(prefix="drtiers-fuzz-") as workdir:
            _held(path.stem, yaml.safe_load(path.read_text()), Path(workdir), out, failed)
    return tried


def _held(
    name: str | int,
    raw: Raw,
    workdir: Path,
    out: Path,
    failed: dict[str, list[str | int]],
    about: str = "",
) -> list[str]:
    """``raw`` through the whole bar: its outcome printed (``about`` after it), each finding
    filed under its kind in ``failed``, and a failing file written to ``out``."""
    start = time.monotonic()
    findings = gate_findings(raw, workdir)
    took = f"{time.monotonic() - start:.0f} s"
    print(f"[{name}] {'FAIL' if findings else 'pass'} ({took}){about}", flush=True)
    for line in findings:
        print(f"    {line}", flush=True)
        failed.setdefault(kind(line), []).append(name)
    if findings:
        save(raw, findings, out / f"failed-{name}.yaml")
    return findings


def _shape(raw: dict[str, Any]) -> str:
    """One line saying what the file holds."""
    database = raw.get("database")
    tables = raw.get("tables", [])
    return ", ".join(
        [
            f"database {database['engine']} {database['version']}" if database else "no database",
            f"{len(tables)} tables ({sum(1 for t in tables if 'dax' in t)} with DAX, "
            f"{sum(1 for t in tables if t.get('billing') == 'provisioned')} provisioned)",
            f"{len(raw.get('queues', []))} queues",
            f"entry point {sorted(raw['entry_point'])}"
            if "entry_point" in raw
            else "no entry point",
            f"backups {raw['backups']}" if "backups" in raw else "default backups",
            f"figures {sorted(raw.get('figures', {}))}",
        ]
    )


if __name__ == "__main__":
    sys.exit(main())
