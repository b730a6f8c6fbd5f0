"""Every field of the workload schema has an effect (issue 18): one test per field path.

A field is a leaf of the pydantic models in drtiers/config/workload.py, which are the schema's
one source (schema/workload.schema.json is generated from them; test_workload holds the two
equal). One file, tests/fixtures/workloads/every-field-changed.yaml, sets every field to
another value than the reference workload's; it is synthesized once, and each field's test
finds its value where the field's description says it goes, in a named resource of a
template, and not there in the reference's synthesis (the session's ``synthesized``). The
workload figures (``figures.<name>``) only move the estimate: each is checked through the
estimate of the reference's synthesis, with no synth of its own."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from drtiers.assembly.reader import TierAssembly
from drtiers.assembly.world import World, read_world
from drtiers.assess import assess_assembly
from drtiers.assess.model import estimate
from drtiers.assess.resilience import resilience_targets
from drtiers.config.workload import REFERENCE, Workload, json_schema
from drtiers.core.facts import default_figures, default_workload, with_overrides
from drtiers.core.tiers import TIER_NAMES
from drtiers.recovery.live import deployed
from drtiers.recovery.simulate import simulate_region_loss
from drtiers.recovery.steps import failback_steps
from tests.conftest import ROOT, Synthesized

CHANGED_FILE = ROOT / "tests" / "fixtures" / "workloads" / "every-field-changed.yaml"
CHANGED = Workload.model_validate(yaml.safe_load(CHANGED_FILE.read_text()))
FIGURES = "figures"  # a mapping of figure name to number: each known name is a field

TASK = "AWS::ECS::TaskDefinition"
CONTAINER = ("ContainerDefinitions", "*")
ENV_NAMES = (*CONTAINER, "Environment", "*", "Name")
DB = "AWS::RDS::DBInstance"
TABLE = "AWS::DynamoDB::GlobalTable"
DAX = "AWS::DAX::Cluster"
QUEUE = "AWS::SQS::Queue"
PLAN_RULES = ("BackupPlan", "BackupPlanRule", "*")
DAY = 86400


@dataclass(frozen=True)
class Prop:
    """The changed file's value is among the values at ``path`` ("*": every item of a list) in
    the properties of the ``type_`` resources of stack drtiers-<stack>; the reference's
    synthesis has no such value there."""

    stack: str
    type_: str
    path: tuple[str, ...]
    value: object


TEMPLATE_EFFECTS: dict[str, Prop] = {
    "service.image": Prop(
        "pilot-light-primary",
        TASK,
        (*CONTAINER, "Image"),
        "public.ecr.aws/docker/library/httpd:2.4.62",
    ),
    "service.port": Prop(
        "pilot-light-primary",
        TASK,
        (*CONTAINER, "PortMappings", "*"),
        {
            "ContainerPort": 8081,
            "Protocol": "tcp",
        },
    ),
    "service.cpu": Prop("pilot-light-primary", TASK, ("Cpu",), "1024"),
    "service.memory": Prop("pilot-light-primary", TASK, ("Memory",), "3072"),
    "service.user": Prop("pilot-light-primary", TASK, (*CONTAINER, "User"), "appuser"),
    "service.health_check_path": Prop(
        "pilot-light-primary",
        "AWS::ElasticLoadBalancingV2::TargetGroup",
        ("HealthCheckPath",),
        "/healthz",
    ),
    "service.tasks.full": Prop("pilot-light-primary", "AWS::ECS::Service", ("DesiredCount",), 5),
    # warm-standby runs the reduced count in R until an event
    "service.tasks.reduced": Prop(
        "warm-standby-recovery", "AWS::ECS::Service", ("DesiredCount",), 3
    ),
    "service.environment": Prop(
        "pilot-light-primary",
        TASK,
        (*CONTAINER, "Environment", "*"),
        {"Name": "FIELDS_PROBE", "Value": "every-field-changed"},
    ),
    "database.engine": Prop("pilot-light-primary", DB, ("Engine",), "mysql"),
    "database.version": Prop("pilot-light-primary", DB, ("EngineVersion",), "8.0.46"),
    "database.instance_class": Prop(
        "pilot-light-primary", DB, ("DBInstanceClass",), "db.m7g.xlarge"
    ),
    "database.replica_class": Prop(
        "pilot-light-recovery", DB, ("DBInstanceClass",), "db.r6g.large"
    ),
    "database.aurora_class": Prop(
        "warm-standby-primary", DB, ("DBInstanceClass",), "db.r7g.2xlarge"
    ),
    "database.aurora_secondary_class": Prop(
        "warm-standby-recovery", DB, ("DBInstanceClass",), "db.r6g.xlarge"
    ),
    "database.storage_gb": Prop("pilot-light-primary", DB, ("AllocatedStorage",), "321"),
    "database.backup_retention_days": Prop(
        "warm-standby-primary", "AWS::RDS::DBCluster", ("BackupRetentionPeriod",), 23
    ),
    # the app finds a table by its name: TABLE_NAME_ORDERS (README, "Your workload")
    "tables[].name": Prop("pilot-light-primary", TASK, ENV_NAMES, "TABLE_NAME_ORDERS"),
    "tables[].partition_key.name": Prop(
        "pilot-light-primary",
        TABLE,
        ("KeySchema", "*"),
        {"AttributeName": "order_id", "KeyType": "HASH"},
    ),
    "tables[].partition_key.type": Prop(
        "pilot-light-primary",
        TABLE,
        ("AttributeDefinitions", "*"),
        {"AttributeName": "order_id", "AttributeType": "N"},
    ),
    "tables[].sort_key.name": Prop(
        "pilot-light-primary",
        TABLE,
        ("KeySchema", "*"),
        {"AttributeName": "placed", "KeyType": "RANGE"},
    ),
    "tables[].sort_key.type": Prop(
        "pilot-light-primary",
        TABLE,
        ("AttributeDefinitions", "*"),
        {"AttributeName": "placed", "AttributeType": "B"},
    ),
    "tables[].billing": Prop("pilot-light-primary", TABLE, ("BillingMode",), "PROVISIONED"),
    "tables[].capacity.read": Prop(
        "pilot-light-primary",
        TABLE,
        ("Replicas", "*", "ReadProvisionedThroughputSettings", "ReadCapacityUnits"),
        17,
    ),
    "tables[].capacity.write_min": Prop(
        "pilot-light-primary",
        TABLE,
        ("WriteProvisionedThroughputSettings", "WriteCapacityAutoScalingSettings", "MinCapacity"),
        13,
    ),
    "tables[].capacity.write_max": Prop(
        "pilot-light-primary",
        TABLE,
        ("WriteProvisionedThroughputSettings", "WriteCapacityAutoScalingSettings", "MaxCapacity"),
        131,
    ),
    "tables[].dax.node_type": Prop("pilot-light-primary", DAX, ("NodeType",), "dax.r5.xlarge"),
    "tables[].dax.recovery_node_type": Prop(
        "warm-standby-recovery", DAX, ("NodeType",), "dax.t3.small"
    ),
    "tables[].dax.nodes": Prop("pilot-light-primary", DAX, ("ReplicationFactor",), 4),
    "queues[].name": Prop("pilot-light-primary", TASK, ENV_NAMES, "QUEUE_URL_JOBS"),
    "queues[].retention_days": Prop(
        "pilot-light-primary", QUEUE, ("MessageRetentionPeriod",), 3 * DAY
    ),
    # the dead-letter queue is the queue without a RedrivePolicy
    "queues[].dead_letter_retention_days": Prop(
        "pilot-light-primary", QUEUE, ("MessageRetentionPeriod",), 11 * DAY
    ),
    "queues[].max_receive_count": Prop(
        "pilot-light-primary", QUEUE, ("RedrivePolicy", "maxReceiveCount"), 7
    ),
    "queues[].visibility_timeout_seconds": Prop(
        "pilot-light-primary", QUEUE, ("VisibilityTimeout",), 97
    ),
    "entry_point.domain_name": Prop(
        "pilot-light-edge",
        "AWS::Route53::RecordSet",
        ("Name",),
        "drtiers-pilot-light.dr.acme-corp.io",
    ),
    "entry_point.hosted_zone_id": Prop(
        "pilot-light-edge", "AWS::Route53::RecordSet", ("HostedZoneId",), "Z0FIELDS0CHANGED"
    ),
    "entry_point.health_check.interval_seconds": Prop(
        "pilot-light-edge",
        "AWS::Route53::HealthCheck",
        ("HealthCheckConfig", "RequestInterval"),
        10,
    ),
    "entry_point.health_check.failure_threshold": Prop(
        "pilot-light-edge",
        "AWS::Route53::HealthCheck",
        ("HealthCheckConfig", "FailureThreshold"),
        4,
    ),
    "entry_point.certificate_arns": Prop(
        "pilot-light-recovery",
        "AWS::ElasticLoadBalancingV2::Listener",
        ("Certificates", "*", "CertificateArn"),
        "arn:aws:acm:us-west-2:123456789012:certificate/66666666-7777-8888-9999-000000000000",
    ),
    "backups.frequency": Prop(
        "pilot-light-primary",
        "AWS::Backup::BackupPlan",
        (*PLAN_RULES, "ScheduleExpression"),
        "cron(0 0/6 * * ? *)",
    ),
    "backups.retention_days": Prop(
        "pilot-light-primary",
        "AWS::Backup::BackupPlan",
        (*PLAN_RULES, "CopyActions", "*", "Lifecycle", "DeleteAfterDays"),
        47,
    ),
    "backups.restore_tests": Prop(
        "pilot-light-recovery",
        "AWS::Backup::RestoreTestingPlan",
        ("ScheduleExpression",),
        "cron(0 12 1 * ? *)",
    ),
}

# figures.<name>: (tier, what moves). "rto", "rpo", "cost": the tier's estimate (a bigger
# figure a longer time or a higher cost; a rate the other way); "step:<name>": that failover
# step's time in the estimate; "failback:<name>": that failback step's time (the runbook's and
# the plan's); "resilience:<type>:rto|rpo": the Resilience Hub target of that disruption type.
FIGURE_EFFECTS: dict[str, tuple[str, str]] = {
    "aurora_in_region_failover_seconds": ("warm-standby", "resilience:AZ:rto"),
    "aurora_resync_seconds": ("warm-standby", "failback:wait-replication"),
    "backup_copy_seconds": ("backup-restore", "rpo"),
    "failover_approval_seconds": ("pilot-light", "rto"),
    "outage_decision_seconds": ("backup-restore", "rto"),
    "rds_replica_lag_seconds": ("pilot-light", "rpo"),
    "rds_replica_promotion_seconds": ("pilot-light", "rto"),
    "rds_replica_rebuild_seconds": ("pilot-light", "failback:replicate-back"),
    "redeploy_seconds": ("backup-restore", "rto"),
    "restorable_lag_seconds": ("multi-site", "resilience:Software:rpo"),
    "restore_rate_gb_per_hour": ("backup-restore", "rto"),
    "scale_out_seconds": ("warm-standby", "rto"),
    # an API call beside the database's promotion, not on the RTO's path
    "secret_promotion_seconds": ("pilot-light", "step:promote-secret"),
    # tasks started from zero: beside the database's promotion, which takes longer
    "task_start_seconds": ("pilot-light", "step:scale-out"),
    "alb_lcu": ("multi-site", "cost"),
    "aurora_io_million_per_month": ("warm-standby", "cost"),
    "aurora_write_io_million_per_month": ("multi-site", "cost"),
    "daily_change_fraction": ("backup-restore", "cost"),
    "database_size_gb": ("backup-restore", "rto"),
    "nat_gb_per_month": ("pilot-light", "cost"),
    "queue_requests_million_per_month": ("multi-site", "cost"),
    "table_reads_million_per_month": ("pilot-light", "cost"),
    "table_size_gb": ("backup-restore", "rto"),
    "table_writes_million_per_month": ("warm-standby", "cost"),
}


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The section model a field holds: itself, in ``X | None`` or in ``tuple[X, ...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple):
        models = [m for a in typing.get_args(annotation) if (m := _model_of(a))]
        return models[0] if models else None
    return None


def _leaves(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        if typing.get_origin(info.annotation) is tuple:
            path += "[]"
        section = _model_of(info.annotation)
        yield from _leaves(section, f"{path}.") if section else (path,)


def _schema_leaves(schema: dict[str, Any], node: dict[str, Any], prefix: str) -> Iterator[str]:
    """The same walk over the published JSON Schema ($ref, anyOf with null, array items)."""
    for name, spec in node.get("properties", {}).items():
        path = f"{prefix}{name}"
        if spec.get("type") == "array":
            path, spec = f"{path}[]", spec["items"]
        refs = [s["$ref"] for s in (spec, *spec.get("anyOf", ())) if "$ref" in s]
        if refs:
            section = schema["$defs"][refs[0].rsplit("/", 1)[-1]]
            yield from _schema_leaves(schema, section, f"{path}.")
        else:
            yield path


def _figure_names() -> list[str]:
    """Every name ``figures`` takes: the estimate's assumptions and workload figures."""
    assumptions = [n for n, f in default_figures().items() if f.kind == "assumption"]
    return sorted([*assumptions, *default_workload()])


def schema_fields() -> set[str]:
    leaves = set(_leaves(Workload)) - {FIGURES}
    return leaves | {f"{FIGURES}.{name}" for name in _figure_names()}


def test_the_published_schema_has_the_same_fields() -> None:
    schema = json.loads(json_schema())
    assert set(_schema_leaves(schema, schema, "")) == set(_leaves(Workload))


# Fields one tier alone accepts, whose effect a test of their own asserts (the changed file
# is synthesized for several tiers): field -> (test file, test).
ELSEWHERE = {
    "tables[].consistency": (
        "test_strong_tables.py",
        "test_the_table_is_strong_with_a_witness_in_the_set",
    ),
    "tables[].witness_region": (
        "test_strong_tables.py",
        "test_a_named_witness_is_the_one_declared",
    ),
    "backups.air_gapped": (
        "test_air_gapped.py",
        "test_every_recovery_point_is_copied_to_both_vaults_in_r",
    ),
}


def test_the_tests_elsewhere_exist() -> None:
    for file, test in ELSEWHERE.values():
        assert f"def {test}(" in (ROOT / "tests" / file).read_text(), (file, test)


def test_every_field_has_an_effect_test() -> None:
    tested = (
        set(TEMPLATE_EFFECTS) | {f"{FIGURES}.{name}" for name in FIGURE_EFFECTS} | set(ELSEWHERE)
    )
    problems = [
        f"{path}: a schema field with no effect test (TEMPLATE_EFFECTS or FIGURE_EFFECTS in "
        "tests/test_fields.py)"
        for path in sorted(schema_fields() - tested)
    ] + [f"{path}: tested, but not a schema field" for path in sorted(tested - schema_fields())]
    assert not problems, "\n".join(problems)


def _value(model: object, path: str) -> object:
    """A field's value, in the first item of a list; None where a section is absent."""
    for part in path.split("."):
        model = getattr(model, part.removesuffix("[]"), None)
        if part.endswith("[]"):
            model = model[0] if model else None
    return model


@pytest.mark.parametrize("path", sorted(TEMPLATE_EFFECTS))
def test_the_changed_file_changes_the_field(path: str) -> None:
    assert _value(CHANGED, path) not in (None, _value(REFERENCE, path))


def _tier(stack: str) -> str:
    return next(t for t in TIER_NAMES if stack.startswith(f"{t}-"))


@pytest.fixture(scope="module")
def changed() -> dict[str, Synthesized]:
    """The tiers the effects are found in, around the changed file, each synthesized once (a
    tier alone synthesizes faster than all four)."""
    tiers = sorted({_tier(effect.stack) for effect in TEMPLATE_EFFECTS.values()})
    return {tier: Synthesized(tier=tier, workload=str(CHANGED_FILE)) for tier in tiers}


def _values(template: dict[str, Any], type_: str, path: tuple[str, ...]) -> list[Any]:
    found = [r.get("Properties", {}) for r in template["Resources"].values() if r["Type"] == type_]
    for key in path:
        if key == "*":
            found = [item for value in found if isinstance(value, list) for item in value]
        else:
            found = [value[key] for value in found if isinstance(value, dict) and key in value]
    return found


@pytest.mark.parametrize("path", sorted(TEMPLATE_EFFECTS))
def test_the_field_reaches_the_template(
    path: str, changed: dict[str, Synthesized], synthesized: Synthesized
) -> None:
    effect = TEMPLATE_EFFECTS[path]
    stack = f"drtiers-{effect.stack}"
    where = f"{stack} {effect.type_} {'.'.join(effect.path)}"
    found = _values(changed[_tier(effect.stack)].json(stack), effect.type_, effect.path)
    assert effect.value in found, f"{path}: {effect.value!r} not in {where}: {found}"
    reference = _values(synthesized.json(stack), effect.type_, effect.path)
    assert effect.value not in reference, f"{path}: the reference has it too in {where}"


def _failback_seconds(assembly: TierAssembly, step: str, overrides: dict[str, float]) -> float:
    figures, workload = with_overrides({**assembly.figures, **overrides})
    world = read_world(assembly)

    def no_deploy(_: Any, __: Any) -> World:
        raise AssertionError("a tier with a plan deploys no stack to fail over")

    _, after = simulate_region_loss(deployed(world), figures, workload, no_deploy)
    return next(s.seconds for s in failback_steps(world, after, figures) if s.name == step)


def _measure(assembly: TierAssembly, what: str, overrides: dict[str, float]) -> float:
    """What a figure moves, with ``overrides`` on the figures the tier was synthesized with."""
    kind, _, name = what.partition(":")
    if kind == "failback":
        return _failback_seconds(assembly, name, overrides)
    given = {**assembly.figures, **overrides}
    result = estimate(assembly, *with_overrides(given))
    if kind == "step":
        return next(s.seconds for s in result.rto_steps if s.name == name)
    if kind == "resilience":
        disruption, measure = name.split(":")
        return resilience_targets(result, given)[disruption][measure == "rpo"]
    return {
        "rto": result.rto_seconds,
        "rpo": result.rpo_seconds,
        "cost": result.monthly_cost_usd,
    }[kind]


@pytest.mark.parametrize("name", sorted(FIGURE_EFFECTS))
def test_the_figure_moves_the_estimate(name: str, synthesized: Synthesized) -> None:
    tier, what = FIGURE_EFFECTS[name]
    figure = default_figures().get(name)
    value = figure.value if figure else default_workload()[name]
    assembly = synthesized.read(tier)
    before = _measure(assembly, what, {})
    after = _measure(assembly, what, {name: value * 2 + 1})
    faster = figure is not None and figure.higher_is_faster
    assert after < before if faster else after > before, (
        f"figures.{name}: {value} -> {value * 2 + 1} leaves {tier}'s {what} at {before}"
    )


def test_the_files_figures_reach_the_estimate(changed: dict[str, Synthesized]) -> None:
    """The file's figures travel in the assembly, so the estimate read back (explain, simulate,
    the report) uses them, not the defaults."""
    assembly = changed["pilot-light"].read("pilot-light")
    assert assembly.figures == CHANGED.figures
    (read_back,) = assess_assembly(changed["pilot-light"].directory)
    assert read_back == estimate(assembly, *with_overrides(CHANGED.figures))
    assert read_back != estimate(assembly, *with_overrides({}))


def test_a_dax_cluster_names_one_zone_per_node(changed: dict[str, Synthesized]) -> None:
    """DAX's CreateCluster: "If the AvailabilityZones parameter is provided, its length must
    equal the ReplicationFactor" (https://docs.aws.amazon.com/amazondynamodb/latest/
    APIReference/API_dax_CreateCluster.html, read 2026-12-04). The changed file asks for 4
    nodes in regions of 3 zones: each node gets a zone, the zones in turn, and the first three
    stay distinct (Control Tower's CT.DAX.PR.2)."""
    clusters = [
        cluster
        for synthesized in changed.values()
        for tier in synthesized.tiers.values()
        for stack in tier.all
        for cluster in _values(synthesized.json(stack.stack_name), DAX, ())
    ]
    assert clusters
    for cluster in clusters:
        zones = cluster["AvailabilityZones"]
        assert len(zones) == cluster["ReplicationFactor"] == 4, zones
        assert len(set(zones[:3])) == 3, zones
