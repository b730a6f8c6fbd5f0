"""drtiers-dr: rules that check a synthesized tier against what the tier promises.

cdk-nag and CloudFormation Guard judge one resource at a time and do not look at global tables
or across regions. Each rule here is a small function over a tier's synthesized resources (all
its stacks and regions) and its catalogue entry, in the shape of a cdk-nag rule: it returns
None when it does not apply, else the list of violations (empty: compliant).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drtiers.assembly.arns import render
from drtiers.assembly.dashboards import dashboards
from drtiers.assembly.keys import report_key_uses
from drtiers.assembly.notices import notices
from drtiers.assembly.policies import policy_statements, statement_actions
from drtiers.assembly.queries import (
    AIR_GAPPED_VAULT,
    RestoreSelection,
    aurora_clusters,
    backed_up_types,
    backup_rules,
    db_instances,
    dns_records,
    endpoint_groups,
    global_cluster_ids,
    health_checks,
    names_a_cluster,
    queues,
    replica_regions,
    restore_tests,
    secret_replica_regions,
    services_by_region,
    table_replicas,
    vault_name,
)
from drtiers.assembly.reader import Resource, TierAssembly, read_assembly
from drtiers.assembly.switch_plan import switch_plan
from drtiers.assembly.world import key_of, output_reads, plan_role_statements, read_world
from drtiers.checks.drills import drill_findings
from drtiers.constructs.accelerator import GLOBAL_ACCELERATOR_ZONE_ID
from drtiers.core.metrics import emits, published_with
from drtiers.core.permissions import allowed, catalogue_version, known_action
from drtiers.core.rules import idle_task_count
from drtiers.core.tiers import (
    DECLARED_NAMESPACE,
    PRIMARY_HEALTHY_TARGETS,
    TIERS,
    EntryPoint,
    RecoveryCompute,
    RecoveryDatabase,
    StackRole,
    TierSpec,
    declared_dimensions,
)

PACK = "drtiers-dr"
# RetainExceptOnCreate keeps it as Retain does, but when the create that made it (holding
# nothing yet) rolls back (rules.retained_on_delete).
KEEPING = ("Retain", "RetainExceptOnCreate", "Snapshot")
# Not AWS::RDS::GlobalCluster: it holds no data, its member clusters do (decision 36).
STATEFUL = frozenset(
    {
        "AWS::RDS::DBInstance",
        "AWS::RDS::DBCluster",
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


# --- the rules ------------------------------------------------------------------------------


def table_replicas_keep_data(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    tables = tier.of_type("AWS::DynamoDB::GlobalTable") + tier.of_type("AWS::DynamoDB::Table")
    if not tables:
        return None
    found = []
    for replica in (replica for table in tables for replica in table_replicas(table)):
        table, where = replica.table, replica.region
        if not replica.pitr:
            found.append(Violation(table, f"the replica in {where} has no point-in-time recovery"))
        if not tier.sandbox and not replica.deletion_protection:
            found.append(Violation(table, f"the replica in {where} has no deletion protection"))
    return found


def table_replicated_to_recovery(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if not spec.table_replica_in_recovery:
        return None
    found = []
    for table in tier.of_type("AWS::DynamoDB::GlobalTable"):
        if tier.recovery_region not in replica_regions(table):
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
    # A copy job to a vault that does not exist fails: the copy lands nowhere.
    vaults = {
        (v.region, vault_name(v))
        for type_ in ("AWS::Backup::BackupVault", AIR_GAPPED_VAULT)
        for v in tier.of_type(type_)
    }
    found = []
    for plan in plans:
        for rule in backup_rules(plan):
            if not rule.copies_to(tier.recovery_region):
                where = f"keeps its recovery points in {plan.region} only"
                found.append(Violation(plan, f"rule {rule.name} {where}"))
            found += [
                Violation(
                    plan,
                    f"rule {rule.name} copies to vault {name} in {region}, which the tier "
                    "does not declare",
                )
                for region, name in rule.destinations()
                if (region, name) not in vaults
            ]
    return found


def people_are_told(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """What AWS says of the tier reaches a topic in each of its regions: AWS Health there, the
    plan's executions (run from the region they activate: P's and R's), and every event of
    each database cluster and instance, beside it."""
    told = [n for n in notices(tier) if n.arrives]
    regions = sorted({tier.primary_region, tier.recovery_region})

    def heard(region: str, source: str) -> bool:
        return any(n.rule.region == region and source in n.sources for n in told)

    found = [
        Violation(None, f"no AWS Health rule in {region} reaches a topic EventBridge may use")
        for region in regions
        if not heard(region, "aws.health")
    ]
    found += [
        Violation(plan, f"its executions from {region} reach no topic there")
        for plan in tier.of_type("AWS::ARCRegionSwitch::Plan")
        for region in regions
        if not heard(region, "aws.arc-region-switch")
    ]
    for db in tier.of_type("AWS::RDS::DBCluster") + tier.of_type("AWS::RDS::DBInstance"):
        if not any(
            n.rule.stack == db.stack and "aws.rds" in n.sources and n.names_ref(db.logical_id)
            for n in told
        ):
            found.append(Violation(db, "what RDS says of it reaches no topic in its region"))
    return found


# A dimension whose value names a resource the tier declares: (type, its name property).
_NAMED_BY = {
    "ClusterName": ("AWS::ECS::Cluster", "ClusterName"),
    "ServiceName": ("AWS::ECS::Service", "ServiceName"),
    "RuleName": ("AWS::Events::Rule", "Name"),
}


def _declares(tier: TierAssembly, region: str, dimension: str, value: str) -> bool:
    if dimension not in _NAMED_BY:
        return True  # not judged
    type_, name = _NAMED_BY[dimension]
    return any(r.region == region and r.prop(name) == value for r in tier.of_type(type_))


def dashboard_sees_the_tier(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """A dashboard in a stack in R (changed while P is lost) that AWS accepts, shows every
    alarm of the tier, names none the tier lacks (by region, account and name), and graphs only
    metrics AWS publishes, of services the tier runs."""
    boards = dashboards(tier)
    if not any(b.resource.region == tier.recovery_region for b in boards):
        return [Violation(None, f"no dashboard in a stack in {tier.recovery_region}")]
    found = [Violation(b.resource, f"AWS refuses {why}") for b in boards for why in b.refused]
    alarms = {
        (a.region, tier.account, a.prop("AlarmName")): a
        for a in tier.of_type("AWS::CloudWatch::Alarm")
    }
    items = [item for b in boards for item in b.shown]
    named = {i.alarm: i.dashboard for i in items if i.alarm is not None}
    found += [
        Violation(board, f"shows alarm {name} of {account} in {region}, which the tier lacks")
        for (region, account, name), board in named.items()
        if (region, account, name) not in alarms
    ]
    found += [
        Violation(a, "not on the tier's dashboard") for k, a in alarms.items() if k not in named
    ]
    for item in items:
        if item.metric is None:
            continue
        namespace, metric, dimensions = item.metric
        if not emits(namespace, metric, frozenset(dimensions)):
            found.append(
                Violation(
                    item.dashboard,
                    f"graphs {namespace} {metric} with dimensions AWS does not publish",
                )
            )
        found += [
            Violation(
                item.dashboard, f"graphs {metric} of {d} {v} in {item.region}, which the tier lacks"
            )
            for d, v in dimensions.items()
            if not _declares(tier, item.region, d, v)
        ]
    return found


def plan_reports_land(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """The plan writes its execution reports to a bucket of its own stack and account, under
    a prefix its execution role may write, with the bucket's key ("your plan's execution IAM
    role has the necessary permissions to write reports to your Amazon S3 bucket", with "kms:
    GenerateDataKey and kms:Encrypt" for a customer managed key: https://docs.aws.amazon.com/
    r53recovery/latest/dg/region-switch-plans.html, read 2026-12-05). IAM and KMS decide as
    the simulator's model does (drtiers.core.permissions)."""
    plan = switch_plan(tier)
    if plan is None:
        return None
    target = plan.reports
    if target is None or target.owner != tier.account:
        return [Violation(plan.resource, "reports go to no bucket of its stack and account")]
    role = plan_role_statements(tier, plan)
    bucket = render(tier, target.bucket.stack, {"Fn::GetAtt": [target.bucket.logical_id, "Arn"]})
    found = []
    if not allowed(role, "s3:PutObject", f"{bucket}/{target.prefix}/report.pdf"):
        found.append(
            Violation(plan.resource, f"its execution role may not write {target.prefix}/*")
        )
    if any(use.problem for use in report_key_uses(tier, plan, role)):
        found.append(
            Violation(plan.resource, "its execution role may not use the report bucket's key")
        )
    return found


def restores_tested(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """In R, a restore testing plan restores snapshot copies from the vault the backups copy
    to there, of every kind of store they back up, a database into a subnet group and security
    group of its own stack: "AWS Backup starts restore jobs based on your plan and monitors the
    time taken to complete the restore", and without its network "if the default is not
    present ... the restore will not be successful" (https://docs.aws.amazon.com/aws-backup/
    latest/devguide/restore-testing.html and restore-testing-inferred-metadata.html, read
    2026-12-05)."""
    region = tier.recovery_region
    copies = {
        name
        for plan in tier.of_type("AWS::Backup::BackupPlan")
        for rule in backup_rules(plan)
        for where, name in rule.destinations()
        if where == region
    }
    if not copies:
        return None  # nothing copied to R to test: DR-BackupCopiedOut says so
    tests = [t for t in restore_tests(tier) if t.plan.region == region]
    if not tests:
        return [Violation(None, f"no restore testing plan in {region}")]
    found = []
    for test in tests:
        vaults = [render(tier, test.plan.stack, v) or "" for v in test.vaults]
        if not any(v == "*" or v.endswith(f":backup-vault:{n}") for v in vaults for n in copies):
            found.append(Violation(test.plan, f"tests no vault the backups copy to in {region}"))
        if "SNAPSHOT" not in test.recovery_point_types:
            found.append(Violation(test.plan, "chooses no snapshots, and copies are snapshots"))
        chosen = {s.type for s in test.selections}
        found += [
            Violation(test.plan, f"restores no {kind} copy")
            for kind in sorted(set(backed_up_types(tier)) - chosen)
        ]
        found += [
            Violation(s.resource, f"restores {s.type} outside a subnet group of its stack")
            for s in test.selections
            if s.type in ("RDS", "Aurora") and not _placed(s)
        ]
    return found


def _placed(selection: RestoreSelection) -> bool:
    """The selection names a DB subnet group and a security group of its own stack."""
    return (
        getattr(selection.subnet_group, "type", None) == "AWS::RDS::DBSubnetGroup"
        and getattr(selection.security_group, "type", None) == "AWS::EC2::SecurityGroup"
    )


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
        and not names_a_cluster(r)  # Aurora members: the cluster holds the data
        and (r.deletion_policy not in KEEPING or r.update_replace_policy not in KEEPING)
    ]


def failover_records(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if spec.entry_point is not EntryPoint.DNS_FAILOVER:
        return None
    records = dns_records(tier)
    primary = [r for r in records if r.failover == "PRIMARY"]
    secondary = [r for r in records if r.failover == "SECONDARY"]
    found = [
        Violation(r.resource, "the PRIMARY record has no health check")
        for r in primary
        if not r.health_checked
    ]
    if not primary:
        found.append(Violation(None, "no PRIMARY failover record"))
    if not secondary:
        found.append(Violation(None, "no SECONDARY failover record"))
    return found


def accelerator_serves_both(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if spec.entry_point is not EntryPoint.ACCELERATOR:
        return None
    groups = endpoint_groups(tier)
    regions = {g.region for g in groups}
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
        Violation(g.resource, f"traffic dial {g.dial} % takes no traffic")
        for g in groups
        if g.dial == 0
    ]
    return found


def recovery_capacity(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    services = services_by_region(tier)
    primary, recovery = services.get(tier.primary_region), services.get(tier.recovery_region)
    if spec.recovery_compute is RecoveryCompute.ABSENT:
        return (
            [Violation(recovery.service, "a service runs in the recovery region")]
            if recovery
            else []
        )
    if primary is None or recovery is None:
        return [Violation(None, "no service in the primary or the recovery region")]
    full, count = primary.desired, recovery.desired
    if tier.failed_over:  # deployed during an event: full capacity whatever the tier
        return [] if count == full else [Violation(recovery.service, f"{count} tasks failed over")]
    expected = {
        RecoveryCompute.ZERO: (count == 0, "0"),
        RecoveryCompute.REDUCED: (0 < count < full, f"above 0 and below the primary's {full}"),
        RecoveryCompute.FULL: (count == full, f"the primary's {full}"),
    }[spec.recovery_compute]
    if expected[0]:
        return []
    return [Violation(recovery.service, f"{count} tasks where the tier promises {expected[1]}")]


def scaling_floor_holds(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """A service's idle steady state is its scaling floor: "When a scaling policy is in effect,
    Application Auto Scaling can scale in (contract) as needed to the minimum capacity limit in
    response to changing demand" (https://docs.aws.amazon.com/autoscaling/application/
    APIReference/API_RegisterScalableTarget.html, MinCapacity, read 2026-12-04). A minimum below
    the desired count lets target tracking drain what the tier promises: P's full capacity, R's
    warm standby. The simulator sees it too (I3), except in a stack it synthesizes again (the
    primary stack backup-restore rebuilds from code)."""
    services = read_world(tier).services
    found = []
    for resource in tier.of_type("AWS::ECS::Service"):
        service = services[key_of(resource.region, resource.stack, resource.logical_id)]
        idle = idle_task_count(service.desired, service.minimum, service.scaling_policy)
        if idle < service.desired:
            found.append(
                Violation(
                    resource,
                    f"{service.desired} tasks, scaling minimum {service.minimum}: target tracking "
                    f"scales it in to {idle} while demand is low",
                )
            )
    return found


def queues_have_dead_letters(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    found_queues = queues(tier)
    if not found_queues:
        return None
    by_id = {(q.resource.stack, q.resource.logical_id): q for q in found_queues}
    dead_letter_ids = set()
    found = []
    for q in (q for q in found_queues if q.redrive):
        dead_letter_ids.add((q.resource.stack, q.dead_letter))
        dlq = by_id.get((q.resource.stack, q.dead_letter)) if q.dead_letter else None
        if dlq is None or dlq.retention_seconds <= q.retention_seconds:
            found.append(
                Violation(
                    q.resource,
                    "its dead-letter queue does not keep messages longer than the queue does",
                )
            )
    found += [
        Violation(q.resource, "no dead-letter queue")
        for q in found_queues
        if not q.redrive and (q.resource.stack, q.resource.logical_id) not in dead_letter_ids
    ]
    return found


def aurora_secondary_joined(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if spec.recovery_database is not RecoveryDatabase.AURORA_SECONDARY:
        return None
    primaries = aurora_clusters(tier, tier.primary_region)
    if not primaries:
        return None  # the workload has no relational database
    global_ids = set(global_cluster_ids(tier))
    secondaries = aurora_clusters(tier, tier.recovery_region)
    if not secondaries:
        return [Violation(None, f"no Aurora cluster in {tier.recovery_region}")]
    found = []
    for cluster in secondaries:
        if cluster.global_cluster not in global_ids:
            found.append(Violation(cluster.resource, "not joined to the primary's global cluster"))
        # A secondary runs the primary's engine and version (Aurora PostgreSQL or Aurora MySQL),
        # as the templates say; another would fail to join.
        ours = (cluster.engine, cluster.engine_version)
        theirs = {(c.engine, c.engine_version) for c in primaries}
        if theirs and ours not in theirs:
            found.append(
                Violation(
                    cluster.resource,
                    f"runs {' '.join(ours)}, the primary "
                    f"{', '.join(' '.join(t) for t in sorted(theirs, key=str))}",
                )
            )
        if cluster.own_credentials:
            own = ", ".join(cluster.own_credentials)
            found.append(Violation(cluster.resource, f"has credentials of its own ({own})"))
    return found


def rds_replica_of_primary(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """An RDS recovery instance replicates P's: a cross-Region read replica names its source
    by ARN, "If the source DB instance is in a different Amazon Web Services Region from the
    read replica, specify a valid DB instance ARN" (CreateDBInstanceReadReplica,
    SourceDBInstanceIdentifier, in botocore's RDS model; https://docs.aws.amazon.com/AmazonRDS/
    latest/APIReference/API_CreateDBInstanceReadReplica.html, read 2026-12-04). An instance in R
    without one is a standalone database that holds none of P's data."""
    if spec.recovery_database is not RecoveryDatabase.READ_REPLICA:
        return None
    sources = [i for i in db_instances(tier, tier.primary_region) if not i.cluster]
    if not sources:
        return None  # the workload has no RDS instance
    names = {str(i.resource.prop("DBInstanceIdentifier", default="")) for i in sources}
    # A generated identifier cannot be matched: any instance of P's region then counts.
    name = "|".join(map(re.escape, names)) if all(names) else r"[^\"]+"
    arn = re.compile(rf":rds:{re.escape(tier.primary_region)}:(\d{{12}}|\*):db:({name})\"")
    found = []
    for replica in db_instances(tier, tier.recovery_region):
        source = replica.resource.prop("SourceDBInstanceIdentifier")
        if replica.cluster:
            continue
        if not source:
            found.append(Violation(replica.resource, "a standalone instance, no replica of P's"))
        elif not arn.search(json.dumps(source)):
            found.append(
                Violation(replica.resource, f"its source is not P's instance by ARN: {source}")
            )
    return found


def admin_secret_in_recovery(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """The database's admin secret keeps a replica in R where R holds a database: with P lost
    the replica is what is left of the credentials, "You might want to promote a replica secret
    to a standalone secret as a disaster recovery solution if the primary secret becomes
    unavailable" (https://docs.aws.amazon.com/secretsmanager/latest/userguide/
    standalone-secret.html, read 2026-12-04)."""
    if spec.recovery_database is RecoveryDatabase.SNAPSHOT_COPIES:
        return None  # restored from a copy: the rebuild makes its secret again
    secrets = [
        s
        for s in tier.of_type("AWS::SecretsManager::Secret", role=StackRole.PRIMARY)
        if "username" in str(s.prop("GenerateSecretString", "SecretStringTemplate") or "")
    ]
    return [
        Violation(s, f"no replica in {tier.recovery_region}: its credentials are lost with P")
        for s in secrets
        if tier.recovery_region not in secret_replica_regions(s)
    ]


def health_checks_probe_the_health_path(
    tier: TierAssembly, spec: TierSpec
) -> list[Violation] | None:
    """A Route 53 HTTP(S) health check requests a path the app answers: "HTTP: Route 53 tries to
    establish a TCP connection. If successful, Route 53 submits an HTTP request and waits for an
    HTTP status code of 200 or greater and less than 400" (HealthCheckConfig Type, in botocore's
    Route 53 model; https://docs.aws.amazon.com/Route53/latest/APIReference/
    API_HealthCheckConfig.html, read 2026-12-04). The path the app is known to answer is its
    health path, which the probed load balancer's target groups check; another path may answer
    404, and P's endpoint is then unhealthy whatever its tasks do. A check whose endpoint is not
    one of the tier's load balancers is not judged."""
    found = []
    for check in health_checks(tier):
        if check.kind not in ("HTTP", "HTTPS") or check.path is None:
            continue
        fqdn = check.resource.prop("HealthCheckConfig", "FullyQualifiedDomainName")
        probed = {stack for stack, _ in output_reads(fqdn, check.resource.region)}
        paths = {
            str(group.prop("HealthCheckPath", default="/"))
            for group in tier.of_type("AWS::ElasticLoadBalancingV2::TargetGroup")
            if group.stack in probed
        }
        if paths and check.path not in paths:
            served = ", ".join(sorted(paths))
            found.append(
                Violation(check.resource, f"probes {check.path}; the app's health path is {served}")
            )
    return found


def alarms_watch_emitted_metrics(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """An alarm on an AWS metric names the dimensions AWS publishes it with: any other set is
    another metric, one that never gets a data point (drtiers/core/metrics.py)."""
    found = []
    for alarm in tier.of_type("AWS::CloudWatch::Alarm"):
        namespace, metric = alarm.prop("Namespace"), alarm.prop("MetricName")
        if not isinstance(namespace, str) or not isinstance(metric, str):
            continue
        dimensions = frozenset(d["Name"] for d in alarm.prop("Dimensions", default=[]))
        if not emits(namespace, metric, dimensions):
            known = published_with(namespace, metric)
            assert known is not None
            published = " or ".join("{" + ", ".join(sorted(s)) + "}" for s in known.dimension_sets)
            found.append(
                Violation(
                    alarm,
                    f"{namespace} {metric} with {{{', '.join(sorted(dimensions))}}}: AWS "
                    f"publishes it with {published} ({known.source})",
                )
            )
    return found


def own_metrics_heard(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """The metrics drtiers puts itself (the declaration, the probe) are the app's and the
    tier's, and the probe's alarm reads what the probe puts: another set of dimensions is
    another metric (core.tiers.declared_dimensions), shared with another app of the tier or
    never written. Whether the plan's declaration is heard is the simulation's to see."""
    ours = [
        a
        for a in tier.of_type("AWS::CloudWatch::Alarm")
        if a.prop("Namespace") == DECLARED_NAMESPACE
    ]
    if not ours:
        return None
    expected = declared_dimensions(tier.app, tier.name)
    alarms = read_world(tier).alarms
    found = []
    for alarm in ours:
        read = {d["Name"]: d["Value"] for d in alarm.prop("Dimensions", default=[])}
        metric, name = alarm.prop("MetricName"), alarm.prop("AlarmName")
        if read != expected:
            found.append(
                Violation(alarm, f"reads {metric} with {read}, not the app's and tier's {expected}")
            )
        probe_unheard = name in alarms and alarms[name].signal != "primary-probe"
        if metric == PRIMARY_HEALTHY_TARGETS and probe_unheard:
            found.append(Violation(alarm, f"no probe in {alarm.region} puts {metric} with {read}"))
    return found


def failover_is_data_plane(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    if not spec.has_recovery_stack:
        return None  # backup-restore: redeploying is the plan
    found = [
        Violation(
            g.resource,
            f"traffic dial at {g.dial} %: failing over would "
            "need a dial change, a control-plane call served only from us-west-2",
        )
        for g in endpoint_groups(tier)
        if g.dial != 100
    ]
    records = dns_records(tier)
    found += [
        Violation(
            r.resource,
            "a plain record: failing over would need a Route 53 record change, a "
            "control-plane call",
        )
        for r in records
        if not r.failover
        # an alias to the accelerator is fine: the accelerator fails over by itself
        and r.alias_zone != GLOBAL_ACCELERATOR_ZONE_ID
    ]
    health_checked = any(r.health_checked for r in records)
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


def iam_actions_exist(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
    """A mistyped action grants nothing and fails only when the call is made: in the event."""
    found = []
    for resource, statement in policy_statements(tier):
        for action in statement_actions(statement):
            if not known_action(action):
                found.append(
                    Violation(
                        resource,
                        f"{action} is no IAM action (IAM catalogue {catalogue_version()})",
                    )
                )
    return found


def drills_rehearse_what_they_claim(tier: TierAssembly, spec: TierSpec) -> list[Violation] | None:
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
        "DR-RestoresTested",
        "a restore testing plan in R restores every kind of store from the copy vault",
        "add a restore testing plan in the recovery region over the copy vault, with a selection "
        "per backed-up resource type and a database's subnet group and security group",
        restores_tested,
    ),
    Rule(
        "DR-StatefulRetained",
        "stateful resources keep their data when deleted or replaced",
        "set RemovalPolicy RETAIN_ON_UPDATE_OR_DELETE, RETAIN or SNAPSHOT (both DeletionPolicy "
        "and UpdateReplacePolicy)",
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
        "DR-ScalingFloor",
        "every service's scaling minimum holds its desired count",
        "set the scalable target's MinCapacity to the service's DesiredCount (raise it for an "
        "event with the plan's scale step, not by lowering the floor)",
        scaling_floor_holds,
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
        "DR-RdsReplicaOfPrimary",
        "the RDS recovery instance is a read replica of the primary's",
        "set SourceDBInstanceIdentifier to the primary instance's ARN in the primary region",
        rds_replica_of_primary,
    ),
    Rule(
        "DR-AdminSecretInRecovery",
        "the database's admin secret replicates to the recovery region",
        "add the recovery region to the admin secret's ReplicaRegions",
        admin_secret_in_recovery,
    ),
    Rule(
        "DR-HealthCheckPath",
        "Route 53 probes the path the app answers",
        "set the health check's ResourcePath to the app's health path (the target group's "
        "HealthCheckPath)",
        health_checks_probe_the_health_path,
    ),
    Rule(
        "DR-AlarmMetricDimensions",
        "every alarm on an AWS metric names the dimensions AWS publishes it with",
        "use the dimensions the service's CloudWatch page lists for the metric "
        "(drtiers/core/metrics.py)",
        alarms_watch_emitted_metrics,
    ),
    Rule(
        "DR-OwnMetricsHeard",
        "the metrics drtiers puts are the app's and tier's, and what the probe puts is read",
        "name each alarm on the drtiers namespace with core.tiers.declared_dimensions, and give "
        "the probe's schedule the dimensions its alarm reads (drtiers/constructs/alarms.py)",
        own_metrics_heard,
    ),
    Rule(
        "DR-PeopleAreTold",
        "what AWS says of the tier reaches a topic in each of its regions",
        "route AWS Health, the plan's executions and each database's RDS events to a topic of "
        "the same stack whose policy and key let EventBridge publish "
        "(drtiers/constructs/events.py)",
        people_are_told,
    ),
    Rule(
        "DR-DashboardSeesTier",
        "a dashboard in R shows every alarm of the tier and only what the tier has",
        "name each alarm and service on the dashboard by its fixed name and region "
        "(drtiers/constructs/dashboard.py)",
        dashboard_sees_the_tier,
    ),
    Rule(
        "DR-PlanReportsLand",
        "each Region switch plan's execution reports land in its bucket",
        "name a bucket of the plan's stack and account, and let the execution role put objects "
        "under the report prefix and use the bucket's key (drtiers/constructs/reports.py)",
        plan_reports_land,
    ),
    Rule(
        "DR-DataPlaneFailover",
        "failover needs data-plane operations only",
        "fail over with Route 53 health checks, ARC routing controls or accelerator endpoint "
        "health, with every traffic dial at 100 %",
        failover_is_data_plane,
    ),
    Rule(
        "DR-IamActionsExist",
        "every action a policy names is one IAM knows",
        "spell the action as the Service Authorization Reference lists it",
        iam_actions_exist,
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
    spec = TIERS.get(tier.name)
    if spec is None:
        return [Finding(RULES[0], tier.name, tier.name, "not a tier drtiers knows")]
    findings = []
    for rule in rules:
        for violation in rule.check(tier, spec) or []:
            where = (
                f"{violation.resource.stack}/{violation.resource.logical_id}"
                if violation.resource
                else f"tier {tier.name}"
            )
            findings.append(Finding(rule, tier.name, where, violation.detail))
    return findings


def dr_findings(directory: Path) -> list[Finding]:
    """Every drtiers-dr violation in a cloud assembly, tier by tier."""
    return [f for tier in read_assembly(directory).values() for f in check_tier(tier)]
