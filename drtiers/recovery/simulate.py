"""Region loss and failback, executed on a model of the deployed tier.

The primary region P is removed (its resources, APIs, stacks and outputs, and the control planes
that live there), the tier's failover steps run one by one in the order of their timeline, and
after each step and at the end the invariants are checked:

- I1 every task in R can read and write every data store through what its task definition and
  role give it (failback: every database made again takes the logins its template gives, or
  the next failover's tasks cannot log in);
- I2 no step needs anything in the lost region (resource, API, control plane, a stack update that
  reads a P output or deploys a stack that depends on P);
- I3 R reaches full capacity and nothing can scale it below that during the event;
- I4 traffic moves to R only once R can serve it;
- I5 failback: traffic does not return to P by itself; P's tasks take traffic only while they can
  write to the one writer, and at no step do two writers take writes, nor do running tasks take
  their own region for the writer's while another was declared (drtiers.recovery.fence);
- I6 the simulated recovery time equals the estimate's RTO;
- I7 a person approves before anything moves the writer or traffic back (every failback), and
  before a failover promotes R's database (it accepts the replication lag as data loss),
  unless the plan's trigger starts it (a tier that promises automatic failover);
- I8 every AWS API call a step's command makes is one AWS's service models define and RDS
  would accept (where each is served, from botocore's endpoint rules, feeds I2), and the plan's
  execution role allows what AWS's sample policy for each block it runs lists;
- I9 every message sent during the event is processed: no step stops the consumers of queues
  that still hold such messages without moving them where consumers will run, and no step
  waits on queues nobody consumes (drtiers.recovery.messages).
- I10 after failback, what the steps made anew under a template's name is set up as the
  template says (a replica the RDS block made: its class, tags, monitoring, log exports,
  backups; rules.replica_matches_template), so the next deploy and drill act on it as
  synthesized.

Where the tier has an ARC Region switch plan, its steps are the plan's as synthesized
(drtiers.recovery.plan.executed), not the step list's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtiers.assembly.reader import TierAssembly, tag_map
from drtiers.assembly.world import (
    Database,
    Service,
    World,
    read_world,
    stack_of,
)
from drtiers.core import rules
from drtiers.core.commands import Call, aws_calls
from drtiers.core.endpoints import UnknownCall, cli_options
from drtiers.core.facts import Figure
from drtiers.core.images import private_image
from drtiers.core.tiers import ROLE_TAG, STALE_ROLE, StackRole
from drtiers.recovery import fence, function_roles, messages, names, plan, tables
from drtiers.recovery import steps as s
from drtiers.recovery.live import Live, deployed
from drtiers.recovery.steps import Effect

INVARIANTS = {
    "I1": "every task in R can read and write every data store",
    "I2": "no step needs anything in the lost region",
    "I3": "R reaches full capacity and cannot be scaled below it",
    "I4": "traffic moves to R only once R can serve it",
    "I5": "failback is deliberate: P takes traffic only as the one writer's region",
    "I6": "the simulated recovery time equals the estimate's RTO",
    "I7": "a person approves before the writer or traffic moves where the tier says one must",
    "I8": "every AWS API call a step or plan block makes is one AWS defines, and is allowed",
    "I9": "every message sent during the event is processed",
    "I10": "after failback, what the steps made anew is set up as its template says",
}
FIXES = {
    "I1": "give R's tasks an endpoint that takes writes after promotion, credentials the proxy "
    "can log in with, and grants for the store in R",
    "I2": "keep the step off the lost region: fixed names instead of Fn::GetStackOutput of a P "
    "stack, `cdk deploy --exclusively`, APIs served from R",
    "I3": "raise R's desired count and its scaling minimum to full capacity",
    "I4": "make R's entry record healthy only once R's database takes writes",
    "I5": "gate P's record (or dial) on the recovery database no longer being the writer, and "
    "copy tables restored in R back to P only once R's tasks have stopped writing (after "
    "quiesce-recovery, in the maintenance window), before P is declared the writer",
    "I6": "derive the estimate from the same step list, and let every step it counts matter",
    "I7": "put an approval step before the step that moves the writer or traffic",
    "I8": "name the operation as the AWS CLI does (botocore's service model lists them), and "
    "grant the plan's execution role what AWS's sample policy for each block lists",
    "I9": "move what is left in a region's work queues to the same workload's queues where "
    "consumers will run before its consumers stop (or empty them while its consumers still run "
    "and nothing new arrives); never wait on queues nobody consumes",
    "I10": "set on what a step makes anew every property its template sets that the step does "
    "not copy (the plan function's adopt action takes them from the template)",
}


@dataclass(frozen=True)
class Violation:
    invariant: str
    step: str
    resource: str
    detail: str

    def __str__(self) -> str:
        return (
            f"{self.invariant} ({INVARIANTS[self.invariant]}) broken at step '{self.step}' on "
            f"{self.resource}: {self.detail}. Fix: {FIXES[self.invariant]}"
        )


@dataclass(frozen=True)
class Event:
    step: str
    start: float
    end: float
    changed: str
    traffic: tuple[str, ...]


@dataclass
class Simulation:
    tier: str
    event: str  # region-loss | failback
    primary: str
    recovery: str
    timeline: list[Event] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    recovered_at: float | None = None
    estimate_rto: float | None = None
    steps: list[s.Step] = field(default_factory=list)  # as executed: the runbook renders them
    end: Live | None = field(default=None, repr=False, compare=False)  # the tier as it ends

    @property
    def passed(self) -> bool:
        return not self.violations

    def verdicts(self) -> dict[str, str]:
        checked = (
            {i: d for i, d in INVARIANTS.items() if i != "I10"}  # I10 is failback's
            if self.event == "region-loss"
            else {"I1": "", "I2": "", "I5": "", "I7": "", "I8": "", "I9": "", "I10": ""}
        )
        broken = {v.invariant for v in self.violations}
        return {i: ("fail" if i in broken else "pass") for i in checked}


# --- what the world gives -----------------------------------------------------------------------


def metric_data_breaches(w: Live, name: str) -> bool | None:
    """What Route 53 reads for a CLOUDWATCH_METRIC health check: whether the alarm's metric
    data breaches its threshold now, or None without data (its region down, no such alarm, a
    signal AWS does not emit in this state, or a declared metric with no fresh data point)."""
    alarm = w.alarms.get(name)
    if alarm is None or alarm.region not in w.up:
        return None
    if alarm.signal == "declared":
        return alarm.breaches(w.declared[name]) if name in w.fresh else None
    database = w.databases.get(alarm.database or "")
    live = database is not None and database.region in w.up and database.role != "retired"
    if alarm.signal == "writer-role":
        present = live and rules.writer_role_metric_emitted(database.role == "writer")  # type: ignore[union-attr]
        return alarm.breaches(1.0) if present else None
    if alarm.signal == "replica-lag":
        present = live and rules.replica_lag_emitted(database.role == "replica")  # type: ignore[union-attr]
        return alarm.breaches(0.0) if present else None
    return None


def settle(w: Live) -> list[str]:
    """Route 53 evaluates every CloudWatch health check on the data there is now (a declared
    data point is then used up); returns the checks that are unhealthy."""
    for key, check in w.health_checks.items():
        if check.kind == "CLOUDWATCH_METRIC":
            status = rules.metric_check_healthy(
                metric_data_breaches(w, check.alarm or ""),
                check.insufficient,
                w.check_status.get(key, True),
            )
            alarm = w.alarms.get(check.alarm or "")
            if alarm is not None and alarm.signal == "declared":
                # A declared point is one data point: once it ages out of the evaluation
                # window only LastKnownStatus keeps what it said.
                status = rules.metric_check_healthy(None, check.insufficient, status)
            w.check_status[key] = status
    w.fresh.clear()
    return sorted(k for k, healthy in w.check_status.items() if not healthy)


def _tasks(w: Live, region: str | None) -> int:
    service = w.service_in(region) if region else None
    return service.desired if service is not None and region in w.up else 0


def targets_healthy(w: Live, region: str | None) -> bool:
    """A load balancer with healthy targets (seen as before while its loss is not detected):
    tasks run, and its security groups let requests and health checks reach them."""
    if region in w.stale_http:
        return True
    service = w.service_in(region) if region else None
    return _tasks(w, region) > 0 and not (service is not None and service.unserved)


def check_healthy(w: Live, key: str) -> bool:
    check = w.health_checks[key]
    if check.probes_endpoint:
        healthy = targets_healthy(w, check.region)
    elif check.kind == "CLOUDWATCH_METRIC":
        healthy = w.check_status.get(key, True)
    else:
        healthy = sum(check_healthy(w, c) for c in check.children) >= check.threshold
    return healthy != check.inverted


def traffic(w: Live) -> set[str]:
    """The regions that Route 53 or the accelerator sends clients to now."""
    if w.groups:
        return rules.accelerator_routes(
            {
                region: (dial, rules.accelerator_group_healthy(targets_healthy(w, region)))
                for region, dial in w.groups.items()
            }
        )
    failover = {r.failover: r for r in w.records if r.failover in ("PRIMARY", "SECONDARY")}
    if failover:

        def healthy(failover_kind: str) -> bool:
            record = failover.get(failover_kind)
            if record is None:
                return False
            if record.health_check and not check_healthy(w, record.health_check):
                return False
            return not record.evaluate_target_health or targets_healthy(w, record.region)

        answer = rules.route53_failover_answer(healthy("PRIMARY"), healthy("SECONDARY"))
        region = failover[answer].region
        return {region} if region else set()
    return {r.region for r in w.records if r.region}


def problems(w: Live, service: Service) -> list[str]:
    """Why the tasks of ``service`` cannot read and write every store (empty: they can)."""
    found = []
    if service.region not in w.up:
        return [f"{service.region} is down"]
    if service.desired == 0:
        found.append("no task runs")
    if service.unserved:  # its targets are unhealthy: the region serves nothing
        found.append(service.unserved)
    if w.databases:
        can_read, writes_land_in, why = _relational(w, service)
        declared = fence.declared_for(w, service)
        if not can_read:
            found.append("cannot read the database: " + "; ".join(why))
        elif not writes_land_in:
            found.append("cannot write the database: " + "; ".join(why))
        elif w.fenced and declared not in writes_land_in:
            # The app's fence: it writes only to the writer of the declared region.
            found.append(f"the writer-region item names {declared}, so its tasks do not write")
    found += _unknown_tables(w, service)
    found += _no_quorum(w, service.region)
    if w.table_regions:
        if service.region not in w.table_regions:
            found.append(f"no table replica in {service.region}")
        elif service.region not in service.table_regions:
            found.append(f"the task role grants no access to the table in {service.region}")
    found += _image_problems(w, service)
    if not service.dax_granted:
        found.append("the task role may not call its DAX cluster")
    if w.control_table and service.region not in service.control_regions:
        found.append(f"the task role cannot read the writer-region item in {service.region}")
    if any(region == service.region for region in w.queues.values()) and not service.queues:
        found.append("no queue in its settings")
    elif not service.queues_granted:
        found.append("the task role grants no access to its queues")
    return found


def _no_quorum(w: Live, region: str) -> list[str]:
    """The strongly consistent tables ``region``'s tasks cannot write: "The local Region
    accepts all read and write operations as long as there is a second Region that hosts a
    replica or witness to establish quorum. If a second Region isn't available, the local
    Region can only service eventually consistent reads" (rules.strong_table_quorum)."""
    return [
        f"table {name} takes no writes in {region}: no second region of its replicas and "
        f"witness ({', '.join(sorted(regions))}) is up"
        for name, regions in sorted(w.strong_tables.items())
        if region in regions and not rules.strong_table_quorum(region, regions, w.up)
    ]


def _image_problems(w: Live, service: Service) -> list[str]:
    """Why its tasks cannot pull their image from a private ECR registry (a task that starts
    pulls it; one the event restarts, or a new one, cannot start without it)."""
    image = private_image(service.image)
    if image is None:  # another registry: pulled without credentials, not modelled
        return []
    if image.region in w.regions and image.region not in w.up:
        return [f"its image {service.image} is in {image.region}'s registry, which is down"]
    if service.image not in w.images:
        return [f"its image {service.image} is in no registry: nothing pushes or replicates it"]
    if not service.image_pulled:
        return [f"its execution role may not pull {image.repository_arn()}"]
    return []


def _unknown_tables(w: Live, service: Service) -> list[str]:
    """The settings that name a table the tier does not hold: the tasks' calls on it fail
    (DynamoDB answers ResourceNotFoundException), whatever the role grants."""
    workload = [n for n in w.table_names if n != w.control_table]
    found = []
    if service.table_name is not None and service.table_name not in workload:
        found.append(
            f"TABLE_NAME names {service.table_name}, no table of the tier; set it to "
            + " or ".join(workload)
        )
    if service.control_table_name not in (None, w.control_table):
        found.append(
            f"CONTROL_TABLE_NAME names {service.control_table_name}, not the tier's control "
            f"table; set it to {w.control_table}"
        )
    return found


# What the tasks get through one endpoint, or all of them: whether they can read, the regions of
# the writers their writes land in, and why not where they cannot.
_Access = tuple[bool, set[str], list[str]]


def _relational(w: Live, service: Service) -> _Access:
    """Whether the tasks can read, the regions of the writers their writes land in, and why
    not where they cannot (through every database endpoint in their settings)."""
    if not service.endpoints:
        return False, set(), ["no database endpoint in its settings"]
    read = False
    write: set[str] = set()
    why: list[str] = []
    for kind, key in service.endpoints:
        blocked = service.unreachable.get(key)  # security groups or ports: no connection
        if blocked:
            why.append(blocked)
            continue
        reads, writes, why_not = (
            _via_instance(w, service, key)
            if kind == "instance"
            else _via_proxy(w, service, kind, key)
        )
        read = read or reads
        write |= writes
        why += why_not
    return read, write, why


def _via_instance(w: Live, service: Service, key: str) -> _Access:
    """What the tasks get connecting to a database instance directly."""
    database = w.databases[key]
    if not granted(service.connect, database):
        return False, set(), [f"no rds-db:connect to {key} as {service.user}"]
    if not rules.iam_login_accepted(database.iam_auth):  # the tasks log in with IAM tokens
        return False, set(), [f"{key} has IAM database authentication off: it refuses tokens"]
    if database.region not in w.up or database.role == "retired":
        return False, set(), [f"{key} is gone"]
    if database.role == "writer":
        return True, {database.region}, []
    return True, set(), [f"{key} is a read replica"]


def _via_proxy(w: Live, service: Service, kind: str, key: str) -> _Access:
    """What the tasks get through a proxy endpoint: its read/write one, or its read-only one."""
    proxy = w.proxies[key]
    authorised, why = _proxy_login(w, service, key)
    database = w.databases.get(proxy.target)
    if database is None or database.region not in w.up or database.role == "retired":
        return False, set(), [*why, f"the database behind {key} is gone"]
    moved = database.cluster or rules.proxy_target_follows_rename()
    if not moved and proxy.registered != database.generation:
        return False, set(), [*why, _unregistered(key, database)]
    if kind == "proxy-rw":
        serves = rules.proxy_read_write_serves(database.role == "writer")
        if not serves:
            why.append(f"{key}'s read/write endpoint: its cluster has no writer")
        return serves and authorised, {database.region} if serves and authorised else set(), why
    if not rules.proxy_read_only_serves(database.readers, database.cluster):
        return False, set(), [*why, f"{key}'s read-only endpoint: its database has no reader"]
    writers = {
        d.region
        for d in w.databases.values()
        if d.cluster and d.role == "writer" and d.region in w.up
    }
    if not rules.forwards_writes(
        database.role == "secondary", database.write_forwarding, database.readers, bool(writers)
    ):
        return authorised, set(), [*why, f"{key}'s read-only endpoint does not take writes"]
    return authorised, writers if authorised else set(), why


def _no_iam_auth(key: str) -> str:
    return (
        f"{key} refuses IAM logins: IAM database authentication is off (enable it: "
        "modify-db-instance --enable-iam-database-authentication)"
    )


def _unregistered(key: str, database: Database) -> str:
    return (
        f"{key}'s target group does not hold the instance now named {database.identifier} "
        "(a new instance under a renamed one's identifier): register it "
        "(deregister-db-proxy-targets, then register-db-proxy-targets)"
    )


def _proxy_login(w: Live, service: Service, key: str) -> tuple[bool, list[str]]:
    """Whether the tasks may connect to a proxy and it logs them in, and why not. Credentials
    and roles are judged separately, so every reason is reported."""
    proxy = w.proxies[key]
    behind = w.databases.get(proxy.target)
    tokens_accepted = behind is not None and rules.iam_login_accepted(behind.iam_auth)
    role_users = {
        user
        for covered, user in proxy.role_grants
        if behind is not None and granted({covered}, behind) and tokens_accepted
    }
    may_connect = f"{key}#0" in service.connect
    authorised = may_connect and rules.proxy_authenticates(
        proxy.end_to_end_iam, service.user or "", role_users, proxy.secret_users
    )
    if not may_connect:
        return authorised, [f"no rds-db:connect to proxy {key} as {service.user}"]
    if not authorised and proxy.end_to_end_iam and not tokens_accepted:
        return authorised, [f"{proxy.target} behind {key} has IAM database authentication off"]
    if not authorised:
        return authorised, [f"proxy {key} has no credentials for user {service.user}"]
    return authorised, []


def granted(grants: set[str], database: Database) -> bool:
    """Whether rds-db:connect grants cover this database as it is now (a grant names a
    resource id, which a replacement instance does not keep)."""
    return database.connect_key in grants


def writers_in_use(w: Live) -> list[str]:
    """Databases that take writes from running tasks. Tasks write only to a database in the
    declared writer's region (the writer-region item they read; the app's side of the
    fence)."""
    used = set()
    for service in w.services.values():
        if service.region not in w.up or service.desired == 0:
            continue
        allowed = fence.declared_for(w, service)
        for kind, key in service.endpoints:
            if key in service.unreachable:  # no connection, so no writes
                continue
            target = w.proxies[key].target if kind != "instance" else key
            database = w.databases.get(target)
            if (
                database
                and database.role == "writer"
                and database.region in w.up
                and (database.region == allowed or not w.fenced)
            ):
                used.add(target)
    return sorted(used)


# --- executing steps ----------------------------------------------------------------------------


def _needs(w: Live, step: s.Step, deploy: Deploy, standby: Live) -> set[str]:
    needed = ({step.api_region} if step.api_region else set()) | set(step.also_needs)
    # Where AWS serves each call of its command (botocore's endpoint rules): a control plane
    # in one region is needed whatever region the command names.
    needed |= {r for call in aws_calls(step.command) if (r := call.served_from()) is not None}
    if step.stack_update:
        source = _synthesized(step, deploy, standby)
        for name in step.stack_update:
            now, then = w.stacks.get(name), source.stacks.get(name)
            if then is not None and then.iam != (now.iam if now is not None else {}):
                needed.add(rules.IAM_CONTROL_REGION)  # it creates or changes IAM entities
    for name in step.stack_update:
        stack = w.stacks.get(name)
        if stack is None:  # a new stack: its own region
            needed.add(name.split(":", 1)[0])
            continue
        needed |= rules.stack_update_needs(
            stack.region,
            stack.output_regions,
            exclusively=True,
            dependency_regions=(w.stacks[d].region for d in stack.dependencies),
        )
    return needed


# Deploy stacks ("region:name") synthesized with a step's context: the tier as it then runs.
Deploy = Callable[[Mapping[str, str], tuple[str, ...]], World]
# Synthesize the tiers a context selects into a folder (drtiers.build.synthesize): given to what
# must synthesize again, so that this layer needs nothing of the stacks above it.
Synthesize = Callable[[Mapping[str, Any], Path], None]


def merge(w: Live, source: World, stacks: set[str]) -> None:
    """What ``stacks`` hold in ``source`` (as synthesized) now runs in ``w``. A database that
    already runs keeps its role: deploying a stack does not undo a promotion."""

    def ours(key: str) -> bool:
        return stack_of(key) in stacks

    for key, service in source.services.items():
        if ours(key):
            w.services[key] = copy.deepcopy(service)
    for key, proxy in source.proxies.items():
        if ours(key):
            w.proxies[key] = copy.deepcopy(proxy)
    for key, database in source.databases.items():
        if ours(key) and (key not in w.databases or w.databases[key].role == "retired"):
            w.databases[key] = copy.deepcopy(database)
    for key, region in source.queues.items():
        if ours(key):
            w.queues[key] = region
    for name, alarm in source.alarms.items():
        w.alarms.setdefault(name, alarm)
    # Whether each store's user may use its key is judged anew wherever a deployed stack holds
    # the store, the key or the user's role.
    w.key_uses = [u for u in w.key_uses if not u.stacks & stacks] + [
        u for u in source.key_uses if u.stacks & stacks
    ]
    for key in stacks:
        stack = source.stacks.get(key)
        if stack is not None:
            w.stacks[key] = copy.deepcopy(stack)
            if stack.region in source.groups:
                w.groups[stack.region] = source.groups[stack.region]


def retire(w: Live, stack: str) -> None:
    """Delete a stack: its tasks, proxies and endpoint group go; its database is retired; what
    it retains under names of its own stays in the region (drtiers.recovery.names)."""
    for key in [k for k in w.services if stack_of(k) == stack]:
        del w.services[key]
    for key, database in w.databases.items():
        if stack_of(key) == stack:
            database.role = "retired"
    w.key_uses = [u for u in w.key_uses if stack not in u.stacks]
    removed = w.stacks.pop(stack, None)
    if removed is not None:
        w.groups.pop(removed.region, None)
        for logical_id, kept in removed.retained.items():
            w.left_behind[f"{stack}/{logical_id}"] = kept


def _synthesized(step: s.Step, deploy: Deploy, standby: Live) -> World:
    """What the step's stacks hold as it deploys them: synthesized with its context, or (going
    back to standby) as synthesized for normal operation."""
    if step.effect == Effect.DEPLOY:
        return deploy(dict(step.context), step.stack_update)
    return standby


def _apply(
    w: Live,
    standby: Live,
    step: s.Step,
    deploy: Deploy,
) -> str:
    """Change the world as the step does; returns what changed, in words."""
    if step.effect in (Effect.DEPLOY, Effect.STANDBY):
        names.note_rebuild(w, step.context, step.stack_update)
        return _deployed(w, _synthesized(step, deploy, standby), step.stack_update)
    handler = _EFFECTS.get(step.effect)
    if handler is None:
        return step.target  # nothing changes; a plan step that does nothing says why
    changed = handler(w, step.target)
    if step.effect in (Effect.REPLICATE_BACK, Effect.REPROTECT):
        _replica_made(w, step)
    if step.effect == Effect.RETIRE:
        _tables_retired(w, step)
    return changed


def _tables_retired(w: Live, step: s.Step) -> None:
    """A rebuild's stack imports the tables restored in its region and leaves them when it is
    deleted; they go only if the step deletes each of them (one DeleteTable a table)."""
    region = step.target.split(":", 1)[0]
    calls = aws_calls(step.command)
    deletes = sum(1 for c in calls if c.operation == "DeleteTable" and c.region == region)
    if deletes >= len(w.table_names):
        w.restored_tables.discard(region)
        fence.deleted(w, region)


def _replica_made(w: Live, step: s.Step) -> None:
    """The new replica accepts IAM logins only if what made it asked: the RDS block does not
    (rules.rds_replica_block_enables_iam_auth), a command does with its flag."""
    region = w.primary if step.effect == Effect.REPLICATE_BACK else w.recovery
    replica = w.database_in(region)
    if replica is None:
        return
    calls = aws_calls(step.command)
    _renamed(w, region, replica, step, calls)
    if step.target == plan.RENAMED_BY_BLOCK:
        replica.iam_auth = rules.rds_replica_block_enables_iam_auth()
        replica.adopted = frozenset()
        return
    replica.iam_auth = any(
        c.operation == "CreateDBInstanceReadReplica"
        and "--enable-iam-database-authentication" in c.options
        for c in calls
    )
    # What the command set on it, of what its template sets (I10).
    given = {o for c in calls if c.region == region for o in c.options}
    replica.adopted = frozenset(p for p in replica.settings if set(cli_options(p)) & given)


def _renamed(w: Live, region: str, holder: Database, step: s.Step, calls: list[Call]) -> None:
    """The instance that held the identifier is renamed out of the way, and keeps its tags
    (the template's: the RDS block only adds renamedByRegionSwitch), unless the step's command
    tags it stale."""
    role = tag_map(holder.settings.get("Tags")).get(ROLE_TAG, "")
    tagged = any(c.operation == "AddTagsToResource" and c.region == region for c in calls)
    by_command = step.target != plan.RENAMED_BY_BLOCK  # else the block runs, not the command
    if by_command and tagged and f"Key={ROLE_TAG},Value={STALE_ROLE}" in step.command:
        role = STALE_ROLE
    w.renamed[f"{region} #{len(w.renamed) + 1}"] = role


def _deployed(w: Live, source: World, stacks: tuple[str, ...]) -> str:
    merge(w, source, set(stacks))
    service = next((x for x in w.services.values() if stack_of(x.key) in stacks), None)
    deployed = ", ".join(name.split(":", 1)[1] for name in stacks)
    if service is None:
        return f"deployed {deployed}"
    return (
        f"deployed {deployed}: {service.region} runs {service.desired} tasks, minimum "
        f"{service.minimum}"
    )


def _observe_loss(w: Live, region: str) -> str:
    w.stale_http.discard(region)
    return f"health checks see {region} down"


def _settle_alarms(w: Live, _: str) -> str:
    unhealthy = settle(w)
    return "unhealthy metric health checks: " + (", ".join(unhealthy) or "none")


def declared(region: str) -> str:
    """What a timeline says when ``region`` is declared the writer's region (a fleet's parent
    plan reads it back: drtiers.fleet.parent)."""
    return f"{region} is declared the writer's region"


def _declare(w: Live, target: str) -> str:
    """``target``: the region, and after ``=`` the declared alarms that hear it (a plan's
    payload names its metric; a runbook's command is written from the alarm, so all hear)."""
    region, named, heard = target.partition("=")
    fence.declare(w, region)
    for name, alarm in w.alarms.items():
        if alarm.signal == "declared" and (not named or name in heard.split(",")):
            w.declared[name] = 1.0 if alarm.region == region else 0.0
            w.fresh.add(name)
    return declared(region)


def _promote(w: Live, key: str) -> str:
    if key not in w.databases:  # a plan block naming no database of the tier
        return "promoted nothing: it names no database of the tier"
    w.databases[key].role = "writer"
    if w.databases[key].cluster:
        w.databases[key].readers = max(w.databases[key].readers - 1, 0)
    return f"{key} is the writer"


def _add_reader(w: Live, key: str) -> str:
    w.databases[key].readers += 1
    w.added_reader = True
    return f"{key} has {w.databases[key].readers} reader(s)"


def _remove_reader(w: Live, key: str) -> str:
    w.databases[key].readers = max(w.databases[key].readers - 1, 0)
    w.added_reader = False
    return f"{key} has {w.databases[key].readers} reader(s)"


def _restore_secret_replica(w: Live, region: str) -> str:
    w.promoted_secrets.discard(region)
    return f"the admin secret replicates to {region} again"


def _promote_secret(w: Live, region: str) -> str:
    w.promoted_secrets.add(region)
    return f"the admin secret is writable in {region}"


def _restore_table(w: Live, region: str) -> str:
    fence.restored(w, region)
    if len(w.table_names) > 1:  # the workload has tables, not only drtiers' control table
        w.table_regions.add(region)
        if not rules.restored_table_replicates():
            w.restored_tables.add(region)
    return f"a table is restored in {region}"


def _copy_back(w: Live, target: str) -> str:
    source, destination = target.split("=")
    fence.copied(w, source, destination)
    return tables.copy_back(w, target)


def _retire(w: Live, stack: str) -> str:
    retire(w, stack)
    return f"{stack} deleted"


def consumers_process(w: Live, region: str) -> bool:
    """Whether ``region``'s consumers (its service's tasks) run and can read and write every
    store, so that they can process what its queues hold."""
    service = w.service_in(region)
    return service is not None and service.desired > 0 and not problems(w, service)


def _drain(w: Live, target: str) -> str:
    region, _ = target.split("=")
    return messages.drain(w, region, traffic(w), consumers_process)


def _forward(w: Live, target: str) -> str:
    source, destination = target.split("=")
    return messages.forward(w, source, destination, traffic(w))


def _scale(w: Live, target: str) -> str:
    region, count = target.split("=")
    service = w.service_in(region)
    if service is not None:  # the minimum first, then the count (drtiers.recovery.steps)
        service.desired = service.minimum = int(count)
    return f"{region}: {count} tasks, scaling minimum as many"


def _match(w: Live, target: str) -> str:
    region, count = target.split("=")
    service = w.service_in(region)
    if service is not None:  # the count only (rules.ecs_block_capacity)
        service.desired = int(count)
    return f"{region}: {count} tasks"


def _dial(w: Live, target: str) -> str:
    region, dial = target.split("=")
    w.groups[region] = int(dial)
    return f"{region} endpoint group dial {dial} %"


def _switchover(w: Live, _: str) -> str:
    for database in w.databases.values():
        if database.cluster:
            to_writer = database.region == w.primary
            if to_writer and database.role != "writer":
                database.role, database.readers = "writer", max(database.readers - 1, 0)
            elif not to_writer and database.role == "writer":
                database.role, database.readers = "secondary", database.readers + 1
    return f"the writer is in {w.primary} again"


def _replicate_back(w: Live, _: str) -> str:
    stale = w.database_in(w.primary)
    if stale is not None:  # renamed away; its identifier now names a new replica
        stale.role, stale.generation = "replica", stale.generation + 1
        w.missed_writes.discard(w.primary)
    return f"{w.primary} holds a replica of the recovery region's writer"


def _promote_back(w: Live, _: str) -> str:
    back = w.database_in(w.primary)
    if back is not None:
        back.role = "writer"
    return f"{w.primary}'s replica is promoted: the writer is in {w.primary} again"


def _reprotect(w: Live, _: str) -> str:
    fresh = w.database_in(w.recovery)
    if fresh is not None:
        fresh.role, fresh.generation = "replica", fresh.generation + 1
    return f"{w.recovery} holds a fresh replica of {w.primary}"


def _adopt(w: Live, target: str) -> str:
    """The replica in the target's region gets what the step sets (``region=A,B,...``), and the
    instances renamed there that carry its template's tags the role tag the step gives them
    (``region=A,B,...=stale``)."""
    region, _, rest = target.partition("=")
    settings, _, stale = rest.partition("=")
    replica = w.database_in(region)
    if replica is None:
        return ""
    replica.adopted = frozenset(x for x in settings.split(",") if x)
    replica.iam_auth = True
    if stale:
        for key in w.renamed:
            if key.startswith(f"{region} #"):
                w.renamed[key] = stale
    return f"{replica.key} accepts IAM logins, set up as its template says"


def _register(w: Live, region: str) -> str:
    database = w.database_in(region)
    proxies = [x for x in w.proxies.values() if database is not None and x.target == database.key]
    for proxy in proxies:
        proxy.registered = database.generation if database is not None else 0
    return ", ".join(f"{x.key} targets {database.identifier}" for x in proxies if database)


def _clients_follow(w: Live, _: str) -> str:
    w.clients_follow = True
    return "clients follow the new answer"


# What each effect does to the world (given the step's target); returns what changed, in words.
_EFFECTS: dict[Effect, Callable[[Live, str], str]] = {
    Effect.OBSERVE_LOSS: _observe_loss,
    Effect.SETTLE_ALARMS: _settle_alarms,
    Effect.DECLARE: _declare,
    Effect.PROMOTE: _promote,
    Effect.ADD_READER: _add_reader,
    Effect.REMOVE_READER: _remove_reader,
    Effect.RESTORE_SECRET_REPLICA: _restore_secret_replica,
    Effect.PROMOTE_SECRET: _promote_secret,
    Effect.RESTORE_TABLE: _restore_table,
    Effect.TABLES_BACK: _copy_back,
    Effect.RETIRE: _retire,
    Effect.DRAIN: _drain,
    Effect.FORWARD: _forward,
    Effect.SCALE: _scale,
    Effect.MATCH: _match,
    Effect.DIAL: _dial,
    Effect.SWITCHOVER: _switchover,
    Effect.REPLICATE_BACK: _replicate_back,
    Effect.PROMOTE_BACK: _promote_back,
    Effect.REPROTECT: _reprotect,
    Effect.CLIENTS_FOLLOW: _clients_follow,
    Effect.ADOPT: _adopt,
    Effect.REGISTER: _register,
}


def _recovered(w: Live) -> bool:
    return not _not_recovered(w)


def _not_recovered(w: Live) -> list[str]:
    """Why R does not serve as P did (empty: it does): where traffic goes, what its tasks
    cannot do, and its capacity."""
    service = w.service_in(w.recovery)
    if service is None:
        return [f"no service runs in {w.recovery}"]
    why = []
    if traffic(w) != {w.recovery}:
        why.append(f"traffic goes to {sorted(traffic(w)) or 'nowhere'}, not {w.recovery}")
    elif not w.clients_follow and any(r.failover != "SIMPLE" for r in w.records):
        why.append("clients still hold the cached DNS answer")
    why += [f"{service.key}: {problem}" for problem in problems(w, service)]
    if service.desired < w.full or rules.scaling_floor(service.minimum) < w.full:
        why.append(
            f"{service.key} runs {service.desired} tasks (minimum {service.minimum}) of {w.full}"
        )
    return why


def _region_lost(standby: Live) -> Live:
    w = copy.deepcopy(standby)
    w.up.discard(standby.primary)
    w.stale_http = {standby.primary}
    return w


def simulate_region_loss(
    world: Live, figures: Mapping[str, Figure], workload: Mapping[str, float], deploy: Deploy
) -> tuple[Simulation, Live]:
    """Lose P, run the failover steps, check I1-I8. Returns the simulation and the world as
    failover left it."""
    listed = s.failover_steps(world, figures, workload)
    steps = plan.executed(world, listed, "region-loss")
    result = Simulation(world.tier, "region-loss", world.primary, world.recovery, steps=steps)
    result.estimate_rto = s.recovery_seconds(listed)
    if s.has_plan(world):  # a person, or the trigger of a tier that promises it, decides
        _approved_before(result, steps, {Effect.PROMOTE})
    _plan_role_allows(result, world, "region-loss")
    _holds_when_idle(result, world)
    settle(world)  # the health checks as deployed
    w = _region_lost(world)
    _fail_over(result, w, world, deploy)
    writer_r = w.database_in(w.recovery)
    if writer_r is not None and writer_r.role == "writer" and not writer_r.cluster:
        # R took writes P's instance never gets: standalone when P returns (an Aurora
        # cluster rejoins as a secondary and catches up instead).
        w.missed_writes.add(w.primary)
    last = result.timeline[-1].step if result.timeline else "-"
    _stays_deployable(result, w)
    _at_full_capacity(result, w, last)
    if result.recovered_at != result.estimate_rto:
        recovered = "never" if result.recovered_at is None else f"{result.recovered_at:g} s"
        # A tier that cannot recover says why, not only that it did not.
        why = "; ".join(_not_recovered(w)) if result.recovered_at is None else ""
        result.violations.append(
            Violation(
                "I6",
                last,
                w.tier,
                f"recovered at {recovered} in the simulation, estimated {result.estimate_rto:g} s"
                + (f": {why}" if why else ""),
            )
        )
    return result, w


def retire_blocked(w: Live, step: s.Step) -> str | None:
    """Why CloudFormation would not delete the stack a retire step deletes (None: it can)."""
    return _retire_refused(w, step) or _vault_kept(w, step) or _balancer_kept(w, step)


def _retire_refused(w: Live, step: s.Step) -> str | None:
    """Why CloudFormation would not delete the stack a retire step deletes: its termination
    protection, or a database in it with deletion protection, left on by the command; None
    when it can delete it."""
    if step.effect != Effect.RETIRE:
        return None
    calls = aws_calls(step.command)
    unprotects = any(
        c.operation == "UpdateTerminationProtection"
        and "--no-enable-termination-protection" in c.options
        for c in calls
    )
    if w.termination_protected and not unprotects and not rules.protected_stack_deletes():
        return f"{step.target} has termination protection: turn it off before delete-stack"
    held = [
        d.key
        for d in w.databases.values()
        if stack_of(d.key) == step.target
        and d.deletion_protection
        and not d.kept  # a deletion that keeps it does not delete it
        and d.role != "retired"
    ]
    unlocks = any(
        c.operation in ("ModifyDBInstance", "ModifyDBCluster")
        and "--no-deletion-protection" in c.options
        for c in calls
    )
    if held and not unlocks and not rules.protected_database_deletes():
        return f"{held[0]} has deletion protection: the stack's deletion fails (turn it off first)"
    return None


def _balancer_kept(w: Live, step: s.Step) -> str | None:
    """Why a retire's stack deletion fails on a load balancer with deletion protection on that
    the command leaves on; None when there is none, or the command turns it off."""
    stack = w.stacks.get(step.target) if step.effect == Effect.RETIRE else None
    if stack is None or not stack.protected_load_balancers:
        return None
    unlocks = "deletion_protection.enabled,Value=false" in step.command and any(
        c.operation == "ModifyLoadBalancerAttributes" for c in aws_calls(step.command)
    )
    if rules.protected_load_balancer_deletes() or unlocks:
        return None
    return (
        f"{step.target}'s load balancer {stack.protected_load_balancers[0]} has deletion "
        "protection: the stack's deletion fails (turn it off first: "
        "modify-load-balancer-attributes Key=deletion_protection.enabled,Value=false)"
    )


def _vault_kept(w: Live, step: s.Step) -> str | None:
    """Why a retire's stack deletion fails on a vault its own backup plan filled (the stack
    outlives a backup window) and its deletion deletes; None when no such vault, or the
    command deletes the recovery points first."""
    stack = w.stacks.get(step.target) if step.effect == Effect.RETIRE else None
    if stack is None or not stack.filled_vaults or not rules.vault_deletes_only_empty():
        return None
    if any(c.operation == "DeleteRecoveryPoint" for c in aws_calls(step.command)):
        return None
    return (
        f"{step.target}'s vault {stack.filled_vaults[0]} holds the recovery points its plan "
        'made, and "A vault can be deleted only if it is empty" (DeleteBackupVault): the '
        "stack's deletion fails; retain the vault (or delete its recovery points first)"
    )


def _not_awaited(step: s.Step) -> str | None:
    """Why a step's command ends before the job it starts (an AWS Backup job it does not poll
    until it ends: rules.job_polled_by); None when it waits for each."""
    operations = [c.operation for c in aws_calls(step.command)]
    for operation in operations:
        poll = rules.job_polled_by(operation)
        if poll is not None and poll not in operations:
            return f"{operation} only starts a job: poll {poll} until it ends before what needs it"
    return None


def _replica_refused(w: Live, step: s.Step) -> str | None:
    """Why RDS would refuse a step's replica: created under the identifier the instance it
    replaces still holds (DBInstanceAlreadyExists, unless the step renames that one first, as
    the RDS block does itself), or with a parameter group its engine takes only afterwards;
    None when it can create it."""
    if step.effect not in (Effect.REPLICATE_BACK, Effect.REPROTECT):
        return None
    if step.target == plan.RENAMED_BY_BLOCK:
        return None
    region = w.primary if step.effect == Effect.REPLICATE_BACK else w.recovery
    holder = w.database_in(region)
    if holder is None or not holder.identifier:
        return None
    calls = aws_calls(step.command)
    creates = [c for c in calls if c.operation == "CreateDBInstanceReadReplica"]
    if any("--db-parameter-group-name" in c.options for c in creates) and not (
        rules.replica_takes_parameter_group(holder.engine)
    ):
        return f"a {holder.engine} replica cannot be created with a parameter group (set it after)"
    renames = any(
        c.operation == "ModifyDBInstance" and "--new-db-instance-identifier" in c.options
        for c in calls
    )
    if renames:
        return None
    return (
        f"DBInstanceAlreadyExists: {holder.identifier} in {region} is still held by the "
        f"instance it replaces ({holder.key}); rename that one first"
    )


def _run(result: Simulation, w: Live, standby: Live, step: s.Step, deploy: Deploy) -> str:
    """Run one step, unless it needs the lost region (I2) or calls what AWS does not define
    (I8), each noted as a violation. Returns what changed, in words."""
    try:
        lost = _needs(w, step, deploy, standby) - w.up
        refused = _replica_refused(w, step)
    except UnknownCall as error:
        result.violations.append(Violation("I8", step.name, step.command, str(error)))
        return "could not run"
    refused = refused or _not_awaited(step) or retire_blocked(w, step)
    if refused:
        result.violations.append(Violation("I8", step.name, step.command, refused))
        return "could not run"
    if lost:
        result.violations.append(
            Violation(
                "I2",
                step.name,
                ", ".join(step.stack_update) or step.command.split(" --")[0],
                f"needs {', '.join(sorted(lost))}, which is lost",
            )
        )
        return "could not run"
    changed = _apply(w, standby, step, deploy)
    for why in names.retry_blocked(w, step):
        result.violations.append(Violation("I8", step.name, ", ".join(step.stack_update), why))
    return changed


def _fail_over(result: Simulation, w: Live, standby: Live, deploy: Deploy) -> None:
    """Run the failover steps in the order of their timeline, checking I2 and I4 after each
    and noting when R has recovered."""
    # I4 is about traffic that moves: in active/active R serves before the event, and its
    # wait for the promoted writer is the RTO itself.
    broken_i4 = standby.recovery in traffic(standby)
    for timed in s.schedule(result.steps):
        step = timed.step
        changed = _run(result, w, standby, step, deploy)
        routed = traffic(w)
        result.timeline.append(
            Event(step.name, timed.start, timed.end, changed, tuple(sorted(routed)))
        )
        messages.arrive(w, routed)  # R's queues fill while R's tasks serve
        tables.note_writes(w, routed)
        if not broken_i4:
            broken_i4 = _served_too_soon(result, w, step.name, routed)
        if result.recovered_at is None and _recovered(w):
            result.recovered_at = timed.end


def _served_too_soon(result: Simulation, w: Live, step: str, routed: set[str]) -> bool:
    """I4: whether traffic reaches R while its tasks cannot yet read and write everything
    (noted as a violation)."""
    service = w.service_in(w.recovery)
    if w.recovery not in routed or service is None:
        return False
    why = problems(w, service)
    if why:
        result.violations.append(
            Violation("I4", step, service.key, "traffic reaches R while " + "; ".join(why))
        )
    return bool(why)


def _stays_deployable(result: Simulation, w: Live) -> None:
    """I2: whatever the steps were, R must stay deployable for the whole event (a fix, a scale
    change): no stack there may need the lost region to update. The edge stack is not R's: it
    names both regions' load balancers, no step deploys it during an event (README, known
    gaps), and where it shares R's region (P in us-west-2) it still reads P's."""
    for stack in w.stacks.values():
        if stack.region != w.recovery or stack.role == StackRole.EDGE:
            continue
        lost = (
            rules.stack_update_needs(
                stack.region, stack.output_regions, exclusively=True, dependency_regions=()
            )
            - w.up
        )
        if lost:
            result.violations.append(
                Violation(
                    "I2",
                    "R stays deployable",
                    stack.name,
                    f"an update resolves outputs of stacks in {', '.join(sorted(lost))}, "
                    "which is lost",
                )
            )


def _holds_when_idle(result: Simulation, w: Live) -> None:
    """I3 before the event: the idle steady state of a service is its scaling floor, not its
    desired count. P's service must hold full capacity, and R's the standby the tier keeps
    warm (its desired count as deployed); target tracking scales either in to its minimum."""
    for service in w.services.values():
        idle = rules.idle_task_count(service.desired, service.minimum, service.scaling_policy)
        if idle >= service.desired:
            continue
        which = "P's full capacity" if service.region == w.primary else "R's warm standby"
        result.violations.append(
            Violation(
                "I3",
                "standby",
                service.key,
                f"deployed with {service.desired} tasks ({which}) but a scaling minimum of "
                f"{service.minimum}: while demand is low target tracking scales it in to "
                f"{idle}, so the event finds {idle} tasks running; set the minimum to "
                f"{service.desired}",
            )
        )


def _at_full_capacity(result: Simulation, w: Live, last: str) -> None:
    """I1 and I3 once the steps have run: R's tasks read and write every store, at full
    capacity that nothing can scale below."""
    for use in w.key_uses:  # a store in R whose key its user may not use
        if use.region == w.recovery and use.problem:
            result.violations.append(Violation("I1", last, use.store, use.problem))
    service = w.service_in(w.recovery)
    if service is None:
        result.violations.append(Violation("I1", last, w.recovery, "no task runs in R"))
        return
    for problem in problems(w, service):
        result.violations.append(Violation("I1", last, service.key, problem))
    if rules.scaling_ceiling(service.maximum) < w.full:
        result.violations.append(
            Violation(
                "I3",
                last,
                service.key,
                f"scaling maximum {service.maximum}, below full capacity {w.full}: R cannot "
                "run as many tasks as P did",
            )
        )
    if service.desired < w.full or rules.scaling_floor(service.minimum) < w.full:
        result.violations.append(
            Violation(
                "I3",
                last,
                service.key,
                f"{service.desired} tasks, scaling minimum {service.minimum}; full capacity "
                f"is {w.full}",
            )
        )


# What moves the writer or traffic (a fence, scaling P to 0, or a replica only prepares).
MOVES_BACK = {
    Effect.SWITCHOVER,
    Effect.PROMOTE_BACK,
    Effect.DECLARE,
    Effect.DIAL,
    Effect.MATCH,
    Effect.PROMOTE,
}


def _approved_before(result: Simulation, steps: list[s.Step], moving: set[Effect]) -> None:
    """I7: every step that moves the writer or traffic waits, directly or not, for a person's
    approval."""
    by_name = {x.name: x for x in steps}

    def approved(step: s.Step, seen: frozenset[str] = frozenset()) -> bool:
        return any(
            by_name[a].kind in ("approval", "trigger") or approved(by_name[a], seen | {a})
            for a in step.after
            if a in by_name and a not in seen
        )

    # An approval block nobody can give says why (plan.UNAPPROVABLE).
    blocked = [f"{x.name}: {x.target}" for x in steps if x.kind == plan.UNAPPROVABLE]
    for step in steps:
        if step.effect in moving and not approved(step):
            detail = "; ".join(["no approval comes first", *blocked])
            result.violations.append(Violation("I7", step.name, step.target or step.name, detail))


def _plan_role_allows(result: Simulation, world: Live, event: str) -> None:
    """I8: the plan's execution role allows what AWS says each block it runs needs, and the
    role of each function a custom-action step invokes allows the calls it makes."""
    for found in plan.denials(world, event):
        result.violations.append(
            Violation("I8", found.block.name, "the plan's execution role", str(found))
        )
    for denied in function_roles.denials(world, event):
        result.violations.append(Violation("I8", denied.step, denied.function, str(denied)))


def _primary_returns(w: Live, standby: Live) -> None:
    """P is back as it was left: its tasks restart, its old database returns (an Aurora primary
    rejoins as a secondary; an RDS instance comes back writable)."""
    w.up.add(w.primary)
    w.stale_http.clear()
    fence.returns(w, w.primary)
    if not rules.returning_tasks_restart():
        for service in w.services.values():
            if service.region == w.primary:
                service.desired = 0
    for key, database in w.databases.items():
        if database.region == w.primary:
            if database.cluster and rules.old_aurora_primary_rejoins_as_secondary():
                database.role = "secondary"
                database.readers = standby.databases[key].readers + 1
            elif database.role == "writer" and rules.promoted_replica_is_standalone():
                database.role = "writer"


def simulate_failback(
    world: Live,
    figures: Mapping[str, Figure],
    after: Live,
    deploy: Deploy,
) -> Simulation:
    """P returns after a failover; run the failback steps and check I2 and I5."""
    steps = plan.executed(world, s.failback_steps(world, after, figures), "failback")
    result = Simulation(world.tier, "failback", world.primary, world.recovery, steps=steps)
    _approved_before(result, steps, MOVES_BACK)
    _plan_role_allows(result, world, "failback")
    w = copy.deepcopy(after)
    _primary_returns(w, world)
    settle(w)
    routed = traffic(w)
    result.timeline.append(
        Event("primary-returns", 0, 0, f"{w.primary} is back", tuple(sorted(routed)))
    )
    if w.primary in routed and _tasks(w, w.primary) > 0:
        result.violations.append(
            Violation("I5", "primary-returns", w.primary, "traffic returns to P by itself")
        )
    if len(writers_in_use(w)) > 1:
        result.violations.append(
            Violation(
                "I5", "primary-returns", ", ".join(writers_in_use(w)), "two writers take writes"
            )
        )
    for key, why in fence.unfenced(w):
        result.violations.append(Violation("I5", "primary-returns", key, why))
    stopped: dict[str, tuple[str, str]] = {}  # region -> the step that stopped its consumers
    for timed in s.schedule(steps):
        step = timed.step
        held = messages.holding(w, consumers_process)
        changed = _run(result, w, world, step, deploy)
        routed = traffic(w)
        result.timeline.append(
            Event(step.name, timed.start, timed.end, changed, tuple(sorted(routed)))
        )
        tables.note_writes(w, routed)
        _one_current_writer(result, w, step.name, routed)
        for region in messages.left_behind(w, held, consumers_process):
            service = w.service_in(region)
            stopped.setdefault(region, (step.name, service.key if service else region))
        _messages_kept(result, w, step, held, routed)
    _messages_processed(result, w, stopped)
    if traffic(w) != {w.primary} and not w.groups:
        result.violations.append(
            Violation("I5", "end", w.tier, f"traffic ends at {sorted(traffic(w))}, not P")
        )
    _protected_again(result, w, world)
    _as_templated(result, w, world)
    _renamed_stale(result, w)
    _tables_left(result, w)
    for resource, why in names.collisions(w):  # I8 for the next failover's rebuild
        result.violations.append(Violation("I8", "end", resource, why))
    result.end = w
    return result


def _as_templated(result: Simulation, w: Live, world: Live) -> None:
    """I10: every instance made anew under its template's identifier (a replica the RDS block
    made at failback or re-protection) has had what its template sets set on it."""
    for key, database in w.databases.items():
        synthesized = world.databases.get(key)
        if database.role == "retired" or synthesized is None or database.generation == 0:
            continue
        missing = rules.replica_matches_template(set(synthesized.settings), set(database.adopted))
        if missing:
            result.violations.append(
                Violation(
                    "I10",
                    "end",
                    key,
                    f"the instance made anew under {database.identifier} lacks what its "
                    f"template sets: {', '.join(sorted(missing))}; CloudFormation sees no "
                    "drift there, so the next deploy does not set it either",
                )
            )


def _renamed_stale(result: Simulation, w: Live) -> None:
    """I10: every instance a failback renamed out of the way is tagged drtiers:role=stale; one
    still tagged as the template's looks like the tier's own to what selects by tags."""
    for key, role in sorted(w.renamed.items()):
        if role != STALE_ROLE:
            result.violations.append(
                Violation(
                    "I10",
                    "end",
                    key,
                    f"the instance renamed out of the way in {key.split(' ')[0]} still carries "
                    f"{ROLE_TAG}={role}, as the tier's own instance does: drills (FIS selects "
                    "by tags) and reports take it for the tier's; tag it "
                    f"{ROLE_TAG}={STALE_ROLE}",
                )
            )


def _tables_left(result: Simulation, w: Live) -> None:
    """I8 for the next failover: the tables restored in R are gone after failback, since the
    next restore creates them again under their names."""
    if w.recovery in w.restored_tables:
        result.violations.append(
            Violation(
                "I8",
                "end",
                w.recovery,
                f"the tables restored in {w.recovery} stay after failback: the next failover's "
                'restore under their names is refused (RestoreTableFromBackup "Creates a new '
                'table"; TableAlreadyExistsException): back them up and delete them',
            )
        )


def _protected_again(result: Simulation, w: Live, world: Live) -> None:
    """I1 for the next failover: after failback every database takes the logins its template
    gives it (a replica made again must accept the IAM logins R's tasks and proxy will use)."""
    for key, database in w.databases.items():
        synthesized = world.databases.get(key)
        if database.role == "retired" or synthesized is None:
            continue
        if synthesized.iam_auth and not database.iam_auth:
            result.violations.append(
                Violation(
                    "I1",
                    "end",
                    key,
                    _no_iam_auth(key) + ", unlike its template: at the next failover its tasks "
                    "cannot log in",
                )
            )


def _messages_kept(
    result: Simulation, w: Live, step: s.Step, held: dict[str, bool], routed: set[str]
) -> None:
    """I9 after a step: it deleted no queue that still holds messages sent during the event,
    and a drain it ran ended; then the messages sent now are noted."""
    region = step.target.split("=")[0].split(":")[0]
    if step.effect == Effect.RETIRE and region in held:
        result.violations.append(
            Violation(
                "I9",
                step.name,
                step.target,
                f"it deletes the stack whose work queues still hold messages sent in {region} "
                "during the event, and those messages with it",
            )
        )
    if step.effect == Effect.DRAIN and region in w.messages:
        why = (
            "new messages still arrive there"
            if messages.producing(w, region, routed)
            else "no consumer there runs and can write the stores"
        )
        result.violations.append(
            Violation(
                "I9",
                step.name,
                step.target,
                f"it waits for {region}'s work queues to empty, but {why}: it never ends "
                "(the plan stops at the step's timeout)",
            )
        )
    messages.arrive(w, routed)


def _messages_processed(
    result: Simulation, w: Live, stopped: Mapping[str, tuple[str, str]]
) -> None:
    """I9 at the end of failback: every region whose queues still hold messages sent during
    the event has consumers that process them."""
    for region in sorted(w.messages):
        if consumers_process(w, region):
            continue
        step, resource = stopped.get(region, ("end", region))
        result.violations.append(
            Violation(
                "I9",
                step,
                resource,
                f"{region}'s consumers stop processing here while its work queues still hold "
                "messages sent during the event, and no step moves them to consumers that "
                "run: nothing processes them (SQS deletes them after the queue's retention "
                "period, or moves them to the dead-letter queue after failed receives)",
            )
        )


def _one_current_writer(result: Simulation, w: Live, step: str, routed: set[str]) -> None:
    """I5 after a failback step: one writer takes writes, and P takes traffic only on a writer
    that holds what was written in R during the event."""
    writers = writers_in_use(w)
    if len(writers) > 1:
        result.violations.append(
            Violation("I5", step, ", ".join(writers), "two writers take writes")
        )
    for key, unfenced in fence.unfenced(w):
        result.violations.append(Violation("I5", step, key, unfenced))
    service = w.service_in(w.primary)
    if service is None or w.primary not in routed or service.desired == 0:
        return
    stale_tables = tables.stale_served(w, routed)
    if stale_tables:
        result.violations.append(Violation("I5", step, service.key, stale_tables))
    _, writes_land_in, why = _relational(w, service)
    if w.databases and not writes_land_in:
        result.violations.append(
            Violation("I5", step, service.key, "P takes traffic but " + "; ".join(why))
        )
    elif writes_land_in & w.missed_writes:
        stale = ", ".join(sorted(writes_land_in & w.missed_writes))
        result.violations.append(
            Violation(
                "I5",
                step,
                service.key,
                f"P takes traffic on the database in {stale}, which missed the writes made in "
                f"{w.recovery} during the event (no replica of {w.recovery}'s writer replaced it)",
            )
        )


def simulate(
    tier: TierAssembly,
    figures: Mapping[str, Figure],
    workload: Mapping[str, float],
    deploy: Deploy,
) -> tuple[Simulation, Simulation]:
    """Region loss, then failback, for one synthesized tier. ``deploy`` synthesizes the tier
    with a step's context (a stack deployed during the event) and returns what it would run."""
    world = deployed(read_world(tier))
    loss, after = simulate_region_loss(world, figures, workload, deploy)
    return loss, simulate_failback(world, figures, after, deploy)
