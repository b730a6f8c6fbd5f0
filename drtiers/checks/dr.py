"""drtiers-dr: rules that check a synthesized tier against what the tier promises.

cdk-nag and CloudFormation Guard judge one resource at a time and do not look at global tables
or across regions. Each rule here is a small function over a tier's synthesized resources (all
its stacks and regions) and its catalogue entry, in the shape of a cdk-nag rule: it returns
None when it does not apply, else the list of violations (empty: compliant).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drtiers.assembly.reader import Resource, TierAssembly, read_assembly
from drtiers.constructs.accelerator import GLOBAL_ACCELERATOR_ZONE_ID
from drtiers.core.tiers import TIERS, EntryPoint, RecoveryCompute, RecoveryDatabase, TierSpec

PACK = "drtiers-dr"
KEEPING = ("Retain", "Snapshot")
STATEFUL = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
        "AWS::RDS::GlobalCluster",
        "AWS::DynamoDB::GlobalTable",
        "AWS::DynamoDB::Table",
        "AWS::SQS::Queue",
        "AWS::KMS::Key",
        "AWS::Backup::BackupVault",
        "AWS::SecretsManager::Secret",
        "AWS::S3::Bucket",
    }
)


@dataclass(frozen=True)
class Violation:
    resource: Resource | None  # None: something the tier should have is missing
    detail: str


Check = Callable[[TierAssembly, TierSpec], "list[Violation] | None"]


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    fix: str
    check: Check


@dataclass(frozen=True)
class Finding:
    rule: Rule
    tier: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{PACK}: {self.rule.id} on {self.where}: {self.detail}. Fix: {self.rule.fix}"


def _in(tier: TierAssembly, type_: str, region: str) -> list[Resource]:
    return [r for r in tier.of_type(type_) if r.region == region]


def _enabled(value: object) -> bool:
    return value is True or value == "true"


# --- the rules ------------------------------------------------------------------------------


def table_replicas_keep_data(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    tables = tier.of_type("AWS::DynamoDB::GlobalTable") + tier.of_type("AWS::DynamoDB::Table")
    if not tables:
        return None
    found = []
    for table in tables:
        replicas = table.prop("Replicas", default=[table.properties])
        for replica in replicas:
            where = replica.get("Region", table.region)
            pitr = replica.get("PointInTimeRecoverySpecification", {})
            if not _enabled(pitr.get("PointInTimeRecoveryEnabled")):
                found.append(
                    Violation(table, f"the replica in {where} has no point-in-time recovery")
                )
            if not tier.sandbox and not _enabled(replica.get("DeletionProtectionEnabled")):
                found.append(Violation(table, f"the replica in {where} has no deletion protection"))
    return found


def table_replicated_to_recovery(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if not spec.table_replica_in_recovery:
        return None
    found = []
    for table in tier.of_type("AWS::DynamoDB::GlobalTable"):
        regions = {r.get("Region") for r in table.prop("Replicas", default=[])}
        if tier.recovery_region not in regions:
            found.append(Violation(table, f"no replica in {tier.recovery_region}"))
    found += [
        Violation(t, "a single-region table cannot replicate")
        for t in tier.of_type("AWS::DynamoDB::Table")
    ]
    if not tier.of_type("AWS::DynamoDB::GlobalTable"):
        found.append(Violation(None, "no global table"))
    return found


def backups_copied_out(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    plans = tier.of_type("AWS::Backup::BackupPlan")
    if not plans:
        return [Violation(None, "no AWS Backup plan")]
    marker = f":backup:{tier.recovery_region}:"
    found = []
    for plan in plans:
        for rule in plan.prop("BackupPlan", "BackupPlanRule", default=[]):
            copies = [
                c
                for c in rule.get("CopyActions", [])
                if marker in str(c.get("DestinationBackupVaultArn"))
            ]
            if not copies:
                found.append(
                    Violation(
                        plan,
                        f"rule {rule.get('RuleName')} keeps its recovery "
                        f"points in {plan.region} only",
                    )
                )
    return found


def stateful_resources_retained(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if tier.sandbox:
        return None
    return [
        Violation(
            r,
            f"{r.type} has DeletionPolicy {r.deletion_policy} and UpdateReplacePolicy "
            f"{r.update_replace_policy}",
        )
        for r in tier.resources
        if r.type in STATEFUL
        and not r.prop("DBClusterIdentifier")  # Aurora members: the cluster holds the data
        and (r.deletion_policy not in KEEPING or r.update_replace_policy not in KEEPING)
    ]


def failover_records(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if spec.entry_point is not EntryPoint.DNS_FAILOVER:
        return None
    records = tier.of_type("AWS::Route53::RecordSet")
    primary = [r for r in records if r.prop("Failover") == "PRIMARY"]
    secondary = [r for r in records if r.prop("Failover") == "SECONDARY"]
    found = [
        Violation(r, "the PRIMARY record has no health check")
        for r in primary
        if not r.prop("HealthCheckId")
    ]
    if not primary:
        found.append(Violation(None, "no PRIMARY failover record"))
    if not secondary:
        found.append(Violation(None, "no SECONDARY failover record"))
    return found


def accelerator_serves_both(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if spec.entry_point is not EntryPoint.ACCELERATOR:
        return None
    groups = tier.of_type("AWS::GlobalAccelerator::EndpointGroup")
    regions = {g.prop("EndpointGroupRegion") for g in groups}
    # A rebuilt tier (backup-restore) adds the recovery region's group when it is rebuilt.
    serving = (
        (tier.primary_region, tier.recovery_region)
        if spec.has_recovery_stack
        else (tier.primary_region,)
    )
    found = [
        Violation(None, f"no endpoint group in {region}")
        for region in serving
        if region not in regions
    ]
    found += [
        Violation(g, f"traffic dial {g.prop('TrafficDialPercentage')} % takes no traffic")
        for g in groups
        if g.prop("TrafficDialPercentage", default=100) == 0
    ]
    return found


def recovery_capacity(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    services = {s.region: s for s in tier.of_type("AWS::ECS::Service")}
    primary, recovery = services.get(tier.primary_region), services.get(tier.recovery_region)
    if spec.recovery_compute is RecoveryCompute.ABSENT:
        return [Violation(recovery, "a service runs in the recovery region")] if recovery else []
    if primary is None or recovery is None:
        return [Violation(None, "no service in the primary or the recovery region")]
    full = int(primary.prop("DesiredCount", default=1))
    count = int(recovery.prop("DesiredCount", default=1))
    if tier.failed_over:  # deployed during an event: full capacity whatever the tier
        return [] if count == full else [Violation(recovery, f"{count} tasks failed over")]
    expected = {
        RecoveryCompute.ZERO: (count == 0, "0"),
        RecoveryCompute.REDUCED: (0 < count < full, f"above 0 and below the primary's {full}"),
        RecoveryCompute.FULL: (count == full, f"the primary's {full}"),
    }[spec.recovery_compute]
    if expected[0]:
        return []
    return [Violation(recovery, f"{count} tasks where the tier promises {expected[1]}")]


def queues_have_dead_letters(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    queues = tier.of_type("AWS::SQS::Queue")
    if not queues:
        return None
    dead_letter_ids = set()
    found = []
    for queue in queues:
        redrive = queue.prop("RedrivePolicy")
        if not redrive:
            continue
        target = redrive.get("deadLetterTargetArn", {})
        dlq_id = target.get("Fn::GetAtt", [None])[0] if isinstance(target, dict) else None
        dead_letter_ids.add((queue.stack, dlq_id))
        dlq = tier.by_id(queue.stack, dlq_id) if dlq_id else None
        source_days = queue.prop("MessageRetentionPeriod", default=345600)
        if dlq is None or dlq.prop("MessageRetentionPeriod", default=345600) <= source_days:
            found.append(
                Violation(
                    queue, "its dead-letter queue does not keep messages longer than the queue does"
                )
            )
    found += [
        Violation(q, "no dead-letter queue")
        for q in queues
        if not q.prop("RedrivePolicy") and (q.stack, q.logical_id) not in dead_letter_ids
    ]
    return found


def aurora_secondary_joined(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if spec.recovery_database is not RecoveryDatabase.AURORA_SECONDARY:
        return None
    if not _in(tier, "AWS::RDS::DBCluster", tier.primary_region):
        return None  # the workload has no relational database
    global_ids = {
        g.prop("GlobalClusterIdentifier") for g in tier.of_type("AWS::RDS::GlobalCluster")
    }
    secondaries = _in(tier, "AWS::RDS::DBCluster", tier.recovery_region)
    if not secondaries:
        return [Violation(None, f"no Aurora cluster in {tier.recovery_region}")]
    primaries = _in(tier, "AWS::RDS::DBCluster", tier.primary_region)
    found = []
    for cluster in secondaries:
        if cluster.prop("GlobalClusterIdentifier") not in global_ids:
            found.append(Violation(cluster, "not joined to the primary's global cluster"))
        # A secondary runs the primary's engine and version (Aurora PostgreSQL or Aurora MySQL),
        # as the templates say; another would fail to join.
        ours = (cluster.prop("Engine"), cluster.prop("EngineVersion"))
        theirs = {(c.prop("Engine"), c.prop("EngineVersion")) for c in primaries}
        if theirs and ours not in theirs:
            found.append(
                Violation(
                    cluster,
                    f"runs {' '.join(map(str, ours))}, the primary "
                    f"{', '.join(' '.join(map(str, t)) for t in sorted(theirs, key=str))}",
                )
            )
        own = [
            p
            for p in ("MasterUsername", "MasterUserPassword", "ManageMasterUserPassword")
            if cluster.prop(p) is not None
        ]
        if own:
            found.append(Violation(cluster, f"has credentials of its own ({', '.join(own)})"))
    return found


def failover_is_data_plane(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if not spec.has_recovery_stack:
        return None  # backup-restore: redeploying is the plan
    found = [
        Violation(
            g,
            f"traffic dial at {g.prop('TrafficDialPercentage')} %: failing over would "
            "need a dial change, a control-plane call served only from us-west-2",
        )
        for g in tier.of_type("AWS::GlobalAccelerator::EndpointGroup")
        if g.prop("TrafficDialPercentage", default=100) != 100
    ]
    found += [
        Violation(
            r,
            "a plain record: failing over would need a Route 53 record change, a "
            "control-plane call",
        )
        for r in tier.of_type("AWS::Route53::RecordSet")
        if not r.prop("Failover")
        # an alias to the accelerator is fine: the accelerator fails over by itself
        and r.prop("AliasTarget", "HostedZoneId") != GLOBAL_ACCELERATOR_ZONE_ID
    ]
    health_checked = any(r.prop("HealthCheckId") for r in tier.of_type("AWS::Route53::RecordSet"))
    routing_controls = tier.of_type("AWS::Route53RecoveryControl::RoutingControl")
    accelerated = tier.of_type("AWS::GlobalAccelerator::EndpointGroup")
    if not (health_checked or routing_controls or accelerated):
        found.append(
            Violation(
                None,
                "no health check, routing control or accelerator moves "
                "traffic to the recovery region",
            )
        )
    return found


def drills_rehearse_what_they_claim(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    from drtiers.checks.drills import drill_findings

    if not tier.of_type("AWS::FIS::ExperimentTemplate"):
        return None
    return [Violation(template, problem) for template, problem in drill_findings(tier)]


RULES: tuple[Rule, ...] = (
    Rule(
        "DR-TablePitrProtection",
        "PITR and deletion protection on every table replica",
        "turn on point-in-time recovery and deletion protection on every replica",
        table_replicas_keep_data,
    ),
    Rule(
        "DR-TableReplicaInRecovery",
        "a replica of every table in the recovery region",
        "add a replica in the recovery region to each global table",
        table_replicated_to_recovery,
    ),
    Rule(
        "DR-BackupCopiedOut",
        "every backup rule copies to a vault in the recovery region",
        "add a copy action to the recovery region's vault to every backup plan rule",
        backups_copied_out,
    ),
    Rule(
        "DR-StatefulRetained",
        "stateful resources keep their data when deleted or replaced",
        "set RemovalPolicy RETAIN or SNAPSHOT (both DeletionPolicy and UpdateReplacePolicy)",
        stateful_resources_retained,
    ),
    Rule(
        "DR-FailoverRecords",
        "a health-checked PRIMARY and a SECONDARY failover record",
        "give the PRIMARY record a health check and add a SECONDARY record to the recovery region",
        failover_records,
    ),
    Rule(
        "DR-AcceleratorBothRegions",
        "an endpoint group per region, each taking traffic",
        "add an endpoint group for each region with a traffic dial above 0",
        accelerator_serves_both,
    ),
    Rule(
        "DR-RecoveryCapacity",
        "recovery-region capacity matches the tier",
        "set the recovery service's desired count to what the tier promises",
        recovery_capacity,
    ),
    Rule(
        "DR-DeadLetterQueues",
        "every queue has a longer-lived dead-letter queue",
        "give the queue a dead-letter queue whose retention is longer than its own",
        queues_have_dead_letters,
    ),
    Rule(
        "DR-AuroraSecondary",
        "the Aurora secondary joins the global cluster, no credentials",
        "set GlobalClusterIdentifier to the primary's global cluster and remove credentials",
        aurora_secondary_joined,
    ),
    Rule(
        "DR-DataPlaneFailover",
        "failover needs data-plane operations only",
        "fail over with Route 53 health checks, ARC routing controls or accelerator endpoint "
        "health, with every traffic dial at 100 %",
        failover_is_data_plane,
    ),
    Rule(
        "DR-DrillsRehearse",
        "every drill rehearses the failover steps it names, for long enough",
        "name only steps of the tier's failover list that the fault alone brings about, and "
        "hold the fault at least twice as long as they take (drtiers/checks/drills.py)",
        drills_rehearse_what_they_claim,
    ),
)


def check_tier(tier: TierAssembly, rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """Every violation of ``rules`` in one synthesized tier."""
    spec = TIERS.get(tier.tier)
    if spec is None:
        return [Finding(RULES[0], tier.tier, tier.tier, "not a tier drtiers knows")]
    findings = []
    for rule in rules:
        for violation in rule.check(tier, spec) or []:
            where = (
                f"{violation.resource.stack}/{violation.resource.logical_id}"
                if violation.resource
                else f"tier {tier.tier}"
            )
            findings.append(Finding(rule, tier.tier, where, violation.detail))
    return findings


def dr_findings(directory: Path) -> list[Finding]:
    """Every drtiers-dr violation in a cloud assembly, tier by tier."""
    return [f for tier in read_assembly(directory).values() for f in check_tier(tier)]
