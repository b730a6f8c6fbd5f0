"""Generated workloads (issue 18): files the schema accepts, drawn by hypothesis, each held to
the reference workload's bar: every tier synthesized, through cfn-lint, cdk-nag, Guard and
drtiers-dr, and the simulator's region loss and failback (backup-restore's rebuild included).

What they found is kept, shrunk, as ``tests/fixtures/workloads/generated-*.yaml`` and checked
again below."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.generated import PAIRS, gate_findings

KEPT = sorted((ROOT / "tests" / "fixtures" / "workloads").glob("generated-*.yaml"))


@pytest.mark.parametrize("path", KEPT, ids=lambda path: path.stem)
def test_a_kept_generated_workload_meets_the_bar(path: Path, tmp_path: Path) -> None:
    """Each failure the generated workloads found, in the region pair that found it (the
    first: every tier in one synthesis)."""
    assert gate_findings(yaml.safe_load(path.read_text()), tmp_path, PAIRS[:1]) == []
