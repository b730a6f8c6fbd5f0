"""drtiers-dr: each rule passes the real tiers and catches a construct tree broken on purpose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import CfnResource, RemovalPolicy
from constructs import IConstruct

from drtiers.assembly.reader import read_assembly
from drtiers.build import TierStacks, compose
from drtiers.checks.dr import RULES, Rule, check_tier
from drtiers.config.context import from_context
from tests.conftest import Synthesized, context, main_as_the_cli

RULE = {rule.id: rule for rule in RULES}


def child(scope: IConstruct, *path: str) -> CfnResource:
    """The L1 resource at ``path`` below ``scope`` (an escape hatch to break a tier)."""
    node = scope
    for name in path:
        node = node.node.find_child(name)
    resource = node if isinstance(node, CfnResource) else node.node.default_child
    assert isinstance(resource, CfnResource), path
    return resource


def broken(
    tier: str, mutate: Callable[[TierStacks], None], rule: Rule, tmp_path: Path, **overrides: object
) -> list[str]:
    """Compose ``tier``, break it with ``mutate``, synthesize, and run one rule."""
    app = cdk.App(
        outdir=str(tmp_path),
        context=context(tier=tier, **overrides),
        builtin_cloud_formation_validation=False,
    )
    (stacks,) = compose(app, from_context(app.node.try_get_context))
    mutate(stacks)
    app.synth()
    return [str(f) for f in check_tier(read_assembly(tmp_path)[tier], (rule,))]


def test_every_tier_passes_every_rule(synthesized: Synthesized) -> None:
    tiers = read_assembly(Path(synthesized.assembly.directory))
    assert sorted(tiers) == ["backup-restore", "multi-site", "pilot-light", "warm-standby"]
    for tier in tiers.values():
        assert check_tier(tier) == []


def test_sandbox_tiers_pass_too(sandbox: Synthesized) -> None:
    for tier in read_assembly(Path(sandbox.assembly.directory)).values():
        assert tier.sandbox
        assert check_tier(tier) == []


def test_rules_that_do_not_apply_say_so(synthesized: Synthesized) -> None:
    tiers = read_assembly(Path(synthesized.assembly.directory))
    from drtiers.core.tiers import TIERS

    backup = tiers["backup-restore"]
    spec = TIERS["backup-restore"]
    # backup-restore enters through the accelerator too, with P's group only until a rebuild.
    assert RULE["DR-AcceleratorBothRegions"].check(backup, spec) == []
    for rule_id in (
        "DR-TableReplicaInRecovery",
        "DR-FailoverRecords",
        "DR-AuroraSecondary",
        "DR-DataPlaneFailover",
    ):
        assert RULE[rule_id].check(backup, spec) is None, rule_id


@pytest.mark.parametrize(
    ("rule_id", "tier", "mutate", "message"),
    [
        (
            "DR-TablePitrProtection",
            "warm-standby",
            lambda s: child(s.primary, "Table", "Table").add_property_override(
                "Replicas.0.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled", False
            ),
            "drtiers-dr: DR-TablePitrProtection on drtiers-warm-standby-primary/Table710B521B: the "
            "replica in us-west-2 has no point-in-time recovery. Fix: turn on point-in-time "
            "recovery and deletion protection on every replica",
        ),
        (
            "DR-TablePitrProtection",
            "pilot-light",
            lambda s: child(s.primary, "Table", "Table").add_property_override(
                "Replicas.1.DeletionProtectionEnabled", False
            ),
            "drtiers-dr: DR-TablePitrProtection on drtiers-pilot-light-primary/Table710B521B: the "
            "replica in us-east-1 has no deletion protection.",
        ),
        (
            "DR-TableReplicaInRecovery",
            "pilot-light",
            lambda s: child(s.primary, "Table", "Table").add_property_deletion_override(
                "Replicas.0"
            ),
            "drtiers-dr: DR-TableReplicaInRecovery on drtiers-pilot-light-primary/Table710B521B: "
            "no replica in us-west-2.",
        ),
        (
            "DR-BackupCopiedOut",
            "backup-restore",
            lambda s: child(s.primary, "Backup", "Plan").add_property_deletion_override(
                "BackupPlan.BackupPlanRule.0.CopyActions"
            ),
            "drtiers-dr: DR-BackupCopiedOut on drtiers-backup-restore-primary/BackupPlan14914BEB: "
            "rule Every4hWithCrossRegionCopy keeps its recovery points in us-east-1 only.",
        ),
        (
            "DR-StatefulRetained",
            "pilot-light",
            lambda s: child(s.recovery, "Work", "Queue").apply_removal_policy(
                RemovalPolicy.DESTROY
            ),
            "drtiers-dr: DR-StatefulRetained on drtiers-pilot-light-recovery/WorkQueue1CAC4D2F: "
            "AWS::SQS::Queue has DeletionPolicy Delete and UpdateReplacePolicy Delete.",
        ),
        (
            "DR-FailoverRecords",
            "warm-standby",
            lambda s: child(s.edge, "Entry", "Primary").add_property_deletion_override(
                "HealthCheckId"
            ),
            "drtiers-dr: DR-FailoverRecords on drtiers-warm-standby-edge/EntryPrimaryB706864C: the "
            "PRIMARY record has no health check.",
        ),
        (
            "DR-AcceleratorBothRegions",
            "multi-site",
            lambda s: child(s.edge, "RecoveryGroup", "Group").add_property_override(
                "TrafficDialPercentage", 0
            ),
            "drtiers-dr: DR-AcceleratorBothRegions on "
            "drtiers-multi-site-edge/RecoveryGroupC106E8B0: traffic dial 0 % takes no traffic.",
        ),
        (
            "DR-RecoveryCapacity",
            "pilot-light",
            lambda s: child(s.recovery, "App", "Service").add_property_override("DesiredCount", 1),
            "drtiers-dr: DR-RecoveryCapacity on drtiers-pilot-light-recovery/AppService606B9134: "
            "1 tasks where the tier promises 0.",
        ),
        (
            "DR-RecoveryCapacity",
            "warm-standby",
            lambda s: child(s.recovery, "App", "Service").add_property_override("DesiredCount", 2),
            "drtiers-dr: DR-RecoveryCapacity on drtiers-warm-standby-recovery/AppService606B9134: "
            "2 tasks where the tier promises above 0 and below the primary's 2.",
        ),
        (
            "DR-DeadLetterQueues",
            "warm-standby",
            lambda s: child(s.primary, "Work", "Queue").add_property_deletion_override(
                "RedrivePolicy"
            ),
            "drtiers-dr: DR-DeadLetterQueues on drtiers-warm-standby-primary/WorkQueue1CAC4D2F: no "
            "dead-letter queue.",
        ),
        (
            "DR-DeadLetterQueues",
            "pilot-light",
            lambda s: child(s.primary, "Work", "DeadLetters").add_property_override(
                "MessageRetentionPeriod", 60
            ),
            "drtiers-dr: DR-DeadLetterQueues on drtiers-pilot-light-primary/WorkQueue1CAC4D2F: its "
            "dead-letter queue does not keep messages longer than the queue does.",
        ),
        (
            "DR-AuroraSecondary",
            "multi-site",
            lambda s: child(s.recovery, "Database", "Cluster").add_property_override(
                "MasterUsername", "admin"
            ),
            "drtiers-dr: DR-AuroraSecondary on drtiers-multi-site-recovery/"
            "DatabaseClusterC6094C50: has credentials of its own (MasterUsername).",
        ),
        (
            "DR-AuroraSecondary",
            "warm-standby",
            lambda s: child(s.recovery, "Database", "Cluster").add_property_override(
                "GlobalClusterIdentifier", "someone-else"
            ),
            "drtiers-dr: DR-AuroraSecondary on drtiers-warm-standby-recovery/"
            "DatabaseClusterC6094C50: not joined to the primary's global cluster.",
        ),
        (
            "DR-DataPlaneFailover",
            "multi-site",
            lambda s: child(s.edge, "RecoveryGroup", "Group").add_property_override(
                "TrafficDialPercentage", 0
            ),
            "drtiers-dr: DR-DataPlaneFailover on drtiers-multi-site-edge/"
            "RecoveryGroupC106E8B0: traffic dial at 0 %: failing over would need a dial change, "
            "a control-plane call served only from us-west-2.",
        ),
    ],
)
def test_a_broken_tier_is_caught_with_the_rule_resource_and_fix(
    tmp_path: Path, rule_id: str, tier: str, mutate: Callable[[TierStacks], None], message: str
) -> None:
    findings = broken(tier, mutate, RULE[rule_id], tmp_path)
    assert [f for f in findings if f.startswith(message)], findings
    assert all(f.startswith(f"drtiers-dr: {rule_id} on ") and "Fix: " in f for f in findings)


# The DR rule pack runs where `cdk synth` runs it (entry.main, after synthesis), on a tier
# broken by entry.main's customize hook; the CDK CLI's own part is tests/test_app.py's.
@pytest.mark.parametrize(
    ("tier", "stack", "path", "action", "message"),
    [
        (
            "pilot-light",
            "drtiers-pilot-light-recovery",
            ["App", "Service"],
            lambda resource: resource.add_property_override("DesiredCount", 1),
            "drtiers-dr: DR-RecoveryCapacity on drtiers-pilot-light-recovery/AppService606B9134: "
            "1 tasks where the tier promises 0. Fix: set the recovery service's desired count to "
            "what the tier promises",
        ),
        (
            "warm-standby",
            "drtiers-warm-standby-primary",
            ["Table", "Table"],
            lambda resource: resource.add_property_override(
                "Replicas.0.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled", False
            ),
            "drtiers-dr: DR-TablePitrProtection on drtiers-warm-standby-primary/Table710B521B: the "
            "replica in us-west-2 has no point-in-time recovery.",
        ),
    ],
)
def test_cdk_synth_of_a_broken_tier_fails_with_the_rule(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tier: str,
    stack: str,
    path: list[str],
    action: Callable[[CfnResource], None],
    message: str,
) -> None:
    def breaker(app: cdk.App) -> None:
        found = app.node.find_child(stack)
        for name in path:
            found = found.node.find_child(name)
        action(found.node.default_child or found)

    assert main_as_the_cli(monkeypatch, context(tier=tier), tmp_path, breaker) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.glob("*.template.json"))
