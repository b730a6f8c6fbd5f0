"""The facts a report shows, read from a tier's synthesized resources: inventory, a diagram,
and the failover and failback runbooks with the AWS CLI command for each step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from drtiers.assembly.queries import (
    aurora_cluster,
    backup_rules,
    dax_cluster,
    db_instance,
    db_instances,
    dns_record,
    endpoint_group,
    experiments,
    global_cluster_id,
    health_check_settings,
    proxy_settings,
    queue,
    recovery_database,
    service_tasks,
    table_replicas,
    tasks,
    vault_name,
)
from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.assembly.switch_plan import switch_plan
from drtiers.constructs.engines import label_of
from drtiers.core.durations import format_duration
from drtiers.core.tiers import RecoveryDatabase, StackRole
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
    found = experiments(tier)
    for experiment in found:
        for step in experiment.exercises:
            exercised.setdefault(step, []).append(experiment.name)
    if found:
        exercised.setdefault("promote-database", [NO_PROMOTION_DRILL])
    return {step: sorted(names) for step, names in exercised.items()}


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _db_instance(tier: TierAssembly, r: Resource) -> str:
    db = db_instance(tier, r)
    if db.cluster:
        return f"Aurora member {db.instance_class}"
    source = " (cross-region replica)" if db.replica else ""
    return (
        f"{db.instance_class}{source}, Multi-AZ {_yes(db.multi_az)}, encrypted "
        f"{_yes(db.encrypted)}, deletion protection {_yes(db.deletion_protection)}, "
        f"backups {db.backup_days} d"
    )


def _aurora_cluster(tier: TierAssembly, r: Resource) -> str:
    c = aurora_cluster(r)
    joined = f", global cluster {c.global_cluster}" if c.global_cluster else ""
    return (
        f"Aurora {c.engine}{joined}, encrypted {_yes(c.encrypted)}, deletion protection "
        f"{_yes(c.deletion_protection)}, write forwarding {_yes(c.write_forwarding)}"
    )


def _global_table(tier: TierAssembly, r: Resource) -> str:
    replicas = ", ".join(
        f"{x.region} (PITR {_yes(x.pitr)}, deletion protection {_yes(x.deletion_protection)})"
        for x in table_replicas(r)
    )
    return f"replicas: {replicas}"


def _dax(tier: TierAssembly, r: Resource) -> str:
    d = dax_cluster(r)
    return (
        f"{d.nodes} x {d.node_type}, encrypted {_yes(d.encrypted)}, endpoint "
        f"{d.endpoint_encryption}"
    )


def _queue(tier: TierAssembly, r: Resource) -> str:
    q = queue(r)
    role = "with dead-letter queue" if q.redrive else "queue"
    return f"{role}, retention {int(q.retention_seconds) // 86400} d, KMS {_yes(q.kms)}"


def _backup_plan(tier: TierAssembly, r: Resource) -> str:
    return "; ".join(
        f"{x.schedule}, keep {x.keep_days} d, copies {len(x.copies)}" for x in backup_rules(r)
    )


def _record(tier: TierAssembly, r: Resource) -> str:
    record = dns_record(r)
    failover = "simple" if record.failover is None else record.failover
    return f"{failover} {record.type} record {record.name}"


def _endpoint_group(tier: TierAssembly, r: Resource) -> str:
    g = endpoint_group(r)
    return f"{g.region}, dial {g.dial} %, health check every {g.interval} s"


def _health_check(tier: TierAssembly, r: Resource) -> str:
    c = health_check_settings(r)
    return f"{c.kind} {c.path} every {c.interval} s x {c.failure_threshold}"


def _proxy(tier: TierAssembly, r: Resource) -> str:
    proxy = proxy_settings(r)
    return (
        f"TLS required {_yes(proxy.require_tls)}, authentication {proxy.auth_scheme} (end to end)"
    )


# The DR-relevant settings of the resources a reviewer asks about, by type ("": listed with
# none); the inventory leaves out every other type.
_SETTINGS: dict[str, Callable[[TierAssembly, Resource], str]] = {
    "AWS::RDS::DBInstance": _db_instance,
    "AWS::RDS::DBCluster": _aurora_cluster,
    "AWS::RDS::GlobalCluster": lambda _, r: f"global cluster {global_cluster_id(r)}",
    "AWS::DynamoDB::GlobalTable": _global_table,
    "AWS::DAX::Cluster": _dax,
    "AWS::SQS::Queue": _queue,
    "AWS::ECS::Service": lambda tier, r: f"desired tasks {service_tasks(tier, r).desired}",
    "AWS::Backup::BackupPlan": _backup_plan,
    "AWS::Backup::BackupVault": lambda _, r: f"vault {vault_name(r)}",
    "AWS::Route53::HostedZone": lambda _, r: (
        f"public zone {r.prop('Name')}, shared by the app's tiers"
    ),
    "AWS::Route53::HealthCheck": _health_check,
    "AWS::Route53::RecordSet": _record,
    "AWS::GlobalAccelerator::EndpointGroup": _endpoint_group,
    "AWS::GlobalAccelerator::Accelerator": lambda _, r: "",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": lambda _, r: "",
    "AWS::RDS::DBProxy": _proxy,
}


def inventory(tier: TierAssembly) -> list[InventoryRow]:
    rows = []
    for r in tier.resources:
        settings = _SETTINGS.get(r.type)
        if settings is not None:
            rows.append(InventoryRow(r.region, r.stack, r.logical_id, r.type, settings(tier, r)))
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
    plan = switch_plan(tier)
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

    def count(region: str) -> str | None:
        running = tasks(tier, region)
        return None if running is None else str(running)

    accelerated = bool(tier.of_type("AWS::GlobalAccelerator::EndpointGroup"))
    failover = bool(tier.of_type("AWS::Route53::HealthCheck"))
    aurora = recovery_database(tier) is RecoveryDatabase.AURORA_SECONDARY
    running = tier.region_of(StackRole.RECOVERY) is not None
    writer = next(iter(db_instances(tier, p)), None)
    engine = label_of(writer.engine) if writer else ""
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
        primary_tasks=count(p) or "0",
        recovery_tasks=count(r) if running else None,
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
