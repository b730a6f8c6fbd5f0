"""Defects the recovery checks see by AWS's own behaviour (issue 17): scaling floors, what the
rebuild runs on, alarms' metrics, health-check paths, the approval role and replication
membership. Each test plants one mutant (drtiers.checks.mutants) in a copy of the session's
assembly and asserts the invariant or rule that sees it, on the model alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from drtiers.assembly.deployment import after_deploying
from drtiers.assembly.reader import TierAssembly, copy_assembly, read_assembly
from drtiers.assembly.world import World
from drtiers.build import synthesize
from drtiers.checks.dr import check_tier
from drtiers.checks.mutants import MUTANTS, plant
from drtiers.core import rules
from drtiers.core.facts import with_overrides
from drtiers.core.metrics import emits
from drtiers.recovery import simulate_assembly
from drtiers.recovery.simulate import Simulation, simulate
from tests.conftest import Synthesized, context


def planted(synthesized: Synthesized, tmp_path: Path, mutant_id: str) -> TierAssembly:
    """The mutant's tier, read from a copy of the session's assembly with the defect planted."""
    (mutant,) = [m for m in MUTANTS if m.id == mutant_id]
    directory = copy_assembly(synthesized.directory, tmp_path / mutant_id)
    plant(mutant, directory)
    return read_assembly(directory)[mutant.tier]


def no_deploy(_: Mapping[str, str], __: tuple[str, ...]) -> World:
    raise AssertionError("a tier with a plan deploys no stack to fail over")


def region_loss(tier: TierAssembly) -> Simulation:
    figures, workload = with_overrides(tier.figures)
    loss, _ = simulate(tier, figures, workload, no_deploy)
    return loss


def rule_ids(tier: TierAssembly) -> set[str]:
    return {finding.rule.id for finding in check_tier(tier)}


# --- scaling floors -----------------------------------------------------------------------------


def test_a_scaling_policy_scales_in_to_the_minimum() -> None:
    assert rules.idle_task_count(desired=2, min_capacity=0, scaling_policy=True) == 0
    assert rules.idle_task_count(desired=2, min_capacity=0, scaling_policy=False) == 2


def test_i3_a_warm_standby_whose_floor_lets_target_tracking_drain_it(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    loss = region_loss(planted(synthesized, tmp_path, "scale-floor-zero-ws"))
    (standby,) = [v for v in loss.violations if v.step == "standby"]
    assert standby.invariant == "I3"
    assert "R's warm standby" in standby.detail and "scales it in to 0" in standby.detail
    assert not [v for v in region_loss(synthesized.read("warm-standby")).violations]


def test_dr_scaling_floor_sees_the_primary_a_rebuild_deploys_from_code(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    assert "DR-ScalingFloor" in rule_ids(planted(synthesized, tmp_path, "scale-floor-zero-br"))
    for tier in ("backup-restore", "pilot-light", "warm-standby", "multi-site"):
        assert "DR-ScalingFloor" not in rule_ids(synthesized.read(tier)), tier


# --- the rebuild, on the stacks as deployed -----------------------------------------------------


def test_a_rebuilt_primary_assumes_the_rebuild_roles_as_deployed(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """The rebuild deploys the primary stack only: its tasks assume recovery-base's role by
    name, as that stack was deployed before the event, whatever a fresh synthesis makes."""
    (mutant,) = [m for m in MUTANTS if m.id == "iam-rebuild-task-no-connect-br"]
    directory = copy_assembly(synthesized.directory, tmp_path / mutant.id)
    plant(mutant, directory)
    ((loss, _),) = simulate_assembly(directory, context(), synthesize, tier=mutant.tier)
    i1 = [v for v in loss.violations if v.invariant == "I1"]
    assert i1 and all("no rds-db:connect" in v.detail for v in i1), loss.violations


def test_a_deployment_replaces_only_the_stacks_it_deploys(synthesized: Synthesized) -> None:
    before = synthesized.read("pilot-light")
    fresh = synthesized.read("multi-site")  # another tier's stacks stand in for a new synthesis
    recovery = next(n for n, (role, _) in before.stacks.items() if role == "recovery")
    region = before.stacks[recovery][1]
    renamed = TierAssembly(
        fresh.name,
        stacks={recovery: fresh.stacks[recovery.replace("pilot-light", "multi-site")]},
        resources=[
            replace(r, stack=recovery)
            for r in fresh.resources
            if r.stack == recovery.replace("pilot-light", "multi-site")
        ],
    )
    after = after_deploying(before, renamed, (f"{region}:{recovery}",))
    assert set(after.stacks) == set(before.stacks)
    ours = [r for r in after.resources if r.stack == recovery]
    assert ours and all(r in renamed.resources for r in ours)
    assert [r for r in after.resources if r.stack != recovery] == [
        r for r in before.resources if r.stack != recovery
    ]


# --- the approval role --------------------------------------------------------------------------


def test_i7_an_approval_nobody_can_assume_approves_nothing(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    loss = region_loss(planted(synthesized, tmp_path, "plan-approver-typo-ws"))
    i7 = [v for v in loss.violations if v.invariant == "I7"]
    assert i7 and all("nobody can approve" in v.detail for v in i7)
    assert "-plan-aprover" in i7[0].detail
    assert rules.approval_can_be_given(role_is_the_tiers=True)


# --- replication membership, alarms and health checks, by rule -----------------------------------


def test_dr_rules_see_what_recovery_loses(synthesized: Synthesized, tmp_path: Path) -> None:
    """Each defect is seen by its rule, and the rule finds nothing on the tiers as built."""
    seen_by = {
        "repl-not-replica-pl": "DR-RdsReplicaOfPrimary",
        "repl-secret-no-r-ws": "DR-AdminSecretInRecovery",
        "check-path-ws": "DR-HealthCheckPath",
        "alarm-lag-dimension-pl": "DR-AlarmMetricDimensions",
    }
    for mutant_id, rule in seen_by.items():
        assert rule in rule_ids(planted(synthesized, tmp_path, mutant_id)), mutant_id
    for tier in ("backup-restore", "pilot-light", "warm-standby", "multi-site"):
        assert not rule_ids(synthesized.read(tier)) & set(seen_by.values()), tier


def test_a_replica_alarm_on_the_cluster_dimension_watches_no_metric() -> None:
    assert emits("AWS/RDS", "ReplicaLag", frozenset({"DBInstanceIdentifier"}))
    assert not emits("AWS/RDS", "ReplicaLag", frozenset({"DBClusterIdentifier"}))
    assert emits("drtiers", "RecoveryWritable", frozenset({"Tier"}))  # not AWS's: not judged
