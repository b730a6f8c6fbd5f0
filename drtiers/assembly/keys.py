"""KMS keys as the assembly declares them: each key's policy and aliases, which key encrypts each
store in each region (table replicas, queues, secret replicas, backup vaults), and whether whoever
uses the store at recovery may use its key, as KMS decides (drtiers.core.permissions.key_allows):
the key policy first, then the caller's IAM policies where the key policy hands over to them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.assembly.switch_plan import SwitchPlan
from drtiers.core import rules
from drtiers.core.permissions import Caller, key_allows
from drtiers.core.tiers import CONTROL_REGIONS_VARIABLE, is_control_table

# The statements of the role a resource names (a reference or an ARN), as the world reads them.
RoleStatements = Callable[[TierAssembly, str, Any], list[dict[str, Any]]]


@dataclass(frozen=True)
class Key:
    arn: str  # a stand-in ARN: arn:aws:kms:<region>:<account>:key/<stack>.<logical id>
    region: str
    stack: str  # "region:name" of the stack that makes it
    aliases: tuple[str, ...]  # alias/... names pointing at it
    policy: tuple[dict[str, Any], ...]  # its key policy's statements, references resolved


@dataclass(frozen=True)
class KeyUse:
    """One store's key, used by one caller through one service, and the verdict: ``problem`` is
    empty where KMS allows every action, else names the key, the caller, the action and why."""

    store: str
    region: str
    key: str  # the key's stand-in ARN
    who: str
    problem: str
    # "region:name" of the stacks the verdict reads (the store's, the key's, the user's): a
    # deployment of any of them makes a new verdict.
    stacks: frozenset[str] = frozenset()


def key_uses(tier: TierAssembly, role_statements: RoleStatements) -> list[KeyUse]:
    """Every store's key with whoever uses it at recovery: the tasks (their task role) for the
    tables and queues of their region, the hosted rotation function (the writer of every new
    version) for the secret's replicas, AWS Backup's role for the vaults it restores from."""
    resolver = _Resolver(tier)
    keys = resolver.keys()
    uses = [
        *_task_uses(tier, resolver, role_statements),
        *_secret_replica_uses(tier, resolver),
        *_vault_uses(tier, resolver, role_statements),
    ]
    return [_judge(keys, *use) for use in uses if use[2] in keys]


def report_key_uses(
    tier: TierAssembly, plan: SwitchPlan | None, statements: list[dict[str, Any]]
) -> list[KeyUse]:
    """The key of the bucket the plan writes its execution reports to, used through S3 by the
    plan's execution role (``statements``): "kms:GenerateDataKey and kms:Encrypt" for a customer
    managed key (https://docs.aws.amazon.com/r53recovery/latest/dg/
    security_iam_region_switch_reports.html, read 2026-12-05). None without a report bucket or
    with a key the tier does not make."""
    if plan is None or plan.reports is None:
        return []
    resolver = _Resolver(tier)
    keys = resolver.keys()
    bucket = plan.reports.bucket
    encryption = bucket.prop("BucketEncryption", "ServerSideEncryptionConfiguration", default=[])
    named = encryption[0].get("ServerSideEncryptionByDefault", {}) if encryption else {}
    arn = resolver.key_of(named.get("KMSMasterKeyID"), bucket, bucket.region)
    if arn not in keys:
        return []
    caller = resolver.caller(plan.resource.prop("ExecutionRole"), plan.resource, statements)
    store = f"the execution reports in bucket {bucket.stack}/{bucket.logical_id}"
    who = f"Region switch's execution role {caller.arn.rsplit('/', 1)[-1]}"
    stacks = resolver.stacks(bucket, caller=caller)
    actions = ("kms:GenerateDataKey", "kms:Encrypt")
    return [_judge(keys, store, bucket.region, arn, who, caller, "s3", actions, stacks)]


# (store, region, key ARN, who, caller, service that calls KMS for the caller, actions, the
# stacks of the store and of its user)
_Use = tuple[str, str, str, str, Caller, str, tuple[str, ...], frozenset[str]]


def _judge(
    keys: dict[str, Key],
    store: str,
    region: str,
    key_arn: str,
    who: str,
    caller: Caller,
    service: str,
    actions: tuple[str, ...],
    stacks: frozenset[str],
) -> KeyUse:
    key = keys[key_arn]
    stacks |= {key.stack}
    context = {
        "kms:ViaService": (f"{service}.{region}.amazonaws.com",),
        "kms:CallerAccount": (caller.account,),
        "kms:ResourceAliases": key.aliases,
    }
    for action in actions:
        allowed, why = key_allows(key.policy, caller, action, key.arn, context)
        if not allowed:
            name = f"{key.arn} ({', '.join(key.aliases)})" if key.aliases else key.arn
            problem = f"{who} may not call {action} with KMS key {name} ({store}): {why}"
            return KeyUse(store, region, key.arn, who, problem, stacks)
    return KeyUse(store, region, key.arn, who, "", stacks)


class _Resolver:
    """Literal values of the references a policy or a store's key makes: pseudo parameters, and
    the keys' and roles' ARNs (stand-ins, stable within the tier)."""

    def __init__(self, tier: TierAssembly) -> None:
        self.tier = tier
        self.arns: dict[tuple[str, str], str] = {}
        self.made_in: dict[str, str] = {}  # a key's or role's ARN -> "region:name" of its stack
        for resource in tier.resources:
            if resource.type == "AWS::KMS::Key":
                self.arns[(resource.stack, resource.logical_id)] = (
                    f"arn:aws:kms:{resource.region}:{tier.account}:key/"
                    f"{resource.stack}.{resource.logical_id}"
                )
            elif resource.type == "AWS::IAM::Role":
                name = resource.prop("RoleName")
                if not isinstance(name, str):
                    name = f"{resource.stack}.{resource.logical_id}"
                self.arns[(resource.stack, resource.logical_id)] = (
                    f"arn:aws:iam::{tier.account}:role/{name}"
                )
            arn = self.arns.get((resource.stack, resource.logical_id))
            if arn is not None:
                self.made_in[arn] = f"{resource.region}:{resource.stack}"

    def value(self, value: Any, at: Resource) -> Any:
        if isinstance(value, list):
            return [self.value(v, at) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            pseudo = {"AWS::Partition": "aws", "AWS::AccountId": self.tier.account}
            pseudo["AWS::Region"] = at.region
            name = str(value["Ref"])
            return pseudo.get(name, self.arns.get((at.stack, name), value))
        if "Fn::GetAtt" in value and isinstance(value["Fn::GetAtt"], list):
            return self.arns.get((at.stack, str(value["Fn::GetAtt"][0])), value)
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            joined = [self.value(p, at) for p in parts]
            return separator.join(joined) if all(isinstance(p, str) for p in joined) else value
        return {k: self.value(v, at) for k, v in value.items()}

    def keys(self) -> dict[str, Key]:
        aliases: dict[str, list[str]] = {}
        for alias in self.tier.of_type("AWS::KMS::Alias"):
            target = self.value(alias.prop("TargetKeyId"), alias)
            if isinstance(target, str):
                aliases.setdefault(target, []).append(str(alias.prop("AliasName")))
        keys = {}
        for key in self.tier.of_type("AWS::KMS::Key"):
            arn = self.arns[(key.stack, key.logical_id)]
            policy = self.value(key.prop("KeyPolicy", "Statement", default=[]), key)
            stack = f"{key.region}:{key.stack}"
            keys[arn] = Key(
                arn, key.region, stack, tuple(sorted(aliases.get(arn, []))), tuple(policy)
            )
        return keys

    def key_of(self, value: Any, at: Resource, region: str) -> str:
        """The stand-in ARN of the key a store names (its ARN, or an alias's ARN or name in the
        store's region); "" for an AWS owned or managed key, or one the tier does not make."""
        named = self.value(value, at)
        if not isinstance(named, str):
            return ""
        if named.startswith("arn:aws:kms:") and ":key/" in named:
            return named
        alias = re.search(r"(?:^|:)(alias/[A-Za-z0-9/_-]+)$", named)
        if alias is None or alias[1].startswith("alias/aws/"):
            return ""
        for resource in self.tier.of_type("AWS::KMS::Alias"):
            if resource.prop("AliasName") == alias[1] and resource.region == region:
                target = self.value(resource.prop("TargetKeyId"), resource)
                return target if isinstance(target, str) else ""
        return ""

    def caller(self, role: Any, at: Resource, statements: list[dict[str, Any]]) -> Caller:
        arn = self.value(role, at)
        identity = tuple(self.value(statements, at))
        return Caller(arn if isinstance(arn, str) else "", self.tier.account, identity)

    def stacks(self, *resources: Resource, caller: Caller) -> frozenset[str]:
        """The stacks of ``resources`` and of the caller's role, where the tier makes it."""
        made = {f"{r.region}:{r.stack}" for r in resources}
        role = self.made_in.get(caller.arn)
        return frozenset(made | ({role} if role else set()))


def _task_callers(
    tier: TierAssembly, resolver: _Resolver, role_statements: RoleStatements
) -> Iterator[tuple[Resource, Resource, Caller, str]]:
    """(service, its task definition, its task role as KMS sees the caller, who that is)."""
    for service in tier.of_type("AWS::ECS::Service"):
        task = _task_definition(tier, service)
        if task is None:
            continue
        role = task.prop("TaskRoleArn")
        caller = resolver.caller(role, task, role_statements(tier, task.stack, role))
        yield service, task, caller, f"the task role of {service.stack}/{service.logical_id}"


def _task_uses(
    tier: TierAssembly, resolver: _Resolver, role_statements: RoleStatements
) -> Iterator[_Use]:
    """The tables with a replica in a service's region and the queues its settings name, each
    used by its tasks' role to read and write."""
    for service, task, caller, who in _task_callers(tier, resolver, role_statements):
        actions = rules.store_key_actions()
        for table, name, key in _table_replica_keys(tier, service.region):
            arn = resolver.key_of(key, table, service.region)
            store = f"the replica of table {name} in {service.region}"
            stacks = resolver.stacks(task, table, caller=caller)
            yield store, service.region, arn, who, caller, "dynamodb", actions, stacks
        for name, value in _environment(task).items():
            queue = tier.referenced(service.stack, value)
            if name.startswith("QUEUE_URL") and queue and queue.type == "AWS::SQS::Queue":
                arn = resolver.key_of(queue.prop("KmsMasterKeyId"), queue, queue.region)
                store = f"queue {queue.stack}/{queue.logical_id}"
                stacks = resolver.stacks(task, queue, caller=caller)
                yield store, queue.region, arn, who, caller, "sqs", actions, stacks


def control_key_denials(
    tier: TierAssembly, role_statements: RoleStatements
) -> dict[tuple[str, str], dict[str, str]]:
    """(stack, logical id) of each ECS service -> {region: why} for every other region its
    settings name in CONTROL_TABLE_REGIONS whose control-table replica is encrypted with a key
    its task role may not decrypt with: DynamoDB decrypts the item for the caller, so that
    region's writer-region item never reaches it."""
    resolver = _Resolver(tier)
    keys = resolver.keys()
    found: dict[tuple[str, str], dict[str, str]] = {}
    for service, task, caller, who in _task_callers(tier, resolver, role_statements):
        regions = _environment(task).get(CONTROL_REGIONS_VARIABLE)
        for region in regions.split(",") if isinstance(regions, str) else []:
            for table, name, key in _table_replica_keys(tier, region):
                arn = resolver.key_of(key, table, region)
                if region == service.region or not is_control_table(name) or arn not in keys:
                    continue
                store = f"the replica of table {name} in {region}"
                stacks = resolver.stacks(task, table, caller=caller)
                use = _judge(keys, store, region, arn, who, caller, "dynamodb", _READ, stacks)
                if use.problem:
                    found.setdefault((service.stack, service.logical_id), {})[region] = use.problem
    return found


# Reading decrypts a data key; only writing makes one (rules.store_key_actions).
_READ = ("kms:Decrypt",)


def _environment(task: Resource) -> dict[str, Any]:
    return {
        v["Name"]: v["Value"]
        for c in task.prop("ContainerDefinitions", default=[])
        for v in c.get("Environment", [])
    }


def _task_definition(tier: TierAssembly, service: Resource) -> Resource | None:
    return tier.referenced(service.stack, service.prop("TaskDefinition"))


def _table_replica_keys(tier: TierAssembly, region: str) -> Iterator[tuple[Resource, str, Any]]:
    """(table, its name, the key its replica in ``region`` names) of every global table with a
    replica there encrypted with a customer managed key."""
    for table in tier.of_type("AWS::DynamoDB::GlobalTable"):
        for replica in table.prop("Replicas", default=[]):
            key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
            if replica.get("Region") == region and key is not None:
                yield table, str(table.prop("TableName", default=table.logical_id)), key


def _secret_replica_uses(tier: TierAssembly, resolver: _Resolver) -> Iterator[_Use]:
    """Each replica of a secret rotated by a hosted function: the function writes every new
    version, and Secrets Manager in the replica's region encrypts it for that caller."""
    for rotation in tier.of_type("AWS::SecretsManager::RotationSchedule"):
        hosted = rotation.prop("HostedRotationLambda")
        secret = tier.referenced(rotation.stack, rotation.prop("SecretId"))
        if not isinstance(hosted, dict) or secret is None:
            continue
        own_key = resolver.value(hosted.get("KmsKeyArn"), rotation)
        identity = (rules.rotation_role_key_statement(own_key),) if own_key else ()
        caller = Caller("", tier.account, identity)  # a role named at deploy
        who = f"the hosted rotation function of {secret.stack}/{secret.logical_id}"
        for replica in secret.prop("ReplicaRegions", default=[]):
            region = str(replica.get("Region"))
            arn = resolver.key_of(replica.get("KmsKeyId"), secret, region)
            store = f"the replica of secret {secret.stack}/{secret.logical_id} in {region}"
            actions = rules.secret_replica_key_actions()
            stacks = resolver.stacks(rotation, secret, caller=caller)
            yield store, region, arn, who, caller, "secretsmanager", actions, stacks


def _vault_uses(
    tier: TierAssembly, resolver: _Resolver, role_statements: RoleStatements
) -> Iterator[_Use]:
    """Each backup vault's key, used by every role AWS Backup restores with (those that trust
    backup.amazonaws.com: the backup plan's, the restore tests'). AWS managed policies attached
    to one are not read: they are taken to allow, so only the key policy can refuse."""
    for role in tier.of_type("AWS::IAM::Role"):
        if "backup.amazonaws.com" not in json.dumps(role.prop("AssumeRolePolicyDocument")):
            continue
        reference = {"Fn::GetAtt": [role.logical_id, "Arn"]}
        caller = resolver.caller(reference, role, role_statements(tier, role.stack, reference))
        if role.prop("ManagedPolicyArns"):
            caller = Caller(caller.arn, caller.account, caller.identity, unread=True)
        who = f"AWS Backup's role {caller.arn.rsplit('/', 1)[-1]}"
        for vault in tier.of_type("AWS::Backup::BackupVault"):
            arn = resolver.key_of(vault.prop("EncryptionKeyArn"), vault, vault.region)
            store = f"the recovery points in vault {vault.stack}/{vault.logical_id}"
            actions = rules.backup_restore_key_actions()
            stacks = resolver.stacks(role, vault, caller=caller)
            yield store, vault.region, arn, who, caller, "backup", actions, stacks
