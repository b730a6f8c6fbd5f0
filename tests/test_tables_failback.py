"""Tables restored from backup in R (backup-restore) are no replicas: what R's tasks write there
reaches P only through the failback's copy, so the copy must be taken once R has stopped
writing, and before P takes traffic (review finding A6)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from drtiers.assembly.world import read_world
from drtiers.build import synthesize
from drtiers.core.commands import aws_calls
from drtiers.recovery import Simulation, simulate_assembly, tables
from drtiers.recovery import simulate as simulation
from drtiers.recovery import steps as s
from drtiers.recovery.live import deployed
from tests.conftest import ROOT, Synthesized, context

# A workload with a table and a queue but no relational database: nothing quiesces R for a
# database, so the failback stops R's tasks itself before the copy.
TABLES_ONLY = ROOT / "tests" / "fixtures" / "workloads" / "tables-no-database.yaml"


def _failback(synthesized: Synthesized) -> Simulation:
    ((_, back),) = simulate_assembly(
        synthesized.directory, context(), synthesize, tier="backup-restore"
    )
    return back


def _copy_before_quiesce(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failback as the review found it: the tables copied back before R's tasks stop."""
    executed = simulation.plan.executed

    def early(world: Any, steps: list[s.Step], event: str) -> list[s.Step]:
        ran = executed(world, steps, event)
        if event != "failback":
            return ran
        copy = replace(next(x for x in ran if x.name == "table-back"), after=("replicate-back",))
        moved: list[s.Step] = []
        for x in ran:
            if x.name != copy.name:
                moved.append(replace(x, after=tuple(a for a in x.after if a != copy.name)))
            if x.name == "replicate-back":
                moved.append(copy)
        return moved

    monkeypatch.setattr(simulation.plan, "executed", early)


def test_i5_the_tables_come_back_after_r_stops_writing(synthesized: Synthesized) -> None:
    """As synthesized: the copy runs in the maintenance window, after quiesce-recovery and
    before P is declared the writer; the failback keeps every write made in R."""
    back = _failback(synthesized)
    order = [event.step for event in back.timeline]
    assert order.index("quiesce-recovery") < order.index("table-back")
    assert order.index("table-back") < order.index("declare-primary")
    assert back.verdicts()["I5"] == "pass", back.violations


def test_without_a_database_r_stops_taking_work_before_the_copy() -> None:
    """No database, so no quiesce for it: R's endpoint group is dialled to 0 and its tasks
    stopped (they still process what R's queues hold), then the tables are copied, then P is
    declared the writer and takes traffic; what R's queues hold is forwarded to P."""
    overrides = {"workload": str(TABLES_ONLY), "tier": "backup-restore"}
    tables_only = Synthesized(**overrides)
    ((_, back),) = simulate_assembly(
        tables_only.directory, context(**overrides), synthesize, tier="backup-restore"
    )
    order = [event.step for event in back.timeline]
    stages = [
        "approve-failback",
        "release-recovery",
        "quiesce-recovery",
        "table-back",
        "declare-primary",
        "release-primary",
        "forward-messages",
    ]
    assert [order.index(x) for x in stages] == sorted(order.index(x) for x in stages)
    assert order.count("release-recovery") == 1
    assert back.passed, back.violations


def test_i5_a_copy_taken_while_r_writes_misses_those_writes(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The copy taken while R's tasks still take writes misses what they write afterwards:
    P taking traffic on those tables breaks I5, naming the tables, the cause and the fix."""
    _copy_before_quiesce(monkeypatch)
    back = _failback(synthesized)
    found = [v for v in back.violations if v.invariant == "I5"]
    assert found, back.violations
    assert found[0].step == "release-primary"
    assert "drtiers-backup-restore-table" in found[0].detail
    assert "after the last copy" in found[0].detail
    assert "only once R's tasks have stopped writing" in str(found[0])


def test_r_writes_its_restored_tables_only_while_its_tasks_take_work(
    synthesized: Synthesized,
) -> None:
    """The model: restored tables take writes while R's tasks run and take traffic or process
    its queues; those writes leave every other region's tables behind until a copy."""
    w = deployed(read_world(synthesized.read("pilot-light")))  # a service in R
    p, r = w.primary, w.recovery
    service = w.service_in(r)
    assert service is not None
    service.desired, w.restored_tables, w.table_regions = 2, {r}, {p, r}
    assert tables.writing(w, r, {r})
    assert not tables.writing(w, r, set())  # no request, no message: nothing written
    tables.note_writes(w, {r})
    assert w.stale_tables == {p}
    assert tables.copy_back(w, f"{r}={p}") == f"{p}'s tables hold {r}'s as they are now"
    assert w.stale_tables == set()
    w.messages = {r}  # what R's queues hold, processed into its tables
    tables.note_writes(w, set())
    assert w.stale_tables == {p}
    service.desired = 0
    assert not tables.writing(w, r, {r})


def test_the_table_copy_is_real_aws_calls(synthesized: Synthesized) -> None:
    """The step's command backs up R's tables in R, copies them to P's vault, backs up and
    deletes each stale table in P (deletion protection off first) and restores the copy under
    its name, waiting for each job; every call and option is in botocore's model."""
    back = _failback(synthesized)
    step = next(x for x in back.steps if x.name == "table-back")
    calls = aws_calls(step.command)
    p, r = back.primary, back.recovery
    where = [(c.operation, c.region) for c in calls]
    for expected in [
        ("StartBackupJob", r),
        ("DescribeBackupJob", r),
        ("StartCopyJob", r),
        ("DescribeCopyJob", r),
        ("CreateBackup", p),
        ("UpdateTable", p),
        ("DeleteTable", p),
        ("DescribeTable", p),
        ("StartRestoreJob", p),
        ("DescribeRestoreJob", p),
    ]:
        assert expected in where, expected
    assert where.index(("UpdateTable", p)) < where.index(("DeleteTable", p))
    assert where.index(("CreateBackup", p)) < where.index(("DeleteTable", p))
    assert "<" not in step.command


def test_retire_backs_up_the_rebuilt_database_before_its_stack_goes(
    synthesized: Synthesized,
) -> None:
    """The next failover restores the newest RDS recovery point in R's copies vault; without
    a backup of the rebuilt database there, that is from before this event until P's next
    backup is copied to R (fifth review, B1)."""
    (retire,) = [x for x in _failback(synthesized).steps if x.name == "retire-rebuild"]
    calls = aws_calls(retire.command)
    operations = [c.operation for c in calls]
    first = operations.index("StartBackupJob")
    assert first < operations.index("DescribeBackupJob") < operations.index("DeleteStack")
    assert ":db:drtiers-backup-restore-db --iam-role-arn" in retire.command
    assert "--backup-vault-name drtiers-backup-restore-copies" in retire.command
