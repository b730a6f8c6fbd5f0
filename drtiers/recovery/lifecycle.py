"""The sandbox life cycle (issue 19): deployments of drtiers tiers in one account, deployed in
the order `cdk deploy --all` takes, destroyed as `drtiers destroy` says, what stays removed as
it says, and deployed again, twice over.

Every resource a template names holds that name (its name or identifying property, read from
CloudFormation's resource schemas: schemas.identifying_property) in a scope: the account, for
a service whose API one region serves whatever region is asked (botocore's endpoint rule sets:
IAM, ARC Region switch) and for an Aurora global database
(rules.global_cluster_name_is_account_wide); each replica's region, for a global table; the
hosted zone, for a record; else its region. A stack's name is held in its region. Creating a
held name again fails (rules.create_meets_existing_name), except a hosted zone's, which makes
a second zone (rules.zone_name_repeats).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from functools import cache
from graphlib import TopologicalSorter

import botocore.session

from drtiers.assembly.reader import Resource, TierAssembly, tag_map
from drtiers.assembly.world import read_world, refs
from drtiers.core import rules
from drtiers.core.commands import aws_calls
from drtiers.core.endpoints import operation_names, served_from
from drtiers.core.schemas import identifying_property, name_scope
from drtiers.core.tiers import APP_TAG, ROLE_TAG, STALE_ROLE, TIER_TAG, StackRole
from drtiers.recovery import simulate
from drtiers.recovery import steps as s
from drtiers.recovery.live import Live, deployed

STACK = "AWS::CloudFormation::Stack"
# What a stack can adopt again with `cdk import` and keep using: its data is what the next
# deployment wants, and nothing it is made from is create-only and gone (a global database's
# source cluster, a replica's source instance are).
IMPORTABLE = {"AWS::DynamoDB::GlobalTable", "AWS::Backup::BackupVault", "AWS::Logs::LogGroup"}
NAMES_OTHERS = {"AWS::ARCRegionSwitch::Plan"}  # resources that name other stacks' resources
ACCOUNT = "account"


@dataclass(frozen=True)
class Claim:
    """A name one resource of a stack holds while it exists."""

    scope: str  # ACCOUNT, a region, or "zone <the zone's id>"
    kind: str  # its resource type
    name: str
    stack: str  # region:name
    logical_id: str
    policy: str | None = None  # its DeletionPolicy

    @property
    def retained(self) -> bool:
        """It stays when its stack is deleted."""
        return rules.retained_on_delete(self.policy)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.scope, self.kind, self.name

    def __str__(self) -> str:
        return f"{self.kind} {self.name} ({self.scope})"


@dataclass(frozen=True)
class Deployment:
    """One tier of one app in one region pair, as synthesized."""

    label: str
    tier: TierAssembly


# A deployed tier's region loss and failback (drtiers.recovery.fail_over_and_back): what broke,
# and the tier as failback leaves it, which the destroy then takes down.
Event = Callable[[TierAssembly], tuple[list[str], Live]]


@dataclass
class Account:
    """What the deployments hold in one account: live names (-> the deployment and the claim),
    names that deleted stacks left, and which deployments use each deployed stack."""

    held: dict[tuple[str, str, str], tuple[str, Claim]] = field(default_factory=dict)
    left: dict[tuple[str, str, str], tuple[str, Claim]] = field(default_factory=dict)
    stacks: dict[str, set[str]] = field(default_factory=dict)


@cache
def _botocore_service(namespace: str) -> str | None:
    """The botocore service of a CloudFormation namespace (``ARCRegionSwitch`` ->
    ``arc-region-switch``), if botocore names it so."""
    words = "".join(
        f"-{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(namespace)
    )
    available = set(botocore.session.get_session().get_available_services())
    return next((n for n in (namespace.lower(), words) if n in available), None)


@cache
def _account_wide(resource_type: str) -> bool:
    """Whether a name of ``resource_type`` is one per account rather than one per region."""
    if resource_type == "AWS::RDS::GlobalCluster":
        return rules.global_cluster_name_is_account_wide()
    service = _botocore_service(resource_type.split("::")[1])
    if service is None:
        return False
    operation = sorted(operation_names(service).values())[0]
    return served_from(service, operation, "eu-west-1") == served_from(
        service, operation, "ap-southeast-2"
    )


def _names(resource: Resource) -> list[tuple[str, str]]:
    """(scope, name) of each name ``resource`` holds."""
    if resource.type == "AWS::Route53::RecordSet":
        zone = resource.prop("HostedZoneId") or resource.prop("HostedZoneName")
        parts = (str(resource.prop(p, default="")) for p in ("Name", "Type", "SetIdentifier"))
        return [(f"zone {json.dumps(zone, sort_keys=True)}", " ".join(parts).strip())]
    prop = identifying_property(resource.region, resource.type)
    name = resource.prop(prop) if prop else None
    if not isinstance(name, str):
        return []  # CloudFormation makes the name: it meets nothing
    scope = [resource.prop(p) for p in name_scope(resource.region, resource.type)]
    name = "/".join([*(json.dumps(v) if not isinstance(v, str) else v for v in scope), name])
    if resource.type == "AWS::DynamoDB::GlobalTable":
        replicas = resource.prop("Replicas", default=[])
        return [(str(r["Region"]), name) for r in replicas if isinstance(r.get("Region"), str)]
    return [(ACCOUNT if _account_wide(resource.type) else resource.region, name)]


def claims(tier: TierAssembly) -> dict[str, list[Claim]]:
    """Stack (region:name) -> the names it holds, its own name first."""
    found = {
        f"{region}:{name}": [Claim(region, STACK, name, f"{region}:{name}", name)]
        for name, (_, region) in tier.stacks.items()
    }
    for r in tier.resources:
        key = f"{r.region}:{r.stack}"
        found[key] += [
            Claim(sc, r.type, n, key, r.logical_id, r.deletion_policy) for sc, n in _names(r)
        ]
    return found


def deploy_order(tier: TierAssembly) -> list[str]:
    """The tier's stacks (region:name) in the order `cdk deploy --all` deploys them: each after
    the stacks the manifest says it depends on."""
    graph = TopologicalSorter(
        {n: sorted(tier.dependencies.get(n, [])) for n in sorted(tier.stacks)}
    )
    return [f"{tier.stacks[n][1]}:{n}" for n in graph.static_order() if n in tier.stacks]


def deploy(account: Account, d: Deployment) -> list[str]:
    """Deploy ``d``'s stacks in order; what fails, each naming the resource and the fix."""
    found = []
    held = claims(d.tier)
    for key in deploy_order(d.tier):
        name = key.split(":", 1)[1]
        for first in d.tier.dependencies.get(name, []):
            if f"{d.tier.stacks[first][1]}:{first}" not in account.stacks:
                found.append(f"{d.label}: {key} deploys before {first}, which it depends on")
        found += _named_before(account, d, key, held)
        users = account.stacks.setdefault(key, set())
        if users and _same(account, key, held[key]):
            users.add(d.label)  # a stack several deployments share (the app's zone)
            continue
        for claim in held[key]:
            found += _meets(account, d.label, claim)
            account.held[claim.key] = (d.label, claim)
        users.add(d.label)
    return found


def _named_before(
    account: Account, d: Deployment, key: str, held: dict[str, list[Claim]]
) -> list[str]:
    """The names of the deployment's other stacks that ``key``'s Region switch plan names
    before those stacks have made them. Only the plan: it names the functions, alarms,
    services and databases it acts on by name, where every other cross-stack name (an IAM
    policy's, a function's environment) is read only when something runs."""
    name = key.split(":", 1)[1]
    text = json.dumps(
        [r.properties for r in d.tier.resources if r.stack == name and r.type in NAMES_OTHERS]
    )
    return [
        f"{d.label}: {key} deploys before {claim.stack}, whose {claim} it names: declare the "
        f"dependency (add_dependency) so `cdk deploy --all` deploys {claim.stack} first"
        for other, claims_ in held.items()
        if other != key
        for claim in claims_
        if claim.kind != STACK
        and claim.key not in account.held
        and re.search(rf"(?<![\w-]){re.escape(claim.name)}(?![\w-])", text)
    ]


def _same(account: Account, key: str, claims_: list[Claim]) -> bool:
    return all(account.held.get(c.key, ("", None))[1] == c for c in claims_)


def _meets(account: Account, label: str, claim: Claim) -> list[str]:
    """What creating ``claim`` meets: a name another deployment holds, or one a deleted stack
    left."""
    if claim.key in account.left:
        owner, kept = account.left[claim.key]
        return [
            f"{label}: {claim} was left by {owner}'s {kept.stack} when it was destroyed "
            f"(DeletionPolicy Retain), and {claim.stack} creates it again: "
            + _outcome(claim)
            + "; remove it as `drtiers destroy` says"
            + (", or import it into the stack (cdk import)" if claim.kind in IMPORTABLE else "")
        ]
    if claim.key in account.held:
        owner, other = account.held[claim.key]
        return [
            f"{label}: {claim} is held by {owner}'s {other.stack}, and {claim.stack} creates "
            "it again: " + _outcome(claim) + "; give one of them a name of its own"
            " (the app_name context key names every resource of a deployment)"
        ]
    return []


def _outcome(claim: Claim) -> str:
    if claim.kind == "AWS::Route53::HostedZone" and rules.zone_name_repeats():
        return (
            "Route 53 makes a second zone of that name, with other name servers than the "
            "domain delegates to"
        )
    if rules.create_meets_existing_name():
        return "the create takes it over"
    return "CloudFormation's create fails (AlreadyExists)"


@dataclass(frozen=True)
class Stays:
    """What a destroy leaves: why, what it bills while it stays, and how to remove it."""

    what: str
    why: str
    billed: str
    remove: str  # the commands that delete it ("": drtiers knows none)
    claim: Claim | None = None  # the name it keeps holding, if it has one
    note: str = ""  # how to find it, when CloudFormation named it


@dataclass(frozen=True)
class DestroyPlan:
    steps: tuple[s.Step, ...]  # one stack deletion each, in order
    stays: tuple[Stays, ...]


# What each kind of resource a destroy leaves bills while it stays (the services' pricing pages,
# read 2026-12-05).
BILLED = {
    "AWS::Backup::BackupVault": "its recovery points' storage, per GB-month "
    "(https://aws.amazon.com/backup/pricing/)",
    "AWS::Backup::LogicallyAirGappedBackupVault": "its recovery points' storage, per GB-month, "
    "until each one's retention ends: its vault lock, in compliance mode, lets no one delete "
    "them sooner (https://aws.amazon.com/backup/pricing/)",
    "AWS::DynamoDB::GlobalTable": "its storage per GB-month in each replica region, and its "
    "capacity per hour if provisioned (https://aws.amazon.com/dynamodb/pricing/)",
    "AWS::Logs::LogGroup": "its stored logs, per GB-month (https://aws.amazon.com/cloudwatch/pricing/)",
    "AWS::RDS::DBInstance": "the instance per hour and its storage per GB-month, as it runs "
    "(https://aws.amazon.com/rds/pricing/)",
    "AWS::RDS::DBCluster": "its final snapshot's storage, per GB-month (https://aws.amazon.com/rds/pricing/)",
    "AWS::RDS::GlobalCluster": "nothing while no cluster is a member (its clusters bill; "
    "https://aws.amazon.com/rds/aurora/pricing/)",
    "AWS::Route53::HostedZone": "the hosted zone per month (https://aws.amazon.com/route53/pricing/)",
    "AWS::KMS::Key": "the key per month until its deletion completes (https://aws.amazon.com/kms/pricing/)",
    "AWS::SecretsManager::Secret": "the secret per month (https://aws.amazon.com/secrets-manager/pricing/)",
    "AWS::S3::Bucket": "its objects' storage, per GB-month (https://aws.amazon.com/s3/pricing/)",
    "AWS::SQS::Queue": "nothing until it is used (https://aws.amazon.com/sqs/pricing/)",
}


SNAPSHOT_BILLED = "its storage, per GB-month (https://aws.amazon.com/rds/pricing/)"


def destroy_plan(tier: TierAssembly, keep: frozenset[str] = frozenset()) -> DestroyPlan:
    """How to destroy ``tier`` (but the stacks in ``keep``, which other deployments still use):
    each stack deleted after the stacks that depend on it, what protects it turned off first
    and the recovery points in the vaults it deletes deleted; then what stays."""
    return _destroy_plan(tier, deployed(read_world(tier)), keep)


def _destroy_plan(tier: TierAssembly, w: Live, keep: frozenset[str]) -> DestroyPlan:
    order = [key for key in reversed(deploy_order(tier)) if key not in keep]
    steps = tuple(_delete_stack(tier, w, key) for key in order)
    held = claims(tier)
    stays = [
        _stays(held[key], claim)
        for key in order
        for claim in held[key]
        if claim.retained and claim.kind != STACK and claim.scope == _first_scope(held[key], claim)
    ]
    stays += [
        _kept_unnamed(r)
        for r in tier.resources
        if f"{r.region}:{r.stack}" in order and _unnamed_kept(r)
    ]
    stays += [
        _renamed_by_failback(r)
        for r in tier.of_type("AWS::RDS::DBInstance")
        if f"{r.region}:{r.stack}" in order
        and isinstance(r.prop("DBInstanceIdentifier"), str)
        and not r.prop("DBClusterIdentifier")
    ]
    return DestroyPlan(steps, tuple(stays))


# The tag key the RDS replica block puts on the instance it renames ("renamed and tagged with
# renamedByRegionSwitch", rules.RS_RDS_REPLICA): its value is not documented, so only the key.
BLOCK_RENAMED = "TagList[?Key=='renamedByRegionSwitch']"


def _renamed_by_failback(r: Resource) -> Stays:
    """The instances a failback renamed out of the way from ``r``'s identifier (the runbook
    to <identifier>-old-<time>, the RDS block by its own scheme) and tagged stale: no stack
    holds them."""
    tags = tag_map(r.prop("Tags"))
    # Tagged stale, or renamed by the RDS block (which adds that key) where the adopt action
    # did not get to tag it.
    renamed = f"[?TagList[?Key=='{ROLE_TAG}' && Value=='{STALE_ROLE}'] || {BLOCK_RENAMED}]"
    ours = [(k, tags[k]) for k in (APP_TAG, TIER_TAG) if k in tags]
    query = " | ".join([renamed, *(f"[?TagList[?Key=='{k}' && Value=='{v}']]" for k, v in ours)])
    return Stays(
        f"AWS::RDS::DBInstance renamed from {r.prop('DBInstanceIdentifier')} by a failback "
        f"({r.region})",
        "a failback renames the instance it replaces and keeps it, for what it alone holds "
        "(writes made in its region that did not reach the other); no stack holds it",
        BILLED["AWS::RDS::DBInstance"],
        "",
        note=f"where a failback ran, find them with aws rds describe-db-instances --region "
        f'{r.region} --query "DBInstances{query}.DBInstanceIdentifier"; once reviewed, '
        "delete each as a kept instance above (deletion protection off first)",
    )


def _first_scope(stack_claims: list[Claim], claim: Claim) -> str:
    """A global table holds its name in each replica region; it stays once."""
    return next(
        c.scope for c in stack_claims if c.logical_id == claim.logical_id and c.kind == claim.kind
    )


def _unnamed_kept(r: Resource) -> bool:
    """What stays under a name AWS or CloudFormation makes: a final snapshot (whatever the
    database's name), or a retained resource without a name of its own."""
    return r.deletion_policy == "Snapshot" or (
        rules.retained_on_delete(r.deletion_policy) and not _names(r)
    )


def _kept_unnamed(r: Resource) -> Stays:
    where = f"--region {r.region}"
    find = (
        f"aws cloudformation describe-stack-resource {where} --stack-name {r.stack} "
        f"--logical-resource-id {r.logical_id}"
    )
    if r.deletion_policy == "Snapshot":
        kind = "db-cluster" if r.type == "AWS::RDS::DBCluster" else "db"
        return Stays(
            f"the final snapshot of {r.type} {r.logical_id} of {r.stack} ({r.region})",
            "DeletionPolicy Snapshot: the database's data, in a manual snapshot RDS names",
            SNAPSHOT_BILLED,
            "",
            note=f"find it with aws rds describe-{kind}-snapshots {where} --snapshot-type "
            f"manual; delete it with aws rds delete-{kind}-snapshot",
        )
    note = f"its name is CloudFormation's: note it before the destroy with {find}"
    if r.type == "AWS::KMS::Key":
        note += f"; then aws kms schedule-key-deletion {where} --key-id <it>"
    return Stays(
        f"{r.type} {r.logical_id} of {r.stack} ({r.region})",
        f"DeletionPolicy {r.deletion_policy}: its data outlives the stack, under a name "
        "CloudFormation made",
        BILLED.get(r.type, ""),
        "",
        note=note,
    )


def _delete_stack(tier: TierAssembly, w: Live, key: str) -> s.Step:
    """Delete a stack, what protects it turned off and the vaults it deletes emptied first."""
    region, name = key.split(":", 1)
    stack = w.stacks.get(key)
    copies = set(w.backup_copies.values())
    emptied = "".join(
        _emptied(region, vault, sorted(w.regions - {region}) if vault in copies else [], w.account)
        for vault in (stack.filled_vaults if stack else [])
    )
    return s.Step(
        f"destroy {name}",
        f"Delete {name} in {region}",
        "protect",
        0,
        "a stack deletion",
        (rules.STACK_PROTECTION.url,),
        command=s.unprotect(w, key)
        + _global_unprotected(tier, key)
        + emptied
        + f"aws cloudformation delete-stack --region {region} --stack-name {name} && aws "
        f"cloudformation wait stack-delete-complete --region {region} --stack-name {name}",
        effect=s.Effect.RETIRE,
        target=key,
    )


def _global_clusters(tier: TierAssembly, key: str) -> list[Resource]:
    """The global databases a stack deletes with it."""
    return [
        r
        for r in tier.of_type("AWS::RDS::GlobalCluster")
        if f"{r.region}:{r.stack}" == key and not rules.retained_on_delete(r.deletion_policy)
    ]


def _global_unprotected(tier: TierAssembly, key: str) -> str:
    """The deletion protection of the global databases the stack deletes, turned off
    (rules.protected_database_deletes)."""
    return "".join(
        f"aws rds modify-global-cluster --region {r.region} --global-cluster-identifier "
        f"{r.prop('GlobalClusterIdentifier')} --no-deletion-protection && "
        for r in _global_clusters(tier, key)
        if r.prop("DeletionProtection") is True
    )


def _emptied(region: str, vault: str, copied_from: list[str], account: str) -> str:
    """Every recovery point in ``vault`` deleted: "A vault can be deleted only if it is empty"
    (rules.vault_deletes_only_empty). Once the backup jobs into it (and the copy jobs from
    ``copied_from``) have ended, and again until none is left: a deletion is submitted, not
    done, and a job that ends late adds one."""
    where = f"--region {region} --backup-vault-name {vault}"
    arn = f"arn:aws:backup:{region}:{account}:backup-vault:{vault}"
    waits = [
        f"aws backup list-backup-jobs --region {region} --by-backup-vault-name {vault} --query "
        "\"length(BackupJobs[?State=='CREATED' || State=='PENDING' || State=='RUNNING'])\""
    ] + [
        f"aws backup list-copy-jobs --region {source} --by-destination-vault-arn {arn} --query "
        "\"length(CopyJobs[?State=='CREATED' || State=='RUNNING'])\""
        for source in copied_from
    ]
    points = (
        f"aws backup list-recovery-points-by-backup-vault {where} --query "
        "'RecoveryPoints[].RecoveryPointArn' --output text"
    )
    return (
        "".join(f'until [ "$({w} --output text)" = 0 ]; do sleep 30; done && ' for w in waits)
        + f'until [ -z "$({points})" ]; do for ARN in $({points}); do aws backup '
        f"delete-recovery-point {where} --recovery-point-arn $ARN || true; done; sleep 30; "
        "done && "
    )


def _stays(stack_claims: list[Claim], claim: Claim) -> Stays:
    regions = [
        c.scope for c in stack_claims if c.logical_id == claim.logical_id and c.kind == claim.kind
    ]
    home = claim.stack.split(":", 1)[0]  # the stack's region first (a global table's)
    regions = sorted({home if r == ACCOUNT else r for r in regions}, key=lambda r: r != home)
    return Stays(
        str(claim),
        f"DeletionPolicy {claim.policy} on {claim.logical_id} of {claim.stack}: its data "
        "outlives the stack, and a deployment that creates the name again meets it "
        f"({_outcome(claim)})",
        BILLED.get(claim.kind, ""),
        _removal(claim.kind, claim.name, regions),
        claim,
    )


def _removal(kind: str, name: str, regions: list[str]) -> str:
    """The AWS CLI commands that delete a resource a destroy left (its data with it)."""
    r = regions[0]
    if kind == "AWS::Backup::BackupVault":
        return (
            _emptied(r, name, [], "")
            + f"aws backup delete-backup-vault --region {r} --backup-vault-name {name}"
        )
    if kind == "AWS::Backup::LogicallyAirGappedBackupVault":
        return (
            f"aws backup delete-backup-vault --region {r} --backup-vault-name {name}  "
            "# only once its last recovery point has expired: compliance mode deletes none sooner"
        )
    if kind == "AWS::DynamoDB::GlobalTable":
        return _table_removal(name, regions)
    if kind == "AWS::Logs::LogGroup":
        return f"aws logs delete-log-group --region {r} --log-group-name {name}"
    if kind == "AWS::RDS::DBInstance":
        where = f"--region {r} --db-instance-identifier {name}"
        return (
            f"aws rds modify-db-instance {where} --no-deletion-protection --apply-immediately && "
            f"aws rds wait db-instance-available {where} && "
            f"aws rds delete-db-instance {where} --skip-final-snapshot && aws rds wait "
            f"db-instance-deleted {where}"
        )
    if kind == "AWS::RDS::GlobalCluster":
        where = f"--region {r} --global-cluster-identifier {name}"
        return (
            f"aws rds modify-global-cluster {where} --no-deletion-protection && aws rds "
            f"delete-global-cluster {where}"
        )
    if kind == "AWS::Route53::HostedZone":  # every zone of exactly that name
        return (
            f"for ZONE in $(aws route53 list-hosted-zones-by-name --dns-name {name} --query "
            f"\"HostedZones[?Name=='{name}'].Id\" --output text); do aws route53 "
            "delete-hosted-zone --id $ZONE; done"
        )
    return ""


def _table_removal(name: str, regions: list[str]) -> str:
    """A global table's replicas deleted from its first region, then the table: deletion
    protection is each replica's own, so it is turned off in each first."""
    first = f"--region {regions[0]} --table-name {name}"
    commands = [
        f"aws dynamodb update-table --region {r} --table-name {name} "
        f"--no-deletion-protection-enabled && aws dynamodb wait table-exists --region {r} "
        f"--table-name {name}"
        for r in regions
    ]
    gone = (
        f"until [ \"$(aws dynamodb describe-table {first} --query 'length(Table.Replicas || "
        f"`[]`)' --output text)\" = 0 ]; do sleep 15; done"
    )
    commands += [
        f"aws dynamodb update-table {first} --replica-updates "
        f'\'[{{"Delete": {{"RegionName": "{r}"}}}}]\' && aws dynamodb wait table-exists {first}'
        for r in regions[1:]
    ]
    if regions[1:]:
        commands.append(gone)  # a replica's removal ends after the call returns
    commands.append(
        f"aws dynamodb delete-table {first} && aws dynamodb wait table-not-exists {first}"
    )
    return " && ".join(commands)


def destroy(account: Account, d: Deployment, after: Live | None = None) -> list[str]:
    """Destroy ``d`` (as deployed, or as an event left it: ``after``) as its plan says (the
    stacks other deployments use stay), then remove what stays as the plan says; what fails,
    each naming the resource and the fix."""
    shared = {key for key, users in account.stacks.items() if users - {d.label}}
    w = after if after is not None else deployed(read_world(d.tier))
    plan = _destroy_plan(d.tier, w, frozenset(shared))
    held = claims(d.tier)
    found = []
    for step in plan.steps:
        account.stacks.get(step.target, set()).discard(d.label)
        refused = simulate.retire_blocked(w, step) or _global_refusal(d.tier, step)
        if refused:
            found.append(f"{d.label}: destroying {step.target} fails: {refused}")
            continue
        simulate.retire(w, step.target)
        account.stacks.pop(step.target, None)
        for claim in held[step.target]:
            account.held.pop(claim.key, None)
            if claim.retained:
                account.left[claim.key] = (d.label, claim)
    for stays in plan.stays:
        if stays.claim is None:
            continue
        if not stays.remove:
            found.append(
                f"{d.label}: {stays.what} stays after the destroy and drtiers knows no command "
                "that removes it: the next deployment of its name fails; add its removal to "
                "drtiers.recovery.lifecycle"
            )
            continue
        for c in held[stays.claim.stack]:
            if c.logical_id == stays.claim.logical_id:
                account.left.pop(c.key, None)
    return found


def _global_refusal(tier: TierAssembly, step: s.Step) -> str | None:
    """Why a stack's deletion fails on a global database: one the stack deletes with its
    deletion protection left on (rules.protected_database_deletes), or a cluster of the stack
    that stays a member of one that is kept (rules.global_member_deletes)."""
    unlocked = any(
        c.operation == "ModifyGlobalCluster" and "--no-deletion-protection" in c.options
        for c in aws_calls(step.command)
    )
    in_stack = {r.logical_id for r in tier.resources if f"{r.region}:{r.stack}" == step.target}
    for glob in tier.of_type("AWS::RDS::GlobalCluster"):
        name = glob.prop("GlobalClusterIdentifier")
        kept = rules.retained_on_delete(glob.deletion_policy)
        deleted = f"{glob.region}:{glob.stack}" == step.target and not kept
        protected = glob.prop("DeletionProtection") is True and not unlocked
        if deleted and protected and not rules.protected_database_deletes():
            return f"the global database {name} has deletion protection: turn it off first"
        member = refs(glob.prop("SourceDBClusterIdentifier")) & in_stack
        if member and kept and not rules.global_member_deletes():
            return (
                f"its cluster is a member of the global database {name}, which is kept "
                f"(DeletionPolicy {glob.deletion_policy}), and CloudFormation deletes the "
                "cluster without detaching it: RDS refuses. Delete the global database with "
                "its stack (it holds no data), or remove the cluster from it first"
            )
    return None


def failed_first_create(d: Deployment) -> list[str]:
    """What a first create of each of ``d``'s stacks that rolls back leaves under its names,
    which the retry creates again (rules.kept_on_failed_create)."""
    return [
        f"{d.label}: a first create of {key} that rolls back leaves {claim} (DeletionPolicy "
        f"{claim.policy}), and the retry creates it again: CloudFormation's create fails "
        "(AlreadyExists); give it DeletionPolicy RetainExceptOnCreate "
        "(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)"
        for key, claims_ in claims(d.tier).items()
        for claim in claims_
        if rules.kept_on_failed_create(claim.policy) and not rules.create_meets_existing_name()
    ]


# The template resources whose tags select an experiment target of each FIS resource type (an
# ECS service's tasks carry its tags when it propagates them: PropagateTags SERVICE).
FIS_SELECTS = {
    "aws:ecs:task": "AWS::ECS::Service",
    "aws:ec2:subnet": "AWS::EC2::Subnet",
    "aws:rds:db": "AWS::RDS::DBInstance",
    "aws:rds:cluster": "AWS::RDS::DBCluster",
    "aws:dynamodb:global-table": "AWS::DynamoDB::GlobalTable",
}


def _tagged(r: Resource) -> list[tuple[str, dict[str, str]]]:
    """(region, tags) of each copy of ``r`` an experiment can select: a global table's replica
    in each of its regions."""
    if r.type == "AWS::DynamoDB::GlobalTable":
        return [
            (str(x.get("Region")), tag_map(x.get("Tags"))) for x in r.prop("Replicas", default=[])
        ]
    if r.type == "AWS::ECS::Service" and r.prop("PropagateTags") != "SERVICE":
        return [(r.region, {})]  # its tasks carry no tag
    return [(r.region, tag_map(r.prop("Tags")))]


def _selects(wanted: AbstractSet[tuple[str, str]], tags: AbstractSet[tuple[str, str]]) -> bool:
    return wanted <= tags if rules.fis_selects_by_every_tag() else bool(wanted & tags)


def drill(deployments: Sequence[Deployment]) -> list[str]:
    """Each deployment's experiments run with every deployment deployed. A target selects every
    resource of its type in the experiment's region that carries all its tags (selection mode
    ALL; rules.fis_selects_by_every_tag): it must select something ("If no targets are found, the
    experiment fails") and nothing of another deployment's."""
    found = []
    for d in deployments:
        for experiment in d.tier.of_type("AWS::FIS::ExperimentTemplate"):
            for name, target in sorted(experiment.prop("Targets", default={}).items()):
                kind = FIS_SELECTS.get(target.get("ResourceType"))
                if kind is None:
                    found.append(f"{d.label}: drtiers does not know what {target} selects")
                    continue
                wanted = target.get("ResourceTags", {}).items()
                selected = [
                    (other.label, r)
                    for other in deployments
                    for r in other.tier.of_type(kind)
                    for region, tags in _tagged(r)
                    if region == experiment.region and _selects(wanted, tags.items())
                ]
                where = f"{experiment.logical_id} ({name}, {experiment.region})"
                if not any(label == d.label for label, _ in selected):
                    found.append(f"{d.label}: the experiment {where} selects none of its {kind}")
                found += [
                    f"{d.label}: the experiment {where} selects {label}'s {kind} "
                    f"{r.logical_id} of {r.stack}: target it by the tags of its own "
                    f"deployment too ({APP_TAG}, {TIER_TAG})"
                    for label, r in selected
                    if label != d.label
                ]
    return found


def life_cycle(
    deployments: Sequence[Deployment], cycles: int = 2, event: Event | None = None
) -> list[str]:
    """Deploy every deployment into one account (a first create that rolls back retried
    first), run each one's drills, lose each one's primary region and fail back (``event``,
    if given), then destroy each as it stands (and remove what stays as `drtiers destroy`
    says), ``cycles`` times over: what fails, each naming the resource and the fix. Empty
    when the cycle holds."""
    account = Account()
    found = [f"first deploy: {f}" for d in deployments for f in failed_first_create(d)]
    for cycle in range(1, cycles + 1):
        for d in deployments:
            found += [f"cycle {cycle}: deploy {f}" for f in deploy(account, d)]
        found += [f"cycle {cycle}: drill {f}" for f in drill(deployments)]
        after: dict[str, Live] = {}
        for d in deployments:
            if event is not None:
                broken, after[d.label] = event(d.tier)
                found += [f"cycle {cycle}: fail over and back {d.label}: {b}" for b in broken]
        for d in reversed(deployments):
            found += [
                f"cycle {cycle}: destroy {f}" for f in destroy(account, d, after.get(d.label))
            ]
    return found


def shared_stacks(tier: TierAssembly) -> frozenset[str]:
    """The stacks (region:name) every tier of the app shares: the app's zone stack."""
    return frozenset(
        f"{region}:{name}" for name, (role, region) in tier.stacks.items() if role == StackRole.ZONE
    )
