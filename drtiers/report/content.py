"""The facts a report shows, read from a tier's synthesized resources: inventory, a diagram,
and the failover and failback runbooks with the AWS CLI command for each step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drtiers.assess.assembly import Resource, TierAssembly
from drtiers.assess.durations import format_duration
from drtiers.assess.model import Estimate


@dataclass(frozen=True)
class InventoryRow:
    region: str
    stack: str
    logical_id: str
    type: str
    settings: str


@dataclass(frozen=True)
class RunbookStep:
    title: str
    plane: str  # "data plane" or "control plane (<region>)"
    command: str
    expected: str
    kind: str = ""  # the RTO step it is (detection, database promotion, compute, ...)
    drills: str = ""  # the fault-injection experiments that rehearse it


NO_PROMOTION_DRILL = (
    "none (FIS has no cross-region promotion: rehearse it on a copy, or with an Aurora planned "
    "switchover)"
)


def _with_drills(tier: TierAssembly, steps: list[RunbookStep]) -> list[RunbookStep]:
    """Name, on each step, the drills (drtiers:exercises tag) that rehearse it."""
    exercised: dict[str, list[str]] = {}
    for template in tier.of_type("AWS::FIS::ExperimentTemplate"):
        tags = template.prop("Tags", default={})
        for kind in tags.get("drtiers:exercises", "").split(","):
            exercised.setdefault(kind.strip(), []).append(tags.get("Name", template.logical_id))
    if exercised:
        exercised.setdefault("database promotion", [NO_PROMOTION_DRILL])
    return [
        RunbookStep(
            s.title,
            s.plane,
            s.command,
            s.expected,
            s.kind,
            ", ".join(sorted(exercised.get(s.kind, []))),
        )
        for s in steps
    ]


def _yes(value: object) -> str:
    return "yes" if value is True or value == "true" else "no"


def _pitr(replica: dict[str, Any]) -> object:
    return replica.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")


def _settings(r: Resource) -> str | None:
    """The DR-relevant settings of the resources a reviewer asks about; None for the rest."""
    p = r.prop
    if r.type == "AWS::RDS::DBInstance":
        if p("DBClusterIdentifier"):
            return f"Aurora member {p('DBInstanceClass')}"
        source = " (cross-region replica)" if p("SourceDBInstanceIdentifier") else ""
        return (
            f"{p('DBInstanceClass')}{source}, Multi-AZ {_yes(p('MultiAZ'))}, encrypted "
            f"{_yes(p('StorageEncrypted') or bool(p('KmsKeyId')))}, deletion protection "
            f"{_yes(p('DeletionProtection'))}, backups {p('BackupRetentionPeriod', default='-')} d"
        )
    if r.type == "AWS::RDS::DBCluster":
        joined = (
            f", global cluster {p('GlobalClusterIdentifier')}"
            if p("GlobalClusterIdentifier")
            else ""
        )
        return (
            f"Aurora {p('Engine', default='')}{joined}, encrypted "
            f"{_yes(p('StorageEncrypted'))}, deletion protection {_yes(p('DeletionProtection'))}"
            f", write forwarding {_yes(p('EnableGlobalWriteForwarding'))}"
        )
    if r.type == "AWS::RDS::GlobalCluster":
        return f"global cluster {p('GlobalClusterIdentifier')}"
    if r.type == "AWS::DynamoDB::GlobalTable":
        replicas = ", ".join(
            f"{x['Region']} (PITR {_yes(_pitr(x))}, deletion protection "
            f"{_yes(x.get('DeletionProtectionEnabled'))})"
            for x in p("Replicas", default=[])
        )
        return f"replicas: {replicas}"
    if r.type == "AWS::DAX::Cluster":
        return (
            f"{p('ReplicationFactor')} x {p('NodeType')}, encrypted "
            f"{_yes(p('SSESpecification', 'SSEEnabled'))}, endpoint "
            f"{p('ClusterEndpointEncryptionType', default='NONE')}"
        )
    if r.type == "AWS::SQS::Queue":
        days = int(p("MessageRetentionPeriod", default=345600)) // 86400
        role = "with dead-letter queue" if p("RedrivePolicy") else "queue"
        return f"{role}, retention {days} d, KMS {_yes(bool(p('KmsMasterKeyId')))}"
    if r.type == "AWS::ECS::Service":
        return f"desired tasks {p('DesiredCount', default=1)}"
    if r.type == "AWS::Backup::BackupPlan":
        rules = p("BackupPlan", "BackupPlanRule", default=[])
        return "; ".join(
            f"{x.get('ScheduleExpression')}, keep {x.get('Lifecycle', {}).get('DeleteAfterDays')} d"
            f", copies {len(x.get('CopyActions', []))}"
            for x in rules
        )
    if r.type == "AWS::Backup::BackupVault":
        return f"vault {p('BackupVaultName')}"
    if r.type in (
        "AWS::Route53::HealthCheck",
        "AWS::Route53::RecordSet",
        "AWS::GlobalAccelerator::EndpointGroup",
        "AWS::GlobalAccelerator::Accelerator",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        "AWS::RDS::DBProxy",
    ):
        if r.type == "AWS::Route53::RecordSet":
            return f"{p('Failover', default='simple')} {p('Type')} record {p('Name')}"
        if r.type == "AWS::GlobalAccelerator::EndpointGroup":
            return (
                f"{p('EndpointGroupRegion')}, dial {p('TrafficDialPercentage', default=100)} %"
                f", health check every {p('HealthCheckIntervalSeconds')} s"
            )
        if r.type == "AWS::Route53::HealthCheck":
            c = p("HealthCheckConfig", default={})
            return (
                f"{c.get('Type')} {c.get('ResourcePath')} every {c.get('RequestInterval')} s x "
                f"{c.get('FailureThreshold')}"
            )
        if r.type == "AWS::RDS::DBProxy":
            return (
                f"TLS required {_yes(p('RequireTLS'))}, authentication "
                f"{p('DefaultAuthScheme', default='secrets')} (end to end)"
            )
        return ""
    return None


def inventory(tier: TierAssembly) -> list[InventoryRow]:
    rows = []
    for r in tier.resources:
        settings = _settings(r)
        if settings is not None:
            rows.append(InventoryRow(r.region, r.stack, r.logical_id, r.type, settings))
    return sorted(rows, key=lambda x: (x.region, x.stack, x.type, x.logical_id))


def _physical(stack: str, region: str, logical_id: str) -> str:
    """A shell expression for a resource's physical id, looked up when the runbook runs."""
    return (
        f"$(aws cloudformation describe-stack-resource --region {region} --stack-name "
        f"{stack} --logical-resource-id {logical_id} --query "
        "StackResourceDetail.PhysicalResourceId --output text)"
    )


def _one(tier: TierAssembly, type_: str, region: str | None = None) -> Resource | None:
    return next((r for r in tier.of_type(type_) if region is None or r.region == region), None)


def _step_seconds(estimate: Estimate, name: str) -> str:
    for phase in estimate.rto_phases:
        for step in phase:
            if step.name == name:
                return format_duration(step.seconds)
    return "-"


def failover_runbook(tier: TierAssembly, estimate: Estimate) -> list[RunbookStep]:
    """Data-plane steps first, then the recovery region's own control plane."""
    p, r = tier.primary_region, tier.recovery_region
    steps: list[RunbookStep] = []
    check = _one(tier, "AWS::Route53::HealthCheck")
    groups = tier.of_type("AWS::GlobalAccelerator::EndpointGroup")
    if check is not None:
        steps.append(
            RunbookStep(
                "Route 53 sees the primary unhealthy and answers with the SECONDARY record "
                "(automatic). Confirm:",
                "data plane",
                "aws route53 get-health-check-status --health-check-id "
                + _physical(check.stack, check.region, check.logical_id),
                _step_seconds(estimate, "detection")
                + " + DNS TTL "
                + _step_seconds(estimate, "traffic shift"),
                kind="detection",
            )
        )
    elif groups:
        group = next(g for g in groups if g.region == r)
        steps.append(
            RunbookStep(
                "The accelerator stops sending new connections to the unhealthy endpoint group "
                "(automatic; leave the traffic dials alone). Confirm:",
                "data plane",
                "aws globalaccelerator describe-endpoint-group --region us-west-2 "
                "--endpoint-group-arn " + _physical(group.stack, group.region, group.logical_id),
                _step_seconds(estimate, "detection"),
                kind="detection",
            )
        )
    secondary = _one(tier, "AWS::RDS::DBCluster", r)
    replica = next(
        (
            i
            for i in tier.of_type("AWS::RDS::DBInstance")
            if i.region == r and i.prop("SourceDBInstanceIdentifier")
        ),
        None,
    )
    if secondary is not None and secondary.prop("GlobalClusterIdentifier"):
        steps.append(
            RunbookStep(
                "Promote the Aurora secondary: fail the global database over to the recovery "
                "region (unplanned; accepts the replication lag as data loss).",
                f"control plane ({r})",
                f"aws rds failover-global-cluster --region {r} --global-cluster-identifier "
                f"{secondary.prop('GlobalClusterIdentifier')} --target-db-cluster-identifier "
                + _physical(secondary.stack, r, secondary.logical_id)
                + " --allow-data-loss",
                _step_seconds(estimate, "database promotion"),
                kind="database promotion",
            )
        )
    elif replica is not None:
        steps.append(
            RunbookStep(
                "Promote the cross-region read replica to a standalone writable instance.",
                f"control plane ({r})",
                f"aws rds promote-read-replica --region {r} --db-instance-identifier "
                + _physical(replica.stack, r, replica.logical_id),
                _step_seconds(estimate, "database promotion"),
                kind="database promotion",
            )
        )
    service = _one(tier, "AWS::ECS::Service", r)
    full = _one(tier, "AWS::ECS::Service", p)
    if (
        service is not None
        and full is not None
        and (service.prop("DesiredCount") != full.prop("DesiredCount"))
    ):
        cluster = service.prop("Cluster", default={}).get("Ref", "")
        steps.append(
            RunbookStep(
                f"Scale the recovery service to full capacity ({full.prop('DesiredCount')} tasks).",
                f"control plane ({r})",
                f"aws ecs update-service --region {r} --cluster "
                + _physical(service.stack, r, cluster)
                + " --service "
                + _physical(service.stack, r, service.logical_id)
                + f" --desired-count {full.prop('DesiredCount')}",
                _step_seconds(estimate, "compute"),
                kind="compute",
            )
        )
    if not steps or service is None:
        steps += _rebuild_steps(tier, estimate)
    return _with_drills(tier, steps)


def _rebuild_steps(tier: TierAssembly, estimate: Estimate) -> list[RunbookStep]:
    r = tier.recovery_region
    vault = _one(tier, "AWS::Backup::BackupVault", r)
    record = _one(tier, "AWS::Route53::RecordSet")
    name = vault.prop("BackupVaultName") if vault else "<vault>"
    steps = [
        RunbookStep(
            "Find the latest recovery points copied to the recovery region.",
            f"control plane ({r})",
            f"aws backup list-recovery-points-by-backup-vault --region {r} "
            f"--backup-vault-name {name}",
            "-",
        ),
        RunbookStep(
            "Redeploy the tier in the recovery region from this repository (swap the "
            "regions in the context).",
            f"control plane ({r})",
            f"npx cdk deploy --all --context primary_region={r} --context "
            f"recovery_region={tier.primary_region}",
            _step_seconds(estimate, "redeploy"),
        ),
        RunbookStep(
            "Restore the database and the table from those recovery points.",
            f"control plane ({r})",
            f"aws backup start-restore-job --region {r} --recovery-point-arn <arn> "
            "--iam-role-arn <backup role> --metadata file://restore.json",
            _step_seconds(estimate, "restore"),
        ),
    ]
    if record is not None:
        steps.append(
            RunbookStep(
                f"Repoint {record.prop('Name')} to the recovery region's load balancer.",
                "control plane (Route 53, us-east-1)",
                "aws route53 change-resource-record-sets --hosted-zone-id <zone> --change-batch "
                "file://repoint.json",
                _step_seconds(estimate, "traffic shift"),
            )
        )
    return steps


def failback_runbook(tier: TierAssembly) -> list[RunbookStep]:
    """Back to the primary once it is healthy: rebuild replication first, then switch."""
    p, r = tier.primary_region, tier.recovery_region
    steps = []
    secondary = _one(tier, "AWS::RDS::DBCluster", r)
    if secondary is not None and secondary.prop("GlobalClusterIdentifier"):
        gid = secondary.prop("GlobalClusterIdentifier")
        steps.append(
            RunbookStep(
                "Once the old primary cluster is back, it rejoins the global database as a "
                "secondary; wait until its replication lag is under a second.",
                f"control plane ({p})",
                f"aws rds describe-global-clusters --region {p} --global-cluster-identifier {gid}",
                "minutes to hours (data size)",
            )
        )
        steps.append(
            RunbookStep(
                "Switch the writer back to the primary region with no data loss (planned "
                "switchover).",
                f"control plane ({r})",
                f"aws rds switchover-global-cluster --region {r} --global-cluster-identifier {gid} "
                "--target-db-cluster-identifier <primary cluster ARN>",
                "about a minute",
            )
        )
    elif any(i.prop("SourceDBInstanceIdentifier") for i in tier.of_type("AWS::RDS::DBInstance")):
        steps.append(
            RunbookStep(
                "Replicate the promoted instance back: create a read replica of it in the primary "
                "region, promote it in a maintenance window, then redeploy the tier so the "
                "recovery region holds a fresh replica (docs/decisions.md, decision 1).",
                f"control plane ({p})",
                f"aws rds create-db-instance-read-replica --region {p} --db-instance-identifier "
                f"<name>-failback --source-db-instance-identifier <promoted instance ARN> "
                "--kms-key-id <primary key>",
                "hours (data size)",
            )
        )
    else:
        steps.append(
            RunbookStep(
                "Back up the recovery region and restore into the primary region, as in the "
                "failover runbook with the regions swapped.",
                f"control plane ({p})",
                f"aws backup start-copy-job --region {r} ...",
                "hours",
            )
        )
    if tier.of_type("AWS::Route53::HealthCheck"):
        steps.append(
            RunbookStep(
                "Traffic returns to the PRIMARY record by itself once its health check passes.",
                "data plane",
                "aws route53 get-health-check-status --health-check-id <id>",
                "about 90 s",
            )
        )
    service = _one(tier, "AWS::ECS::Service", r)
    if service is not None:
        steps.append(
            RunbookStep(
                f"Scale the recovery service back to {service.prop('DesiredCount')} tasks.",
                f"control plane ({r})",
                f"aws ecs update-service --region {r} --cluster <cluster> --service <service> "
                f"--desired-count {service.prop('DesiredCount')}",
                "minutes",
            )
        )
    return steps


@dataclass(frozen=True)
class Topology:
    """What the diagrams show, read from the assembly once for both renderings."""

    primary_region: str
    recovery_region: str
    entry: str
    accelerated: bool
    primary_tasks: str
    recovery_tasks: str | None  # None: nothing runs in the recovery region
    primary_database: str
    recovery_database: str | None
    dax_in_recovery: bool


def topology(tier: TierAssembly) -> Topology:
    p, r = tier.primary_region, tier.recovery_region

    def tasks(region: str) -> str | None:
        service = _one(tier, "AWS::ECS::Service", region)
        return None if service is None else str(service.prop("DesiredCount", default=1))

    accelerated = bool(tier.of_type("AWS::GlobalAccelerator::EndpointGroup"))
    failover = bool(tier.of_type("AWS::Route53::HealthCheck"))
    aurora = bool(tier.of_type("AWS::RDS::GlobalCluster"))
    running = tier.region_of("recovery") is not None
    return Topology(
        primary_region=p,
        recovery_region=r,
        entry=(
            "Global Accelerator (both groups at 100 %)"
            if accelerated
            else "Route 53 failover + health check"
            if failover
            else "Route 53 record to P"
        ),
        accelerated=accelerated,
        primary_tasks=tasks(p) or "0",
        recovery_tasks=tasks(r) if running else None,
        primary_database="Aurora writer cluster" if aurora else "Multi-AZ RDS PostgreSQL",
        recovery_database=("Aurora secondary" if aurora else "read replica") if running else None,
        dax_in_recovery=_one(tier, "AWS::DAX::Cluster", r) is not None,
    )


def mermaid(t: Topology) -> str:
    """A Mermaid flowchart of the tier: entry point, both regions, replication, backup copy."""
    lines = [
        "flowchart LR",
        f'  users((clients)) --> entry["{t.entry}"]',
        f'  subgraph P["{t.primary_region} (primary)"]',
        f'    albP["ALB -> Fargate ({t.primary_tasks} tasks)"] --> proxyP["RDS Proxy"] --> '
        f'dbP[("{t.primary_database}")]',
        '    albP --> tableP[("DynamoDB + DAX")]',
        '    albP --> qP["SQS + DLQ"]',
        "  end",
        f'  subgraph R["{t.recovery_region} (recovery)"]',
    ]
    if t.recovery_database is not None:
        dax = " + DAX" if t.dax_in_recovery else ""
        lines += [
            f'    albR["ALB -> Fargate ({t.recovery_tasks} tasks)"] --> '
            f'dbR[("{t.recovery_database}")]',
            f'    albR --> tableR[("table replica{dax}")]',
            "  end",
            "  dbP -. replication .-> dbR",
            "  tableP <-. replication .-> tableR",
            "  entry --> albP",
            "  entry --> albR" if t.accelerated else "  entry -. on failure .-> albR",
        ]
    else:
        lines += ["  end", "  entry --> albP"]
    lines += [
        f'  vault[("backup vault in {t.recovery_region}")]',
        "  dbP -. daily copy .-> vault",
        "  tableP -. daily copy .-> vault",
    ]
    return "\n".join(lines)
