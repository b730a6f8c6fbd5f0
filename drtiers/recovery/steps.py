"""A tier's recovery path as data: the ordered failover and failback steps, each naming what it
acts on, where its API lives, what it waits for, what it changes and how long it takes (with
the source of that figure). The estimate's RTO, the runbooks and the simulator all read these
lists; nothing about recovery is written twice.

Steps are derived from the synthesized tier (drtiers.recovery.world), never from its name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from drtiers.assess.facts import Figure
from drtiers.recovery import rules
from drtiers.recovery.world import Alarm, World

# What a step changes in the world (interpreted by drtiers.recovery.simulate).
OBSERVE_LOSS = "observe-loss"  # health checks see the lost region down
SETTLE_ALARMS = "settle-alarms"  # alarms reach the state their metrics now give
PROMOTE = "promote"  # the recovery region's database becomes the writer
PROMOTE_SECRET = "promote-secret"
RECOVERY_FULL = "recovery-full"  # the recovery stack deployed failed over: full, minimum full
RECOVERY_STANDBY = "recovery-standby"
DIAL = "dial"  # an accelerator endpoint group's traffic dial
SCALE = "scale"  # a service's desired count (and minimum), by API
SWITCHOVER = "switchover"  # planned: the primary region's database is the writer again
REPLICATE_BACK = "replicate-back"  # a replica of the recovery region's writer in P
PROMOTE_BACK = "promote-back"  # promote that replica; the stale instance is retired
REPROTECT = "reprotect"  # a fresh replica of P's writer in R
CLIENTS_FOLLOW = "clients-follow"  # resolvers drop the cached answer
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
    automatic: bool = False
    stack_update: tuple[str, ...] = ()  # stacks deployed, each with `cdk deploy --exclusively`
    command: str = ""
    effect: str = NONE
    target: str = ""  # the region or resource the effect applies to
    in_rto: bool = True  # recovery waits for it (housekeeping steps do not count)


class _Builder:
    def __init__(self, world: World, figures: Mapping[str, Figure]) -> None:
        self.w = world
        self.f = figures
        self.steps: list[Step] = []

    def figure(self, name: str) -> tuple[float, str, tuple[str, ...]]:
        figure = self.f[name]
        return figure.value, figure.what, (figure.label,)

    def add(self, step: Step) -> str:
        self.steps.append(step)
        return step.name


def _stack(world: World, role: str) -> str:
    return next((s.name for s in world.stacks.values() if s.role == role), "")


def _deploy(world: World, stack: str, failed_over: bool) -> str:
    region = world.stacks[stack].region
    return (
        f"npx cdk deploy {stack} --exclusively --context tier={world.tier} "
        f"--context failed_over={'true' if failed_over else 'false'}  # {region}"
    )


def failover_steps(world: World, figures: Mapping[str, Figure]) -> list[Step]:
    """Region P lost: detect, promote R's database, bring R to full capacity, move traffic."""
    b = _Builder(world, figures)
    p, r = world.primary, world.recovery
    primary_record = next((x for x in world.records if x.failover == "PRIMARY"), None)
    service_p, service_r = world.service_in(p), world.service_in(r)
    if primary_record is not None and primary_record.health_check is not None:
        seconds = _http_seconds(world, primary_record.health_check)
        detect = b.add(
            Step(
                "detect",
                "Route 53 health checks see the primary region fail (automatic).",
                "detection",
                seconds,
                "Route 53 health check: interval x failure threshold, from the template",
                (
                    "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/"
                    "dns-failover-determining-health-of-endpoints.html",
                ),
                automatic=True,
                effect=OBSERVE_LOSS,
                target=p,
            )
        )
    elif world.groups and service_p is not None:
        seconds = service_p.health_interval_seconds * service_p.unhealthy_threshold
        detect = b.add(
            Step(
                "detect",
                "The accelerator sees the primary endpoint group unhealthy through its load "
                "balancer's target-group health checks (automatic).",
                "detection",
                seconds,
                "target-group health check: interval x unhealthy threshold, from the template",
                (rules.GA_ENDPOINT_GROUPS.url,),
                automatic=True,
                effect=OBSERVE_LOSS,
                target=p,
            )
        )
    else:
        seconds, how, sources = b.figure("outage_decision_seconds")
        detect = b.add(
            Step(
                "detect",
                "People confirm the primary region is lost and invoke the DR plan.",
                "detection",
                seconds,
                how,
                sources,
                effect=OBSERVE_LOSS,
                target=p,
            )
        )
    database = world.database_in(r)
    promote = ""
    if database is not None and database.role == "secondary":
        seconds, how, sources = b.figure("aurora_global_promotion_seconds")
        promote = b.add(
            Step(
                "promote-database",
                "Fail the Aurora global database over to the recovery region (unplanned; "
                "accepts the replication lag as data loss).",
                "database",
                seconds,
                how,
                sources,
                after=(detect,),
                api_region=r,
                command=f"aws rds failover-global-cluster --region {r} "
                f"--global-cluster-identifier <global cluster> --target-db-cluster-identifier "
                f"<{database.key} ARN> --allow-data-loss",
                effect=PROMOTE,
                target=database.key,
            )
        )
    elif database is not None and database.role == "replica":
        seconds, how, sources = b.figure("rds_replica_promotion_seconds")
        promote = b.add(
            Step(
                "promote-database",
                "Promote the cross-region read replica to a standalone writable instance.",
                "database",
                seconds,
                how,
                sources,
                after=(detect,),
                api_region=r,
                command=f"aws rds promote-read-replica --region {r} --db-instance-identifier "
                f"<{database.key}>",
                effect=PROMOTE,
                target=database.key,
            )
        )
    if promote and r in world.secret_replicas:
        seconds, how, sources = b.figure("secret_promotion_seconds")
        b.add(
            Step(
                "promote-secret",
                "Promote the admin secret's replica in the recovery region to a standalone "
                "secret, so it can be rotated against the new writer.",
                "secrets",
                seconds,
                how,
                sources,
                after=(promote,),
                api_region=r,
                command=f"aws secretsmanager stop-replication-to-replica --region {r} "
                "--secret-id <admin secret replica ARN>",
                effect=PROMOTE_SECRET,
                target=r,
                in_rto=False,
            )
        )
    recovery_stack = _stack(world, "recovery")
    if service_r is not None and service_p is not None and (
        service_r.desired < service_p.desired or service_r.minimum < service_p.desired
    ):
        name = "task_start_seconds" if service_r.desired == 0 else "scale_out_seconds"
        seconds, how, sources = b.figure(name)
        b.add(
            Step(
                "scale-out",
                f"Deploy the recovery stack failed over: {service_p.desired} tasks, and a "
                "scaling minimum of as many, so nothing scales it back in.",
                "compute",
                seconds,
                how,
                sources,
                after=(detect,),
                api_region=r,
                stack_update=(recovery_stack,),
                command=_deploy(world, recovery_stack, True),
                effect=RECOVERY_FULL,
                target=r,
            )
        )
    traffic_after = [detect]
    writable_alarm = _writable_alarm(world)
    dns_failover = any(x.failover != "SIMPLE" for x in world.records)
    if writable_alarm is not None and promote and dns_failover:
        b.add(
            Step(
                "writable-alarm",
                f"The alarm {writable_alarm.name} sees the recovery database take writes; the "
                "SECONDARY record becomes healthy and the PRIMARY stays unhealthy (automatic).",
                "traffic",
                writable_alarm.seconds,
                "alarm period x evaluation periods, from the template",
                (rules.AURORA_ROLE_METRICS.url, rules.RDS_METRICS.url),
                after=(promote,),
                automatic=True,
                effect=SETTLE_ALARMS,
            )
        )
        traffic_after.append("writable-alarm")
    if dns_failover:
        seconds, how, sources = b.figure("dns_alias_ttl_seconds")
        b.add(
            Step(
                "dns-ttl",
                "Clients follow Route 53's new answer once their cached one expires "
                "(automatic).",
                "traffic",
                seconds,
                how,
                sources,
                after=tuple(traffic_after),
                automatic=True,
                effect=CLIENTS_FOLLOW,
            )
        )
    if world.groups:
        seconds, how, sources = b.figure("accelerator_shift_seconds")
        b.add(
            Step(
                "accelerator-shift",
                "New connections go to the healthy endpoint group (automatic; both dials stay "
                "as they are).",
                "traffic",
                seconds,
                how,
                sources,
                after=(detect,),
                automatic=True,
            )
        )
        if p in world.groups:
            b.add(
                Step(
                    "hold-primary",
                    "Set the primary endpoint group's traffic dial to 0 % so that the primary "
                    "region takes no traffic when it returns, until failback.",
                    "protect",
                    0,
                    "an API call; the dial does not move traffic while the group is unhealthy",
                    (rules.GA_API_REGION.url,),
                    after=(detect,),
                    api_region=rules.ACCELERATOR_API_REGION,
                    command=f"aws globalaccelerator update-endpoint-group --region "
                    f"{rules.ACCELERATOR_API_REGION} --endpoint-group-arn <{p} endpoint group> "
                    "--traffic-dial-percentage 0",
                    effect=DIAL,
                    target=f"{p}=0",
                    in_rto=False,
                )
            )
    return b.steps


def _http_seconds(world: World, check_key: str) -> float:
    """Detection time of a record's health check: the HTTP check inside it."""
    check = world.health_checks[check_key]
    if check.kind == "HTTP":
        return check.seconds
    return max((_http_seconds(world, c) for c in check.children), default=0.0)


def _writable_alarm(world: World) -> Alarm | None:
    """The alarm that Route 53's health checks follow (the recovery database takes writes)."""
    named = {c.alarm for c in world.health_checks.values() if c.kind == "CLOUDWATCH_METRIC"}
    return next((a for a in world.alarms.values() if a.name in named), None)


def failback_steps(world: World, figures: Mapping[str, Figure]) -> list[Step]:
    """P is back. Failback is deliberate: a person approves it, the database returns first,
    then traffic, then the recovery region goes back to standby."""
    b = _Builder(world, figures)
    p, r = world.primary, world.recovery
    database_r = world.database_in(r)
    service_p = world.service_in(p)
    steps_before_approval: list[str] = []
    if database_r is not None and not database_r.cluster and service_p is not None:
        # The old primary instance came back writable: keep the app off it at once.
        steps_before_approval.append(
            b.add(
                Step(
                    "fence-primary",
                    "Stop the primary region's tasks: its old database instance came back "
                    "writable and is no longer the source of truth.",
                    "fence",
                    0,
                    "an API call",
                    (rules.REPLICA_PROMOTE.url,),
                    api_region=p,
                    command=f"aws ecs update-service --region {p} --cluster <cluster> "
                    "--service <service> --desired-count 0",
                    effect=SCALE,
                    target=f"{p}=0",
                )
            )
        )
    approve = b.add(
        Step(
            "approve-failback",
            "A person decides to fail back, in a maintenance window.",
            "approval",
            0,
            "a decision; failback is never automatic",
            (),
            after=tuple(steps_before_approval),
        )
    )
    last = approve
    if database_r is not None and database_r.cluster:
        seconds, how, sources = b.figure("aurora_resync_seconds")
        wait = b.add(
            Step(
                "wait-replication",
                "The old primary cluster has rejoined as a secondary: wait until its "
                "replication lag is under a second.",
                "database",
                seconds,
                how,
                sources,
                after=(approve,),
                api_region=p,
                command=f"aws rds describe-global-clusters --region {p}",
            )
        )
        seconds, how, sources = b.figure("aurora_global_promotion_seconds")
        last = b.add(
            Step(
                "switchover",
                "Switch the writer back to the primary region with no data loss (planned "
                "switchover).",
                "database",
                seconds,
                how,
                sources,
                after=(wait,),
                api_region=p,
                command=f"aws rds switchover-global-cluster --region {p} "
                "--global-cluster-identifier <global cluster> --target-db-cluster-identifier "
                "<primary cluster ARN>",
                effect=SWITCHOVER,
            )
        )
    elif database_r is not None:
        seconds, how, sources = b.figure("rds_replica_rebuild_seconds")
        back = b.add(
            Step(
                "replicate-back",
                "Rename the stale primary instance out of the way and create a cross-region "
                "read replica of the recovery region's writer in the primary region, under the "
                "primary's fixed identifier.",
                "database",
                seconds,
                how,
                sources,
                after=(approve,),
                api_region=p,
                command=f"aws rds create-db-instance-read-replica --region {p} "
                "--db-instance-identifier <app>-<tier>-db --source-db-instance-identifier "
                "<recovery instance ARN> --kms-key-id <primary data key>",
                effect=REPLICATE_BACK,
            )
        )
        quiesce = b.add(
            Step(
                "quiesce-recovery",
                "Stop writes in the recovery region: scale its service to 0 (the maintenance "
                "window begins).",
                "fence",
                0,
                "an API call",
                (),
                after=(back,),
                api_region=r,
                command=f"aws ecs update-service --region {r} --cluster <cluster> --service "
                "<service> --desired-count 0",
                effect=SCALE,
                target=f"{r}=0",
            )
        )
        seconds, how, sources = b.figure("rds_replica_promotion_seconds")
        promote = b.add(
            Step(
                "promote-back",
                "Promote the primary region's new replica: it is the writer again.",
                "database",
                seconds,
                how,
                sources,
                after=(quiesce,),
                api_region=p,
                command=f"aws rds promote-read-replica --region {p} --db-instance-identifier "
                "<app>-<tier>-db",
                effect=PROMOTE_BACK,
            )
        )
        last = b.add(
            Step(
                "unfence-primary",
                "Start the primary region's tasks again.",
                "compute",
                0,
                "an API call",
                (),
                after=(promote,),
                api_region=p,
                command=f"aws ecs update-service --region {p} --cluster <cluster> --service "
                f"<service> --desired-count {world.full}",
                effect=SCALE,
                target=f"{p}={world.full}",
            )
        )
        seconds, how, sources = b.figure("rds_replica_rebuild_seconds")
        b.add(
            Step(
                "reprotect",
                "Re-protect: rename the promoted recovery instance out of the way and create a "
                "new cross-region read replica of the primary under its identifier.",
                "protect",
                seconds,
                how,
                sources,
                after=(last,),
                api_region=r,
                command=f"aws rds create-db-instance-read-replica --region {r} "
                "--db-instance-identifier <recovery instance> --source-db-instance-identifier "
                "<primary instance ARN> --kms-key-id <recovery data key>",
                effect=REPROTECT,
            )
        )
    alarm = _writable_alarm(world)
    if alarm is not None and database_r is not None and not world.groups:
        last = b.add(
            Step(
                "writable-alarm-clears",
                f"The alarm {alarm.name} clears once the recovery database no longer takes "
                "writes; the PRIMARY record is healthy again (automatic).",
                "traffic",
                alarm.seconds,
                "alarm period x evaluation periods, from the template",
                (rules.AURORA_ROLE_METRICS.url,),
                after=(b.steps[-1].name,),
                automatic=True,
                effect=SETTLE_ALARMS,
            )
        )
    if p in world.groups:
        last = b.add(
            Step(
                "release-primary",
                "Set the primary endpoint group's traffic dial back to 100 %.",
                "traffic",
                0,
                "an API call",
                (rules.GA_API_REGION.url,),
                after=(last,),
                api_region=rules.ACCELERATOR_API_REGION,
                command=f"aws globalaccelerator update-endpoint-group --region "
                f"{rules.ACCELERATOR_API_REGION} --endpoint-group-arn <{p} endpoint group> "
                "--traffic-dial-percentage 100",
                effect=DIAL,
                target=f"{p}=100",
            )
        )
    recovery_stack = _stack(world, "recovery")
    if recovery_stack:
        b.add(
            Step(
                "standby",
                "Deploy the recovery stack back to standby capacity.",
                "compute",
                0,
                "a stack update",
                (),
                after=(last,),
                api_region=r,
                stack_update=(recovery_stack,),
                command=_deploy(world, recovery_stack, False),
                effect=RECOVERY_STANDBY,
                target=r,
            )
        )
    return b.steps


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
    return sorted(timed, key=lambda t: (t.end, steps.index(t.step)))


def recovery_seconds(steps: list[Step]) -> float:
    """The estimate's RTO: when the last step recovery waits for ends."""
    return max((t.end for t in schedule(steps) if t.step.in_rto), default=0.0)
