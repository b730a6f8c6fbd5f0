"""Named questions about a synthesized tier, answered from its CloudFormation properties.

The estimate, the rule pack, the drills check and the report ask these instead of reading
properties themselves, so each question has one answer: what the recovery region holds of the
relational data, a replica's engine, how many tasks run where, which regions hold a table
replica. Each answer is a small typed record that keeps the resource it was read from (for a
finding to point at); display values the report prints as synthesized are kept as text.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.core.tiers import EXERCISES_TAG, RecoveryDatabase, is_control_table

DEFAULT_RETENTION_SECONDS = 345600  # SQS keeps a message four days unless told otherwise


def enabled(value: object) -> bool:
    """A CloudFormation switch that is on (``true`` as a boolean or as text)."""
    return value is True or value == "true"


# --- relational databases -------------------------------------------------------------------


def instance_engine(tier: TierAssembly, instance: Resource) -> str:
    """An instance's Engine; for a cross-region replica, which names none, its source's: the
    instance whose identifier ends the source ARN (``...:db:<identifier>``); "" if none."""
    engine = instance.prop("Engine")
    if engine:
        return str(engine)
    source = re.search(
        r":db:([A-Za-z0-9-]+)", json.dumps(instance.prop("SourceDBInstanceIdentifier"))
    )
    for other in tier.of_type("AWS::RDS::DBInstance"):
        if source and other.prop("Engine") and other.prop("DBInstanceIdentifier") == source[1]:
            return str(other.prop("Engine"))
    return ""


def names_a_cluster(resource: Resource) -> bool:
    """It names a DBClusterIdentifier: an Aurora member instance (the cluster holds its data),
    or a cluster with a fixed identifier."""
    return bool(resource.prop("DBClusterIdentifier"))


@dataclass(frozen=True)
class DbInstance:
    """An AWS::RDS::DBInstance: a standalone instance, a read replica or an Aurora member."""

    resource: Resource
    instance_class: str
    engine: str  # a replica's is its source's (instance_engine)
    cluster: str  # logical id of the Aurora cluster it belongs to; "" for a standalone one
    multi_az: bool
    replica: bool  # it names a source: a cross-region read replica
    storage_gb: float | None  # AllocatedStorage; None where the template sets none
    encrypted: bool
    deletion_protection: bool
    backup_days: str  # BackupRetentionPeriod as synthesized, "-" where unset

    @property
    def region(self) -> str:
        return self.resource.region


def _cluster_id(value: Any) -> str:
    return str(value.get("Ref", "")) if isinstance(value, dict) else str(value or "")


def db_instances(tier: TierAssembly, region: str | None = None) -> list[DbInstance]:
    """Every relational database instance (in ``region``, if given), in template order."""
    return [
        db_instance(tier, r)
        for r in tier.of_type("AWS::RDS::DBInstance")
        if region is None or r.region == region
    ]


def db_instance(tier: TierAssembly, r: Resource) -> DbInstance:
    """One AWS::RDS::DBInstance of ``tier``."""
    storage = r.prop("AllocatedStorage")
    return DbInstance(
        resource=r,
        instance_class=str(r.prop("DBInstanceClass")),
        engine=instance_engine(tier, r),
        cluster=_cluster_id(r.prop("DBClusterIdentifier")),
        multi_az=enabled(r.prop("MultiAZ")),
        replica=bool(r.prop("SourceDBInstanceIdentifier")),
        storage_gb=None if storage is None else float(storage),
        encrypted=enabled(r.prop("StorageEncrypted") or bool(r.prop("KmsKeyId"))),
        deletion_protection=enabled(r.prop("DeletionProtection")),
        backup_days=str(r.prop("BackupRetentionPeriod", default="-")),
    )


@dataclass(frozen=True)
class AuroraCluster:
    resource: Resource
    global_cluster: str  # GlobalClusterIdentifier; "" when it joins none
    engine: str
    engine_version: str
    own_credentials: tuple[str, ...]  # the credential properties it sets itself
    encrypted: bool
    deletion_protection: bool
    write_forwarding: bool

    @property
    def region(self) -> str:
        return self.resource.region


CREDENTIALS = ("MasterUsername", "MasterUserPassword", "ManageMasterUserPassword")


def aurora_clusters(tier: TierAssembly, region: str | None = None) -> list[AuroraCluster]:
    """Every Aurora cluster (in ``region``, if given), in template order."""
    return [
        aurora_cluster(c)
        for c in tier.of_type("AWS::RDS::DBCluster")
        if region is None or c.region == region
    ]


def aurora_cluster(c: Resource) -> AuroraCluster:
    """One AWS::RDS::DBCluster."""
    return AuroraCluster(
        resource=c,
        global_cluster=str(c.prop("GlobalClusterIdentifier") or ""),
        engine=str(c.prop("Engine", default="")),
        engine_version=str(c.prop("EngineVersion")),
        own_credentials=tuple(p for p in CREDENTIALS if c.prop(p) is not None),
        encrypted=enabled(c.prop("StorageEncrypted")),
        deletion_protection=enabled(c.prop("DeletionProtection")),
        write_forwarding=enabled(c.prop("EnableGlobalWriteForwarding")),
    )


def global_cluster_id(global_cluster: Resource) -> str:
    """The GlobalClusterIdentifier of an AWS::RDS::GlobalCluster."""
    return str(global_cluster.prop("GlobalClusterIdentifier"))


def global_cluster_ids(tier: TierAssembly) -> list[str]:
    """The identifier of every Aurora global database, in template order."""
    return [global_cluster_id(g) for g in tier.of_type("AWS::RDS::GlobalCluster")]


def has_database(tier: TierAssembly) -> bool:
    """The workload keeps a relational database."""
    return bool(tier.of_type("AWS::RDS::DBInstance") or tier.of_type("AWS::RDS::DBCluster"))


def recovery_database(tier: TierAssembly) -> RecoveryDatabase | None:
    """What the recovery region holds of the relational data: an Aurora secondary (a cluster
    there joined to a global database), a read replica (an instance there naming a source), or
    else backup copies at most; None when the workload keeps no relational database."""
    region = tier.recovery_region
    if any(c.global_cluster for c in aurora_clusters(tier, region)):
        return RecoveryDatabase.AURORA_SECONDARY
    if any(i.replica for i in db_instances(tier, region)):
        return RecoveryDatabase.READ_REPLICA
    return RecoveryDatabase.SNAPSHOT_COPIES if has_database(tier) else None


@dataclass(frozen=True)
class ProxyTargets:
    group: Resource  # the AWS::RDS::DBProxyTargetGroup
    targets: tuple[str, ...]  # logical ids of the instances and clusters it targets


def proxy_targets(tier: TierAssembly) -> list[ProxyTargets]:
    return [
        ProxyTargets(
            group=g,
            targets=tuple(
                str(t.get("Ref", ""))
                for t in g.prop("DBInstanceIdentifiers", default=[])
                + g.prop("DBClusterIdentifiers", default=[])
            ),
        )
        for g in tier.of_type("AWS::RDS::DBProxyTargetGroup")
    ]


@dataclass(frozen=True)
class ProxySettings:
    resource: Resource
    require_tls: bool
    auth_scheme: str  # DefaultAuthScheme as synthesized, "secrets" where unset


def proxy_settings(proxy: Resource) -> ProxySettings:
    return ProxySettings(
        proxy,
        enabled(proxy.prop("RequireTLS")),
        str(proxy.prop("DefaultAuthScheme", default="secrets")),
    )


# --- tables, caches, queues -----------------------------------------------------------------


def workload_tables(tier: TierAssembly) -> list[Resource]:
    """The workload's tables (global, then single-region): not drtiers' control table, which
    holds one item."""
    return [
        t
        for t in tier.of_type("AWS::DynamoDB::GlobalTable") + tier.of_type("AWS::DynamoDB::Table")
        if not is_control_table(t.prop("TableName"))
    ]


@dataclass(frozen=True)
class TableReplica:
    table: Resource
    region: str
    pitr: bool
    deletion_protection: bool


def table_replicas(table: Resource) -> list[TableReplica]:
    """The replicas of a global table; a single-region table is its own one replica."""
    return [
        TableReplica(
            table,
            str(replica.get("Region", table.region)),
            enabled(
                replica.get("PointInTimeRecoverySpecification", {}).get(
                    "PointInTimeRecoveryEnabled"
                )
            ),
            enabled(replica.get("DeletionProtectionEnabled")),
        )
        for replica in table.prop("Replicas", default=[table.properties])
    ]


def replica_regions(table: Resource) -> list[str]:
    """The regions a global table names a replica in (none for a single-region table)."""
    return [str(replica.get("Region")) for replica in table.prop("Replicas", default=[])]


def strong_regions(table: Resource) -> frozenset[str] | None:
    """The regions of a table of multi-Region strong consistency, its replicas' and its
    witness's (a write needs two of them up); None for any other table."""
    if table.prop("MultiRegionConsistency") != "STRONG":
        return None
    witnesses = [str(w.get("Region")) for w in table.prop("GlobalTableWitnesses", default=[])]
    return frozenset([*replica_regions(table), *witnesses])


def table_replica_regions(tier: TierAssembly) -> set[str]:
    """Where the workload's tables have a replica (drtiers' control table aside)."""
    return {region for table in workload_tables(tier) for region in replica_regions(table)}


@dataclass(frozen=True)
class DaxCluster:
    resource: Resource
    node_type: str
    nodes: int  # ReplicationFactor
    encrypted: bool
    endpoint_encryption: str  # ClusterEndpointEncryptionType as synthesized, "NONE" if unset

    @property
    def region(self) -> str:
        return self.resource.region


def dax_clusters(tier: TierAssembly) -> list[DaxCluster]:
    return [dax_cluster(d) for d in tier.of_type("AWS::DAX::Cluster")]


def dax_cluster(dax: Resource) -> DaxCluster:
    return DaxCluster(
        dax,
        str(dax.prop("NodeType")),
        dax.prop("ReplicationFactor"),
        enabled(dax.prop("SSESpecification", "SSEEnabled")),
        str(dax.prop("ClusterEndpointEncryptionType", default="NONE")),
    )


@dataclass(frozen=True)
class Queue:
    resource: Resource
    redrive: bool  # it sends what it cannot deliver to a dead-letter queue
    dead_letter: str | None  # logical id of that dead-letter queue, where it names one
    retention_seconds: int
    kms: bool

    @property
    def region(self) -> str:
        return self.resource.region


def queue(resource: Resource) -> Queue:
    redrive = resource.prop("RedrivePolicy")
    target = redrive.get("deadLetterTargetArn", {}) if redrive else None
    return Queue(
        resource,
        bool(redrive),
        target.get("Fn::GetAtt", [None])[0] if isinstance(target, dict) else None,
        resource.prop("MessageRetentionPeriod", default=DEFAULT_RETENTION_SECONDS),
        bool(resource.prop("KmsMasterKeyId")),
    )


def queues(tier: TierAssembly) -> list[Queue]:
    return [queue(q) for q in tier.of_type("AWS::SQS::Queue")]


# --- compute --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tasks:
    """An ECS service: how many tasks it runs, each of what size."""

    service: Resource
    desired: int
    cpu: float | None  # vCPUs of a task; None where its task definition is not in the stack
    memory_gb: float | None

    @property
    def region(self) -> str:
        return self.service.region


def services(tier: TierAssembly) -> list[Tasks]:
    """Every ECS service, in template order."""
    return [service_tasks(tier, service) for service in tier.of_type("AWS::ECS::Service")]


def service_tasks(tier: TierAssembly, service: Resource) -> Tasks:
    """One ECS service of ``tier``, with the size of its tasks."""
    ref = service.prop("TaskDefinition", default={}).get("Ref")
    task = tier.by_id(service.stack, ref) if ref else None
    return Tasks(
        service=service,
        desired=int(service.prop("DesiredCount", default=1)),
        cpu=int(task.prop("Cpu", default="256")) / 1024 if task else None,
        memory_gb=int(task.prop("Memory", default="512")) / 1024 if task else None,
    )


def tasks(tier: TierAssembly, region: str) -> int | None:
    """Desired tasks of the service in ``region``; None when no service runs there."""
    service = services_by_region(tier).get(region)
    return None if service is None else service.desired


def services_by_region(tier: TierAssembly) -> dict[str, Tasks]:
    """The service of each region that runs one."""
    return {s.region: s for s in services(tier)}


# --- backups, secrets -----------------------------------------------------------------------


# A backup vault's ARN: arn:aws:backup:<region>:<account>:backup-vault:<name>
_VAULT_ARN = re.compile(r":backup:([a-z0-9-]+):\d{12}:backup-vault:([A-Za-z0-9_.-]+)")


@dataclass(frozen=True)
class BackupRule:
    plan: Resource
    name: str  # RuleName as synthesized
    schedule: str  # ScheduleExpression as synthesized
    keep_days: int | None  # Lifecycle.DeleteAfterDays; None where unset
    copies: tuple[str, ...]  # the vault ARN (as text) each copy action copies to

    def copies_to(self, region: str) -> bool:
        """A copy action copies to a vault in ``region``."""
        return any(f":backup:{region}:" in vault for vault in self.copies)

    def destinations(self) -> list[tuple[str, str]]:
        """(region, vault name) of each copy action whose vault ARN names both."""
        found = (_VAULT_ARN.search(vault) for vault in self.copies)
        return [(m[1], m[2]) for m in found if m]


def copied_vault(copy: str) -> str | None:
    """The vault name a copy action's ARN (as text) names, if it names one."""
    found = _VAULT_ARN.search(copy)
    return found[2] if found else None


def backup_rules(plan: Resource) -> list[BackupRule]:
    """The rules of one AWS::Backup::BackupPlan, in order."""
    return [
        BackupRule(
            plan,
            str(rule.get("RuleName")),
            str(rule.get("ScheduleExpression")),
            rule.get("Lifecycle", {}).get("DeleteAfterDays"),
            tuple(str(c.get("DestinationBackupVaultArn")) for c in rule.get("CopyActions", [])),
        )
        for rule in plan.prop("BackupPlan", "BackupPlanRule", default=[])
    ]


def vault_name(vault: Resource) -> str:
    return str(vault.prop("BackupVaultName"))


AIR_GAPPED_VAULT = "AWS::Backup::LogicallyAirGappedBackupVault"


def air_gapped_vaults(tier: TierAssembly) -> set[str]:
    """The names of the tier's logically air-gapped vaults (decision 51)."""
    return {vault_name(v) for v in tier.of_type(AIR_GAPPED_VAULT)}


# A restore testing selection's ProtectedResourceType for each kind of store a backup selects.
_PROTECTED_TYPES = {
    "AWS::DynamoDB::GlobalTable": "DynamoDB",
    "AWS::DynamoDB::Table": "DynamoDB",
    "AWS::RDS::DBCluster": "Aurora",
    "AWS::RDS::DBInstance": "RDS",
}


def backed_up_types(tier: TierAssembly) -> Counter[str]:
    """How many stores of each restore testing type (DynamoDB, Aurora, RDS) the backup plans
    select: by reference to a resource of the tier, or by an RDS ARN naming a cluster or an
    instance."""
    found: Counter[str] = Counter()
    for selection in tier.of_type("AWS::Backup::BackupSelection"):
        for value in selection.prop("BackupSelection", "Resources", default=[]):
            text = json.dumps(value)
            if ":rds:" in text:
                found["Aurora" if ":cluster:" in text else "RDS"] += 1
                continue
            resource = tier.referenced(selection.stack, value)
            if resource is not None and resource.type in _PROTECTED_TYPES:
                found[_PROTECTED_TYPES[resource.type]] += 1
    return found


@dataclass(frozen=True)
class RestoreSelection:
    resource: Resource
    type: str  # ProtectedResourceType
    overrides: dict[str, Any]  # RestoreMetadataOverrides, keys lower-cased (AWS ignores case)
    # what the database overrides name of the selection's stack, where they name one
    subnet_group: Resource | None
    security_group: Resource | None


@dataclass(frozen=True)
class RestoreTest:
    plan: Resource
    schedule: str  # ScheduleExpression as synthesized
    vaults: tuple[Any, ...]  # IncludeVaults as synthesized
    recovery_point_types: tuple[str, ...]
    selections: tuple[RestoreSelection, ...]


def restore_selection(tier: TierAssembly, s: Resource) -> RestoreSelection:
    overrides = {str(k).lower(): v for k, v in (s.prop("RestoreMetadataOverrides") or {}).items()}
    return RestoreSelection(
        s,
        str(s.prop("ProtectedResourceType")),
        overrides,
        tier.referenced(s.stack, overrides.get("dbsubnetgroupname")),
        tier.referenced(s.stack, overrides.get("vpcsecuritygroupids")),
    )


def restore_tests(tier: TierAssembly) -> list[RestoreTest]:
    """Each restore testing plan with the selections of its stack that name it."""
    found = []
    for plan in tier.of_type("AWS::Backup::RestoreTestingPlan"):
        name = plan.prop("RestoreTestingPlanName")
        selection = plan.prop("RecoveryPointSelection", default={})
        found.append(
            RestoreTest(
                plan,
                str(plan.prop("ScheduleExpression")),
                tuple(selection.get("IncludeVaults", [])),
                tuple(selection.get("RecoveryPointTypes", [])),
                tuple(
                    restore_selection(tier, s)
                    for s in tier.of_type("AWS::Backup::RestoreTestingSelection")
                    if s.stack == plan.stack and s.prop("RestoreTestingPlanName") == name
                ),
            )
        )
    return found


def secret_replica_regions(secret: Resource) -> list[str]:
    """The regions a secret keeps a read-only replica in."""
    return [
        str(replica.get("Region", secret.region))
        for replica in secret.prop("ReplicaRegions", default=[])
    ]


# --- traffic --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DnsRecord:
    resource: Resource
    failover: str | None  # PRIMARY | SECONDARY; None for a plain record
    type: str
    name: str
    health_checked: bool
    alias_zone: str | None  # the hosted zone of its alias target, if it is an alias


def dns_records(tier: TierAssembly) -> list[DnsRecord]:
    return [dns_record(r) for r in tier.of_type("AWS::Route53::RecordSet")]


def dns_record(r: Resource) -> DnsRecord:
    return DnsRecord(
        r,
        r.prop("Failover"),
        str(r.prop("Type")),
        str(r.prop("Name")),
        bool(r.prop("HealthCheckId")),
        r.prop("AliasTarget", "HostedZoneId"),
    )


@dataclass(frozen=True)
class EndpointGroup:
    resource: Resource
    region: str | None  # EndpointGroupRegion as synthesized
    dial: int  # TrafficDialPercentage (100 unless set)
    interval: str  # HealthCheckIntervalSeconds as synthesized


def endpoint_groups(tier: TierAssembly) -> list[EndpointGroup]:
    return [endpoint_group(g) for g in tier.of_type("AWS::GlobalAccelerator::EndpointGroup")]


def endpoint_group(g: Resource) -> EndpointGroup:
    return EndpointGroup(
        g,
        g.prop("EndpointGroupRegion"),
        g.prop("TrafficDialPercentage", default=100),
        str(g.prop("HealthCheckIntervalSeconds")),
    )


@dataclass(frozen=True)
class HealthCheckSettings:
    resource: Resource
    kind: str | None  # Type: HTTP, HTTPS, CLOUDWATCH_METRIC, ...
    path: str | None
    interval: int | None  # RequestInterval, seconds
    failure_threshold: int | None


def health_check_settings(check: Resource) -> HealthCheckSettings:
    config = check.prop("HealthCheckConfig", default={})
    return HealthCheckSettings(
        check,
        config.get("Type"),
        config.get("ResourcePath"),
        config.get("RequestInterval"),
        config.get("FailureThreshold"),
    )


def health_checks(tier: TierAssembly) -> list[HealthCheckSettings]:
    return [health_check_settings(c) for c in tier.of_type("AWS::Route53::HealthCheck")]


# --- drills ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Experiment:
    """A fault-injection experiment template and what its tags claim it rehearses."""

    template: Resource
    name: str  # its Name tag (else its logical id)
    exercises: tuple[str, ...]  # the failover steps its exercises tag names
    # Each action's duration parameter by the action's key (None: it acts once).
    actions: dict[str, str | None]

    @property
    def durations(self) -> tuple[str | None, ...]:
        return tuple(self.actions.values())


def experiments(tier: TierAssembly) -> list[Experiment]:
    found = []
    for template in tier.of_type("AWS::FIS::ExperimentTemplate"):
        tags = template.prop("Tags", default={})
        found.append(
            Experiment(
                template=template,
                name=str(tags.get("Name", template.logical_id)),
                exercises=tuple(str(tags.get(EXERCISES_TAG, "")).split()),
                actions={
                    key: action.get("Parameters", {}).get("duration")
                    for key, action in template.prop("Actions", default={}).items()
                },
            )
        )
    return found
