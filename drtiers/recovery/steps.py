"""A tier's recovery path as data: the ordered failover and failback steps, each naming what it
acts on, where its API lives, what it waits for, what it changes and how long it takes (with
the source of that figure). The estimate's RTO, the runbooks and the simulator all read these
lists; nothing about recovery is written twice.

Steps are derived from the synthesized tier (drtiers.assembly.world), never from its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from drtiers.assembly.world import Alarm, Database, World, stack_of
from drtiers.core import rules
from drtiers.core.endpoints import cli_options, operation_options
from drtiers.core.facts import Figure
from drtiers.core.tiers import (
    APP_TAG,
    CONTROL_TABLE,
    DECLARED_NAMESPACE,
    RECOVERY_WRITABLE,
    ROLE_TAG,
    STALE_ROLE,
    TIER_TAG,
    WRITER_ITEM_KEY,
    StackRole,
)
from drtiers.recovery.live import Live


class Effect(StrEnum):
    """What a step changes in the world (interpreted by drtiers.recovery.simulate)."""

    OBSERVE_LOSS = "observe-loss"  # health checks see the lost region down
    SETTLE_ALARMS = "settle-alarms"  # alarms reach the state their metrics now give
    PROMOTE = "promote"  # the recovery region's database becomes the writer
    PROMOTE_SECRET = "promote-secret"
    # the step's stacks, as synthesized with its context, replace what ran
    DEPLOY = "deploy"
    # the step's stacks go back to what was synthesized for normal operation
    STANDBY = "standby"
    # the table restored from its backup copy in the target region
    RESTORE_TABLE = "restore-table"
    # the source region's restored tables, as they are now, replace the target's ("R=P")
    TABLES_BACK = "tables-back"
    # the step's stacks are deleted (their data kept: snapshots, retained tables)
    RETIRE = "retire"
    DIAL = "dial"  # an accelerator endpoint group's traffic dial
    SCALE = "scale"  # a service's desired count (and minimum), by API
    # a service scaled to the capacity of the region it replaces (the plan's ECS block)
    MATCH = "match"
    SWITCHOVER = "switchover"  # planned: the primary region's database is the writer again
    REPLICATE_BACK = "replicate-back"  # a replica of the recovery region's writer in P
    PROMOTE_BACK = "promote-back"  # promote that replica; the stale instance is retired
    REPROTECT = "reprotect"  # a fresh replica of P's writer in R
    # the writer-region item and the declared metric name the target region
    DECLARE = "declare"
    ADD_READER = "add-reader"  # one more reader in the target cluster
    REMOVE_READER = "remove-reader"
    RESTORE_SECRET_REPLICA = "restore-secret-replica"
    CLIENTS_FOLLOW = "clients-follow"  # resolvers drop the cached answer
    DRAIN = "drain"  # wait until the target region's work queues of a stack are empty
    # what the source region's work queues hold moves to the same queues in the target's
    FORWARD = "forward"
    # the target region's new replica is set up as its template says (IAM logins, protection)
    ADOPT = "adopt"
    REGISTER = "register"  # the target region's proxy targets its instance as it is now
    NONE = "none"


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    kind: str  # detection, database, compute, traffic, secrets, protect, approval, fence, ...
    seconds: float
    how: str
    sources: tuple[str, ...]
    after: tuple[str, ...] = ()
    api_region: str | None = None  # where its API is served; None: data plane, nothing to call
    data_plane: bool = False  # its calls are data-plane ones (reads and writes, not changes)
    automatic: bool = False
    stack_update: tuple[str, ...] = ()  # region:stack deployed with `cdk deploy --exclusively`
    context: tuple[tuple[str, str], ...] = ()  # the context those stacks are synthesized with
    also_needs: tuple[str, ...] = ()  # regions of other APIs it calls (a global service's)
    command: str = ""
    effect: Effect = Effect.NONE
    target: str = ""  # the region or resource the effect applies to
    in_rto: bool = True  # recovery waits for it (housekeeping steps do not count)


def physical(key: str) -> str:
    """A shell expression for a resource's physical id, looked up in its own region when the
    step runs (so only ever for resources in a region that is up)."""
    region, rest = key.split(":", 1)
    stack, logical_id = rest.split("/", 1)
    return (
        f"$(aws cloudformation describe-stack-resource --region {region} --stack-name {stack} "
        f"--logical-resource-id {logical_id} --query StackResourceDetail.PhysicalResourceId "
        "--output text)"
    )


def _database_key(world: World, region: str) -> str:
    database = world.database_in(region)
    return database.key if database is not None else f"{region}:?/?"


def failover_reader(cluster: Database) -> str:
    """The reader failover adds to R's promoted cluster, named for the cluster (so for its app
    and tier: two apps' readers in one region do not meet)."""
    return f"{cluster.identifier or physical(cluster.key)}-failover-reader"


def _replica_command(world: World, region: str, source_world: World, source: str) -> str:
    """A cross-region read replica of ``source``'s writer, in ``region``, set up as the stack
    set up the instance it replaces there (network, parameters, IAM authentication, deletion
    protection, Multi-AZ), under that instance's identifier, once that one is renamed."""
    target = world.database_in(region)
    writer = source_world.database_in(source)
    if target is None or writer is None:
        return ""
    groups = " ".join(physical(group) for group in target.security_groups)
    parameters = physical(target.parameter_group)
    at_creation = rules.replica_takes_parameter_group(target.engine)
    create = (
        f"aws rds create-db-instance-read-replica --region {region} --source-region {source} "
        f"--db-instance-identifier $STALE --source-db-instance-identifier "
        f"arn:aws:rds:{source}:{world.account}:db:{physical(writer.key)} --db-instance-class "
        f"{target.instance_class} --kms-key-id {physical(world.data_keys.get(region, ''))} "
        f"--db-subnet-group-name {physical(target.subnet_group)} --vpc-security-group-ids "
        f"{groups}"
        + (f" --db-parameter-group-name {parameters}" if at_creation else "")
        + f" --port {target.port} --enable-iam-database-authentication --deletion-protection"
        + (" --multi-az" if target.multi_az else "")
    )
    create += _template_options(world, target, create, "CreateDBInstanceReadReplica")
    then = "" if at_creation else _parameters_after(region, parameters)
    after = _template_options(world, target, create, "ModifyDBInstance")
    if after:  # what a replica cannot be created with (backups: "created with backups disabled")
        where = f"--region {region} --db-instance-identifier $STALE"
        then += (  # and waited for: a replica backing up cannot be promoted (PromoteReadReplica)
            f" && aws rds wait db-instance-available {where} && aws rds modify-db-instance "
            f"{where}{after} --apply-immediately && aws rds wait db-instance-available {where}"
        )
    renamed = _rename_stale(region, world.account)
    return f"STALE={physical(target.key)} && {renamed} && {create}{then}"


def _template_options(world: World, target: Database, given: str, operation: str) -> str:
    """The options that set on a replica made anew what its template sets (Database.settings)
    and ``given`` does not: those ``operation`` takes, and for ModifyDBInstance only those
    CreateDBInstanceReadReplica does not."""
    takes = operation_options("rds", operation)
    created = operation_options("rds", "CreateDBInstanceReadReplica")
    options = ""
    for prop, value in sorted(target.settings.items()):
        option, negated = cli_options(prop)
        if option not in takes or option in given or negated in given:
            continue
        if operation != "CreateDBInstanceReadReplica" and option in created:
            continue
        options += f" {_option(option, negated, value)}"
    return options


def _option(option: str, negated: str, value: Any) -> str:
    """One CLI option with the template's value."""
    if isinstance(value, bool):
        return option if value else negated
    if option == "--tags":
        return "--tags " + " ".join(f"Key={t['Key']},Value={t['Value']}" for t in value)
    if isinstance(value, list):
        return f"{option} {' '.join(str(v) for v in value)}"
    return f"{option} {value}"


def _rename_stale(region: str, account: str) -> str:
    """Rename the instance that holds ``$STALE`` out of the way (as the RDS block does), keeping
    it for what it alone holds, and wait until the new name answers (AWS: "The renamed DB
    instance is not available until the new name becomes effective"; the waiter fails on an
    instance not found). The new name carries the time, so the next event's stale instance
    does not meet this one's name (DBInstanceAlreadyExists). Its role tag says it is stale:
    drills and reports find a tier's instances by their tags."""
    return (
        "OLD=$STALE-old-$(date -u +%y%m%d%H%M) && "
        f"aws rds modify-db-instance --region {region} --db-instance-identifier $STALE "
        "--new-db-instance-identifier $OLD --apply-immediately && until aws rds "
        f"describe-db-instances --region {region} --db-instance-identifier $OLD "
        f">/dev/null 2>&1; do sleep 15; done && aws rds wait db-instance-available --region "
        f"{region} --db-instance-identifier $OLD && aws rds add-tags-to-resource --region "
        f"{region} --resource-name arn:aws:rds:{region}:{account}:db:$OLD --tags "
        f"Key={ROLE_TAG},Value={STALE_ROLE}"
    )


def _parameters_after(region: str, parameters: str) -> str:
    """The parameter group a replica could not be created with, set once it is available
    (its static parameters apply at the reboot)."""
    return (
        f" && aws rds wait db-instance-available --region {region} --db-instance-identifier "
        f"$STALE && aws rds modify-db-instance --region {region} --db-instance-identifier "
        f"$STALE --db-parameter-group-name {parameters} --apply-immediately && aws rds "
        f"wait db-instance-available --region {region} --db-instance-identifier $STALE && "
        f"aws rds reboot-db-instance --region {region} --db-instance-identifier $STALE"
    )


def _adopt(world: World, region: str, *, after: str) -> Step:
    """The replica the RDS block made in ``region`` gets what the block does not copy and its
    template gives: IAM database authentication (R's tasks and P's proxy log in with IAM) and
    deletion protection (rules.rds_replica_block_enables_iam_auth)."""
    database = world.database_in(region)
    identifier = database.identifier if database is not None else ""
    return _call(
        f"adopt-replica-{'primary' if region == world.primary else 'recovery'}",
        f"Set up the replica the plan made in {region} as its stack's instance was: IAM "
        "database authentication, deletion protection and Multi-AZ where the template has it "
        "(the replica block copies none of them).",
        "protect",
        after=(after,),
        region=region,
        command=f"aws rds wait db-instance-available --region {region} --db-instance-identifier "
        f"{identifier} && aws rds modify-db-instance --region {region} --db-instance-identifier "
        f"{identifier} --enable-iam-database-authentication --deletion-protection "
        + ("--multi-az " if database is not None and database.multi_az else "")
        + "--apply-immediately",
        effect=Effect.ADOPT,
        target=region,
        sources=(rules.RS_RDS_REPLICA.url, rules.IAM_DB_AUTH.url),
    )


def _register(world: World, *, after: str) -> list[Step]:
    """P's proxy targets the instance now under P's identifier (the one it registered was
    renamed away: rules.proxy_target_follows_rename). Returns no step without such a proxy."""
    p = world.primary
    database = world.database_in(p)
    proxy = next(
        (x for x in world.proxies.values() if database is not None and x.target == database.key),
        None,
    )
    if proxy is None or database is None:
        return []
    name = proxy.name or physical(proxy.key)
    return [
        _call(
            "register-proxy-target",
            f"Point the primary region's proxy at the promoted instance: deregister the "
            f"instance it registered (renamed away) and register {database.identifier}.",
            "database",
            after=(after,),
            region=p,
            command=f"aws rds deregister-db-proxy-targets --region {p} --db-proxy-name {name} "
            f"--db-instance-identifiers $(aws rds describe-db-proxy-targets --region {p} "
            f"--db-proxy-name {name} --query \"Targets[?Type=='RDS_INSTANCE'].RdsResourceId\" "
            f"--output text); aws rds register-db-proxy-targets --region {p} --db-proxy-name "
            f"{name} --db-instance-identifiers {database.identifier}",
            effect=Effect.REGISTER,
            target=p,
            sources=(rules.RDS_PROXY_TARGETS.url, rules.RDS_PROXY_RENAMED.url),
        )
    ]


def _scale(world: World, region: str, count: int) -> str:
    """Set a service's scaling minimum and desired count to ``count`` (the minimum first, or
    target tracking would undo the new count)."""
    service = world.service_in(region)
    if service is None:
        return ""
    cluster, name = physical(service.cluster), physical(service.key)
    return (
        f"aws application-autoscaling register-scalable-target --region {region} "
        "--service-namespace ecs --scalable-dimension ecs:service:DesiredCount --resource-id "
        f"service/{cluster}/$(basename {name}) --min-capacity {count} && "
        f"aws ecs update-service --region {region} --cluster {cluster} --service {name} "
        f"--desired-count {count}"
    )


def _dial(world: World, region: str, percent: int) -> str:
    """Find the group through the accelerator API (us-west-2), not through CloudFormation:
    the edge stack's region may be the lost one."""
    api = rules.ACCELERATOR_API_REGION
    return (
        f"aws globalaccelerator update-endpoint-group --region {api} --endpoint-group-arn "
        f"{_group_lookup(world, region)} --traffic-dial-percentage {percent}"
    )


def _listener_lookup(world: World) -> str:
    api = rules.ACCELERATOR_API_REGION
    accelerator = (
        f"$(aws globalaccelerator list-accelerators --region {api} --query "
        f"\"Accelerators[?Name=='{world.accelerator_name}'].AcceleratorArn\" --output text)"
    )
    # Every listener, not [0]: text output runs the query on each page (commands.py); the
    # accelerator has one listener, and a second would fail the call loudly, not pick one.
    return (
        f"$(aws globalaccelerator list-listeners --region {api} --accelerator-arn {accelerator} "
        "--query 'Listeners[].ListenerArn' --output text)"
    )


def _group_lookup(world: World, region: str) -> str:
    return (
        f"$(aws globalaccelerator list-endpoint-groups --region {rules.ACCELERATOR_API_REGION} "
        f"--listener-arn {_listener_lookup(world)} --query "
        f"\"EndpointGroups[?EndpointGroupRegion=='{region}'].EndpointGroupArn\" --output text)"
    )


def _latest_copy(region: str, vault: str, resource_type: str, table: str | None = None) -> str:
    """The newest completed recovery point in ``vault`` of that type (of that table, when
    given). The JMESPath literals are JSON in backticks: the whole query is one single-quoted
    shell word, which a quote inside would end. JSON output, so that the CLI sorts every page's
    points together (text output would sort and answer each page apart: commands.py); jq
    prints the ARN bare, and nothing (not "null") when there is none."""
    completed = 'Status==`"COMPLETED"`'
    points = (
        f'RecoveryPoints[?{completed} && ends_with(ResourceArn, `"table/{table}"`)]'
        if table
        else f"RecoveryPoints[?{completed}]"
    )
    return (
        f"$(aws backup list-recovery-points-by-backup-vault --region {region} "
        f"--backup-vault-name {vault} --by-resource-type {resource_type} --query "
        f"'reverse(sort_by({points},&CreationDate))[0].RecoveryPointArn' --output json "
        "| jq -r '. // empty')"
    )


def _short(world: World, table: str) -> str:
    """A table's own name, without the ``<app>-<tier>-`` every fixed name starts with."""
    return table.removeprefix(world.control_table.removesuffix(CONTROL_TABLE))


def _call(
    name: str,
    title: str,
    kind: str,
    *,
    region: str,
    command: str,
    after: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
    how: str = "an API call",
    effect: Effect = Effect.NONE,
    target: str = "",
    in_rto: bool = True,
) -> Step:
    """A step that is one API call (or a few), taking no time that recovery waits for."""
    return Step(
        name,
        title,
        kind,
        0,
        how,
        sources,
        after=after,
        api_region=region,
        command=command,
        effect=effect,
        target=target,
        in_rto=in_rto,
    )


def _scaled(
    world: World, name: str, title: str, kind: str, *, region: str, count: int, **options: Any
) -> Step:
    """A step that sets a service's scaling minimum and count (by API: the plan's function)."""
    return _call(
        name,
        title,
        kind,
        region=region,
        command=_scale(world, region, count),
        effect=Effect.SCALE,
        target=f"{region}={count}",
        **options,
    )


@dataclass(frozen=True)
class Forward:
    """What a forward moves: the work queues of one stack's service to the queues of the same
    workload in another region's stack."""

    source: str  # region:stack the messages leave
    target: str  # region:stack whose queues take them
    queues: tuple[str, ...]  # logical ids, the same in both stacks


def forwarded(source_world: World, source: str, target_world: World, target: str) -> Forward | None:
    """The work queues ``source``'s service reads that ``target``'s service reads too, paired
    by logical id: both stacks build them from one construct path, so pairing needs no
    lookup at synth (CloudFormation generates the queues' names). Dead-letter queues are not
    among them: no service reads one, and their messages wait for a person. None when there
    is nothing to forward."""
    leaving, taking = source_world.service_in(source), target_world.service_in(target)
    if leaving is None or taking is None or not leaving.queues or not taking.queues:
        return None
    theirs = {key.split("/", 1)[1] for key in taking.queues}
    ours = tuple(k.split("/", 1)[1] for k in leaving.queues if k.split("/", 1)[1] in theirs)
    if not ours:
        return None
    return Forward(stack_of(leaving.queues[0]), stack_of(taking.queues[0]), ours)


def _forward_command(forward: Forward) -> str:
    """The runbook's forward: for each queue, receive up to 10 messages with their attributes
    (and a FIFO queue's group and deduplication ids), send them to the paired queue, and
    delete only those the send took, until the queue holds none, visible or in flight."""
    source, target = forward.source.split(":", 1)[0], forward.target.split(":", 1)[0]
    keep = (
        "map({Id: .MessageId, MessageBody: .Body} + (if .MessageAttributes then "
        "{MessageAttributes: .MessageAttributes} else {} end) + (if "
        ".Attributes.MessageGroupId then {MessageGroupId: .Attributes.MessageGroupId, "
        "MessageDeduplicationId: .Attributes.MessageDeduplicationId} else {} end))"
    )
    sent = (
        "map(select(.MessageId as $i | $ok | index($i))) | map({Id: .MessageId, "
        "ReceiptHandle: .ReceiptHandle})"
    )
    loops = []
    for queue in forward.queues:
        loops.append(
            f"SRC={physical(f'{forward.source}/{queue}')} && "
            f"DST={physical(f'{forward.target}/{queue}')} && "
            # Until the queue holds none, visible or in flight (what a stopped consumer had
            # received comes back after its visibility timeout).
            f'until [ "$(aws sqs get-queue-attributes --region {source} --queue-url $SRC '
            "--attribute-names ApproximateNumberOfMessages ApproximateNumberOfMessagesNotVisible "
            "--query 'sum(map(&to_number(@), values(Attributes)))' --output text)\" = 0 ]; do "
            f"while M=$(aws sqs receive-message --region {source} --queue-url $SRC "
            "--max-number-of-messages 10 --visibility-timeout 120 --wait-time-seconds 5 "
            "--message-attribute-names All --message-system-attribute-names MessageGroupId "
            "MessageDeduplicationId --query Messages --output json) && "
            '[ -n "$M" ] && [ "$M" != null ]; do '
            f"OK=$(aws sqs send-message-batch --region {target} --queue-url $DST --entries "
            f"\"$(printf %s \"$M\" | jq -c '{keep}')\" --query 'Successful[].Id' --output json) "
            f"&& aws sqs delete-message-batch --region {source} --queue-url $SRC --entries "
            f'"$(printf %s "$M" | jq -c --argjson ok "$OK" \'{sent}\')"; done; sleep 30; done'
        )
    return " && ".join(loops)


def _forward(world: World, forward: Forward, *, after: tuple[str, ...]) -> Step:
    """Move what is left in R's work queues to P's queues of the same workload, once R's tasks
    no longer send to them: P's consumers process them (AWS deletes what no one consumes,
    rules.unprocessed_messages_expire)."""
    source, target = forward.source.split(":", 1)[0], forward.target.split(":", 1)[0]
    return _call(
        "forward-messages",
        f"Move what is left in the work queues of {forward.source} to the same queues of "
        f"{forward.target} (attributes kept; dead-letter queues stay, for a person), so "
        f"that {target}'s consumers process the messages sent in {source} during the event.",
        "compute",
        region=target,
        command=_forward_command(forward),
        after=after,
        how="as long as the queues take to move, 10 messages a call (workload-dependent)",
        sources=(
            "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/"
            "API_ReceiveMessage.html",
            "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/"
            "API_SendMessageBatch.html",
        ),
        effect=Effect.FORWARD,
        target=f"{source}={target}",
        in_rto=False,
    )


class _Figures:
    """The figures that steps take their durations from."""

    def __init__(self, figures: Mapping[str, Figure]) -> None:
        self.figures = figures

    def figure(self, name: str) -> tuple[float, str, tuple[str, ...]]:
        """A figure's value, what it is and its source."""
        figure = self.figures[name]
        return figure.value, figure.what, (figure.label,)

    def timed(self, figure: str, name: str, title: str, kind: str, **options: Any) -> Step:
        """A step that takes as long as a figure says (its value, what and source)."""
        seconds, how, sources = self.figure(figure)
        return Step(name, title, kind, seconds, how, sources, **options)


def _last(steps: list[Step], default: str) -> str:
    """The name of the last of ``steps``, or ``default`` when there are none."""
    return steps[-1].name if steps else default


def _stack(world: World, role: StackRole) -> str:
    return next((s.key for s in world.stacks.values() if s.role == role), "")


def _deploy(world: World, stack: str, context: tuple[tuple[str, str], ...]) -> str:
    """The command that deploys one stack alone (nothing it depends on, which may be lost)."""
    options = "".join(f" --context {name}='{value}'" for name, value in context)
    return (
        f"npx cdk deploy {world.stacks[stack].name} --exclusively --context tier={world.tier}"
        f"{options}"
    )


# --- failover: detect, decide, promote, compute, writer, protect, traffic ----------------------


def failover_steps(
    world: World, figures: Mapping[str, Figure], workload: Mapping[str, float]
) -> list[Step]:
    """Region P lost: detect, promote R's database, bring R to full capacity, move traffic;
    or, where R holds backup copies only, restore them and rebuild the tier in R. Returns the
    steps in order, laid out in the plan's stages where the tier has a plan."""
    f = _Figures(figures)
    detect = _detection(world, f)
    decision = _decision(world, f, detect=detect.name)
    decided = _last(decision, detect.name)  # what promoting the database waits for
    database = _promotion(world, f, decided=decided)
    promote = database[0].name if database else ""  # the promote-database step
    writer = _writer(world, f, workload, detect=detect.name, decided=decided, promote=promote)
    declared = next((x.name for x in writer if x.effect == Effect.DECLARE), "")
    steps = [
        detect,
        *decision,
        *database,
        *_capacity(world, f, detect=detect.name),
        *writer,
        *_protection(world, promote=promote),
        *_dns_failover(world, f, detect=detect.name, declared=declared),
        *_accelerator_failover(world, f, detect=detect.name, declared=declared),
    ]
    return stage(steps) if has_plan(world) else steps


def _detection(world: World, f: _Figures) -> Step:
    """How P's loss is seen: by the primary record's Route 53 health check, by the
    accelerator's target-group health checks, or else by people."""
    p = world.primary
    primary_record = next((x for x in world.records if x.failover == "PRIMARY"), None)
    service_p = world.service_in(p)
    if primary_record is not None and primary_record.health_check is not None:
        return Step(
            "detect",
            "Route 53 health checks see the primary region fail (automatic).",
            "detection",
            _http_seconds(world, primary_record.health_check),
            "Route 53 health check: interval x failure threshold, from the template",
            (
                "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/"
                "dns-failover-determining-health-of-endpoints.html",
            ),
            automatic=True,
            effect=Effect.OBSERVE_LOSS,
            target=p,
        )
    if world.groups and service_p is not None:
        return Step(
            "detect",
            "The accelerator sees the primary endpoint group unhealthy through its load "
            "balancer's target-group health checks (automatic).",
            "detection",
            service_p.health_interval_seconds * service_p.unhealthy_threshold,
            "target-group health check: interval x unhealthy threshold, from the template",
            (rules.GA_ENDPOINT_GROUPS.url,),
            automatic=True,
            effect=Effect.OBSERVE_LOSS,
            target=p,
        )
    return f.timed(
        "outage_decision_seconds",
        "detect",
        "People confirm the primary region is lost and invoke the DR plan.",
        "detection",
        effect=Effect.OBSERVE_LOSS,
        target=p,
    )


def _decision(world: World, f: _Figures, *, detect: str) -> list[Step]:
    """What starts a plan's failover: its trigger alarm where the tier promises automatic
    failover, else a person's approval. Returns no step without a plan (the detection is the
    decision)."""
    if not has_plan(world):
        return []
    r = world.recovery
    trigger = starting_alarm(world)
    if trigger is not None:
        # The tier promises automatic failover: the plan starts itself (docs/decisions.md, 20).
        return [
            Step(
                "start-plan",
                f"{trigger.name} in {r} turns red (its probe has seen no healthy target behind "
                "P's load balancer, or no answer from P) and starts the plan, gracefully "
                "(automatic).",
                "trigger",
                trigger.seconds,
                "alarm period x datapoints to alarm, from the template",
                (rules.CW_EVENTS.url,),
                automatic=True,
                target=trigger.name,
            )
        ]
    # Promoting R accepts the replication lag as data loss: a person decides.
    return [
        f.timed(
            "failover_approval_seconds",
            "approve-failover",
            "The on-call engineer approves the unplanned failover (the plan's approval step): "
            + (
                "the recovery region's database will take writes, and what had not "
                "replicated yet is lost."
                if world.database_in(r) is not None
                else "the recovery region becomes the writer's region."
            ),
            "approval",
            after=(detect,),
        )
    ]


def _promotion(world: World, f: _Figures, *, decided: str) -> list[Step]:
    """R's database becomes the writer (an Aurora global failover, or a replica's promotion),
    then the admin secret's replica there a standalone secret. Returns no step when R has no
    database to promote."""
    r = world.recovery
    database = world.database_in(r)
    if database is not None and database.role == "secondary":
        promote = f.timed(
            "aurora_global_promotion_seconds",
            "promote-database",
            "Fail the Aurora global database over to the recovery region (unplanned; "
            "accepts the replication lag as data loss).",
            "database",
            after=(decided,),
            api_region=r,
            command=f"aws rds failover-global-cluster --region {r} "
            f"--global-cluster-identifier {world.global_cluster} "
            f"--target-db-cluster-identifier arn:aws:rds:{r}:{world.account}:cluster:"
            f"{physical(database.key)} --allow-data-loss",
            effect=Effect.PROMOTE,
            target=database.key,
        )
    elif database is not None and database.role == "replica":
        promote = f.timed(
            "rds_replica_promotion_seconds",
            "promote-database",
            "Promote the cross-region read replica to a standalone writable instance.",
            "database",
            after=(decided,),
            api_region=r,
            command=f"aws rds promote-read-replica --region {r} --db-instance-identifier "
            f"{physical(database.key)}",
            effect=Effect.PROMOTE,
            target=database.key,
        )
    else:
        return []
    if r not in world.secret_replicas:
        return [promote]
    return [promote, _promote_secret(world, f, after=promote.name)]


def _promote_secret(world: World, f: _Figures, *, after: str) -> Step:
    """The admin secret's replica in R made standalone, to be rotated against the new writer."""
    r = world.recovery
    return f.timed(
        "secret_promotion_seconds",
        "promote-secret",
        "Promote the admin secret's replica in the recovery region to a standalone "
        "secret, so it can be rotated against the new writer.",
        "secrets",
        after=(after,),
        api_region=r,
        command=f"aws secretsmanager stop-replication-to-replica --region {r} "
        f"--secret-id {_secret_replica(world, r)}",
        effect=Effect.PROMOTE_SECRET,
        target=r,
        in_rto=False,
    )


def _secret_replica(world: World, region: str) -> str:
    """A shell expression for the ARN of the admin secret's replica in ``region``, found by its
    primary's region and its app and tier tags while that region is lost. list-secrets matches
    a tag's key and its value apart ("tag-key: Prefix match", "tag-value: Prefix match":
    https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_Filter.html), so
    another app's or tier's secret passes its filters; the query keeps the one with both tags.
    With text output the CLI "runs the query once on each page" (https://docs.aws.amazon.com/
    cli/latest/userguide/cli-usage-filter.html) and a page may match nothing, so the
    query takes no [0] (it would print "None" for that page); a page with no match prints
    nothing."""
    tags = world.admin_secret_tags
    pairs = " && ".join(f"Tags[?Key=='{k}' && Value=='{tags[k]}']" for k in (APP_TAG, TIER_TAG))
    return (
        f"$(aws secretsmanager list-secrets --region {region} --filters "
        f"Key=primary-region,Values={world.primary} Key=tag-key,Values={TIER_TAG} "
        f'--query "SecretList[?{pairs}].ARN" --output text)'
    )


def _capacity(world: World, f: _Figures, *, detect: str) -> list[Step]:
    """R brought to P's capacity where it runs less: by the plan's ECS block with its scaling
    minimum held there, or (without a plan) by deploying the recovery stack failed over.
    Returns no step when R already runs as much as P."""
    p, r = world.primary, world.recovery
    service_p, service_r = world.service_in(p), world.service_in(r)
    if service_r is None or service_p is None:
        return []
    full = service_p.desired
    if service_r.desired >= full and service_r.minimum >= full:
        return []
    figure = "task_start_seconds" if service_r.desired == 0 else "scale_out_seconds"
    if not has_plan(world):
        recovery_stack = _stack(world, StackRole.RECOVERY)
        context = (("failed_over", "true"),)
        return [
            f.timed(
                figure,
                "scale-out",
                f"Deploy the recovery stack failed over: {full} tasks, and a "
                "scaling minimum of as many, so nothing scales it back in.",
                "compute",
                after=(detect,),
                api_region=r,
                stack_update=(recovery_stack,),
                context=context,
                command=_deploy(world, recovery_stack, context),
                effect=Effect.DEPLOY,
            )
        ]
    scale_out = f.timed(
        figure,
        "scale-out",
        f"Scale the recovery region's service to the primary's {full} tasks (the plan's ECS "
        "block; it waits until the load balancer finds them healthy).",
        "compute",
        after=(detect,),
        api_region=r,
        command=_scale(world, r, full),
        effect=Effect.MATCH,
        target=f"{r}={full}",
    )
    hold = _scaled(
        world,
        "hold-capacity",
        f"Hold the recovery region at full capacity: its scaling minimum to {full} tasks, so "
        "that target tracking cannot scale it back in.",
        "compute",
        after=(scale_out.name,),
        region=r,
        count=full,
        sources=(rules.SCALING_MIN.url,),
    )
    return [scale_out, hold]


def _writer(
    world: World,
    f: _Figures,
    workload: Mapping[str, float],
    *,
    detect: str,
    decided: str,
    promote: str,
) -> list[Step]:
    """R becomes the writer's region: rebuilt from its backup copies (backup-restore), or
    declared once its database is promoted or, with no database, once the plan is decided.
    Returns no step for a tier with neither."""
    r = world.recovery
    counts = world.writable_alarm() is not None
    if world.database_in(r) is None and world.service_in(r) is None and r in world.backup_copies:
        return _rebuild(world, f, workload, detect=detect)
    if promote:
        return [_declare(world, r, after=promote, counts=counts)]
    if has_plan(world):  # no database to promote: the decision makes R the writer's region
        return [_declare(world, r, after=decided, counts=counts)]
    return []


def _protection(world: World, *, promote: str) -> list[Step]:
    """The promoted database protected again, which recovery does not wait for: a promoted
    instance made Multi-AZ, a promoted cluster given a reader besides its writer."""
    r = world.recovery
    database = world.database_in(r)
    if database is None or not promote:
        return []
    if not database.cluster:
        return [
            _call(
                "multi-az",
                "Make the promoted instance Multi-AZ: it is the only copy of the data now.",
                "protect",
                after=(promote,),
                region=r,
                command=f"aws rds modify-db-instance --region {r} --db-instance-identifier "
                f"{physical(database.key)} --multi-az --apply-immediately",
                in_rto=False,
                how="an API call; the standby is built in the background, recovery does not wait",
                sources=(rules.REPLICA_PROMOTE.url,),
            )
        ]
    if database.readers > 1:
        return []
    return [
        _call(
            "add-reader",
            "Add a reader to the promoted cluster: its only instance is now the writer, so "
            "the proxy's read-only endpoint and an in-region failover need another.",
            "protect",
            after=(promote,),
            region=r,
            command=f"aws rds create-db-instance --region {r} --db-instance-identifier "
            f"{failover_reader(database)} --db-cluster-identifier "
            f"{physical(database.key)} --engine {database.engine} --db-instance-class "
            f"{database.instance_class}",
            effect=Effect.ADD_READER,
            target=database.key,
            in_rto=False,
            how="an API call; the instance takes minutes to become available, recovery "
            "does not wait for it",
            sources=(rules.PROXY_ENDPOINTS.url,),
        )
    ]


def _dns_failover(world: World, f: _Figures, *, detect: str, declared: str) -> list[Step]:
    """Route 53 moves traffic to R (once the declaration reaches its metric health check, where
    it follows one) and clients follow once their cached answer expires. Returns no step
    without failover records."""
    if not any(x.failover != "SIMPLE" for x in world.records):
        return []
    steps = []
    writable_alarm = world.writable_alarm()
    if writable_alarm is not None and declared:
        steps.append(
            _route53_reads(
                writable_alarm,
                "writable-alarm",
                f"Route 53 reads the declaration ({writable_alarm.name}): the SECONDARY record "
                "becomes healthy and the PRIMARY stays unhealthy (automatic).",
                declared=declared,
            )
        )
    ttl = f.timed(
        "dns_alias_ttl_seconds",
        "dns-ttl",
        "Clients follow Route 53's new answer once their cached one expires (automatic).",
        "traffic",
        after=(detect, *(x.name for x in steps)),
        automatic=True,
        effect=Effect.CLIENTS_FOLLOW,
    )
    return [*steps, ttl]


def _accelerator_failover(world: World, f: _Figures, *, detect: str, declared: str) -> list[Step]:
    """The accelerator sends new connections to the healthy group, and P's dial is set to 0
    until failback. Returns no step without an accelerator."""
    if not world.groups:
        return []
    shift = f.timed(
        "accelerator_shift_seconds",
        "accelerator-shift",
        "New connections go to the healthy endpoint group (automatic; both dials stay "
        "as they are).",
        "traffic",
        after=(detect,),
        automatic=True,
    )
    if world.primary not in world.groups:
        return [shift]
    hold = _dial_step(
        world,
        "hold-primary",
        "Set the primary endpoint group's traffic dial to 0 % so that the primary "
        "region takes no traffic when it returns, until failback.",
        0,
        # A control-plane call (us-west-2): after the declaration, so that its failure cannot
        # hold up recovery.
        after=declared if has_plan(world) and declared else detect,
    )
    return [shift, hold]


def _rebuild(
    world: World, f: _Figures, workload: Mapping[str, float], *, detect: str
) -> list[Step]:
    """backup-restore: people decide, restore the tables from their copies in R, declare R the
    writer (before any task there starts), then deploy the primary stack in R from the
    database's copy; the accelerator then serves R. Returns those steps, then the restored
    tables' protection."""
    decide = f.timed(
        "outage_decision_seconds",
        "decide",
        "People confirm the primary region is lost and decide to rebuild in the recovery region.",
        "approval",
        after=(detect,),
    )
    restores = {
        name: _restore_table(world, f, name, gb, after=decide.name)
        for name, gb in _table_shares(world, workload).items()
    }
    declared = _declare(
        world, world.recovery, after=restores[world.control_table].name, counts=True
    )
    restored = tuple(x.name for x in restores.values())
    rebuild = _redeploy(world, f, workload, after=(declared.name, *restored))
    protect = [_protect_restored(world, name, after=x.name) for name, x in restores.items()]
    return [decide, *restores.values(), declared, rebuild, *protect]


def _table_shares(world: World, workload: Mapping[str, float]) -> dict[str, float]:
    """The GB each table restores: the workload's tables share table_size_gb evenly, and
    drtiers' control table holds one item."""
    control = world.control_table  # a scan of the names: once, not once per table
    workload_tables = [name for name in world.table_names if name != control]
    table_gb = workload["table_size_gb"]
    return {
        name: table_gb / len(workload_tables) if name in workload_tables else 0.0
        for name in world.table_names
    }


def _restore_table(world: World, f: _Figures, name: str, share: float, *, after: str) -> Step:
    """One table restored under its own name from its latest recovery point in R's vault."""
    r = world.recovery
    vault = world.backup_copies[r]
    rate, _, rate_sources = f.figure("restore_rate_gb_per_hour")
    return Step(
        f"restore-{_short(world, name)}",
        f"Restore the table {name} from its latest recovery point in the vault "
        f"{vault} in {r}, under its own name.",
        "restore",
        3600 * share / rate,
        f"{share:g} GB at {rate:g} GB/h (assumptions: AWS publishes no restore times)",
        ("workload assumption table_size_gb", *rate_sources),
        after=(after,),
        api_region=r,
        command=f"JOB=$(aws backup start-restore-job --region {r} --recovery-point-arn "
        f"{_latest_copy(r, vault, 'DynamoDB', name)} --iam-role-arn arn:aws:iam::"
        f"{world.account}:role/{world.backup_role} --metadata TargetTableName={name} "
        f"--query RestoreJobId --output text) && {_restored(r)}",
        effect=Effect.RESTORE_TABLE,
        target=r,
    )


def _restored(region: str) -> str:
    """Wait for the restore job ``$JOB`` to end; fail unless it completed. StartRestoreJob only
    starts it ("Recovers the saved resource identified by an Amazon Resource Name (ARN)",
    returning its RestoreJobId), and what follows (the declaration, the table's protection)
    needs the table (DynamoDB: "The operation tried to access a nonexistent table")."""
    return _job_done(
        region, "backup describe-restore-job", "--restore-job-id $JOB", "Status", "COMPLETED"
    )


# The event stamp (restore_from's event, yymmddHHMM in UTC) the rebuild step's context gives
# what synthesizes it here; its command stamps the time it runs instead.
SAMPLE_EVENT = "2612040000"


def _redeploy(
    world: World, f: _Figures, workload: Mapping[str, float], *, after: tuple[str, ...]
) -> Step:
    """The primary stack deployed in R from the database's latest copy, its endpoint group
    joining the accelerator's listener; it takes the deployment plus the database's restore."""
    p, r = world.primary, world.recovery
    vault = world.backup_copies[r]
    rate, _, rate_sources = f.figure("restore_rate_gb_per_hour")
    redeploy, redeploy_what, redeploy_sources = f.figure("redeploy_seconds")
    database_gb = workload["database_size_gb"] if world.databases else 0.0
    primary_stack = _stack(world, StackRole.PRIMARY)
    snapshot = f"arn:aws:rds:{r}:{world.account}:snapshot:awsbackup:latest-copy"
    listener = f"arn:aws:globalaccelerator::{world.account}:accelerator/entry/listener/entry"
    restore_from = (
        f'{{"database_snapshot": "{snapshot}", "listener_arn": "{listener}", '
        f'"event": "{SAMPLE_EVENT}"}}'
    )
    context = (("primary_region", r), ("recovery_region", p), ("restore_from", restore_from))
    return Step(
        "rebuild",
        f"Deploy the primary stack in {r} from the database's latest recovery point in "
        f"{vault} (a snapshot) and the restored tables; its endpoint group joins the "
        "accelerator's listener (look both up in the recovery region and us-west-2). Run it "
        "beside the cdk.json and drtiers.yaml the tier was deployed with: settings given "
        "only as --context (domain, certificates, workload) must be given again. It deploys "
        "with --no-rollback: if it fails, fix the cause and run it again with EVENT and "
        "SNAPSHOT as the first run set them (it continues the stack; a new stamp would rename "
        "what the stack keeps, and the messages in its queues would stay behind; the stamped "
        "queue and log-group names show it). A fix that replaces a resource cannot continue: "
        "turn termination and deletion protection off, delete the stack and start again.",
        "rebuild",
        redeploy + 3600 * database_gb / rate,
        f"{redeploy_what}; the database restores from its snapshot "
        f"({database_gb:g} GB at {rate:g} GB/h) as the stack creates it",
        (*redeploy_sources, "workload assumption database_size_gb", *rate_sources),
        after=after,
        api_region=r,
        also_needs=(rules.ACCELERATOR_API_REGION,) if world.groups else (),
        stack_update=(f"{r}:{world.stacks[primary_stack].name}",),
        context=context,
        command=f"SNAPSHOT=${{SNAPSHOT:-{_latest_copy(r, vault, 'RDS')}}} && "
        f"LISTENER={_listener_lookup(world)} && EVENT=${{EVENT:-$(date -u +%y%m%d%H%M)}} && "
        + _deploy(world, primary_stack, context[:2])
        # A failed create stays CREATE_FAILED, and the same command continues it
        # (rules.failed_create_retried): a rollback would delete the restored database.
        + " --no-rollback"
        + ' --context restore_from="{\\"database_snapshot\\": \\"$SNAPSHOT\\", '
        '\\"listener_arn\\": \\"$LISTENER\\", \\"event\\": \\"$EVENT\\"}"',
        effect=Effect.DEPLOY,
    )


def _protect_restored(world: World, name: str, *, after: str) -> Step:
    """A restored table's point-in-time recovery and deletion protection turned on again."""
    r = world.recovery
    return Step(
        f"protect-{_short(world, name)}",
        f"Turn point-in-time recovery and deletion protection on for the restored table "
        f"{name} (a restore does not carry them over).",
        "protect",
        0,
        "API calls",
        ("https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-dynamodb.html",),
        after=(after,),
        api_region=r,
        command=f"aws dynamodb update-continuous-backups --region {r} --table-name "
        f"{name} --point-in-time-recovery-specification "
        f"PointInTimeRecoveryEnabled=true && aws dynamodb update-table --region {r} "
        f"--table-name {name} --deletion-protection-enabled",
        in_rto=False,
    )


def _declare(
    world: World, region: str, *, after: str, counts: bool, also: tuple[str, ...] = ()
) -> Step:
    """Name ``region`` the writer's region: the writer-region item in the global table (the
    application writes only to a database in that region, so a returning old primary is fenced
    off) and, where Route 53 follows it, the declared metric in the recovery region. Both are
    data-plane calls in regions that are up."""
    # "at" orders the declarations: tasks follow the newest item of every region they read.
    item = (
        WRITER_ITEM_KEY[:-1]
        + ', "region": {"S": "'
        + region
        + '"}, "at": {"N": "\'"$(date +%s)"\'"}}'
    )
    command = (
        f"aws dynamodb put-item --region {region} --table-name {world.control_table} "
        f"--item '{item}'"
    )
    gate = world.writable_alarm()
    if gate is not None:
        value = 1 if region == world.recovery else 0
        dimensions = ",".join(f"{k}={v}" for k, v in gate.dimensions.items())
        command += (
            f" && aws cloudwatch put-metric-data --region {gate.region} --namespace "
            f"{DECLARED_NAMESPACE} --metric-name {RECOVERY_WRITABLE} --dimensions "
            f"{dimensions} --value {value}"
        )
    return Step(
        "declare-writer" if region == world.recovery else "declare-primary",
        f"Declare {region} the writer's region: the application writes only there from now "
        "on" + (", and Route 53 follows the declaration" if gate is not None else "") + ".",
        "declaration",
        0,
        "data-plane calls (DynamoDB, CloudWatch) in regions that are up",
        (rules.ROUTE53_METRIC_CHECKS.url,),
        after=(after, *also),
        api_region=region,
        data_plane=True,
        command=command,
        effect=Effect.DECLARE,
        target=region,
        in_rto=counts,
    )


def _dial_step(world: World, name: str, title: str, percent: int, *, after: str) -> Step:
    """P's endpoint group dial: 0 holds a returning P off (it moves no traffic while the group
    is unhealthy, so failover never waits for it); 100 gives P its traffic back at failback."""
    return Step(
        name,
        title,
        "protect" if percent == 0 else "traffic",
        0,
        "an API call",
        (rules.GA_API_REGION.url,),
        after=(after,),
        api_region=rules.ACCELERATOR_API_REGION,
        command=_dial(world, world.primary, percent),
        effect=Effect.DIAL,
        target=f"{world.primary}={percent}",
        in_rto=percent != 0,
    )


def _http_seconds(world: World, check_key: str) -> float:
    """Detection time of a record's health check: the HTTP(S) check inside it."""
    check = world.health_checks[check_key]
    if check.probes_endpoint:
        return check.seconds
    return max((_http_seconds(world, c) for c in check.children), default=0.0)


# --- failback: fence, prepare, approve, database, declare, traffic, protect, stand down --------


def failback_steps(world: World, after: Live, figures: Mapping[str, Figure]) -> list[Step]:
    """P is back (``world`` as synthesized, ``after`` as failover left it). Failback is
    deliberate: a person approves it, the database returns first, P is declared the writer's
    region again, then traffic returns and the recovery region goes back to what it was.
    Returns the steps in order, laid out in the plan's stages where the tier has a plan."""
    f = _Figures(figures)
    database_r = after.database_in(world.recovery)
    fenced = database_r is not None and not database_r.cluster
    fence = [_fence(world)] if fenced else []
    # Before the decision: what only prepares P (catching up, a fresh replica) and changes
    # neither the writer nor where traffic goes.
    prepare = _prepare(world, after, f, fence=tuple(x.name for x in fence))
    approve = _approve_failback(
        after=(prepare[-1].name,) if prepare else tuple(x.name for x in fence)
    )
    database = _database_back(world, after, f, approve=approve.name)
    window = _tables_window(world, after, f, database=database, approve=approve.name)
    declared = _declare(
        world,
        world.primary,
        after=_last(database, approve.name),
        also=tuple(x.name for x in window if x.effect == Effect.TABLES_BACK),
        counts=True,
    )
    route53 = _route53_back(world, declared=declared.name)
    returns = _primary_serves(world, fenced=fenced, declared=declared.name)
    last = _last(returns, declared.name)
    steps = [
        *fence,
        *prepare,
        approve,
        *database,
        *window,
        declared,
        *route53,
        *returns,
        *_protect_after_failback(world, after, declared=declared.name, last=last),
        # R steps down only once traffic has left it.
        *_stand_down(world, after, f, fenced=fenced, last=_last(returns or route53, last)),
    ]
    return stage(steps) if has_plan(world) else steps


def _rebuilt(world: World, after: Live) -> bool:
    """backup-restore: the primary stack was rebuilt in R (it has no recovery stack)."""
    return not _stack(world, StackRole.RECOVERY) and after.service_in(world.recovery) is not None


def _fence(world: World) -> Step:
    """The old primary instance came back writable; its tasks are fenced off by the
    writer-region item, and stopped here so that nothing keeps trying."""
    return _scaled(
        world,
        "fence-primary",
        "Stop the primary region's tasks: its old database instance came back "
        "writable and is no longer the source of truth.",
        "fence",
        region=world.primary,
        count=0,
        sources=(rules.REPLICA_PROMOTE.url,),
    )


def _prepare(world: World, after: Live, f: _Figures, *, fence: tuple[str, ...]) -> list[Step]:
    """What P needs before the decision: an Aurora cluster catching up, or a replica of R's
    writer (an RDS instance). Returns no step when P needs neither (tables restored in R come
    back only once R has stopped writing: _tables_window)."""
    database_r = after.database_in(world.recovery)
    if database_r is not None and database_r.cluster:
        return [_wait_replication(world, f)]
    if database_r is not None:
        return _replicate_back(world, after, f, ready=fence)
    return []


def _approve_failback(*, after: tuple[str, ...]) -> Step:
    """A person's decision to fail back, which is never automatic."""
    return Step(
        "approve-failback",
        "A person decides to fail back, in a maintenance window.",
        "approval",
        0,
        "a decision; failback is never automatic",
        (),
        after=after,
    )


def _database_back(world: World, after: Live, f: _Figures, *, approve: str) -> list[Step]:
    """The writer back in P: an Aurora switchover, or R quiesced and P's replica promoted.
    Returns no step without a database in R."""
    database_r = after.database_in(world.recovery)
    if database_r is None:
        return []
    if database_r.cluster:
        return [_switch_back(world, f, approve=approve)]
    return _promote_back(world, after, f, approve=approve)


def _route53_back(world: World, *, declared: str) -> list[Step]:
    """Route 53 follows the declaration back to P, where its health checks follow the
    declared metric. Returns no step where they do not."""
    writable_alarm = world.writable_alarm()
    if writable_alarm is None:
        return []
    return [
        _route53_reads(
            writable_alarm,
            "writable-alarm-clears",
            "Route 53 reads the declaration: the PRIMARY record is healthy again and the "
            "SECONDARY is not (automatic).",
            declared=declared,
        )
    ]


def _route53_reads(alarm: Alarm, name: str, title: str, *, declared: str) -> Step:
    """Route 53's metric health checks follow the declared alarm, once it has evaluated the
    declaration (automatic)."""
    return Step(
        name,
        title,
        "traffic",
        alarm.seconds,
        "alarm period x evaluation periods, from the template",
        (rules.ROUTE53_METRIC_CHECKS.url,),
        after=(declared,),
        automatic=True,
        effect=Effect.SETTLE_ALARMS,
    )


def _primary_serves(world: World, *, fenced: bool, declared: str) -> list[Step]:
    """P serves again: its fenced tasks start, then its endpoint group's dial goes back to
    100 %. Returns no step where P has neither."""
    p = world.primary
    steps = []
    if fenced:
        steps.append(
            _scaled(
                world,
                "unfence-primary",
                "Start the primary region's tasks again.",
                "compute",
                after=(declared,),
                region=p,
                count=world.full,
            )
        )
    if p in world.groups:
        steps.append(
            _dial_step(
                world,
                "release-primary",
                "Set the primary endpoint group's traffic dial back to 100 %.",
                100,
                after=_last(steps, declared),
            )
        )
    return steps


def _protect_after_failback(world: World, after: Live, *, declared: str, last: str) -> list[Step]:
    """What failover changed to protect R is undone: the admin secret replicates to R again,
    and the reader added to R's cluster goes."""
    p, r = world.primary, world.recovery
    database_r = after.database_in(r)
    steps = []
    if r in after.promoted_secrets:
        steps.append(
            _call(
                "replicate-secret",
                "Replicate the admin secret to the recovery region again (its copy there was "
                "made standalone at failover), so the next rotation reaches it.",
                "protect",
                after=(declared,),
                region=p,
                command=f"aws secretsmanager replicate-secret-to-regions --region {p} "
                f"--secret-id {physical(world.admin_secret)} --add-replica-regions "
                f"Region={r},KmsKeyId={world.replica_key_alias} --force-overwrite-replica-secret",
                effect=Effect.RESTORE_SECRET_REPLICA,
                target=r,
                sources=(rules.SECRET_REPLICATION.url,),
            )
        )
    if database_r is not None and after.added_reader:
        steps.append(
            _call(
                "remove-reader",
                "Remove the reader added at failover: the cluster is a secondary again.",
                "protect",
                after=(last,),
                region=r,
                command=f"aws rds delete-db-instance --region {r} --db-instance-identifier "
                f"{failover_reader(database_r)}",
                effect=Effect.REMOVE_READER,
                target=database_r.key,
            )
        )
    return steps


def _forward_back(world: World, after: Live, *, last: str) -> list[Step]:
    """Once traffic has left R (``last``), what R's work queues still hold goes to P's, unless
    R's consumers keep serving in standby (active/active). Without it, R's consumers stop
    (pilot light's quiesce, a rebuilt stack deleted) or are fenced off the writer (a
    secondary again) with messages sent during the event left in their queues."""
    r = world.recovery
    service_r = world.service_in(r)
    if service_r is not None and service_r.desired > 0 and world.groups.get(r, 0) > 0:
        return []
    forward = forwarded(after, r, world, world.primary)
    return [_forward(world, forward, after=(last,))] if forward is not None else []


def _stand_down(world: World, after: Live, f: _Figures, *, fenced: bool, last: str) -> list[Step]:
    """R goes back to what it was once traffic has left it (``last``): its messages forwarded
    to P, re-protecting P where its replica was promoted, then standby capacity; or a rebuilt
    stack retired."""
    r = world.recovery
    recovery_stack = _stack(world, StackRole.RECOVERY)
    if not recovery_stack:
        return _retire_rebuild(world, after, last=last) if _rebuilt(world, after) else []
    forward = _forward_back(world, after, last=last)
    steps = [_reprotect(world, f, after=last)] if fenced else []
    if steps and has_plan(world):  # the plan's replica block made it
        steps.append(_adopt(world, r, after=steps[0].name))
    last = _last(steps, last)
    service_r = world.service_in(r)
    if not has_plan(world) or service_r is None:
        return [*forward, *steps, _standby_deploy(world, recovery_stack, after=last)]
    steps = [*forward, *steps]
    standby = _scaled(
        world,
        "standby",
        f"Scale the recovery region's service back to standby: {service_r.desired} "
        f"tasks, scaling minimum {service_r.minimum} (what its stack says, which the "
        "plan's scaling left behind).",
        "compute",
        after=(last, *(x.name for x in forward)),
        region=r,
        count=service_r.desired,
    )
    return [*steps, standby]


def _standby_deploy(world: World, recovery_stack: str, *, after: str) -> Step:
    """Without a plan: the recovery stack deployed back to standby capacity."""
    return Step(
        "standby",
        "Deploy the recovery stack back to standby capacity.",
        "compute",
        0,
        "a stack update",
        (),
        after=(after,),
        api_region=world.recovery,
        stack_update=(recovery_stack,),
        context=(("failed_over", "false"),),
        command=_deploy(world, recovery_stack, (("failed_over", "false"),)),
        effect=Effect.STANDBY,
    )


def _retire_rebuild(world: World, after: Live, *, last: str) -> list[Step]:
    """backup-restore: the stack rebuilt in R is deleted (what its work queues hold forwarded
    to P's first), and R holds backup copies again."""
    r = world.recovery
    name = world.stacks[_stack(world, StackRole.PRIMARY)].name
    steps = []
    released = _tables_come_back(world, after)  # dialled to 0 before the tables' copy
    if after.database_in(r) is None and after.groups.get(r, 0) > 0 and not released:
        # Nothing quiesced R (no database to hand back): its tasks take traffic, and send
        # messages, until its endpoint group's dial is 0.
        steps.append(_release_recovery(world, after=last))
    steps += _forward_back(world, after, last=_last(steps, last))
    retire = _call(
        "retire-rebuild",
        f"Back up the database rebuilt in {r} into {world.backup_copies.get(r, 'its vault')} "
        "(the next failover restores the newest recovery point there), delete the stack "
        f"rebuilt in {r} (its database, if any, snapshots on delete outside sandbox mode), "
        f"then the tables restored there ({', '.join(world.table_names)}), after an "
        "on-demand backup of each: the next rebuild restores under the same names.",
        "protect",
        after=(_last(steps, last),),
        region=r,
        command=_database_backed_up(world, after)
        + _unprotect(world, after, name)
        + f"aws cloudformation delete-stack --region {r} --stack-name {name} && aws "
        f"cloudformation wait stack-delete-complete --region {r} --stack-name {name}"
        + "".join(f" && {_retire_table(world, table)}" for table in world.table_names),
        effect=Effect.RETIRE,
        target=f"{r}:{name}",
        how="a stack deletion",
    )
    return [*steps, retire]


def _retire_table(world: World, name: str) -> str:
    """A table restored in R at failover, backed up into R's vault and deleted: the stack
    imported it and does not delete it, and the next failover restores under its name
    (RestoreTableFromBackup "Creates a new table"; a table of that name refuses it)."""
    r, account = world.recovery, world.account
    table = f"--region {r} --table-name {name}"
    return " && ".join(
        [
            f"aws dynamodb update-table {table} --no-deletion-protection-enabled",
            f"aws dynamodb wait table-exists {table}",
            _backed_up(world, f"arn:aws:dynamodb:{r}:{account}:table/{name}"),
            f"aws dynamodb delete-table {table}",
            f"aws dynamodb wait table-not-exists {table}",
        ]
    )


def _backed_up(world: World, arn: str) -> str:
    """An on-demand backup of ``arn`` into R's copies vault, waited for until it completes."""
    r, account = world.recovery, world.account
    return (
        f"JOB=$(aws backup start-backup-job --region {r} --backup-vault-name "
        f"{world.backup_copies[r]} --resource-arn {arn} --iam-role-arn arn:aws:iam::{account}:"
        f"role/{world.backup_role} --query BackupJobId --output text) && "
        + _job_done(r, "backup describe-backup-job", "--backup-job-id $JOB", "State", "COMPLETED")
    )


def _database_backed_up(world: World, after: Live) -> str:
    """The rebuilt database, quiesced and as P's promoted copy of it, backed up into R's copies
    vault before its stack goes: the next failover restores the newest recovery point there,
    which would otherwise be from before this event until P's next backup is copied to R."""
    database = after.database_in(world.recovery)
    if database is None or not database.identifier:
        return ""
    kind = "cluster" if database.cluster else "db"
    arn = f"arn:aws:rds:{world.recovery}:{world.account}:{kind}:{database.identifier}"
    return _backed_up(world, arn) + " && "


def _unprotect(world: World, after: Live, name: str) -> str:
    """What keeps CloudFormation from deleting the rebuilt stack, turned off (unprotect); its
    data stays in the snapshot it takes on delete."""
    return unprotect(after, f"{world.recovery}:{name}")


def unprotect(w: World, key: str) -> str:
    """What keeps CloudFormation from deleting stack ``key`` (region:name) turned off, each
    followed by ``&&``: its termination protection, its load balancers' and its databases'
    deletion protection (rules.protected_stack_deletes, rules.protected_load_balancer_deletes,
    rules.protected_database_deletes)."""
    region, name = key.split(":", 1)
    command = ""
    if w.termination_protected:
        command += (
            f"aws cloudformation update-termination-protection --region {region} --stack-name "
            f"{name} --no-enable-termination-protection && "
        )
    stack = w.stacks.get(key)
    for balancer in stack.protected_load_balancers if stack else []:
        command += (
            f"aws elbv2 modify-load-balancer-attributes --region {region} --load-balancer-arn "
            f"{physical(f'{key}/{balancer}')} --attributes "
            "Key=deletion_protection.enabled,Value=false && "
        )
    for database in w.databases.values():
        if database.key.startswith(f"{key}/") and database.deletion_protection:
            if database.kept:
                continue  # the stack's deletion keeps it, protected
            verb = "db-cluster" if database.cluster else "db-instance"
            identifier = database.identifier or physical(database.key)
            where = f"--region {region} --{verb}-identifier {identifier}"
            command += (
                f"aws rds modify-{verb} {where} --no-deletion-protection --apply-immediately && "
                f"aws rds wait {verb}-available {where} && "
            )
    return command


def _release_recovery(world: World, *, after: str) -> Step:
    """R's endpoint group dialled to 0: its tasks stop taking requests (and sending
    messages)."""
    r = world.recovery
    return _call(
        "release-recovery",
        f"Dial {r}'s endpoint group to 0 %: new connections go to {world.primary} only, "
        "and the rebuilt tasks stop taking requests (and sending messages).",
        "traffic",
        after=(after,),
        region=rules.ACCELERATOR_API_REGION,
        command=_dial(world, r, 0),
        effect=Effect.DIAL,
        target=f"{r}=0",
        sources=(rules.GA_API_REGION.url,),
    )


def _wait_replication(world: World, f: _Figures) -> Step:
    """Aurora: the old primary cluster rejoined as a secondary; it must catch up first. Polls
    this tier's global database (by its identifier: another app's is in the same account) until
    P's cluster is a member, not the writer, and in sync (GlobalClusterMember's
    SynchronizationStatus: connected or pending-resync in botocore's RDS model); a failed call,
    or P's cluster not a member yet, keeps it waiting."""
    p = world.primary
    # JSON literals in backticks, the query one single-quoted word (a "!" in double quotes
    # is history expansion in an interactive shell)
    synced = (
        f'contains(DBClusterArn, `":{p}:"`) && IsWriter==`false` '
        '&& SynchronizationStatus==`"connected"`'
    )
    return f.timed(
        "aurora_resync_seconds",
        "wait-replication",
        f"The old primary cluster has rejoined as a secondary: wait until {p}'s cluster is a "
        "member of the global database again, in sync.",
        "database",
        api_region=p,
        command=f"until S=$(aws rds describe-global-clusters --region {p} "
        f"--global-cluster-identifier {world.global_cluster} --query "
        f"'GlobalClusters[].GlobalClusterMembers[?{synced}][].DBClusterArn' --output text) "
        '&& [ -n "$S" ]; do sleep 30; done',
    )


def _switch_back(world: World, f: _Figures, *, approve: str) -> Step:
    """Aurora: switch the writer back to the primary region."""
    p = world.primary
    return f.timed(
        "aurora_global_promotion_seconds",
        "switchover",
        "Switch the writer back to the primary region with no data loss (planned switchover).",
        "database",
        after=(approve,),
        api_region=p,
        command=f"aws rds switchover-global-cluster --region {p} --global-cluster-identifier "
        f"{world.global_cluster} --target-db-cluster-identifier arn:aws:rds:{p}:"
        f"{world.account}:cluster:{physical(_database_key(world, p))}",
        effect=Effect.SWITCHOVER,
    )


def _replicate_back(
    world: World, after: Live, f: _Figures, *, ready: tuple[str, ...]
) -> list[Step]:
    """An RDS instance: replicate the recovery region's writer back into P (its stale instance
    renamed out of the way)."""
    p = world.primary
    back = f.timed(
        "rds_replica_rebuild_seconds",
        "replicate-back",
        "Rename the stale primary instance out of the way (keep it for what it alone "
        "holds) and create a cross-region read replica of the recovery region's writer in "
        "the primary region, under the primary's fixed identifier.",
        "database",
        after=ready,
        api_region=p,
        command=_replica_command(world, p, after, world.recovery),
        effect=Effect.REPLICATE_BACK,
    )
    return [back, _adopt(world, p, after=back.name)] if has_plan(world) else [back]


def _tables_come_back(world: World, after: Live) -> bool:
    """backup-restore with the workload's tables: R's restored tables are no replicas, so
    their data comes back to P by backup."""
    return _rebuilt(world, after) and len(world.table_names) > 1


def _tables_window(
    world: World, after: Live, f: _Figures, *, database: list[Step], approve: str
) -> list[Step]:
    """The tables copied back in the maintenance window: once R's tasks have stopped writing
    (quiesce-recovery; without a database, R's endpoint group dialled to 0 first so that no
    request waits on stopped tasks), before P is declared the writer. Returns no step where
    the tables need no copy."""
    if not _tables_come_back(world, after):
        return []
    r = world.recovery
    stop = [x for x in database if x.name == "quiesce-recovery"]
    if not stop:
        if after.groups.get(r, 0) > 0:
            stop.append(_release_recovery(world, after=approve))
        stop.append(_quiesce(after, after_step=_last(stop, approve)))
        return [*stop, _tables_back(world, f, after=(stop[-1].name,))]
    return [_tables_back(world, f, after=(stop[-1].name,))]


def _tables_back(world: World, f: _Figures, *, after: tuple[str, ...]) -> Step:
    """R's restored tables, as R's stopped tasks left them, back in P under their names."""
    p = world.primary
    tables = [x for x in world.table_names if x != world.control_table]
    return f.timed(
        "backup_copy_seconds",
        "table-back",
        f"Back up the recovery region's tables ({', '.join(tables)}) now that its tasks have "
        f"stopped, copy the backups to {p}'s vault, back up and delete each stale table there "
        "(deletion protection off first) and restore each copy under its table's name; the "
        "control table's item is declared again instead.",
        "database",
        after=after,
        api_region=p,
        also_needs=(world.recovery,),
        command=" && ".join(_table_back_command(world, name) for name in tables),
        effect=Effect.TABLES_BACK,
        target=f"{world.recovery}={p}",
    )


# The states an AWS Backup job (or a DynamoDB backup) ends in without succeeding.
_JOB_FAILED = ("FAILED", "ABORTED", "EXPIRED", "DELETED")


def _job_done(region: str, describe: str, job: str, state: str, done: str) -> str:
    """A poll loop until an AWS Backup (or DynamoDB) job ends, failing unless it reached
    ``done``: AWS Backup has no waiters in botocore's model, and a loop that waits only for
    success never ends on a failed job."""
    ended = " || ".join(f'[ "$S" = {x} ]' for x in (done, *_JOB_FAILED))
    return (
        f"until S=$(aws {describe} --region {region} {job} --query {state} --output text); "
        f'{ended}; do sleep 30; done; [ "$S" = {done} ]'
    )


def _table_back_command(world: World, name: str) -> str:
    """One table: backed up in R, copied to P's vault, P's stale table backed up and deleted,
    the copy restored under its name and protected again."""
    p, r, account = world.primary, world.recovery, world.account
    role = f"--iam-role-arn arn:aws:iam::{account}:role/{world.backup_role}"
    vault_r, vault_p = world.backup_copies[r], world.backup_vaults[p]
    table = f"--region {p} --table-name {name}"
    return " && ".join(
        [
            f"JOB=$(aws backup start-backup-job --region {r} --backup-vault-name {vault_r} "
            f"--resource-arn arn:aws:dynamodb:{r}:{account}:table/{name} {role} "
            "--query BackupJobId --output text)",
            _job_done(
                r, "backup describe-backup-job", "--backup-job-id $JOB", "State", "COMPLETED"
            ),
            f"COPY=$(aws backup start-copy-job --region {r} --recovery-point-arn $(aws backup "
            f"describe-backup-job --region {r} --backup-job-id $JOB --query RecoveryPointArn "
            f"--output text) --source-backup-vault-name {vault_r} --destination-backup-vault-arn "
            f"arn:aws:backup:{p}:{account}:backup-vault:{vault_p} {role} --query CopyJobId "
            "--output text)",
            _job_done(
                r, "backup describe-copy-job", "--copy-job-id $COPY", "CopyJob.State", "COMPLETED"
            ),
            f"STALE=$(aws dynamodb create-backup {table} --backup-name {name}-stale "
            "--query BackupDetails.BackupArn --output text)",
            _job_done(
                p,
                "dynamodb describe-backup",
                "--backup-arn $STALE",
                "BackupDescription.BackupDetails.BackupStatus",
                "AVAILABLE",
            ),
            f"aws dynamodb update-table {table} --no-deletion-protection-enabled",
            f"aws dynamodb wait table-exists {table}",
            f"aws dynamodb delete-table {table}",
            f"aws dynamodb wait table-not-exists {table}",
            f"RESTORE=$(aws backup start-restore-job --region {p} --recovery-point-arn $(aws "
            f"backup describe-copy-job --region {r} --copy-job-id $COPY --query "
            f"CopyJob.DestinationRecoveryPointArn --output text) {role} --metadata "
            f"TargetTableName={name} --query RestoreJobId --output text)",
            _job_done(
                p, "backup describe-restore-job", "--restore-job-id $RESTORE", "Status", "COMPLETED"
            ),
            f"aws dynamodb wait table-exists {table}",
            f"aws dynamodb update-continuous-backups {table} --point-in-time-recovery-"
            "specification PointInTimeRecoveryEnabled=true",
            f"aws dynamodb update-table {table} --deletion-protection-enabled",
        ]
    )


def _promote_back(world: World, after: Live, f: _Figures, *, approve: str) -> list[Step]:
    """An RDS instance: stop writes in R, promote P's replica under the primary's fixed
    identifier."""
    p = world.primary
    quiesce = _quiesce(after, after_step=approve)
    promote = f.timed(
        "rds_replica_promotion_seconds",
        "promote-back",
        "Promote the primary region's new replica: it is the writer again.",
        "database",
        after=(quiesce.name,),
        api_region=p,
        command=f"aws rds promote-read-replica --region {p} --db-instance-identifier "
        f"{physical(_database_key(world, p))}",
        effect=Effect.PROMOTE_BACK,
    )
    return [quiesce, promote, *_register(world, after=promote.name)]


def _quiesce(after: Live, *, after_step: str) -> Step:
    """R's tasks stop, and with them every write in R (the maintenance window begins)."""
    return _scaled(
        after,
        "quiesce-recovery",
        "Stop writes in the recovery region: scale its service to 0 (the maintenance "
        "window begins).",
        "fence",
        after=(after_step,),
        region=after.recovery,
        count=0,
    )


def _reprotect(world: World, f: _Figures, *, after: str) -> Step:
    """R protects P again with a fresh cross-region replica under its old identifier."""
    r = world.recovery
    return f.timed(
        "rds_replica_rebuild_seconds",
        "reprotect",
        "Re-protect: rename the promoted recovery instance out of the way and create a new "
        "cross-region read replica of the primary under its identifier.",
        "protect",
        after=(after,),
        api_region=r,
        command=_replica_command(world, r, world, world.primary),
        effect=Effect.REPROTECT,
    )


# --- the part of a step list an ARC Region switch plan runs -----------------------------------

# Effects a plan's execution blocks carry out (drtiers.recovery.plan renders them); a step with
# another effect stays in the runbook around the plan.
PLAN_EFFECTS = {
    Effect.ADOPT,
    Effect.REGISTER,
    Effect.PROMOTE,
    Effect.MATCH,
    Effect.DECLARE,
    Effect.SCALE,
    Effect.DIAL,
    Effect.DRAIN,
    Effect.FORWARD,
    Effect.SWITCHOVER,
    Effect.REPLICATE_BACK,
    Effect.PROMOTE_BACK,
    Effect.REPROTECT,
}


def starting_alarm(world: World) -> Alarm | None:
    """The alarm that starts the plan's failover by itself, if any: fed by R's probe of P,
    turned into the plan's start by a rule in R (rules.alarm_starts_plan)."""
    return next(
        (
            alarm
            for name, alarm in world.alarms.items()
            if alarm.signal == "primary-probe"
            and name in world.plan_starters
            and rules.alarm_starts_plan(alarm.region, world.plan_starters[name], world.recovery)
        ),
        None,
    )


def has_plan(world: World) -> bool:
    """Tiers that keep a running copy in the recovery region recover by a Region switch plan;
    backup-restore rebuilds from copies instead (a stack deployment, which a plan cannot do)."""
    return world.service_in(world.recovery) is not None


def in_plan(step: Step) -> bool:
    return not step.automatic and (step.kind == "approval" or step.effect in PLAN_EFFECTS)


def plan_names(steps: list[Step]) -> list[str]:
    """The steps a plan runs: those it has a block for, except a step that must wait for
    something outside the plan that itself follows the plan (e.g. Route 53 moving traffic):
    a plan cannot wait for that, so such a step stays in the runbook after it."""
    chosen = {x.name for x in steps if in_plan(x)}
    follows: set[str] = set()  # outside steps after a plan step
    for x in steps:
        if x.name in chosen and any(a in follows for a in x.after):
            chosen.discard(x.name)
        if x.name not in chosen and any(a in chosen or a in follows for a in x.after):
            follows.add(x.name)
    return [x.name for x in steps if x.name in chosen]


def plan_stages(steps: list[Step]) -> list[list[Step]]:
    """The plan's steps in the stages it runs them (as ``stage`` laid them out): consecutive
    plan steps that wait for the same steps run in parallel."""
    stages: list[list[Step]] = []
    names = set(plan_names(steps))
    for step in (x for x in steps if x.name in names):
        if stages and stages[-1][0].after == step.after:
            stages[-1].append(step)
        else:
            stages.append([step])
    return stages


def stage(steps: list[Step]) -> list[Step]:
    """Make the plan's order the step list's: a plan runs steps in sequence, several at once
    only as one parallel stage that ends when its last step ends. Plan steps are laid out in
    stages (as soon as their plan predecessors allow, or as late; whichever recovers sooner),
    and each waits for the whole previous stage; the first stage waits for what plan steps
    waited for outside the plan (the detection, a person's preparation)."""
    names = plan_names(steps)
    if not names:
        return steps
    by_name = {x.name: x for x in steps}
    inside = {n: [a for a in by_name[n].after if a in names] for n in names}
    asap: dict[str, int] = {}
    for n in names:
        asap[n] = 1 + max((asap[a] for a in inside[n]), default=-1)
    height: dict[str, int] = {}
    for n in reversed(names):
        height[n] = 1 + max((height[x] for x in names if n in inside[x]), default=-1)
    depth = max(asap.values())
    alap = {n: depth - height[n] for n in names}
    outside = tuple(dict.fromkeys(a for n in names for a in by_name[n].after if a not in names))

    def laid_out(level: dict[str, int]) -> list[Step]:
        order = sorted(names, key=lambda n: (level[n], names.index(n)))
        rewritten = {
            n: replace(
                by_name[n],
                after=tuple(x for x in order if level[x] == level[n] - 1) if level[n] else outside,
            )
            for n in names
        }
        return in_order([rewritten.get(x.name, x) for x in steps])

    early, late = laid_out(asap), laid_out(alap)
    return late if recovery_seconds(late) < recovery_seconds(early) else early


def in_order(steps: list[Step]) -> list[Step]:
    """The steps, each after everything it waits for (as listed where that allows)."""
    names = {x.name for x in steps}
    done: set[str] = set()
    pending, ordered = list(steps), list[Step]()
    while pending:
        ready = [x for x in pending if all(a in done or a not in names for a in x.after)]
        if not ready:  # a cycle: leave the rest as listed, and the schedule will fail on it
            return ordered + pending
        for x in ready:
            ordered.append(x)
            done.add(x.name)
            pending.remove(x)
    return ordered


@dataclass(frozen=True)
class Timed:
    step: Step
    start: float
    end: float


def schedule(steps: list[Step]) -> list[Timed]:
    """Start each step when everything it waits for has ended; in order of their end."""
    ends: dict[str, float] = {}
    timed = []
    for step in steps:
        start = max((ends[name] for name in step.after), default=0.0)
        ends[step.name] = start + step.seconds
        timed.append(Timed(step, start, start + step.seconds))
    # Of steps that end together, what happens by itself (an alarm, DNS) counts as first: the
    # simulator assumes the worse order of a race.
    return sorted(timed, key=lambda t: (t.end, not t.step.automatic, steps.index(t.step)))


def recovery_seconds(steps: list[Step]) -> float:
    """The estimate's RTO: when the last step recovery waits for ends."""
    return max((t.end for t in schedule(steps) if t.step.in_rto), default=0.0)


def after_detection(steps: list[Step]) -> float:
    """The estimate's RTO from the end of detection: what a parent plan counts a child's plan
    as taking (drtiers.fleet), the event already known when it starts."""
    detected = next((t.end for t in schedule(steps) if t.step.name == "detect"), 0.0)
    return recovery_seconds(steps) - detected
