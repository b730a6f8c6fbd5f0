#!/usr/bin/env python3
"""Wall time of `cdk synth` for one tier and for all four, against an empty CDK app run through
the same CLI, Python and Node.js. Prints figures; it is a measurement, never a test.

Usage: .venv/bin/python scripts/bench.py [--runs N]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDK = ROOT / "node_modules" / ".bin" / "cdk"
GOALS = {"one tier": 1.5, "all four tiers": 2.5}  # ratio to the empty app, from issue 2

EMPTY_APP = """\
import aws_cdk as cdk

# Same App settings as app.py, so the ratio measures only drtiers' own work.
app = cdk.App(builtin_cloud_formation_validation=False)
cdk.Stack(app, "Empty")  # one stack: the CLI rejects an app with none
app.synth()
"""


def timed(args: list[str], cwd: Path, runs: int) -> float:
    """Median wall time of ``runs`` runs, after one warm-up run."""
    env = {**os.environ, "PATH": f"{CDK.parent}{os.pathsep}{os.environ['PATH']}"}
    samples = []
    for index in range(runs + 1):
        with tempfile.TemporaryDirectory() as out:
            start = time.perf_counter()
            subprocess.run(
                [str(CDK), "synth", "--quiet", "--output", out, *args],
                cwd=cwd,
                env=env,
                check=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if index:
                samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per case (default 5)")
    runs = parser.parse_args().runs
    settings = json.loads((ROOT / "cdk.json").read_text())
    with tempfile.TemporaryDirectory() as empty_dir:
        empty = Path(empty_dir)
        (empty / "app.py").write_text(EMPTY_APP)
        # Same CLI settings as the project (notices, telemetry, feature flags), other app.
        (empty / "cdk.json").write_text(
            json.dumps(
                {
                    "app": f"{sys.executable} app.py",
                    "notices": settings.get("notices"),
                    "context": {
                        k: v for k, v in settings["context"].items() if k.startswith(("@", "cli-"))
                    },
                }
            )
        )
        baseline = timed([], empty, runs)
    cases = {
        "one tier": timed(["--context", "tier=warm-standby"], ROOT, runs),
        "all four tiers": timed([], ROOT, runs),
    }
    print(f"cdk synth, median of {runs} runs on {os.cpu_count()} cores")
    print(f"{'case':<16}{'seconds':>9}{'ratio':>8}{'goal':>8}")
    print(f"{'empty app':<16}{baseline:>9.2f}{1.0:>8.2f}{'':>8}")
    for name, seconds in cases.items():
        ratio = seconds / baseline
        verdict = "ok" if ratio <= GOALS[name] else "MISSED"
        print(f"{name:<16}{seconds:>9.2f}{ratio:>8.2f}{f'<={GOALS[name]}':>8} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
