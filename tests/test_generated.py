"""Generated workloads (issue 18): files the schema accepts, drawn by hypothesis, each held to
the reference workload's bar: every tier synthesized, through cfn-lint, cdk-nag, Guard and
drtiers-dr, and the simulator's region loss and failback (backup-restore's rebuild included).

The fast profile here draws one file, derandomized so every run draws the same one; the
long profile (``make fuzz``, scripts/fuzz.py) draws hundreds. What either found is kept, shrunk,
as ``tests/fixtures/workloads/generated-*.yaml`` and checked again below."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings

from drtiers.build import synthesize
from drtiers.recovery import simulate_assembly
from tests.conftest import ROOT, Synthesized, context
from tests.generated import PAIRS, Raw, accepted, gate_findings, shrink, workloads

KEPT = sorted((ROOT / "tests" / "fixtures" / "workloads").glob("generated-*.yaml"))


def kept_runs(text: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """The runs a kept file names on its ``# run: <primary>/<recovery> <tier>`` lines (what
    found it, and all a test needs to repeat); every tier in the first pair without one."""
    runs = []
    for line in text.splitlines():
        if line.startswith("# run: "):
            pair, _, tier = line.removeprefix("# run: ").partition(" ")
            primary, _, recovery = pair.partition("/")
            runs.append((primary, recovery, (tier,)))
    return tuple(runs) or PAIRS[:1]


@pytest.mark.parametrize("path", KEPT, ids=lambda path: path.stem)
def test_a_kept_generated_workload_meets_the_bar(path: Path, tmp_path: Path) -> None:
    """Each failure the generated workloads found, in the runs that found it."""
    text = path.read_text()
    assert gate_findings(yaml.safe_load(text), tmp_path, kept_runs(text)) == []


def every_block(raw: Raw) -> bool:
    """A file with a database, a table and a queue that every tier takes: hypothesis draws the
    simplest file first, and a stateless service is what test_workload's files already cover;
    a file one tier's option splits into a synthesis per tier (a strong table, an air-gapped
    vault beside Aurora) is the long profile's (make fuzz), not this one's."""
    blocks = "database" in raw and bool(raw.get("tables")) and bool(raw.get("queues"))
    return blocks and accepted(raw) is None


# The fast profile: one file with every block, the same every run (derandomized), through the
# whole bar in the first pair: every tier in one synthesis, through every gate and the
# simulator. The reversed pair is the long profile's (make fuzz, which draws hundreds of files
# of every shape, in both pairs) and the kept files'; in make test it cost a third of this
# test's ~100 s of cfn-lint, Guard and synthesis on a cold cache (decision 57).
@settings(
    max_examples=1,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.filter_too_much,
    ],
)
@given(raw=workloads().filter(every_block))
def test_a_generated_workload_meets_the_bar(raw: Raw, tmp_path: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as workdir:
        assert gate_findings(raw, Path(workdir), PAIRS[:1]) == []


def test_a_dns_failover_tier_recovering_into_the_edge_region_synthesizes_and_recovers() -> None:
    """Found by the generated workloads in the reversed pair, whatever the file: with R in
    us-east-1, the edge stack's region, the health check named R's DatabaseWritable alarm by a
    same-region stack reference (Fn::ImportValue) instead of its fixed name, and the synth
    crashed reading the name back for the Region switch plan. The simulator then counted the
    edge stack, in R here, against "R stays deployable" for reading P's load balancer, which
    it does by design in every pair (with P in us-east-1 it is lost with P)."""
    regions = {"tier": "pilot-light", "primary_region": "us-west-2", "recovery_region": "us-east-1"}
    recovering = Synthesized(**regions)
    edge = recovering.json("drtiers-pilot-light-edge")["Resources"]
    followed = [
        r["Properties"]["HealthCheckConfig"]["AlarmIdentifier"]
        for r in edge.values()
        if "AlarmIdentifier" in r["Properties"].get("HealthCheckConfig", {})
    ]
    ((name, region),) = [(f["Name"], f["Region"]) for f in followed]
    assert region == "us-east-1" and re.fullmatch(
        r"drtiers-pilot-light-recovery-DatabaseWritable-[0-9a-f]{8}", name
    )
    ((loss, back),) = simulate_assembly(recovering.directory, context(**regions), synthesize)
    assert (loss.violations, back.violations) == ([], [])


def test_shrinking_leaves_out_all_that_does_not_make_the_file_fail() -> None:
    raw = yaml.safe_load((ROOT / "tests/fixtures/workloads/mysql-two-tables.yaml").read_text())
    small = shrink(raw, lambda file: any("dax" in t for t in file.get("tables", [])))
    assert small == {
        "service": {"image": raw["service"]["image"]},
        "tables": [{"name": "orders", "partition_key": {"name": "order_id"}, "dax": {}}],
    }
