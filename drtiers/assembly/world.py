"""A model of a deployed tier, read from its synthesized assembly: which database each task
reaches, through which proxy endpoint and with which credentials, what its role grants, how many
tasks run and how far they may scale, where traffic goes and why, and which region every stack,
alarm and API lives in. The simulator (drtiers.recovery.simulate) changes it step by step."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from drtiers.assembly.arns import (
    FRESH,
    SYNTHESIZED,
    dbuser_arn,
    render,
    resolved_statements,
    resource_id,
)
from drtiers.assembly.images import image_copies, image_of, may_pull
from drtiers.assembly.keys import KeyUse, control_key_denials, key_uses
from drtiers.assembly.network import Network, read_network, service_paths
from drtiers.assembly.queries import (
    air_gapped_vaults,
    backup_rules,
    global_cluster_ids,
    instance_engine,
    strong_regions,
    table_replica_regions,
    table_replicas,
)
from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.assembly.switch_plan import SwitchPlan, switch_plan
from drtiers.core import rules
from drtiers.core.code_calls import SdkCall, action_calls
from drtiers.core.permissions import allowed
from drtiers.core.schemas import name_property
from drtiers.core.tiers import (
    CONTROL_REGIONS_VARIABLE,
    DECLARED_NAMESPACE,
    RECOVERY_WRITABLE,
    StackRole,
    is_control_table,
)


def refs(value: Any) -> set[str]:
    """Logical ids a CloudFormation value refers to (Ref, Fn::GetAtt)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str) and not inner.startswith("AWS::"):
                found.add(inner)
            elif key == "Fn::GetAtt" and isinstance(inner, list):
                found.add(str(inner[0]))
            else:
                found |= refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= refs(inner)
    return found


def output_reads(value: Any, own_region: str) -> Iterator[tuple[str, str]]:
    """(producer stack, its region) of every Fn::GetStackOutput inside a value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Fn::GetStackOutput" and isinstance(inner, dict):
                yield str(inner["StackName"]), str(inner.get("Region", own_region))
            else:
                yield from output_reads(inner, own_region)
    elif isinstance(value, list):
        for inner in value:
            yield from output_reads(inner, own_region)


def _role_statements(tier: TierAssembly, stack: str, role_arn: Any) -> list[dict[str, Any]]:
    """The statements of the role a resource names: by reference, or by name when it uses a
    role made beforehand (a rebuild names the recovery-base stack's roles by their names)."""
    for role_id in refs(role_arn):
        return _statements(tier, stack, role_id)
    name = re.search(r":role/([A-Za-z0-9+=,.@_-]+)", json.dumps(role_arn))
    for role in tier.of_type("AWS::IAM::Role"):
        if name and role.prop("RoleName") == name[1]:
            return _statements(tier, role.stack, role.logical_id)
    return []


def _statements(tier: TierAssembly, stack: str, role_id: str) -> list[dict[str, Any]]:
    """Every statement of the inline and attached policies of one role, with the ARNs they
    name rendered for the role's stack (drtiers.assembly.arns)."""
    statements: list[dict[str, Any]] = []
    role = tier.by_id(stack, role_id)
    if role is not None:
        for policy in role.prop("Policies", default=[]):
            statements += policy.get("PolicyDocument", {}).get("Statement", [])
    for policy in tier.of_type("AWS::IAM::Policy"):
        if policy.stack == stack and any(role_id in refs(r) for r in policy.prop("Roles") or []):
            statements += policy.prop("PolicyDocument", "Statement", default=[])
    return resolved_statements(tier, stack, statements)


def _login_targets(tier: TierAssembly) -> list[Resource]:
    """What a role may log in to with rds-db:connect: proxies, clusters and instances (a
    cluster's members are logged in to through their cluster's resource id)."""
    return [
        r
        for type_ in ("AWS::RDS::DBProxy", "AWS::RDS::DBCluster", "AWS::RDS::DBInstance")
        for r in tier.of_type(type_)
        if r.type != "AWS::RDS::DBInstance" or not r.prop("DBClusterIdentifier")
    ]


def connect_keys(tier: TierAssembly, statements: list[dict[str, Any]], user: str) -> set[str]:
    """What the statements let log in as ``user``, as IAM evaluates rds-db:connect on each
    proxy's and database's ``dbuser`` ARN (its region, account and resource id):
    ``<key>#0`` for the resource id synthesized, ``<key>#new`` for one a replacement gets."""
    return {
        f"{_key(target)}#{generation}"
        for target in _login_targets(tier)
        for generation in (SYNTHESIZED, FRESH)
        if allowed(
            statements,
            "rds-db:connect",
            dbuser_arn(target.region, tier.account, resource_id(target, generation), user),
        )
    }


@dataclass
class Database:
    key: str
    region: str
    cluster: bool
    role: str  # writer | replica | secondary | retired
    readers: int = 0
    write_forwarding: bool = False
    generation: int = 0  # a new instance under the same identifier has a new resource id
    identifier: str = ""  # its fixed name (DBInstanceIdentifier / DBClusterIdentifier), if any
    # Its Engine as synthesized (postgres, mysql, aurora-postgresql, aurora-mysql); a replica's
    # is its source's, which CloudFormation gives it (its template names none).
    engine: str = ""
    # How it is set up, for steps that create its like (keys of the resources it uses).
    instance_class: str = ""
    multi_az: bool = False
    port: int = 0
    subnet_group: str = ""
    security_groups: tuple[str, ...] = ()
    parameter_group: str = ""
    # EnableIAMDatabaseAuthentication as its own template sets it (a cluster's for its members)
    iam_auth: bool = True
    deletion_protection: bool = False  # DeletionProtection as its template sets it
    kept: bool = False  # its stack's deletion keeps it (DeletionPolicy Retain)
    # An instance's template properties as a new instance under its identifier must get them
    # (a role it names: its ARN); what a failback has set on one made anew.
    settings: dict[str, Any] = field(default_factory=dict)
    adopted: frozenset[str] = frozenset()

    @property
    def connect_key(self) -> str:
        """What an rds-db:connect grant must cover to log in to it as it is now: the resource id
        synthesized, or one created since (a replacement under the same identifier)."""
        return f"{self.key}#{SYNTHESIZED if self.generation == 0 else FRESH}"


@dataclass
class Proxy:
    key: str
    region: str
    target: str  # database key
    end_to_end_iam: bool
    secret_users: set[str]
    # (what the grant covers, user) of its role's rds-db:connect (connect_keys)
    role_grants: set[tuple[str, str]]
    # The generation of its target its target group registered: a new instance under the same
    # identifier is not a target until registered (rules.proxy_target_follows_rename).
    registered: int = 0
    name: str = ""  # its fixed DBProxyName, if any


@dataclass
class Service:
    key: str
    stack: str
    region: str
    cluster: str  # key of its ECS cluster
    desired: int
    minimum: int
    maximum: int
    endpoints: list[tuple[str, str]]  # (proxy-rw | proxy-ro | instance, proxy or database key)
    user: str | None
    connect: set[str]  # what the task role may log in to as user (connect_keys)
    table_regions: set[str]
    control_regions: set[str]  # regions whose writer-region item the task role may read
    # The regions whose writer-region item its settings tell it to read (CONTROL_TABLE_REGIONS;
    # without it, its own).
    control_reads: tuple[str, ...]
    dax_granted: bool  # no DAX endpoint in its settings, or the task role may use DAX
    queues: list[str]  # keys of the queues its settings name (QUEUE_URL*)
    queues_granted: bool  # the task role may use every one of them
    health_interval_seconds: int = 30
    unhealthy_threshold: int = 3
    name: str = ""  # fixed ServiceName and ClusterName, if any
    cluster_name: str = ""
    # What its security groups and ports do not let through (drtiers.assembly.network): key of
    # a proxy or database in its settings -> why its tasks cannot reach it; why its load
    # balancer cannot reach the tasks ("" when it can).
    unreachable: dict[str, str] = field(default_factory=dict)
    unserved: str = ""
    scaling_policy: bool = False  # a scaling policy acts on its scalable target
    # region -> why KMS keeps the task role from reading the control table's replica there
    control_denied: dict[str, str] = field(default_factory=dict)
    image: str = ""  # what its tasks pull (drtiers.assembly.images)
    image_pulled: bool = True  # its execution role may pull it
    # The tables its settings name (TABLE_NAME, CONTROL_TABLE_NAME); None: none, or not known
    table_name: str | None = None
    control_table_name: str | None = None


@dataclass
class Alarm:
    name: str
    region: str
    signal: str  # declared | writer-role | replica-lag | primary-probe | other
    database: str | None
    seconds: int  # period x evaluation periods
    threshold: float
    operator: str
    # the metric's dimensions whose values the template gives as text (the declared and probe
    # metrics' all are): what a step that puts the metric must name to reach this alarm
    dimensions: dict[str, str] = field(default_factory=dict)

    def breaches(self, value: float) -> bool:
        return {
            "GreaterThanThreshold": value > self.threshold,
            "GreaterThanOrEqualToThreshold": value >= self.threshold,
            "LessThanThreshold": value < self.threshold,
            "LessThanOrEqualToThreshold": value <= self.threshold,
        }.get(self.operator, False)


# Health checks that probe an endpoint (a load balancer), whatever the protocol.
ENDPOINT_KINDS = frozenset({"HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"})


@dataclass
class HealthCheck:
    key: str
    kind: str  # HTTP | HTTPS | CLOUDWATCH_METRIC | CALCULATED
    region: str | None = None  # HTTP(S): the region of the load balancer it probes
    alarm: str | None = None
    children: list[str] = field(default_factory=list)
    threshold: int = 1
    inverted: bool = False
    seconds: int = 90  # interval x failure threshold
    insufficient: str = (
        "Healthy"  # CLOUDWATCH_METRIC without data: Healthy | Unhealthy | LastKnownStatus
    )

    @property
    def probes_endpoint(self) -> bool:
        """It follows a load balancer (HTTP, HTTPS, ...), not an alarm or other checks."""
        return self.kind in ENDPOINT_KINDS


@dataclass
class Record:
    failover: str  # PRIMARY | SECONDARY | SIMPLE
    region: str | None  # region of the load balancer it points at (None: the accelerator)
    health_check: str | None
    evaluate_target_health: bool


@dataclass
class Stack:
    key: str  # region:name
    name: str
    region: str
    role: str
    output_regions: set[str]  # regions of the stacks whose outputs it reads
    dependencies: list[str]
    iam: dict[str, str]  # logical id -> properties of what creates or changes IAM entities
    # logical id -> (type, name) of what stays in the region under its own name when the stack
    # is deleted (DeletionPolicy Retain; the name property read from the type's schema)
    retained: dict[str, tuple[str, str]] = field(default_factory=dict)
    # the vaults its deletion deletes (not retained) that hold recovery points: its own backup
    # plan's, and those a plan copies into
    filled_vaults: list[str] = field(default_factory=list)
    # (type, name) of what a failed create of it leaves under its own name (plain Retain)
    kept_on_rollback: list[tuple[str, str]] = field(default_factory=list)
    # logical ids of its load balancers with deletion protection on
    protected_load_balancers: list[str] = field(default_factory=list)


@dataclass
class World:
    """What a tier holds, as synthesized. Nothing changes it once read: the simulator runs a
    copy, with the event's state beside it."""

    tier: str
    primary: str
    recovery: str
    regions: set[str]  # the regions of the tier's stacks
    databases: dict[str, Database]
    proxies: dict[str, Proxy]
    services: dict[str, Service]
    table_regions: set[str]
    queues: dict[str, str]  # key -> region
    alarms: dict[str, Alarm]
    health_checks: dict[str, HealthCheck]
    records: list[Record]
    groups: dict[str, int]  # accelerator endpoint group region -> traffic dial
    stacks: dict[str, Stack]
    secret_replicas: set[str]  # regions holding a read-only replica of the admin secret
    backup_copies: dict[str, str]  # region -> name of the vault backups are copied to there
    table_names: list[str]  # every table, drtiers' control table among them
    account: str
    accelerator_name: str
    global_cluster: str
    data_keys: dict[str, str]  # region -> key of the regional stack's data key
    admin_secret: str  # key of the primary's admin secret
    # its tags, which its replicas carry too: how a runbook finds the replica in R while P is lost
    admin_secret_tags: dict[str, str]
    backup_role: str  # name of the role AWS Backup backs up and restores with
    replica_key_alias: str  # alias/... of the key replicas use in the recovery region
    # The Region switch plan as synthesized, and the Lambda functions ("region:name") its
    # custom actions may call.
    plan: SwitchPlan | None = None
    # The statements of the plan's execution role: what its blocks may do.
    plan_role: list[dict[str, Any]] = field(default_factory=list)
    functions: set[str] = field(default_factory=set)
    # alarm name -> region of the EventBridge rule that starts the plan when it turns red
    plan_starters: dict[str, str] = field(default_factory=dict)
    # Its stacks are created with termination protection (outside sandbox mode).
    termination_protected: bool = False
    # Every store's KMS key with whoever uses it at recovery, and whether KMS lets them.
    key_uses: list[KeyUse] = field(default_factory=list)
    role_names: set[str] = field(default_factory=set)  # the fixed names of the tier's IAM roles
    # The functions whose code their template holds ("region:name"): their role's statements,
    # and the AWS calls each payload action makes (read from the code, core.code_calls).
    function_roles: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    function_calls: dict[str, dict[str, tuple[SdkCall, ...]]] = field(default_factory=dict)
    # (rule, function, payload) of every EventBridge rule target that invokes one of them
    rule_invocations: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    # region -> name of the vault its backup plan backs up into
    backup_vaults: dict[str, str] = field(default_factory=dict)
    # the regions holding a replica of the control table (its one region, without replicas)
    control_replicas: set[str] = field(default_factory=set)
    # table name -> the regions of its replicas and witness, for each table of multi-Region
    # strong consistency: a region's writes need a second of them up
    strong_tables: dict[str, frozenset[str]] = field(default_factory=dict)
    # The container images that exist in a registry: pushed where the primary's tasks pull
    # them, and copied by the tier's replication rules (drtiers.assembly.images)
    images: set[str] = field(default_factory=set)

    # --- queries --------------------------------------------------------------------------
    @property
    def control_table(self) -> str:
        """The table holding the writer-region item (drtiers' own), by its name."""
        return next((name for name in self.table_names if is_control_table(name)), "")

    def writable_alarm(self) -> Alarm | None:
        """The alarm Route 53's health checks follow (the recovery database takes writes): the
        one the declare steps put the metric for."""
        named = {c.alarm for c in self.health_checks.values() if c.kind == "CLOUDWATCH_METRIC"}
        return next((a for a in self.alarms.values() if a.name in named), None)

    def service_in(self, region: str) -> Service | None:
        return next((s for s in self.services.values() if s.region == region), None)

    def database_in(self, region: str) -> Database | None:
        return next(
            (d for d in self.databases.values() if d.region == region and d.role != "retired"),
            None,
        )

    @property
    def full(self) -> int:
        service = self.service_in(self.primary)
        return service.desired if service else 0


def _secret_users(tier: TierAssembly) -> set[str]:
    users = set()
    for secret in tier.of_type("AWS::SecretsManager::Secret"):
        template = secret.prop("GenerateSecretString", "SecretStringTemplate")
        if isinstance(template, str) and "username" in template:
            users.add(json.loads(template)["username"])
    return users


def _databases(tier: TierAssembly) -> dict[str, Database]:
    databases: dict[str, Database] = {}
    members: dict[str, int] = {}
    classes: dict[str, str] = {}
    for instance in tier.of_type("AWS::RDS::DBInstance"):
        parent = refs(instance.prop("DBClusterIdentifier"))
        if parent:
            key = key_of(instance.region, instance.stack, next(iter(parent)))
            members[key] = members.get(key, 0) + 1
            classes[key] = str(instance.prop("DBInstanceClass", default=""))
            continue
        role = "replica" if instance.prop("SourceDBInstanceIdentifier") else "writer"

        def keys(value: Any, at: Resource = instance) -> tuple[str, ...]:
            return tuple(key_of(at.region, at.stack, ref) for ref in sorted(refs(value)))

        databases[_key(instance)] = Database(
            _key(instance),
            instance.region,
            False,
            role,
            instance_class=str(instance.prop("DBInstanceClass", default="")),
            multi_az=instance.prop("MultiAZ") is True,
            port=int(instance.prop("Port", default=0) or 0),
            subnet_group=next(iter(keys(instance.prop("DBSubnetGroupName"))), ""),
            security_groups=keys(instance.prop("VPCSecurityGroups")),
            parameter_group=next(iter(keys(instance.prop("DBParameterGroupName"))), ""),
            identifier=_name(instance.prop("DBInstanceIdentifier")),
            engine=instance_engine(tier, instance),
            iam_auth=instance.prop("EnableIAMDatabaseAuthentication") is True,
            deletion_protection=instance.prop("DeletionProtection") is True,
            kept=rules.retained_on_delete(instance.deletion_policy),
            settings=_settings(tier, instance),
        )
    for cluster in tier.of_type("AWS::RDS::DBCluster"):
        secondary = bool(cluster.prop("GlobalClusterIdentifier")) and not cluster.prop(
            "MasterUsername"
        )
        count = members.get(_key(cluster), 0)
        databases[_key(cluster)] = Database(
            _key(cluster),
            cluster.region,
            True,
            "secondary" if secondary else "writer",
            readers=count if secondary else max(count - 1, 0),
            write_forwarding=cluster.prop("EnableGlobalWriteForwarding") is True,
            instance_class=classes.get(_key(cluster), ""),
            identifier=_name(cluster.prop("DBClusterIdentifier")),
            engine=str(cluster.prop("Engine", default="")),
            iam_auth=cluster.prop("EnableIAMDatabaseAuthentication") is True,
            deletion_protection=cluster.prop("DeletionProtection") is True,
            kept=rules.retained_on_delete(cluster.deletion_policy),
        )
    return databases


def _settings(tier: TierAssembly, instance: Resource) -> dict[str, Any]:
    """The instance's template properties a failback must set on a replica made anew under its
    identifier (rules.replica_matches_template), as literal values: a role it names by GetAtt,
    as the ARN of the role's fixed name."""
    settings: dict[str, Any] = {}
    for prop in rules.replica_matches_template(set(instance.properties), set()):
        value = instance.properties[prop]
        attribute = value.get("Fn::GetAtt") if isinstance(value, dict) else None
        role = tier.by_id(instance.stack, attribute[0]) if isinstance(attribute, list) else None
        if role is not None and isinstance(role.prop("RoleName"), str):
            value = f"arn:aws:iam::{tier.account}:role/{role.prop('RoleName')}"
        settings[prop] = value
    return settings


def _name(value: Any) -> str:
    """A fixed physical name, or "" where CloudFormation generates one."""
    return value if isinstance(value, str) else ""


def _key(resource: Resource) -> str:
    return key_of(resource.region, resource.stack, resource.logical_id)


def key_of(region: str, stack: str, logical_id: str) -> str:
    """A resource's name in the model: a rebuild puts a stack of the same name in another
    region, so the region is part of it."""
    return f"{region}:{stack}/{logical_id}"


def stack_of(key: str) -> str:
    """``region:stack`` of a resource key."""
    return key.split("/", 1)[0]


def _proxies(tier: TierAssembly, admin_users: set[str]) -> dict[str, Proxy]:
    proxies = {}
    for proxy in tier.of_type("AWS::RDS::DBProxy"):
        group = next(
            (
                g
                for g in tier.of_type("AWS::RDS::DBProxyTargetGroup")
                if g.stack == proxy.stack and proxy.logical_id in refs(g.prop("DBProxyName"))
            ),
            None,
        )
        targets = refs(group.properties) - {proxy.logical_id} if group else set()
        statements = _role_statements(tier, proxy.stack, proxy.prop("RoleArn"))
        grants = {
            (covered, user)
            for user in admin_users | _task_users(tier)
            for covered in connect_keys(tier, statements, user)
        }
        auth = proxy.prop("Auth", default=[])
        proxies[_key(proxy)] = Proxy(
            key=_key(proxy),
            region=proxy.region,
            target=key_of(proxy.region, proxy.stack, next(iter(targets), "")),
            end_to_end_iam=proxy.prop("DefaultAuthScheme") == "IAM_AUTH",
            secret_users=admin_users if any(a.get("SecretArn") for a in auth) else set(),
            role_grants=grants,
            name=_name(proxy.prop("DBProxyName")),
        )
    return proxies


def _task_users(tier: TierAssembly) -> set[str]:
    """The database users the tasks' settings name (DATABASE_USER)."""
    return {
        str(value)
        for task in tier.of_type("AWS::ECS::TaskDefinition")
        for name, value in _environment(task).items()
        if name == "DATABASE_USER" and isinstance(value, str)
    }


def _services(tier: TierAssembly) -> dict[str, Service]:
    """Every ECS service, by key."""
    network = read_network(tier)
    denied = control_key_denials(tier, _role_statements)
    return {
        _key(s): replace(
            _service(tier, s, network), control_denied=denied.get((s.stack, s.logical_id), {})
        )
        for s in tier.of_type("AWS::ECS::Service")
    }


def _service(tier: TierAssembly, service: Resource, network: Network) -> Service:
    """One ECS service: what its tasks reach (from their settings) and may reach (from their
    role), how many run and may run, and how its load balancer judges them."""
    stack = service.stack
    task = tier.by_id(stack, next(iter(refs(service.prop("TaskDefinition")))))
    assert task is not None
    environment = _environment(task)
    statements = _role_statements(tier, stack, task.prop("TaskRoleArn"))
    user = environment.get("DATABASE_USER")
    queues = _named_queues(tier, stack, environment)
    access = _access(tier, service, statements, queues, environment)
    desired = int(service.prop("DesiredCount", default=1))
    minimum, maximum = _capacity(tier, service, desired)
    interval, threshold = _target_health(tier, service)
    cluster_id = next(iter(refs(service.prop("Cluster"))), "")
    cluster = tier.by_id(stack, cluster_id)
    paths = service_paths(tier, network, service, environment)
    return Service(
        key=_key(service),
        stack=stack,
        region=service.region,
        cluster=key_of(service.region, stack, cluster_id),
        desired=desired,
        minimum=minimum,
        maximum=maximum,
        endpoints=_endpoints(tier, service, environment),
        user=str(user) if user is not None else None,
        connect=connect_keys(tier, statements, str(user)) if user is not None else set(),
        table_regions=access.table_regions,
        control_regions=access.control_regions,
        control_reads=_control_reads(tier, service, environment),
        dax_granted=_dax_granted(tier, stack, statements, environment),
        queues=[key_of(service.region, stack, queue) for queue, _ in queues],
        queues_granted=all(queue in access.queues for queue, _ in queues),
        health_interval_seconds=interval,
        unhealthy_threshold=threshold,
        name=_name(service.prop("ServiceName")),
        cluster_name=_name(cluster.prop("ClusterName")) if cluster else "",
        unreachable=paths.unreachable,
        unserved=paths.unserved,
        scaling_policy=_scaling_policy(tier, service),
        table_name=access.table_name,
        control_table_name=access.control_table_name,
        image=image_of(task),
        image_pulled=may_pull(
            _role_statements(tier, stack, task.prop("ExecutionRoleArn")), image_of(task)
        ),
    )


def _control_reads(
    tier: TierAssembly, service: Resource, environment: dict[str, Any]
) -> tuple[str, ...]:
    """The regions its CONTROL_TABLE_REGIONS names (comma-separated), or its own."""
    regions = render(tier, service.stack, environment.get(CONTROL_REGIONS_VARIABLE))
    if not isinstance(regions, str) or not regions:
        return (service.region,)
    return tuple(r.strip() for r in regions.split(",") if r.strip())


def _environment(task: Resource) -> dict[str, Any]:
    """The environment variables of a task definition's containers."""
    return {
        v["Name"]: v["Value"]
        for c in task.prop("ContainerDefinitions", default=[])
        for v in c.get("Environment", [])
    }


def _endpoints(
    tier: TierAssembly, service: Resource, environment: dict[str, Any]
) -> list[tuple[str, str]]:
    """(proxy-rw | proxy-ro | instance, key) of the database endpoints a service's settings
    name."""
    endpoints = []
    for name in ("DATABASE_ENDPOINT", "DATABASE_READER_ENDPOINT"):
        for target in refs(environment.get(name)):
            resource = tier.by_id(service.stack, target)
            if resource is None:
                continue
            if resource.type == "AWS::RDS::DBProxy":
                endpoints.append(("proxy-rw", _key(resource)))
            elif resource.type == "AWS::RDS::DBProxyEndpoint":
                proxy = next(iter(refs(resource.prop("DBProxyName"))))
                kind = "proxy-ro" if resource.prop("TargetRole") == "READ_ONLY" else "proxy-rw"
                endpoints.append((kind, key_of(service.region, service.stack, proxy)))
            elif resource.type == "AWS::RDS::DBInstance":
                endpoints.append(("instance", _key(resource)))
    return endpoints


_NamedQueue = tuple[str, Any]  # a queue's logical id, and its fixed QueueName (None: generated)


def _named_queues(tier: TierAssembly, stack: str, environment: dict[str, Any]) -> list[_NamedQueue]:
    """(logical id, fixed QueueName or None) of the queues a service's settings name."""
    return [
        (target, resource.prop("QueueName"))
        for name, value in environment.items()
        if name.startswith("QUEUE_URL")
        for target in refs(value)
        for resource in [tier.by_id(stack, target)]
        if resource is not None
    ]


@dataclass
class _Access:
    """What a task role may reach of the tables and queues its settings name."""

    table_regions: set[str]  # regions where it may read and write its table (TABLE_NAME)
    control_regions: set[str]  # regions whose writer-region item it may read
    queues: set[str]  # logical ids of the named queues it may send to and receive from
    table_name: str | None  # TABLE_NAME as rendered (None: not set, or not known)
    control_table_name: str | None  # CONTROL_TABLE_NAME as rendered


_TABLE_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
_QUEUE_ACTIONS = ("sqs:SendMessage", "sqs:ReceiveMessage")


_DAX_ACTIONS = ("dax:GetItem", "dax:PutItem")


def _dax_granted(
    tier: TierAssembly, stack: str, statements: list[dict[str, Any]], environment: dict[str, Any]
) -> bool:
    """Whether the role may read and write through every DAX cluster its settings name
    (DAX_ENDPOINT*), evaluated on each cluster's ARN."""
    return all(
        _allows_all(statements, _DAX_ACTIONS, arn)
        for name, value in environment.items()
        if name.startswith("DAX_ENDPOINT")
        for arn in [render(tier, stack, {"Fn::GetAtt": [c, "Arn"]}) for c in refs(value)] or [None]
    )


def _allows_all(statements: list[dict[str, Any]], actions: tuple[str, ...], arn: Any) -> bool:
    """Whether every action is allowed on ``arn`` (None: an ARN the reader cannot render)."""
    return all(allowed(statements, action, arn) for action in actions)


def _access(
    tier: TierAssembly,
    service: Resource,
    statements: list[dict[str, Any]],
    queues: list[_NamedQueue],
    environment: dict[str, Any],
) -> _Access:
    """Evaluated as IAM does, on the ARNs of the tables and queues the settings name, in each
    region of the tier."""
    table = render(tier, service.stack, environment.get("TABLE_NAME"))
    control = render(tier, service.stack, environment.get("CONTROL_TABLE_NAME"))
    control_name = control or next((n for n in _table_names(tier) if is_control_table(n)), None)

    def arn(region: str, name: str | None) -> str | None:
        return None if name is None else f"arn:aws:dynamodb:{region}:{tier.account}:table/{name}"

    regions = {region for _, region in tier.stacks.values()}
    return _Access(
        table_regions={
            r for r in regions if _allows_all(statements, _TABLE_ACTIONS, arn(r, table))
        },
        control_regions={
            r
            for r in regions
            if _allows_all(statements, ("dynamodb:GetItem",), arn(r, control_name))
        },
        queues={
            queue
            for queue, _ in queues
            if _allows_all(
                statements,
                _QUEUE_ACTIONS,
                render(tier, service.stack, {"Fn::GetAtt": [queue, "Arn"]}),
            )
        },
        table_name=table if "TABLE_NAME" in environment else None,
        control_table_name=control if "CONTROL_TABLE_NAME" in environment else None,
    )


def _scalable_target(tier: TierAssembly, service: Resource) -> Resource | None:
    return next(
        (
            t
            for t in tier.of_type("AWS::ApplicationAutoScaling::ScalableTarget")
            if t.stack == service.stack and service.logical_id in refs(t.prop("ResourceId"))
        ),
        None,
    )


def _capacity(tier: TierAssembly, service: Resource, desired: int) -> tuple[int, int]:
    """(minimum, maximum) tasks its scalable target allows; the desired count without one."""
    scaling = _scalable_target(tier, service)
    if scaling is None:
        return desired, desired
    return int(scaling.prop("MinCapacity")), int(scaling.prop("MaxCapacity"))


def _scaling_policy(tier: TierAssembly, service: Resource) -> bool:
    """Whether a scaling policy acts on the service's scalable target."""
    scaling = _scalable_target(tier, service)
    return scaling is not None and any(
        p.stack == scaling.stack and scaling.logical_id in refs(p.prop("ScalingTargetId"))
        for p in tier.of_type("AWS::ApplicationAutoScaling::ScalingPolicy")
    )


def _target_health(tier: TierAssembly, service: Resource) -> tuple[int, int]:
    """(interval in seconds, unhealthy threshold) of its target group's health check."""
    group = _target_group(tier, service)
    if group is None:
        return 30, 2
    return (
        int(group.prop("HealthCheckIntervalSeconds", default=30)),
        int(group.prop("UnhealthyThresholdCount", default=2)),
    )


def _target_group(tier: TierAssembly, service: Resource) -> Resource | None:
    for balancer in service.prop("LoadBalancers", default=[]):
        for target in refs(balancer.get("TargetGroupArn")):
            return tier.by_id(service.stack, target)
    return None


def _probed(tier: TierAssembly) -> set[tuple[str, str, str, str]]:
    """(region, namespace, metric, dimensions as JSON) of what each probe schedule has its
    function put: an alarm hears it only if it reads all four."""
    return {
        (
            key.split(":", 1)[0],
            put.get("namespace", ""),
            put.get("metric", ""),
            json.dumps(put.get("dimensions"), sort_keys=True),
        )
        for key, _, put in _rule_invocations(tier)
        if put.get("action") == "probe"
    }


def _alarms(tier: TierAssembly) -> dict[str, Alarm]:
    alarms = {}
    probed = _probed(tier)
    for alarm in tier.of_type("AWS::CloudWatch::Alarm"):
        name = alarm.prop("AlarmName")
        if not isinstance(name, str):
            continue
        dimensions = {d["Name"]: d["Value"] for d in alarm.prop("Dimensions", default=[])}
        metric = alarm.prop("MetricName")
        signal, database = "other", None
        if metric == "ReplicaLag" and "DBInstanceIdentifier" in dimensions:
            signal = "replica-lag"
            database = key_of(
                alarm.region, alarm.stack, next(iter(refs(dimensions["DBInstanceIdentifier"])), "")
            )
        elif (
            alarm.region,
            alarm.prop("Namespace"),
            metric,
            json.dumps(dimensions, sort_keys=True),
        ) in probed:
            signal = "primary-probe"  # put by the recovery region's probe of P
        elif alarm.prop("Namespace") == DECLARED_NAMESPACE and metric == RECOVERY_WRITABLE:
            signal = "declared"  # put by the failover and failback steps, never by AWS
        elif dimensions.get("Role") == "WRITER" and "DBClusterIdentifier" in dimensions:
            signal = "writer-role"
            database = key_of(
                alarm.region, alarm.stack, next(iter(refs(dimensions["DBClusterIdentifier"])), "")
            )
        alarms[name] = Alarm(
            name=name,
            region=alarm.region,
            signal=signal,
            database=database,
            # Breaching from the start, it fires after M periods of an M-of-N alarm.
            seconds=int(alarm.prop("Period", default=60))
            * int(alarm.prop("DatapointsToAlarm") or alarm.prop("EvaluationPeriods", default=1)),
            threshold=float(alarm.prop("Threshold", default=0)),
            operator=alarm.prop("ComparisonOperator", default="GreaterThanThreshold"),
            dimensions={k: v for k, v in dimensions.items() if isinstance(v, str)},
        )
    return alarms


def _producer_region(tier: TierAssembly, value: Any, own_region: str) -> str | None:
    for stack, region in output_reads(value, own_region):
        return tier.stacks.get(stack, ("", region))[1]
    return None


def _entry(tier: TierAssembly) -> tuple[dict[str, HealthCheck], list[Record], dict[str, int]]:
    checks = {}
    for check in tier.of_type("AWS::Route53::HealthCheck"):
        config = check.prop("HealthCheckConfig", default={})
        alarm = config.get("AlarmIdentifier", {})
        checks[check.logical_id] = HealthCheck(
            key=check.logical_id,
            kind=config.get("Type", "HTTP"),
            region=_producer_region(tier, config.get("FullyQualifiedDomainName"), check.region),
            alarm=alarm.get("Name"),
            children=[next(iter(refs(c))) for c in config.get("ChildHealthChecks", [])],
            threshold=int(config.get("HealthThreshold", 1)),
            inverted=config.get("Inverted") is True,
            seconds=int(config.get("RequestInterval", 30)) * int(config.get("FailureThreshold", 3)),
            insufficient=config.get("InsufficientDataHealthStatus", "Healthy"),
        )
    records = []
    for record in tier.of_type("AWS::Route53::RecordSet"):
        alias = record.prop("AliasTarget", default={})
        records.append(
            Record(
                failover=record.prop("Failover", default="SIMPLE"),
                region=_producer_region(tier, alias.get("DNSName"), record.region),
                health_check=next(iter(refs(record.prop("HealthCheckId"))), None),
                evaluate_target_health=alias.get("EvaluateTargetHealth") is True,
            )
        )
    groups = {
        g.prop("EndpointGroupRegion", default=g.region): int(
            g.prop("TrafficDialPercentage", default=100)
        )
        for g in tier.of_type("AWS::GlobalAccelerator::EndpointGroup")
    }
    return checks, records, groups


def _stacks(tier: TierAssembly) -> dict[str, Stack]:
    vaults = list(_plan_vaults(tier))
    copies = {(region, vault) for region, vault in _backup_copies(tier).items()}
    stacks = {}
    for name, (role, region) in tier.stacks.items():
        own = [r for r in tier.resources if r.stack == name]
        # CloudFormation reads an output in the Region the reference names, else in the
        # reader's own region, whatever region a stack of that name has in this assembly (a
        # rebuilt primary reads R's recovery-base stack, which this assembly puts in P).
        reads = output_reads([r.properties for r in own], region)
        named = _named_on_delete(own)
        key = f"{region}:{name}"
        stacks[key] = Stack(
            key,
            name,
            region,
            role,
            {producer_region for _, producer_region in reads},
            [f"{tier.stacks[d][1]}:{d}" for d in tier.dependencies.get(name, [])],
            {
                r.logical_id: json.dumps(r.properties, sort_keys=True)
                for r in own
                if rules.changes_iam(r.type, r.properties)
            },
            {r.logical_id: kept for r, kept in named},
            filled_vaults=[
                str(vault.prop("BackupVaultName"))
                for vault in own
                if vault.type == "AWS::Backup::BackupVault"
                and not rules.retained_on_delete(vault.deletion_policy)
                and (
                    any(p.stack == name and v is vault for p, v in vaults)
                    or (region, vault.prop("BackupVaultName")) in copies
                )
            ],
            kept_on_rollback=[
                kept for r, kept in named if rules.kept_on_failed_create(r.deletion_policy)
            ],
            protected_load_balancers=[
                r.logical_id
                for r in own
                if r.type == "AWS::ElasticLoadBalancingV2::LoadBalancer" and _deletion_protected(r)
            ],
        )
    return stacks


def _deletion_protected(balancer: Resource) -> bool:
    attributes = balancer.prop("LoadBalancerAttributes", default=[])
    return {"Key": "deletion_protection.enabled", "Value": "true"} in attributes


def _named_on_delete(resources: list[Resource]) -> list[tuple[Resource, tuple[str, str]]]:
    """What a stack of ``resources`` leaves in its region when it is deleted, under a name it
    gave: (resource, (type, name)). A name CloudFormation generates meets nothing again."""
    kept = []
    for resource in resources:
        if not rules.retained_on_delete(resource.deletion_policy):
            continue
        prop = name_property(resource.region, resource.type)
        name = resource.prop(prop) if prop else None
        if isinstance(name, str):
            kept.append((resource, (resource.type, name)))
    return kept


def read_world(tier: TierAssembly) -> World:
    """The deployed tier, everything up and as synthesized."""
    checks, records, groups = _entry(tier)
    regions = {region for _, region in tier.stacks.values()}
    plan = switch_plan(tier)
    inline = _inline_functions(tier)
    services = _services(tier)
    secret = _admin_secret(tier)
    return World(
        tier=tier.name,
        primary=tier.primary_region,
        recovery=tier.recovery_region,
        regions=regions,
        databases=_databases(tier),
        proxies=_proxies(tier, _secret_users(tier)),
        services=services,
        images=image_copies(
            tier, (x.image for x in services.values() if x.region == tier.primary_region)
        ),
        table_regions=table_replica_regions(tier),
        queues={_key(q): q.region for q in tier.of_type("AWS::SQS::Queue")},
        alarms=_alarms(tier),
        health_checks=checks,
        records=records,
        groups=groups,
        stacks=_stacks(tier),
        secret_replicas=_secret_replicas(tier),
        backup_copies=_backup_copies(tier),
        backup_vaults=_backup_vaults(tier),
        control_replicas=_control_replicas(tier),
        table_names=_table_names(tier),
        account=tier.account,
        accelerator_name=_first(tier, "AWS::GlobalAccelerator::Accelerator", "Name"),
        data_keys=_data_keys(tier),
        backup_role=_backup_role(tier),
        admin_secret=_key(secret) if secret is not None else "",
        admin_secret_tags=_tags(secret),
        replica_key_alias=_replica_key_alias(tier),
        global_cluster=next(iter(global_cluster_ids(tier)), ""),
        plan=plan,
        plan_role=plan_role_statements(tier, plan),
        functions={
            f"{f.region}:{f.prop('FunctionName')}"
            for f in tier.of_type("AWS::Lambda::Function")
            if isinstance(f.prop("FunctionName"), str)
        },
        plan_starters=_plan_starters(tier),
        termination_protected=tier.termination_protected,
        key_uses=key_uses(tier, _role_statements),
        role_names=_role_names(tier),
        function_roles={key: roles for key, (roles, _) in inline.items()},
        function_calls={key: calls for key, (_, calls) in inline.items()},
        rule_invocations=_rule_invocations(tier),
        strong_tables={
            str(t.prop("TableName")): held
            for t in tier.of_type("AWS::DynamoDB::GlobalTable")
            if (held := strong_regions(t)) is not None
        },
    )


def _role_names(tier: TierAssembly) -> set[str]:
    """The fixed names of the tier's IAM roles (a role named by ARN elsewhere has one)."""
    return {
        str(r.prop("RoleName"))
        for r in tier.of_type("AWS::IAM::Role")
        if isinstance(r.prop("RoleName"), str)
    }


def _secret_replicas(tier: TierAssembly) -> set[str]:
    """The regions holding a replica of a secret of the tier."""
    return {
        replica["Region"]
        for secret in tier.of_type("AWS::SecretsManager::Secret")
        for replica in secret.prop("ReplicaRegions", default=[])
    }


def _data_keys(tier: TierAssembly) -> dict[str, str]:
    """Region -> key of the regional stack's data key."""
    return {
        k.region: _key(k)
        for k in tier.of_type("AWS::KMS::Key")
        if k.logical_id.startswith("DataKey") and k.role in (StackRole.PRIMARY, StackRole.RECOVERY)
    }


def _tags(resource: Resource | None) -> dict[str, str]:
    """A resource's tags as the template gives them (none for no resource)."""
    tags = resource.prop("Tags", default=[]) if resource is not None else []
    return {x["Key"]: x["Value"] for x in tags}


def _admin_secret(tier: TierAssembly) -> Resource | None:
    """The primary's admin secret, if any."""
    return next(
        (x for x in tier.of_type("AWS::SecretsManager::Secret") if x.role == StackRole.PRIMARY),
        None,
    )


def _inline_functions(
    tier: TierAssembly,
) -> dict[str, tuple[list[dict[str, Any]], dict[str, tuple[SdkCall, ...]]]]:
    """ "region:name" -> (its role's statements, the calls per payload action) of every named
    Lambda function whose code is inline in its template (Code.ZipFile): what is deployed."""
    return {
        f"{f.region}:{f.prop('FunctionName')}": (
            _role_statements(tier, f.stack, f.prop("Role")),
            action_calls(str(f.prop("Code", "ZipFile"))),
        )
        for f in tier.of_type("AWS::Lambda::Function")
        if isinstance(f.prop("FunctionName"), str) and isinstance(f.prop("Code", "ZipFile"), str)
    }


def _rule_invocations(tier: TierAssembly) -> list[tuple[str, str, dict[str, Any]]]:
    """(rule key, "region:name" of the function, its Input) of every EventBridge rule target
    that invokes a named function of its stack with a constant input."""
    found = []
    for rule in tier.of_type("AWS::Events::Rule"):
        for target in rule.prop("Targets", default=[]):
            text = target.get("Input")
            for function_id in refs(target.get("Arn")):
                function = tier.by_id(rule.stack, function_id)
                name = function.prop("FunctionName") if function is not None else None
                if isinstance(name, str) and isinstance(text, str):
                    found.append((_key(rule), f"{rule.region}:{name}", json.loads(text)))
    return found


def plan_role_statements(tier: TierAssembly, plan: SwitchPlan | None) -> list[dict[str, Any]]:
    """Every statement of the Region switch plan's execution role; none without a plan."""
    if plan is None:
        return []
    return _role_statements(tier, plan.resource.stack, plan.resource.prop("ExecutionRole"))


def _first(tier: TierAssembly, type_: str, name: str) -> str:
    """Property ``name`` of the first resource of a type, as text; "" without one."""
    return next((str(r.prop(name)) for r in tier.of_type(type_)), "")


def _backup_copies(tier: TierAssembly) -> dict[str, str]:
    """Region -> name of the vault the backup plans copy to there, that a restore reads: not
    a logically air-gapped vault, whose copies are the second line (decision 51)."""
    air_gapped = air_gapped_vaults(tier)
    return {
        region: name
        for plan in tier.of_type("AWS::Backup::BackupPlan")
        for rule in backup_rules(plan)
        for region, name in rule.destinations()
        if name not in air_gapped
    }


def _backup_vaults(tier: TierAssembly) -> dict[str, str]:
    """Region -> name of the vault its backup plan backs up into (a rule's target vault)."""
    return {plan.region: str(vault.prop("BackupVaultName")) for plan, vault in _plan_vaults(tier)}


def _plan_vaults(tier: TierAssembly) -> Iterator[tuple[Resource, Resource]]:
    """(backup plan, a vault of its own stack, named, that one of its rules backs up into)."""
    for plan in tier.of_type("AWS::Backup::BackupPlan"):
        for rule in plan.prop("BackupPlan", "BackupPlanRule", default=[]):
            target = rule.get("TargetBackupVault")
            if not isinstance(target, dict):
                continue
            ref = target.get("Ref") or target.get("Fn::GetAtt", [None])[0]
            vault = tier.by_id(plan.stack, ref) if isinstance(ref, str) else None
            if vault is not None and isinstance(vault.prop("BackupVaultName"), str):
                yield plan, vault


def _control_replicas(tier: TierAssembly) -> set[str]:
    """The regions of the control table's replicas."""
    return {
        replica.region
        for t in tier.of_type("AWS::DynamoDB::GlobalTable") + tier.of_type("AWS::DynamoDB::Table")
        if isinstance(t.prop("TableName"), str) and is_control_table(str(t.prop("TableName")))
        for replica in table_replicas(t)
    }


def _table_names(tier: TierAssembly) -> list[str]:
    """Every table's fixed name, drtiers' control table last."""
    return sorted(
        (
            str(t.prop("TableName"))
            for t in tier.of_type("AWS::DynamoDB::GlobalTable")
            + tier.of_type("AWS::DynamoDB::Table")
            if isinstance(t.prop("TableName"), str)
        ),
        key=lambda name: (is_control_table(name), name),
    )


def _backup_role(tier: TierAssembly) -> str:
    """The name of the role AWS Backup assumes (the first named one that trusts it)."""
    return next(
        (
            str(r.prop("RoleName"))
            for r in tier.of_type("AWS::IAM::Role")
            if "backup.amazonaws.com" in json.dumps(r.prop("AssumeRolePolicyDocument"))
            and r.prop("RoleName")
        ),
        "",
    )


def _replica_key_alias(tier: TierAssembly) -> str:
    """The alias of the key the recovery-base stack keeps for replicas in R."""
    return next(
        (
            str(a.prop("AliasName"))
            for a in tier.of_type("AWS::KMS::Alias")
            if a.role == StackRole.RECOVERY_BASE and "replicas" in str(a.prop("AliasName"))
        ),
        "",
    )


def _plan_starters(tier: TierAssembly) -> dict[str, str]:
    """Alarms whose turning red starts the plan: an EventBridge rule on the alarm's state
    change whose target's input is the plan-actions function's ``start-plan``."""
    starters = {}
    for rule in tier.of_type("AWS::Events::Rule"):
        pattern = rule.prop("EventPattern") or {}
        if pattern.get("source") != ["aws.cloudwatch"]:
            continue
        detail = pattern.get("detail", {})
        if detail.get("state", {}).get("value") != ["ALARM"]:
            continue
        for target in rule.prop("Targets", default=[]):
            text = target.get("Input")
            if isinstance(text, str) and json.loads(text).get("action") == "start-plan":
                for alarm in detail.get("alarmName", []):
                    starters[alarm] = rule.region
    return starters
