"""drtiers-dr: each rule passes the real tiers and catches a tier broken on purpose."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk import CfnResource

from drtiers.assembly.reader import copy_assembly, edit_template, read_assembly
from drtiers.checks.dr import RULES, Rule, check_tier
from drtiers.checks.mutants import DELETE, Edit, delete_policy, prefix, set_path
from drtiers.core.tiers import TIERS
from tests.conftest import Synthesized, context, main_as_the_cli

RULE = {rule.id: rule for rule in RULES}


def broken(synthesized: Synthesized, stack: str, edit: Edit, rule: Rule, folder: Path) -> list[str]:
    """``rule``'s findings on a copy of the session's synthesis with one resource of ``stack``
    broken by ``edit``, as an escape hatch writes it into the template (a synthesis of the
    broken tree took ~0.6 s; the `cdk synth` cases below break the tree itself)."""
    directory = copy_assembly(synthesized.directory, folder / "assembly")
    edit_template(directory, stack, edit)
    tier = next(t for t in TIERS if stack.startswith(f"drtiers-{t}-"))
    return [str(f) for f in check_tier(read_assembly(directory)[tier], (rule,))]


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
    ("rule_id", "stack", "edit", "message"),
    [
        (
            "DR-TablePitrProtection",
            "drtiers-warm-standby-primary",
            set_path(
                "AWS::DynamoDB::GlobalTable",
                prefix("Table710B521B"),
                ("Replicas", 0, "PointInTimeRecoverySpecification", "PointInTimeRecoveryEnabled"),
                False,
            ),
            "drtiers-dr: DR-TablePitrProtection on drtiers-warm-standby-primary/Table710B521B: "
            "the replica in us-west-2 has no point-in-time recovery. Fix: turn on point-in-time "
            "recovery and deletion protection on every replica",
        ),
        (
            "DR-TablePitrProtection",
            "drtiers-pilot-light-primary",
            set_path(
                "AWS::DynamoDB::GlobalTable",
                prefix("Table710B521B"),
                ("Replicas", 1, "DeletionProtectionEnabled"),
                False,
            ),
            "drtiers-dr: DR-TablePitrProtection on drtiers-pilot-light-primary/Table710B521B: "
            "the replica in us-east-1 has no deletion protection.",
        ),
        (
            "DR-TableReplicaInRecovery",
            "drtiers-pilot-light-primary",
            set_path(
                "AWS::DynamoDB::GlobalTable", prefix("Table710B521B"), ("Replicas", 0), DELETE
            ),
            "drtiers-dr: DR-TableReplicaInRecovery on "
            "drtiers-pilot-light-primary/Table710B521B: no replica in us-west-2.",
        ),
        (
            "DR-BackupCopiedOut",
            "drtiers-backup-restore-primary",
            set_path(
                "AWS::Backup::BackupPlan",
                prefix("BackupPlan14914BEB"),
                ("BackupPlan", "BackupPlanRule", 0, "CopyActions"),
                DELETE,
            ),
            "drtiers-dr: DR-BackupCopiedOut on "
            "drtiers-backup-restore-primary/BackupPlan14914BEB: rule Every4hWithCrossRegionCopy "
            "keeps its recovery points in us-east-1 only.",
        ),
        (
            "DR-StatefulRetained",
            "drtiers-pilot-light-recovery",
            delete_policy("AWS::SQS::Queue", prefix("WorkQueue1CAC4D2F")),
            "drtiers-dr: DR-StatefulRetained on drtiers-pilot-light-recovery/WorkQueue1CAC4D2F: "
            "AWS::SQS::Queue has DeletionPolicy Delete and UpdateReplacePolicy Delete.",
        ),
        (
            "DR-FailoverRecords",
            "drtiers-warm-standby-edge",
            set_path(
                "AWS::Route53::RecordSet",
                prefix("EntryPrimaryB706864C"),
                ("HealthCheckId",),
                DELETE,
            ),
            "drtiers-dr: DR-FailoverRecords on drtiers-warm-standby-edge/EntryPrimaryB706864C: "
            "the PRIMARY record has no health check.",
        ),
        (
            "DR-AcceleratorBothRegions",
            "drtiers-multi-site-edge",
            set_path(
                "AWS::GlobalAccelerator::EndpointGroup",
                prefix("RecoveryGroupC106E8B0"),
                ("TrafficDialPercentage",),
                0,
            ),
            "drtiers-dr: DR-AcceleratorBothRegions on "
            "drtiers-multi-site-edge/RecoveryGroupC106E8B0: traffic dial 0 % takes no traffic.",
        ),
        (
            "DR-RecoveryCapacity",
            "drtiers-pilot-light-recovery",
            set_path("AWS::ECS::Service", prefix("AppService606B9134"), ("DesiredCount",), 1),
            "drtiers-dr: DR-RecoveryCapacity on "
            "drtiers-pilot-light-recovery/AppService606B9134: 1 tasks where the tier promises "
            "0.",
        ),
        (
            "DR-RecoveryCapacity",
            "drtiers-warm-standby-recovery",
            set_path("AWS::ECS::Service", prefix("AppService606B9134"), ("DesiredCount",), 2),
            "drtiers-dr: DR-RecoveryCapacity on "
            "drtiers-warm-standby-recovery/AppService606B9134: 2 tasks where the tier promises "
            "above 0 and below the primary's 2.",
        ),
        (
            "DR-DeadLetterQueues",
            "drtiers-warm-standby-primary",
            set_path("AWS::SQS::Queue", prefix("WorkQueue1CAC4D2F"), ("RedrivePolicy",), DELETE),
            "drtiers-dr: DR-DeadLetterQueues on drtiers-warm-standby-primary/WorkQueue1CAC4D2F: "
            "no dead-letter queue.",
        ),
        (
            "DR-DeadLetterQueues",
            "drtiers-pilot-light-primary",
            set_path(
                "AWS::SQS::Queue",
                prefix("WorkDeadLetters7D6F983C"),
                ("MessageRetentionPeriod",),
                60,
            ),
            "drtiers-dr: DR-DeadLetterQueues on drtiers-pilot-light-primary/WorkQueue1CAC4D2F: "
            "its dead-letter queue does not keep messages longer than the queue does.",
        ),
        (
            "DR-AuroraSecondary",
            "drtiers-multi-site-recovery",
            set_path(
                "AWS::RDS::DBCluster",
                prefix("DatabaseClusterC6094C50"),
                ("MasterUsername",),
                "admin",
            ),
            "drtiers-dr: DR-AuroraSecondary on "
            "drtiers-multi-site-recovery/DatabaseClusterC6094C50: has credentials of its own "
            "(MasterUsername).",
        ),
        (
            "DR-AuroraSecondary",
            "drtiers-warm-standby-recovery",
            set_path(
                "AWS::RDS::DBCluster",
                prefix("DatabaseClusterC6094C50"),
                ("GlobalClusterIdentifier",),
                "someone-else",
            ),
            "drtiers-dr: DR-AuroraSecondary on "
            "drtiers-warm-standby-recovery/DatabaseClusterC6094C50: not joined to the primary's "
            "global cluster.",
        ),
        (
            "DR-OwnMetricsHeard",
            "drtiers-warm-standby-recovery",
            set_path(
                "AWS::CloudWatch::Alarm",
                prefix("AlarmsDatabaseWritable"),
                ("Dimensions", 0),
                DELETE,
            ),
            "drtiers-dr: DR-OwnMetricsHeard on "
            "drtiers-warm-standby-recovery/AlarmsDatabaseWritable29621C2E: reads RecoveryWritable "
            "with {'Tier': 'warm-standby'}, not the app's and tier's {'App': 'drtiers', 'Tier': "
            "'warm-standby'}.",
        ),
        (
            "DR-OwnMetricsHeard",
            "drtiers-multi-site-recovery",
            set_path(
                "AWS::Events::Rule",
                prefix("PlanActionsProbeSchedule"),
                ("Targets", 0, "Input"),
                '{"action":"probe","region":"us-east-1","cluster":"drtiers-multi-site-primary",'
                '"service":"drtiers-multi-site-service","namespace":"drtiers","metric":'
                '"PrimaryHealthyTargets","dimensions":{"Tier":"multi-site"},"every":10}',
            ),
            "drtiers-dr: DR-OwnMetricsHeard on "
            "drtiers-multi-site-recovery/AlarmsPrimaryDown344E904A: no probe in us-west-2 puts "
            "PrimaryHealthyTargets with {'App': 'drtiers', 'Tier': 'multi-site'}.",
        ),
        (
            "DR-DataPlaneFailover",
            "drtiers-multi-site-edge",
            set_path(
                "AWS::GlobalAccelerator::EndpointGroup",
                prefix("RecoveryGroupC106E8B0"),
                ("TrafficDialPercentage",),
                0,
            ),
            "drtiers-dr: DR-DataPlaneFailover on drtiers-multi-site-edge/RecoveryGroupC106E8B0: "
            "traffic dial at 0 %: failing over would need a dial change, a control-plane call "
            "served only from us-west-2.",
        ),
    ],
)
def test_a_broken_tier_is_caught_with_the_rule_resource_and_fix(
    synthesized: Synthesized,
    tmp_path: Path,
    rule_id: str,
    stack: str,
    edit: Edit,
    message: str,
) -> None:
    findings = broken(synthesized, stack, edit, RULE[rule_id], tmp_path)
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
