"""The facts a report shows, read from a tier's synthesized resources: inventory, a diagram,
and the failover and failback runbooks with the AWS CLI command for each step."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.constructs.engines import label_of
from drtiers.core.durations import format_duration
from drtiers.core.tiers import EXERCISES_TAG
from drtiers.recovery.plan import Workflow, read_workflows
from drtiers.recovery.steps import Step, schedule


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
    plan: str = ""  # the Region switch plan's block that runs it ("" : the runbook's own step)


NO_PROMOTION_DRILL = (
    "none (FIS has no cross-region promotion: rehearse it by executing the tier's ARC Region "
    "switch plan gracefully)"
)


def drills_by_step(tier: TierAssembly) -> dict[str, list[str]]:
    """Step name -> the drills synthesized with the tier that claim to rehearse it (their
    drtiers:exercises tag, held to their claims by drtiers-dr). Read from the assembly, so a
    report names only experiments that exist; nothing when the drills were not synthesized
    (the report then says how to add them)."""
    exercised: dict[str, list[str]] = {}
    for template in tier.of_type("AWS::FIS::ExperimentTemplate"):
        tags = template.prop("Tags", default={})
        for step in str(tags.get(EXERCISES_TAG, "")).split():
            exercised.setdefault(step, []).append(str(tags.get("Name", template.logical_id)))
    if tier.of_type("AWS::FIS::ExperimentTemplate"):
        exercised.setdefault("promote-database", [NO_PROMOTION_DRILL])
    return {step: sorted(names) for step, names in exercised.items()}


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


def _one(tier: TierAssembly, type_: str, region: str | None = None) -> Resource | None:
    return next((r for r in tier.of_type(type_) if region is None or r.region == region), None)


def runbook(tier: TierAssembly, steps: list[Step]) -> list[RunbookStep]:
    """The steps the simulator executed, in the order of their timeline, each with the AWS CLI
    command that names its exact resource and the time it is expected to take."""
    rows = []
    drills = drills_by_step(tier)
    blocks = {name: block for w in region_switch_plan(tier) for _, name, block in w.steps}
    for timed in schedule(steps):
        step = timed.step
        if step.automatic:
            plane = "data plane, automatic"
        elif step.api_region is None:
            plane = "a decision"
        elif step.data_plane:
            plane = f"data plane ({step.api_region})"
        else:
            plane = f"control plane ({step.api_region})"
        rows.append(
            RunbookStep(
                step.title,
                plane,
                step.command or "-",
                format_duration(step.seconds),
                step.kind,
                ", ".join(drills.get(step.name, [])),
                blocks.get(step.name, ""),
            )
        )
    return rows


def region_switch_plan(tier: TierAssembly) -> list[Workflow]:
    """The tier's Region switch plan as synthesized (none for backup-restore)."""
    plan = next((r.properties for r in tier.of_type("AWS::ARCRegionSwitch::Plan")), None)
    return read_workflows(plan) if plan is not None else []


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
    writer = _one(tier, "AWS::RDS::DBInstance", p)
    engine = label_of(str(writer.prop("Engine", default=""))) if writer else ""
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
        primary_database="Aurora writer cluster" if aurora else f"Multi-AZ RDS {engine}".strip(),
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
