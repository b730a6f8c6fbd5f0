"""A mutation score for the recovery checks: single defects planted in a synthesized assembly.

Each mutant changes one thing in one stack's template (a grant in the wrong region, a removed
security-group path, a scaling floor of zero, a mistyped alarm metric, a plan block out of
order, ...), as a person editing a construct or a template by hand could. The harness copies the
assembly, plants the defect and runs what should catch it: the simulator for the tier (region
loss and failback, invariants I1-I9) and the drtiers-dr rule pack. A mutant is killed when a
violation or finding appears that the unmutated tier does not have; the kill rate measures how
much of a realistic defect space the checks see (decision 31).

Edits find their resource by type and by a stable property, tag or logical-id prefix (the part
CDK derives from the construct path), never by the hash suffix, and raise when nothing matches:
a mutant can never be a silent no-op. Names, regions and the account in the edits are those
of the repository's cdk.json context (us-east-1 to us-west-2), which `make mutate` synthesizes
with; under another context an edit that finds nothing raises rather than measuring nothing.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtiers import build
from drtiers.assembly.reader import copy_assembly, edit_template, read_assembly, stack_roles
from drtiers.checks.dr import check_tier
from drtiers.core.tiers import CONTROL_REGIONS_VARIABLE
from drtiers.recovery import simulate_assembly
from drtiers.recovery.simulate import Synthesize

Resources = dict[str, dict[str, Any]]
Edit = Callable[[Resources], None]

CATEGORIES = (
    "endpoints",  # endpoints and environment
    "iam",  # IAM of every role a step or task uses
    "key-policy",
    "security-group",
    "proxy-auth",  # proxies and auth
    "scaling",  # scaling bounds and counts
    "health-alarm",  # health checks and alarms (names, metrics, dimensions)
    "plan",  # plan blocks, their order and roles
    "replication",  # replication membership
    "backup",  # backup copies and vaults
    "cross-region",  # cross-region reads
)


class MutantError(ValueError):
    """A mutant that cannot be planted: its edit matches nothing, or changes nothing."""


@dataclass(frozen=True)
class Mutant:
    id: str
    category: str
    tier: str
    stack: str  # the role of the stack it edits: primary | recovery | recovery-base | edge | plan
    description: str
    why: str  # why it breaks recovery, in one line
    edit: Edit = field(repr=False, compare=False)
    # Why the checks cannot see it as planted (e.g. a stack the simulation synthesizes again).
    note: str = ""


@dataclass(frozen=True)
class Result:
    mutant: Mutant
    caught_by: tuple[str, ...]  # invariants (I1..I9) and rule ids (DR-...) new to the mutant
    details: tuple[str, ...]  # what each new violation or finding says
    error: str = ""  # the checks raised on the mutated tier (the defect does not pass them)

    @property
    def killed(self) -> bool:
        return bool(self.caught_by) or bool(self.error)


# --- finding what to change ---------------------------------------------------------------------

Match = Callable[[str, dict[str, Any]], bool]


def prefix(start: str) -> Match:
    """A resource whose logical id starts with ``start`` (the construct path, not its hash)."""
    return lambda logical_id, _: logical_id.startswith(start)


def prop(name: str, value: Any) -> Match:
    """A resource whose property ``name`` is ``value`` (a fixed name)."""
    return lambda _, resource: resource.get("Properties", {}).get(name) == value


def has(text: str) -> Match:
    """A resource whose properties mention ``text``."""
    return lambda _, resource: text in json.dumps(resource.get("Properties", {}))


def find(resources: Resources, type_: str, match: Match) -> tuple[str, dict[str, Any]]:
    """The one resource of ``type_`` that ``match`` selects."""
    found = [(i, r) for i, r in resources.items() if r.get("Type") == type_ and match(i, r)]
    if len(found) != 1:
        raise MutantError(f"{len(found)} resources of type {type_} match, not one")
    return found[0]


# --- edits --------------------------------------------------------------------------------------


def replace_text(type_: str, match: Match, old: str, new: str, count: int = 1) -> Edit:
    """Replace ``old`` by ``new`` in one resource's properties as JSON text (``json.dumps``:
    ``"key": "value"``, a nested JSON string's quotes as ``\\"``), ``count`` times, or every
    time with count 0."""

    def edit(resources: Resources) -> None:
        _, resource = find(resources, type_, match)
        text = json.dumps(resource["Properties"])
        if old not in text:
            raise MutantError(f"{type_}: {old!r} does not occur")
        resource["Properties"] = json.loads(text.replace(old, new, count or -1))

    return edit


def set_path(type_: str, match: Match, path: tuple[str | int, ...], value: Any) -> Edit:
    """Set one property (by its path under Properties); DELETE removes it."""

    def edit(resources: Resources) -> None:
        _, resource = find(resources, type_, match)
        parent: Any = resource["Properties"]
        for key in path[:-1]:
            parent = parent[key]
        last = path[-1]
        if value is DELETE:
            if isinstance(parent, dict) and last not in parent:
                raise MutantError(f"{type_}: no {'.'.join(map(str, path))} to delete")
            del parent[last]
        else:
            parent[last] = value

    return edit


DELETE: Any = object()


def delete_policy(type_: str, match: Match) -> Edit:
    """Delete one resource with its stack and on replacement (RemovalPolicy.DESTROY)."""

    def edit(resources: Resources) -> None:
        _, resource = find(resources, type_, match)
        resource["DeletionPolicy"] = resource["UpdateReplacePolicy"] = "Delete"

    return edit


def remove_resource(type_: str, match: Match) -> Edit:
    """Delete one resource (nothing else in the template may refer to it)."""

    def edit(resources: Resources) -> None:
        logical_id, _ = find(resources, type_, match)
        del resources[logical_id]
        if any(logical_id in json.dumps(r) for r in resources.values()):
            raise MutantError(f"{logical_id} is still referred to")

    return edit


def set_env(name: str, value: Any) -> Edit:
    """Set (or with DELETE remove) one environment variable of the app's task definition."""

    def edit(resources: Resources) -> None:
        _, task = find(resources, "AWS::ECS::TaskDefinition", prefix("AppTask"))
        variables = task["Properties"]["ContainerDefinitions"][0]["Environment"]
        at = next((i for i, v in enumerate(variables) if v["Name"] == name), None)
        if at is None:
            raise MutantError(f"no {name} in the task definition")
        if value is DELETE:
            del variables[at]
        else:
            variables[at]["Value"] = value

    return edit


StatementMatch = Callable[[dict[str, Any]], bool]


def action(name: str) -> StatementMatch:
    """A statement that names the action ``name``."""

    def match(statement: dict[str, Any]) -> bool:
        actions = statement.get("Action", [])
        return name in ([actions] if isinstance(actions, str) else actions)

    return match


def sid(name: str) -> StatementMatch:
    return lambda statement: statement.get("Sid") == name


def _documents(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The policy documents of an IAM policy, a role's inline policies, or a key policy."""
    props = resource["Properties"]
    if "PolicyDocument" in props:
        return [props["PolicyDocument"]]
    if "KeyPolicy" in props:
        return [props["KeyPolicy"]]
    return [p["PolicyDocument"] for p in props.get("Policies", [])]


def drop_statement(type_: str, match: Match, statement: StatementMatch) -> Edit:
    """Remove the one statement ``statement`` selects from a policy, role or key policy."""

    def edit(resources: Resources) -> None:
        _, resource = find(resources, type_, match)
        hits = [
            (document, s)
            for document in _documents(resource)
            for s in document["Statement"]
            if statement(s)
        ]
        if len(hits) != 1:
            raise MutantError(f"{type_}: {len(hits)} statements match, not one")
        document, chosen = hits[0]
        document["Statement"].remove(chosen)

    return edit


def drop_action(type_: str, match: Match, name: str) -> Edit:
    """Remove one action from the one statement that names it."""

    def edit(resources: Resources) -> None:
        _, resource = find(resources, type_, match)
        hits = [s for d in _documents(resource) for s in d["Statement"] if action(name)(s)]
        if len(hits) != 1:
            raise MutantError(f"{type_}: {len(hits)} statements name {name}, not one")
        actions = hits[0]["Action"]
        if isinstance(actions, str) or len(actions) == 1:
            raise MutantError(f"{name} is the statement's only action: drop the statement")
        actions.remove(name)

    return edit


def add_statement(type_: str, match: Match, statement: dict[str, Any]) -> Edit:
    def edit(resources: Resources) -> None:
        _, resource = find(resources, type_, match)
        _documents(resource)[0]["Statement"].append(statement)

    return edit


PLAN = "AWS::ARCRegionSwitch::Plan"


def _blocks(steps: list[dict[str, Any]]) -> Iterable[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """(the list holding it, block) of every block, inside parallel stages too."""
    for step in steps:
        yield steps, step
        inner = step["ExecutionBlockConfiguration"].get("ParallelConfig", {}).get("Steps")
        if inner:
            yield from ((inner, block) for block in inner)


def plan_edit(
    action_: str, region_role: str, change: Callable[[list[dict[str, Any]]], None]
) -> Edit:
    """Change the steps of one workflow of the tier's Region switch plan."""

    def edit(resources: Resources) -> None:
        _, resource = find(resources, PLAN, lambda *_: True)
        props = resource["Properties"]
        primary = props["PrimaryRegion"]
        region = (
            primary
            if region_role == "primary"
            else next(r for r in props["Regions"] if r != primary)
        )
        workflow = next(
            (
                w
                for w in props["Workflows"]
                if w["WorkflowTargetAction"] == action_ and w["WorkflowTargetRegion"] == region
            ),
            None,
        )
        if workflow is None:
            raise MutantError(f"no {action_} workflow for the {region_role} region")
        change(workflow["Steps"])

    return edit


def drop_block(name: str) -> Callable[[list[dict[str, Any]]], None]:
    def change(steps: list[dict[str, Any]]) -> None:
        hits = [(holder, b) for holder, b in _blocks(steps) if b["Name"] == name]
        if len(hits) != 1:
            raise MutantError(f"{len(hits)} blocks named {name}, not one")
        holder, block = hits[0]
        holder.remove(block)

    return change


def block_text(name: str, old: str, new: str) -> Callable[[list[dict[str, Any]]], None]:
    """Replace text in one block's configuration (its payload, ARNs, behaviour), as JSON text."""

    def change(steps: list[dict[str, Any]]) -> None:
        hits = [(holder, b) for holder, b in _blocks(steps) if b["Name"] == name]
        if len(hits) != 1:
            raise MutantError(f"{len(hits)} blocks named {name}, not one")
        holder, block = hits[0]
        text = json.dumps(block)
        if old not in text:
            raise MutantError(f"block {name}: {old!r} does not occur")
        holder[holder.index(block)] = json.loads(text.replace(old, new))

    return change


def swap_steps(first: str, second: str) -> Callable[[list[dict[str, Any]]], None]:
    """Swap two top-level steps (stages) of a workflow: its order."""

    def change(steps: list[dict[str, Any]]) -> None:
        names = [s["Name"] for s in steps]
        if first not in names or second not in names:
            raise MutantError(f"no top-level steps {first} and {second}")
        i, j = names.index(first), names.index(second)
        steps[i], steps[j] = steps[j], steps[i]

    return change


# --- the mutants --------------------------------------------------------------------------------

ROLE = "AWS::IAM::Role"
POLICY = "AWS::IAM::Policy"
KEY = "AWS::KMS::Key"
TASK_POLICY = (POLICY, prefix("AppTaskTaskRoleDefaultPolicy"))
ALARM = "AWS::CloudWatch::Alarm"
CHECK = "AWS::Route53::HealthCheck"
SCALING = "AWS::ApplicationAutoScaling::ScalableTarget"
INGRESS = "AWS::EC2::SecurityGroupIngress"
EGRESS = "AWS::EC2::SecurityGroupEgress"


def _alarm(suffix: str) -> Match:
    """An alarm by its fixed name's last part (``<app>-<tier>-<role>-<suffix>``, and for the
    alarm a Route 53 health check follows, ``-<digest>`` after it: constructs/alarms.py)."""
    named = re.compile(rf"-{suffix}(-[0-9a-f]{{8}})?$")
    return lambda _, r: bool(named.search(str(r.get("Properties", {}).get("AlarmName", ""))))


def _sg_rule(source: str, target: str) -> Match:
    """A security-group rule CDK names from/to its peers (``<Group>from...<Peer>`` or
    ``...to...``): ``source`` and ``target`` are the construct names of the groups."""
    return lambda logical_id, _: logical_id.startswith(source) and target in logical_id


def _writer_to_reader(resources: Resources) -> None:
    """DATABASE_ENDPOINT names the proxy's read-only endpoint (found by its type)."""
    reader, _ = find(resources, "AWS::RDS::DBProxyEndpoint", prop("TargetRole", "READ_ONLY"))
    set_env("DATABASE_ENDPOINT", {"Fn::GetAtt": [reader, "Endpoint"]})(resources)


def _port(resources: Resources, match: Match, port: int) -> None:
    """A security-group rule's port range moved to ``port``."""
    _, rule = find(resources, INGRESS, match)
    rule["Properties"]["FromPort"] = rule["Properties"]["ToPort"] = port


def _rebuild_role_reads_primary(resources: Resources) -> None:
    """The rebuild task role's control-table statement names the table by P's output."""
    _, role = find(resources, ROLE, prop("RoleName", "drtiers-backup-restore-rebuild-task"))
    (statement,) = [
        s
        for p in role["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s.get("Action") == "dynamodb:GetItem"
    ]
    statement["Resource"] = {
        "Fn::GetStackOutput": {
            "StackName": "drtiers-backup-restore-primary",
            "Region": "us-east-1",
            "OutputName": "ControlTableArn",
        }
    }


def _own_control_only(resources: Resources) -> None:
    """The task role's GetItem on the control table keeps its own region's table only."""
    _, policy = find(resources, *TASK_POLICY)
    for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
        if statement.get("Action") == "dynamodb:GetItem":
            statement["Resource"] = statement["Resource"][:1]


def _control_on_table_keys(resources: Resources) -> None:
    """The control table encrypted like the workload's table: a customer managed key in each
    region, which the other region's tasks may not use."""
    _, control = find(resources, "AWS::DynamoDB::GlobalTable", has("-control"))
    _, table = find(resources, "AWS::DynamoDB::GlobalTable", has("-table"))
    keys = {r["Region"]: r["SSESpecification"] for r in table["Properties"]["Replicas"]}
    for replica in control["Properties"]["Replicas"]:
        replica["SSESpecification"] = keys[replica["Region"]]


def _drop_replica(resources: Resources, table: str, region: str) -> None:
    _, resource = find(resources, "AWS::DynamoDB::GlobalTable", prop("TableName", table))
    replicas = resource["Properties"]["Replicas"]
    kept = [r for r in replicas if r.get("Region") != region]
    if len(kept) == len(replicas):
        raise MutantError(f"{table} has no replica in {region}")
    resource["Properties"]["Replicas"] = kept


# A key policy statement that shuts every principal out of decrypting with the key.
DENY_DECRYPT = {
    "Sid": "Mutant",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "kms:Decrypt",
    "Resource": "*",
}

MUTANTS: tuple[Mutant, ...] = (
    # --- endpoints and environment --------------------------------------------------------------
    Mutant(
        "env-no-db-endpoint-pl",
        "endpoints",
        "pilot-light",
        "recovery",
        "R's task definition loses DATABASE_ENDPOINT",
        "R's tasks have no database to connect to after promotion",
        set_env("DATABASE_ENDPOINT", DELETE),
    ),
    Mutant(
        "env-writer-is-reader-ws",
        "endpoints",
        "warm-standby",
        "recovery",
        "R's DATABASE_ENDPOINT names the proxy's read-only endpoint",
        "writes after promotion go to a read-only endpoint",
        _writer_to_reader,
    ),
    Mutant(
        "env-no-queue-ms",
        "endpoints",
        "multi-site",
        "recovery",
        "R's task definition loses QUEUE_URL",
        "R's tasks cannot reach the work queue",
        set_env("QUEUE_URL", DELETE),
    ),
    Mutant(
        "env-own-item-only-ws",
        "endpoints",
        "warm-standby",
        "primary",
        "P's task definition loses CONTROL_TABLE_REGIONS (it reads its own replica only)",
        "P's tasks, restarted when P returns, follow their replica's old item and write",
        set_env(CONTROL_REGIONS_VARIABLE, DELETE),
    ),
    Mutant(
        "env-wrong-port-pl",
        "endpoints",
        "pilot-light",
        "recovery",
        "R's DATABASE_PORT says 5432 where the replica listens on 5438",
        "R's tasks connect to a port nothing listens on",
        set_env("DATABASE_PORT", "5432"),
    ),
    Mutant(
        "env-control-table-ws",
        "endpoints",
        "warm-standby",
        "recovery",
        "R's CONTROL_TABLE_NAME names another tier's control table",
        "R's tasks read another tier's writer-region item and fence themselves wrongly",
        replace_text(
            "AWS::ECS::TaskDefinition",
            prefix("AppTask"),
            "drtiers-warm-standby-control",
            "drtiers-pilot-light-control",
        ),
    ),
    Mutant(
        "env-table-name-ms",
        "endpoints",
        "multi-site",
        "recovery",
        "R's TABLE_NAME is mistyped",
        "R's tasks read and write a table that does not exist",
        replace_text(
            "AWS::ECS::TaskDefinition",
            prefix("AppTask"),
            "drtiers-multi-site-table",
            "drtiers-multi-site-tabel",
        ),
    ),
    # --- IAM of the roles tasks and steps use ---------------------------------------------------
    Mutant(
        "iam-connect-wrong-region-pl",
        "iam",
        "pilot-light",
        "recovery",
        "R's task role grants rds-db:connect in P's region instead of R's",
        "after promotion R's tasks cannot log in to R's database",
        replace_text(*TASK_POLICY, ":rds-db:us-west-2:", ":rds-db:us-east-1:"),
    ),
    Mutant(
        "iam-no-connect-ws",
        "iam",
        "warm-standby",
        "recovery",
        "R's task role loses its rds-db:connect statement",
        "R's tasks cannot log in to the proxy",
        drop_statement(*TASK_POLICY, action("rds-db:connect")),
    ),
    Mutant(
        "iam-table-wrong-region-ms",
        "iam",
        "multi-site",
        "recovery",
        "R's task role grants the workload table in P's region instead of R's",
        "with P lost R's tasks cannot read or write their table",
        replace_text(
            *TASK_POLICY,
            ":dynamodb:us-west-2:123456789012:table/drtiers-multi-site-table",
            ":dynamodb:us-east-1:123456789012:table/drtiers-multi-site-table",
        ),
    ),
    Mutant(
        "iam-no-control-read-pl",
        "iam",
        "pilot-light",
        "recovery",
        "R's task role cannot read the control table (writer-region item)",
        "R's tasks cannot tell that their region is the writer's",
        drop_statement(
            *TASK_POLICY,
            lambda s: s.get("Action") == "dynamodb:GetItem" and "-control" in json.dumps(s),
        ),
    ),
    Mutant(
        "iam-own-control-only-br",
        "iam",
        "backup-restore",
        "primary",
        "P's task role reads the control table in P only, not the copy restored in R",
        "P's tasks, restarted when P returns, miss R's declaration and write beside it",
        _own_control_only,
    ),
    Mutant(
        "key-control-cmk-ws",
        "cross-region",
        "warm-standby",
        "primary",
        "The control table is encrypted with the tables' customer managed keys",
        "P's returning tasks may not decrypt R's copy of the writer-region item, and write",
        _control_on_table_keys,
    ),
    Mutant(
        "iam-no-queue-ws",
        "iam",
        "warm-standby",
        "recovery",
        "R's task role loses its SQS statement",
        "R's tasks cannot send or receive work",
        drop_statement(*TASK_POLICY, action("sqs:SendMessage")),
    ),
    Mutant(
        "iam-no-dax-ms",
        "iam",
        "multi-site",
        "recovery",
        "R's task role loses its DAX statement",
        "R's tasks cannot use the DAX cluster their settings name",
        drop_statement(*TASK_POLICY, action("dax:GetItem")),
    ),
    Mutant(
        "iam-action-typo-pl",
        "iam",
        "pilot-light",
        "recovery",
        "R's task role grants dynamodb:PutItems (no such action) instead of PutItem",
        "R's tasks cannot write their table",
        replace_text(*TASK_POLICY, "dynamodb:PutItem", "dynamodb:PutItems"),
    ),
    Mutant(
        "iam-no-replica-key-ws",
        "iam",
        "warm-standby",
        "recovery",
        "R's task role may no longer use the replica key (alias/...-replicas)",
        "R's tasks cannot decrypt the table replica in R",
        drop_statement(*TASK_POLICY, lambda s: "kms:ResourceAliases" in json.dumps(s)),
    ),
    Mutant(
        "iam-actions-no-declare-ws",
        "iam",
        "warm-standby",
        "recovery",
        "R's plan-actions role loses dynamodb:PutItem on the control table",
        "the plan's declare-writer step fails: R is never declared the writer",
        drop_statement(POLICY, prefix("PlanActionsRoleDefaultPolicy"), action("dynamodb:PutItem")),
    ),
    Mutant(
        "iam-actions-no-scale-ms",
        "iam",
        "multi-site",
        "recovery",
        "R's plan-actions role loses ecs:UpdateService",
        "the plan's scale step cannot change a service's count",
        drop_action(POLICY, prefix("PlanActionsRoleDefaultPolicy"), "ecs:UpdateService"),
    ),
    Mutant(
        "iam-actions-no-metric-pl",
        "iam",
        "pilot-light",
        "recovery",
        "R's plan-actions role loses cloudwatch:PutMetricData",
        "the declaration never reaches the RecoveryWritable metric Route 53 follows",
        drop_statement(
            POLICY, prefix("PlanActionsRoleDefaultPolicy"), action("cloudwatch:PutMetricData")
        ),
    ),
    Mutant(
        "iam-rebuild-task-no-connect-br",
        "iam",
        "backup-restore",
        "recovery-base",
        "the rebuild's task role (made before any event) loses rds-db:connect",
        "the rebuilt tasks cannot log in to the restored database's proxy",
        drop_statement(
            ROLE, prop("RoleName", "drtiers-backup-restore-rebuild-task"), action("rds-db:connect")
        ),
    ),
    Mutant(
        "iam-rebuild-task-no-table-br",
        "iam",
        "backup-restore",
        "recovery-base",
        "the rebuild's task role loses its workload-table statement",
        "the rebuilt tasks cannot read or write the restored table",
        drop_statement(
            ROLE,
            prop("RoleName", "drtiers-backup-restore-rebuild-task"),
            action("dynamodb:PutItem"),
        ),
    ),
    # --- key policies ---------------------------------------------------------------------------
    Mutant(
        "key-secret-replica-ws",
        "key-policy",
        "warm-standby",
        "recovery-base",
        "the replica key no longer lets Secrets Manager encrypt the secret's replica versions",
        "the admin secret's replica in R stops updating and cannot be promoted with its value",
        drop_statement(
            KEY, prefix("ReplicaKey"), sid("SecretReplicaVersionsThroughSecretsManager")
        ),
    ),
    Mutant(
        "key-replica-deny-pl",
        "key-policy",
        "pilot-light",
        "recovery-base",
        "the replica key denies kms:Decrypt to every principal",
        "the table and secret replicas in R cannot be read",
        add_statement(
            KEY,
            prefix("ReplicaKey"),
            DENY_DECRYPT,
        ),
    ),
    Mutant(
        "key-data-no-account-ms",
        "key-policy",
        "multi-site",
        "recovery",
        "R's data key loses the statement that lets the account's IAM policies use it",
        "R's tasks and database (through their roles) cannot use the data key",
        drop_statement(KEY, prefix("DataKey"), lambda s: s.get("Action") == "kms:*"),
    ),
    Mutant(
        "key-vault-deny-br",
        "key-policy",
        "backup-restore",
        "recovery-base",
        "the copy vault's key denies kms:Decrypt to every principal",
        "the backup copies in R cannot be restored",
        add_statement(
            KEY,
            prefix("VaultKey"),
            DENY_DECRYPT,
        ),
    ),
    # --- security groups ------------------------------------------------------------------------
    Mutant(
        "sg-db-from-app-pl",
        "security-group",
        "pilot-light",
        "recovery",
        "R's database security group no longer admits the app's tasks",
        "R's tasks cannot reach the promoted replica",
        remove_resource(INGRESS, _sg_rule("DatabaseSecurityGroupfrom", "AppServiceSecurityGroup")),
    ),
    Mutant(
        "sg-app-to-proxy-ws",
        "security-group",
        "warm-standby",
        "recovery",
        "R's app security group loses its egress to the proxy",
        "R's tasks cannot reach the database proxy",
        remove_resource(EGRESS, _sg_rule("AppServiceSecurityGroupto", "ProxySecurityGroup")),
    ),
    Mutant(
        "sg-proxy-to-db-ms",
        "security-group",
        "multi-site",
        "recovery",
        "R's proxy security group loses its egress to the database",
        "R's proxy cannot reach the promoted cluster",
        remove_resource(EGRESS, _sg_rule("ProxySecurityGroupto", "DatabaseSecurityGroup")),
    ),
    Mutant(
        "sg-proxy-port-ws",
        "security-group",
        "warm-standby",
        "recovery",
        "R's proxy admits the app's tasks on 5433 instead of 5432",
        "R's tasks' connections to the proxy time out",
        lambda resources: _port(
            resources, _sg_rule("ProxySecurityGroupfrom", "AppServiceSecurityGroup"), 5433
        ),
    ),
    Mutant(
        "sg-lb-to-app-ms",
        "security-group",
        "multi-site",
        "recovery",
        "R's load balancer security group loses its egress to the tasks",
        "R's load balancer cannot reach a target: R serves nothing",
        remove_resource(
            EGRESS, _sg_rule("AppLoadBalancerSecurityGroupto", "AppServiceSecurityGroup")
        ),
    ),
    # --- proxies and auth -----------------------------------------------------------------------
    Mutant(
        "proxy-role-no-connect-ws",
        "proxy-auth",
        "warm-standby",
        "recovery",
        "R's proxy role loses its rds-db:connect (end-to-end IAM)",
        "R's proxy cannot log in to the database as the application user",
        drop_statement(ROLE, prefix("ProxyRole"), action("rds-db:connect")),
    ),
    Mutant(
        "proxy-no-iam-auth-ms",
        "proxy-auth",
        "multi-site",
        "recovery",
        "R's proxy loses DefaultAuthScheme IAM_AUTH (and has no secret to log in with)",
        "R's proxy has no credentials for the application user",
        set_path("AWS::RDS::DBProxy", prefix("Proxy"), ("DefaultAuthScheme",), DELETE),
    ),
    Mutant(
        "proxy-user-ms",
        "proxy-auth",
        "multi-site",
        "recovery",
        "R's task role may connect as dbadmin, not as the app user its settings name",
        "R's tasks' IAM login as app is refused",
        replace_text(*TASK_POLICY, "/app", "/dbadmin"),
    ),
    Mutant(
        "proxy-role-wrong-cluster-ws",
        "proxy-auth",
        "warm-standby",
        "recovery",
        "R's proxy role grants connect in P's region",
        "after failover R's proxy cannot log in to R's cluster",
        replace_text(ROLE, prefix("ProxyRole"), ":rds-db:us-west-2:", ":rds-db:us-east-1:"),
    ),
    Mutant(
        "db-no-iam-auth-pl",
        "proxy-auth",
        "pilot-light",
        "recovery",
        "R's replica has IAM database authentication turned off",
        "R's tasks log in with IAM tokens, which the promoted instance refuses",
        set_path(
            "AWS::RDS::DBInstance",
            prefix("DatabaseInstance"),
            ("EnableIAMDatabaseAuthentication",),
            False,
        ),
    ),
    # --- scaling bounds -------------------------------------------------------------------------
    Mutant(
        "scale-max-below-full-pl",
        "scaling",
        "pilot-light",
        "recovery",
        "R's scaling maximum is 1, below the primary's 2 tasks",
        "R cannot reach full capacity: Application Auto Scaling caps the count at 1",
        set_path(SCALING, prefix("AppServiceTaskCountTarget"), ("MaxCapacity",), 1),
    ),
    Mutant(
        "scale-floor-zero-ws",
        "scaling",
        "warm-standby",
        "recovery",
        "R's scaling minimum is 0",
        "target tracking may scale R's standby to nothing",
        set_path(SCALING, prefix("AppServiceTaskCountTarget"), ("MinCapacity",), 0),
    ),
    Mutant(
        "scale-floor-zero-ms",
        "scaling",
        "multi-site",
        "recovery",
        "R's scaling minimum is 0",
        "target tracking may scale R in below full capacity during the event",
        set_path(SCALING, prefix("AppServiceTaskCountTarget"), ("MinCapacity",), 0),
    ),
    Mutant(
        "scale-desired-half-ms",
        "scaling",
        "multi-site",
        "recovery",
        "R's service runs 1 task where multi-site promises the primary's 2",
        "R takes half the traffic with half the capacity, and all of it after failover",
        set_path("AWS::ECS::Service", prefix("AppService"), ("DesiredCount",), 1),
    ),
    Mutant(
        "scale-desired-zero-ws",
        "scaling",
        "warm-standby",
        "recovery",
        "R's warm standby runs 0 tasks",
        "warm standby is pilot light: R must start its tasks during the event",
        set_path("AWS::ECS::Service", prefix("AppService"), ("DesiredCount",), 0),
    ),
    Mutant(
        "scale-floor-zero-br",
        "scaling",
        "backup-restore",
        "primary",
        "P's scaling minimum is 0",
        "target tracking may scale the (rebuilt) service to nothing",
        set_path(SCALING, prefix("AppServiceTaskCountTarget"), ("MinCapacity",), 0),
    ),
    # --- health checks and alarms ---------------------------------------------------------------
    Mutant(
        "alarm-metric-typo-pl",
        "health-alarm",
        "pilot-light",
        "recovery",
        "R's DatabaseWritable alarm watches the mistyped metric RecoveryWriteable",
        "the alarm never sees the declaration: Route 53 never moves traffic to R",
        set_path(ALARM, _alarm("DatabaseWritable"), ("MetricName",), "RecoveryWriteable"),
    ),
    Mutant(
        "check-alarm-name-ws",
        "health-alarm",
        "warm-standby",
        "edge",
        "the RecoveryNotWritable health check names a mistyped alarm",
        "the health check never turns: traffic stays on P's record",
        replace_text(
            CHECK, prefix("EntryRecoveryNotWritable"), "-DatabaseWritable", "-DatabaseWriteable"
        ),
    ),
    Mutant(
        "alarm-declared-tier-only-ws",
        "health-alarm",
        "warm-standby",
        "recovery",
        "R's DatabaseWritable alarm reads RecoveryWritable by the tier alone, not app and tier",
        "another metric than the plan puts: its declaration goes unheard, and another app's of "
        "the tier would move this one's traffic",
        set_path(
            ALARM,
            _alarm("DatabaseWritable"),
            ("Dimensions",),
            [{"Name": "Tier", "Value": "warm-standby"}],
        ),
    ),
    Mutant(
        "probe-dimensions-ms",
        "health-alarm",
        "multi-site",
        "recovery",
        "R's probe puts PrimaryHealthyTargets by the tier alone, not app and tier",
        "its alarm reads another metric and never fires: the plan never starts by itself",
        replace_text(
            "AWS::Events::Rule", prefix("PlanActionsProbeSchedule"), '\\"App\\":\\"drtiers\\",', ""
        ),
    ),
    Mutant(
        "alarm-lag-dimension-pl",
        "health-alarm",
        "pilot-light",
        "recovery",
        "R's ReplicaLag alarm has a DBClusterIdentifier dimension, not DBInstanceIdentifier",
        "the alarm never gets data: replication lag goes unseen",
        replace_text(ALARM, _alarm("ReplicaLag"), "DBInstanceIdentifier", "DBClusterIdentifier"),
    ),
    Mutant(
        "alarm-probe-metric-ms",
        "health-alarm",
        "multi-site",
        "recovery",
        "R's PrimaryDown alarm watches PrimaryHealthyTarget (mistyped)",
        "the alarm never fires: the plan is never started automatically",
        set_path(ALARM, _alarm("PrimaryDown"), ("MetricName",), "PrimaryHealthyTarget"),
    ),
    Mutant(
        "events-key-ws",
        "health-alarm",
        "warm-standby",
        "recovery",
        "R's data key no longer lets EventBridge use it",
        "EventBridge cannot publish to R's encrypted topic: nobody hears of the plan's run",
        drop_statement(KEY, prefix("DataKey"), sid("EventBridgeToEncryptedTopics")),
    ),
    Mutant(
        "events-plan-rule-pl",
        "health-alarm",
        "pilot-light",
        "recovery",
        "R loses the rule that routes the plan's executions",
        "a plan started by its alarm runs with nobody told",
        remove_resource("AWS::Events::Rule", prefix("EventsPlanExecutions")),
    ),
    Mutant(
        "events-db-rule-ms",
        "health-alarm",
        "multi-site",
        "primary",
        "P's database events rule names another cluster",
        "P's writer fails over and nobody hears of it",
        replace_text(
            "AWS::Events::Rule", prefix("EventsDatabase"), "DatabaseCluster", "OtherCluster"
        ),
    ),
    Mutant(
        "plan-report-write-ws",
        "plan",
        "warm-standby",
        "plan",
        "the plan's execution role loses s3:PutObject on the report prefix",
        "no execution leaves its report: the evidence of a failover or a test is lost",
        drop_statement(
            "AWS::IAM::Policy",
            prefix("RegionSwitchExecutionRoleDefaultPolicy"),
            action("s3:PutObject"),
        ),
    ),
    Mutant(
        "plan-report-key-pl",
        "key-policy",
        "pilot-light",
        "plan",
        "the plan's execution role may no longer encrypt with the report bucket's key",
        "the report cannot be written to the KMS-encrypted bucket",
        drop_statement(
            "AWS::IAM::Policy",
            prefix("RegionSwitchExecutionRoleDefaultPolicy"),
            action("kms:Encrypt"),
        ),
    ),
    Mutant(
        "restore-test-vault-br",
        "backup",
        "backup-restore",
        "recovery-base",
        "the restore testing plan in R looks in a vault named -backups, not the copy vault",
        "no restore test ever runs: the restore time the tier's RTO rests on is never measured",
        replace_text(
            "AWS::Backup::RestoreTestingPlan", prefix("RestoreTests"), "-copies", "-backups"
        ),
    ),
    Mutant(
        "restore-test-database-ws",
        "backup",
        "warm-standby",
        "recovery",
        "the restore testing plan loses its Aurora selection",
        "the database, the slowest store to restore, is never restore-tested",
        remove_resource("AWS::Backup::RestoreTestingSelection", prefix("RestoreTestsAurora")),
    ),
    Mutant(
        "restore-test-subnets-pl",
        "backup",
        "pilot-light",
        "recovery",
        "the RDS restore test no longer names its DB subnet group",
        "AWS restores into the default VPC, which R lacks: every database restore test fails",
        set_path(
            "AWS::Backup::RestoreTestingSelection",
            prefix("RestoreTestsRDS"),
            ("RestoreMetadataOverrides", "dbSubnetGroupName"),
            "default",
        ),
    ),
    Mutant(
        "dashboard-plan-rule-ms",
        "health-alarm",
        "multi-site",
        "recovery",
        "the dashboard graphs a plan-execution rule named -plan-execution, which no stack has",
        "the dashboard in R shows no plan execution while the plan runs",
        replace_text(
            "AWS::CloudWatch::Dashboard",
            prefix("Dashboard"),
            "-plan-executions",
            "-plan-execution",
            0,
        ),
    ),
    Mutant(
        "alarm-backlog-dimension-pl",
        "health-alarm",
        "pilot-light",
        "primary",
        "P's work-queue backlog alarm watches the dimension Queue instead of QueueName",
        "the alarm never gets data: a queue nobody consumes goes unseen",
        replace_text(ALARM, _alarm("QueueBacklog"), '"Name": "QueueName"', '"Name": "Queue"'),
    ),
    Mutant(
        "dashboard-alarm-name-pl",
        "health-alarm",
        "pilot-light",
        "recovery",
        "the dashboard names R's DatabaseWritable alarm as DatabaseWriteable",
        "the dashboard in R never shows whether R was declared the writer",
        replace_text(
            "AWS::CloudWatch::Dashboard",
            prefix("Dashboard"),
            "-DatabaseWritable",
            "-DatabaseWriteable",
            0,
        ),
    ),
    Mutant(
        "dashboard-service-ws",
        "health-alarm",
        "warm-standby",
        "recovery",
        "the dashboard graphs P's tasks under another service's name",
        "the dashboard shows no data for P's tasks: their load goes unseen",
        replace_text(
            "AWS::CloudWatch::Dashboard", prefix("Dashboard"), "standby-service", "standby-svc"
        ),
    ),
    Mutant(
        "starter-alarm-name-ms",
        "health-alarm",
        "multi-site",
        "recovery",
        "the rule that starts the plan matches a mistyped alarm name",
        "the plan is never started automatically",
        replace_text(
            "AWS::Events::Rule", prefix("PlanActionsStartPlan"), '-PrimaryDown"]', '-PrimaryDwn"]'
        ),
    ),
    Mutant(
        "check-not-inverted-pl",
        "health-alarm",
        "pilot-light",
        "edge",
        "the SECONDARY record's RecoveryWritable check is not inverted",
        "R's record is healthy while R is not writable, and unhealthy once it is",
        set_path(CHECK, prefix("EntryRecoveryWritable"), ("HealthCheckConfig", "Inverted"), DELETE),
    ),
    Mutant(
        "check-threshold-ws",
        "health-alarm",
        "warm-standby",
        "edge",
        "P's calculated health check needs 1 of its 2 children instead of both",
        "P's record stays healthy while R is declared the writer: traffic returns to P by itself",
        set_path(CHECK, prefix("EntryPrimaryServes"), ("HealthCheckConfig", "HealthThreshold"), 1),
    ),
    Mutant(
        "check-path-ws",
        "health-alarm",
        "warm-standby",
        "edge",
        "P's endpoint health check probes /healthz, a path the app does not serve",
        "P is always unhealthy: traffic fails over without an event",
        set_path(
            CHECK, prefix("EntryPrimaryHealth"), ("HealthCheckConfig", "ResourcePath"), "/healthz"
        ),
    ),
    Mutant(
        "check-insufficient-healthy-pl",
        "health-alarm",
        "pilot-light",
        "edge",
        "RecoveryNotWritable treats missing data as Healthy instead of LastKnownStatus",
        "once the declared point ages out R's record turns unhealthy again",
        set_path(
            CHECK,
            prefix("EntryRecoveryNotWritable"),
            ("HealthCheckConfig", "InsufficientDataHealthStatus"),
            "Healthy",
        ),
    ),
    # --- plan blocks, their order and roles -----------------------------------------------------
    Mutant(
        "plan-no-approval-pl",
        "plan",
        "pilot-light",
        "plan",
        "the failover workflow loses its approval block",
        "R's replica is promoted (accepting data loss) without a person deciding",
        plan_edit("activate", "recovery", drop_block("approve-failover")),
    ),
    Mutant(
        "plan-declare-first-ws",
        "plan",
        "warm-standby",
        "plan",
        "the failover workflow declares R the writer before promoting its cluster",
        "traffic moves to R while its database does not take writes",
        plan_edit("activate", "recovery", swap_steps("stage-2", "declare-writer")),
    ),
    Mutant(
        "plan-no-promote-pl",
        "plan",
        "pilot-light",
        "plan",
        "the promote block's ARN for R names a mistyped instance",
        "the plan promotes nothing: R never takes writes",
        plan_edit(
            "activate",
            "recovery",
            block_text(
                "promote-database",
                "us-west-2:123456789012:db:drtiers-pilot-light-db",
                "us-west-2:123456789012:db:drtiers-pilot-light-bd",
            ),
        ),
    ),
    Mutant(
        "plan-switchover-only-ws",
        "plan",
        "warm-standby",
        "plan",
        "the failover Aurora block switches over instead of failing over",
        "a switchover needs P up: with P lost R is never promoted",
        plan_edit(
            "activate", "recovery", block_text("promote-database", '"failover"', '"switchoverOnly"')
        ),
    ),
    Mutant(
        "plan-region-to-run-ms",
        "plan",
        "multi-site",
        "plan",
        "the declare-writer block runs in the active region instead of the activating one",
        "with P lost the block runs nowhere: R is never declared the writer",
        plan_edit(
            "activate", "recovery", block_text("declare-writer", "activatingRegion", "activeRegion")
        ),
    ),
    Mutant(
        "plan-hold-zero-pl",
        "plan",
        "pilot-light",
        "plan",
        "the hold-capacity block scales R to 0 tasks",
        "R's scaling minimum and count drop to nothing during the event",
        plan_edit(
            "activate", "recovery", block_text("hold-capacity", '\\"count\\": 2', '\\"count\\": 0')
        ),
    ),
    Mutant(
        "plan-role-no-promote-pl",
        "plan",
        "pilot-light",
        "plan",
        "the plan's execution role loses rds:PromoteReadReplica",
        "the promote block fails: R's replica is never promoted",
        drop_action(
            POLICY, prefix("RegionSwitchExecutionRoleDefaultPolicy"), "rds:PromoteReadReplica"
        ),
    ),
    Mutant(
        "plan-role-no-failover-ws",
        "plan",
        "warm-standby",
        "plan",
        "the plan's execution role loses rds:FailoverGlobalCluster",
        "the Aurora block fails: R's cluster is never promoted",
        drop_action(
            POLICY, prefix("RegionSwitchExecutionRoleDefaultPolicy"), "rds:FailoverGlobalCluster"
        ),
    ),
    Mutant(
        "plan-role-no-invoke-ms",
        "plan",
        "multi-site",
        "plan",
        "the plan's execution role loses lambda:InvokeFunction",
        "every function block fails: R is never declared the writer",
        drop_action(
            POLICY, prefix("RegionSwitchExecutionRoleDefaultPolicy"), "lambda:InvokeFunction"
        ),
    ),
    Mutant(
        "plan-approver-typo-ws",
        "plan",
        "warm-standby",
        "plan",
        "the failover approval block names a mistyped approval role",
        "nobody can approve: the failover waits until the block times out",
        plan_edit(
            "activate",
            "recovery",
            block_text("approve-failover", "-plan-approver", "-plan-aprover"),
        ),
    ),
    Mutant(
        "plan-global-id-ms",
        "plan",
        "multi-site",
        "plan",
        "the failover Aurora block names a mistyped global cluster",
        "the block fails: R's cluster is never promoted",
        plan_edit(
            "activate",
            "recovery",
            block_text("promote-database", "drtiers-multi-site-global", "drtiers-multi-site-globl"),
        ),
    ),
    # --- replication membership -----------------------------------------------------------------
    Mutant(
        "repl-not-joined-ws",
        "replication",
        "warm-standby",
        "recovery",
        "R's Aurora cluster is not joined to the global cluster",
        "R's cluster holds no replica of P's data",
        set_path(
            "AWS::RDS::DBCluster", prefix("DatabaseCluster"), ("GlobalClusterIdentifier",), DELETE
        ),
    ),
    Mutant(
        "repl-table-no-r-ms",
        "replication",
        "multi-site",
        "primary",
        "the workload table has no replica in R",
        "with P lost the table's data is gone from R",
        lambda resources: _drop_replica(resources, "drtiers-multi-site-table", "us-west-2"),
    ),
    Mutant(
        "repl-control-no-r-pl",
        "replication",
        "pilot-light",
        "primary",
        "the control table has no replica in R",
        "R cannot read or declare the writer's region with P lost",
        lambda resources: _drop_replica(resources, "drtiers-pilot-light-control", "us-west-2"),
    ),
    Mutant(
        "repl-not-replica-pl",
        "replication",
        "pilot-light",
        "recovery",
        "R's database is a standalone instance, not a replica of P's",
        "R holds none of P's data",
        set_path(
            "AWS::RDS::DBInstance",
            prefix("DatabaseInstance"),
            ("SourceDBInstanceIdentifier",),
            DELETE,
        ),
    ),
    Mutant(
        "repl-secret-no-r-ws",
        "replication",
        "warm-standby",
        "primary",
        "the admin secret has no replica in R",
        "the database's admin credentials are lost with P",
        set_path(
            "AWS::SecretsManager::Secret", prefix("DatabaseSecret"), ("ReplicaRegions",), DELETE
        ),
    ),
    # --- backup copies and vaults ---------------------------------------------------------------
    Mutant(
        "backup-no-copy-ws",
        "backup",
        "warm-standby",
        "primary",
        "the backup plan keeps its recovery points in P only",
        "with P lost there is no backup to restore from",
        set_path(
            "AWS::Backup::BackupPlan",
            prefix("BackupPlan"),
            ("BackupPlan", "BackupPlanRule", 0, "CopyActions"),
            DELETE,
        ),
    ),
    Mutant(
        "backup-copy-vault-removed-pl",
        "backup",
        "pilot-light",
        "recovery-base",
        "the copy vault in R is removed",
        "the backup plan's copies to R fail: no backup survives P",
        remove_resource("AWS::Backup::BackupVault", prefix("CopyVault")),
    ),
    Mutant(
        "backup-copy-to-p-br",
        "backup",
        "backup-restore",
        "primary",
        "the backup plan copies to a vault in P instead of R",
        "with P lost there is no backup to restore from",
        replace_text(
            "AWS::Backup::BackupPlan",
            prefix("BackupPlan"),
            ":backup:us-west-2:",
            ":backup:us-east-1:",
        ),
    ),
    Mutant(
        "backup-vault-renamed-br",
        "backup",
        "backup-restore",
        "recovery-base",
        "the copy vault in R has another name than the one the backup plan copies to",
        "the copies fail: R holds no recovery point to restore",
        set_path(
            "AWS::Backup::BackupVault",
            prefix("CopyVault"),
            ("BackupVaultName",),
            "drtiers-backup-restore-copy",
        ),
    ),
    Mutant(
        "backup-vault-deleted-ms",
        "backup",
        "multi-site",
        "recovery-base",
        "the copy vault in R is deleted with its stack (DeletionPolicy Delete)",
        "deleting or replacing the stack deletes every copy",
        delete_policy("AWS::Backup::BackupVault", prefix("CopyVault")),
    ),
    # --- cross-region reads ---------------------------------------------------------------------
    Mutant(
        "xr-endpoint-reads-p-pl",
        "cross-region",
        "pilot-light",
        "recovery",
        "R's DATABASE_ENDPOINT reads P's database endpoint from the primary stack's output",
        "R's tasks connect to P's database, lost with P, and R's stack cannot be updated",
        set_env(
            "DATABASE_ENDPOINT",
            {
                "Fn::GetStackOutput": {
                    "StackName": "drtiers-pilot-light-primary",
                    "Region": "us-east-1",
                    "OutputName": "DatabaseEndpoint",
                }
            },
        ),
    ),
    Mutant(
        "xr-task-reads-p-ws",
        "cross-region",
        "warm-standby",
        "recovery",
        "R's TABLE_NAME reads an output of P's primary stack",
        "R's stack cannot be updated with P lost",
        set_env(
            "TABLE_NAME",
            {
                "Fn::GetStackOutput": {
                    "StackName": "drtiers-warm-standby-primary",
                    "Region": "us-east-1",
                    "OutputName": "TableName",
                }
            },
        ),
    ),
    Mutant(
        "xr-replica-source-output-pl",
        "cross-region",
        "pilot-light",
        "recovery",
        "R's replica names its source through an output of P's primary stack",
        "R's stack cannot be updated (or its replica replaced) with P lost",
        set_path(
            "AWS::RDS::DBInstance",
            prefix("DatabaseInstance"),
            ("SourceDBInstanceIdentifier",),
            {
                "Fn::GetStackOutput": {
                    "StackName": "drtiers-pilot-light-primary",
                    "Region": "us-east-1",
                    "OutputName": "DatabaseArn",
                }
            },
        ),
    ),
    Mutant(
        "xr-plan-role-reads-p-ms",
        "cross-region",
        "multi-site",
        "plan",
        "the plan's execution role names P's cluster through an output of P's primary stack",
        "the plan stack (in R) cannot be updated with P lost, e.g. to fix the plan mid-event",
        replace_text(
            POLICY,
            prefix("RegionSwitchExecutionRoleDefaultPolicy"),
            '"arn:aws:rds:us-east-1:123456789012:cluster:drtiers-multi-site-primary"',
            '{"Fn::GetStackOutput": {"StackName": "drtiers-multi-site-primary", '
            '"Region": "us-east-1", "OutputName": "DatabaseClusterArn"}}',
        ),
    ),
    Mutant(
        "xr-rebuild-role-reads-p-br",
        "cross-region",
        "backup-restore",
        "recovery-base",
        "the rebuild's task role names its table through an output of P's primary stack",
        "the recovery-base stack cannot be updated with P lost",
        _rebuild_role_reads_primary,
    ),
)


# Why each mutant that survived the measurement of 2026-12-04 survives: what the simulator or
# the rule pack does not model today (decision 31). `make mutate` prints the line with the
# survivor, and says when one is killed since (its line should then go).
GAPS: dict[str, str] = {
    "iam-actions-no-scale-ms": "the function's role is evaluated against the calls of each "
    "step that invokes it, and no step invokes R's function to scale: multi-site's only scale "
    "step (standby, after failback) runs in R's post-recovery workflow, whose function is the "
    "active region's (RegionToRun activeRegion, \"the Region with customer traffic\"), P's; a "
    "failover does not scale: the defect breaks no step the plan runs",
}


# --- planting and running -----------------------------------------------------------------------


def stack_name(directory: Path, mutant: Mutant) -> str:
    """The name of the stack of the mutant's tier and role in an assembly."""
    roles = stack_roles(directory)
    if mutant.tier not in {tier for tier, _ in roles.values()}:
        raise MutantError(f"{mutant.id}: no tier {mutant.tier} in {directory.name}")
    names = [name for name, role in roles.items() if role == (mutant.tier, mutant.stack)]
    if len(names) != 1:
        raise MutantError(f"{mutant.id}: {len(names)} {mutant.stack} stacks, not one")
    return names[0]


def plant(mutant: Mutant, directory: Path) -> str:
    """Plant the mutant's defect in an assembly (in place); returns the stack it edited.
    Raises MutantError when the edit matches nothing or changes nothing."""
    stack = stack_name(directory, mutant)
    path = directory / f"{stack}.template.json"
    before = json.loads(path.read_text())
    edit_template(directory, stack, mutant.edit)
    if json.loads(path.read_text()) == before:
        raise MutantError(f"{mutant.id}: the edit changed nothing in {stack}")
    return stack


def _signals(
    directory: Path, context: Mapping[str, Any], tier: str, synthesize: Synthesize
) -> dict[str, str]:
    """Every violation and finding of one tier: text -> what caught it (invariant or rule)."""
    found: dict[str, str] = {}
    for loss, failback in simulate_assembly(directory, context, synthesize, tier=tier):
        for simulation in (loss, failback):
            for violation in simulation.violations:
                found[f"{simulation.event}: {violation}"] = violation.invariant
    for finding in check_tier(read_assembly(directory)[tier]):
        found[str(finding)] = finding.rule.id
    return found


def _order(caught: Iterable[str]) -> tuple[str, ...]:
    """Invariants first (I1..I9), then rules, each sorted."""
    return tuple(sorted(set(caught), key=lambda c: (not c.startswith("I"), c)))


def run(
    mutants: Iterable[Mutant],
    directory: Path,
    context: Mapping[str, Any],
    synthesize: Synthesize | None = None,
    report: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Plant each mutant in a copy of the assembly and run the simulator and the rule pack on
    its tier; ``report`` is told each result as it comes."""
    synthesize = synthesize or build.synthesize
    baselines: dict[str, dict[str, str]] = {}
    results = []
    for mutant in mutants:
        if mutant.tier not in baselines:
            baselines[mutant.tier] = _signals(directory, context, mutant.tier, synthesize)
        baseline = baselines[mutant.tier]
        with tempfile.TemporaryDirectory(prefix="drtiers-mutant-") as scratch:
            planted = copy_assembly(directory, Path(scratch) / "assembly")
            plant(mutant, planted)
            try:
                found = _signals(planted, context, mutant.tier, synthesize)
            except Exception as error:  # a check that breaks does not pass the defect
                result = Result(mutant, (), (), f"{type(error).__name__}: {error}")
            else:
                new = {text: by for text, by in found.items() if text not in baseline}
                result = Result(mutant, _order(new.values()), tuple(sorted(new)))
        results.append(result)
        if report is not None:
            report(result)
    return results


def kill_rate(results: list[Result]) -> float:
    return 100.0 * sum(r.killed for r in results) / len(results) if results else 0.0
