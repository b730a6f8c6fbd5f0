"""An ARC Region switch plan rendered from a tier's step list (CloudFormation properties), and
the plan as synthesized (read back by drtiers.assembly.switch_plan) executed by the simulator,
so a plan that breaks an invariant fails `make check`, whatever the step list says.

Workflows (all steps named as in the step list):
- ``activate`` the recovery region: the failover steps a plan can run;
- ``postRecovery`` of the primary region, which AWS runs after the execution that activated the
  recovery region (a post-recovery workflow belongs to the region opposite its recovery): what
  only prepares the primary region's return (failback steps before the person's approval:
  fencing P, a fresh replica of R's writer in P);
- ``activate`` the primary region: failback from the approval on;
- ``postRecovery`` of the recovery region, after failback: re-protecting R.

Blocks: ManualApproval, AuroraGlobalDatabase (switchover when graceful, failover when
ungraceful), RdsPromoteReadReplica, RdsCreateCrossRegionReplica, ECSServiceScaling, and the
tier's ``plan-actions`` Lambda function (CustomActionLambda) for the data-plane writes and API
calls no block makes: declaring the writer's region, a service's count, an accelerator dial.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from drtiers.assembly.switch_plan import (
    APPROVAL,
    AURORA,
    ECS,
    LAMBDA,
    PARALLEL,
    RDS_PROMOTE,
    RDS_REPLICA,
    Approval,
    AuroraGlobal,
    Block,
    BlockConfig,
    EcsScaling,
    LambdaAction,
    PlanLambda,
    RdsPromotion,
    RdsReplication,
    SwitchPlan,
)
from drtiers.assembly.world import Service, World
from drtiers.core import rules
from drtiers.core.permissions import BlockNeeds, allowed, block_needs
from drtiers.core.tiers import DECLARED_NAMESPACE, RECOVERY_WRITABLE, ROLE_TAG, STALE_ROLE
from drtiers.recovery import steps as s
from drtiers.recovery.steps import Effect

ACTIVATE, POST_RECOVERY = "activate", "postRecovery"
# What the plan-actions function does for a payload's "action" (drtiers.constructs.region_switch).
DECLARE, SCALE, DIAL, DRAIN, FORWARD = "declare", "scale", "dial", "drain", "forward"
ADOPT, REGISTER = "adopt", "register"
# The target of a replica step the RDS block runs: it renames the stale instance itself.
RENAMED_BY_BLOCK = "the block renames the stale instance"
# The kind of a ManualApproval block whose role nobody can assume: no approval (I7).
UNAPPROVABLE = "unapprovable"
DRAIN_TIMEOUT_MINUTES = 120  # then the plan stops at the step, and a person decides


@dataclass(frozen=True)
class Names:
    """What the plan names besides the world's resources."""

    actions_function: str  # the plan-actions function's name (the same in both regions)
    approval_role_arn: str


def approval_config(role_arn: str) -> dict[str, Any]:
    """A ManualApproval block's configuration: the role a person approves with, and an hour
    (then the plan stops at the step, and a person decides); a fleet's parent plans too."""
    return {"ExecutionApprovalConfig": {"ApprovalRole": role_arn, "TimeoutMinutes": 60}}


def _arn(world: World, service: str, region: str, resource: str) -> str:
    return f"arn:aws:{service}:{region}:{world.account}:{resource}"


def _both(world: World) -> tuple[str, str]:
    return world.primary, world.recovery


def _block(world: World, step: s.Step, names: Names, action: str) -> tuple[str, dict[str, Any]]:
    """The execution block that does what ``step`` does, in a workflow of ``action``: its
    type and configuration."""
    if step.kind == "approval":
        return APPROVAL, approval_config(names.approval_role_arn)
    if step.effect in (
        Effect.PROMOTE,
        Effect.SWITCHOVER,
        Effect.PROMOTE_BACK,
        Effect.REPLICATE_BACK,
        Effect.REPROTECT,
    ):
        return _database_block(world, step)
    if step.effect == Effect.MATCH:
        return _ecs_block(world)
    return _lambda_block(world, step, names, action)


def _database_block(world: World, step: s.Step) -> tuple[str, dict[str, Any]]:
    """An Aurora global database block where both regions hold a cluster, else an RDS block
    that creates a cross-region replica or promotes one."""
    databases = {r: world.database_in(r) for r in _both(world)}
    if all(d is not None and d.cluster for d in databases.values()):
        # Failover runs gracefully (so that the function steps run, which an ungraceful
        # execution skips) and fails over, accepting the lag; failback switches over.
        behavior = "failover" if step.effect == Effect.PROMOTE else "switchoverOnly"
        return AURORA, {
            "GlobalAuroraConfig": {
                "Behavior": behavior,
                "GlobalClusterIdentifier": world.global_cluster,
                "DatabaseClusterArns": [
                    _arn(world, "rds", r, f"cluster:{d.identifier}")
                    for r, d in databases.items()
                    if d is not None
                ],
            }
        }
    arns = {
        r: _arn(world, "rds", r, f"db:{d.identifier}")
        for r, d in databases.items()
        if d is not None
    }
    # Long enough for what the step takes, twice over (the figure is an assumption), and never
    # below the service's default.
    timeout = max(60, math.ceil(2 * step.seconds / 60))
    config = {"DbInstanceArnMap": arns, "TimeoutMinutes": timeout}
    if step.effect in (Effect.REPLICATE_BACK, Effect.REPROTECT):
        return RDS_REPLICA, {"RdsCreateCrossRegionReadReplicaConfig": config}
    return RDS_PROMOTE, {"RdsPromoteReadReplicaConfig": config}


def _ecs_block(world: World) -> tuple[str, dict[str, Any]]:
    """The ECS block that scales the activating region's service to the other's capacity."""
    services = [world.service_in(r) for r in _both(world)]
    return ECS, {
        "EcsCapacityIncreaseConfig": {
            "Services": [
                {
                    "ClusterArn": _arn(world, "ecs", x.region, f"cluster/{x.cluster_name}"),
                    "ServiceArn": _arn(
                        world, "ecs", x.region, f"service/{x.cluster_name}/{x.name}"
                    ),
                }
                for x in services
                if x is not None
            ],
            "TargetPercent": 100,
            "CapacityMonitoringApproach": "sampledMaxInLast24Hours",
            "WaitELBTargetGroupHealthy": "enabled",
        }
    }


def _lambda_block(
    world: World, step: s.Step, names: Names, action: str
) -> tuple[str, dict[str, Any]]:
    """The plan-actions function's block, for what no other block does (declaring, scaling,
    a dial, draining)."""
    return LAMBDA, {
        "CustomActionLambdaConfig": {
            "Lambdas": [
                {
                    "Arn": _arn(world, "lambda", r, f"function:{names.actions_function}"),
                    "Payload": json.dumps(_payload(world, step), sort_keys=True),
                }
                for r in _both(world)
            ],
            # Post-recovery workflows name the region with the traffic (API reference).
            "RegionToRun": "activeRegion" if action == POST_RECOVERY else "activatingRegion",
            # A failing function is run again each interval until the timeout: draining waits
            # so, for as long as the consumers may take.
            "RetryIntervalMinutes": 1,
            "TimeoutMinutes": DRAIN_TIMEOUT_MINUTES
            if step.effect in (Effect.DRAIN, Effect.FORWARD)
            else 10,
        }
    }


def _payload(world: World, step: s.Step) -> dict[str, Any]:
    if step.effect == Effect.DECLARE:
        payload: dict[str, Any] = {
            "action": DECLARE,
            "region": step.target,
            "table": world.control_table,
        }
        declared = world.writable_alarm()
        if declared is not None:  # the metric as that alarm reads it
            payload["metric"] = {
                "region": declared.region,
                "namespace": DECLARED_NAMESPACE,
                "name": RECOVERY_WRITABLE,
                "dimensions": declared.dimensions,
                "value": 1 if step.target == world.recovery else 0,
            }
        return payload
    if step.effect in (Effect.ADOPT, Effect.REGISTER):
        return _rds_payload(world, step)
    region, value = step.target.split("=")
    if step.effect == Effect.SCALE:
        service = world.service_in(region)
        assert service is not None, f"{step.name}: no service in {region}"
        return {
            "action": SCALE,
            "region": region,
            "cluster": service.cluster_name,
            "service": service.name,
            "count": int(value),
        }
    if step.effect == Effect.DRAIN:
        return {"action": DRAIN, "region": region, "prefix": value}
    if step.effect == Effect.FORWARD:
        return _forward_payload(world, region, value)
    if step.effect == Effect.DIAL:
        return {
            "action": DIAL,
            "accelerator": world.accelerator_name,
            "region": region,
            "percent": int(value),
            "api_region": rules.ACCELERATOR_API_REGION,
        }
    raise ValueError(f"step {step.name}: no execution block does '{step.effect}'")


def _rds_payload(world: World, step: s.Step) -> dict[str, Any]:
    """The instance of the step's region to set up (adopt), or its proxy to point at it."""
    database = world.database_in(step.target)
    assert database is not None, f"{step.name}: no database in {step.target}"
    payload: dict[str, Any] = {"region": step.target, "instance": database.identifier}
    if step.effect == Effect.REGISTER:
        proxy = next(x for x in world.proxies.values() if x.target == database.key)
        return {"action": REGISTER, **payload, "proxy": proxy.name}
    # What its template sets that the replica block does not copy (rules.
    # replica_matches_template): Multi-AZ, IAM logins, protection, class, tags, monitoring, logs
    # and backups. And the tag for the instance the block renamed, which still carries the
    # template's tags: drills and reports find the tier's instances by them.
    return {
        "action": ADOPT,
        **payload,
        "settings": database.settings,
        "stale": {ROLE_TAG: STALE_ROLE},
    }


def _forward_payload(world: World, source: str, target: str) -> dict[str, Any]:
    """The forward's payload: each queue named by its stack and logical id in each region
    (the function resolves them with CloudFormation there: their names are generated)."""
    forward = s.forwarded(world, source, world, target)
    assert forward is not None, f"nothing to forward from {source} to {target}"
    return {
        "action": FORWARD,
        "region": source,
        "stack": forward.source.split(":", 1)[1],
        "to_region": target,
        "to_stack": forward.target.split(":", 1)[1],
        "queues": list(forward.queues),
    }


def _steps(world: World, steps: list[s.Step], names: Names, action: str) -> list[dict[str, Any]]:
    rendered = []
    for index, stage in enumerate(s.plan_stages(steps)):
        blocks: list[dict[str, Any]] = []
        for step in stage:
            kind, config = _block(world, step, names, action)
            blocks.append(
                {
                    "Name": step.name,
                    "Description": step.title[:200],
                    "ExecutionBlockType": kind,
                    "ExecutionBlockConfiguration": config,
                }
            )
        if len(blocks) == 1:
            rendered += blocks
        else:
            rendered.append(
                {
                    "Name": f"stage-{index + 1}",
                    "Description": "in parallel: " + ", ".join(str(b["Name"]) for b in blocks),
                    "ExecutionBlockType": PARALLEL,
                    "ExecutionBlockConfiguration": {"ParallelConfig": {"Steps": blocks}},
                }
            )
    return rendered


def split_failback(failback: list[s.Step]) -> tuple[list[str], list[str], list[str]]:
    """The plan steps of failback by workflow: before the person's approval (post-recovery of
    R: what only prepares P), from it (activating P), and re-protection once P serves again
    (post-recovery of P: from the first step that re-protects R on)."""
    names = s.plan_names(failback)
    by_name = {x.name: x for x in failback}
    start = next((i for i, n in enumerate(names) if by_name[n].kind == "approval"), 0)
    end = next(
        (i for i, n in enumerate(names) if i > start and by_name[n].effect == Effect.REPROTECT),
        len(names),
    )
    return names[:start], names[start:end], names[end:]


def workflows(
    world: World, failover: list[s.Step], failback: list[s.Step], names: Names
) -> list[dict[str, Any]]:
    """The plan's workflows, as CloudFormation properties."""
    p, r = world.primary, world.recovery
    prepare, back, reprotect = split_failback(failback)
    # Each post-recovery workflow belongs to the region opposite the one its recovery activated.
    after_failover = rules.post_recovery_region(r, (p, r))
    after_failback = rules.post_recovery_region(p, (p, r))
    parts = [
        (ACTIVATE, r, f"Fail over to {r}", failover, None),
        (POST_RECOVERY, after_failover, f"Once {p} is back: prepare it", failback, prepare),
        (ACTIVATE, p, f"Fail back to {p}, after approval", failback, back),
        (POST_RECOVERY, after_failback, f"Re-protect: replicate {p} to {r}", failback, reprotect),
    ]
    result = []
    for action, region, description, listed, chosen in parts:
        steps = listed if chosen is None else [x for x in listed if x.name in chosen]
        if chosen is not None and not chosen:
            continue
        result.append(
            {
                "WorkflowTargetAction": action,
                "WorkflowTargetRegion": region,
                "WorkflowDescription": description,
                "Steps": _steps(world, steps, names, action),
            }
        )
    return result


def acted_on(world: World, rendered: list[dict[str, Any]]) -> dict[str, list[str]]:
    """What the rendered workflows' blocks name, by kind: the execution role's resources."""
    found: dict[str, set[str]] = {"aurora": set(), "rds": set(), "ecs": set(), "lambda": set()}

    def walk(steps: list[dict[str, Any]]) -> None:
        for step in steps:
            config = step["ExecutionBlockConfiguration"]
            walk(config.get("ParallelConfig", {}).get("Steps", []))
            if aurora := config.get("GlobalAuroraConfig"):
                identifier = aurora["GlobalClusterIdentifier"]
                found["aurora"] |= {_arn(world, "rds", "", f"global-cluster:{identifier}")}
                found["aurora"] |= set(aurora["DatabaseClusterArns"])
            for key in ("RdsPromoteReadReplicaConfig", "RdsCreateCrossRegionReadReplicaConfig"):
                found["rds"] |= set(config.get(key, {}).get("DbInstanceArnMap", {}).values())
            if ecs := config.get("EcsCapacityIncreaseConfig"):
                found["ecs"] |= {x["ServiceArn"] for x in ecs["Services"]}
            if action := config.get("CustomActionLambdaConfig"):
                found["lambda"] |= {x["Arn"] for x in action["Lambdas"]}

    for workflow in rendered:
        walk(workflow["Steps"])
    return {kind: sorted(arns) for kind, arns in found.items()}


def associated_alarms(world: World) -> dict[str, dict[str, str]]:
    """P's and R's alarms, for the plan's evaluation (application health)."""
    return {
        alarm.name: {
            "AlarmType": "applicationHealth",
            "ResourceIdentifier": _arn(world, "cloudwatch", alarm.region, f"alarm:{alarm.name}"),
        }
        for alarm in world.alarms.values()
        if alarm.region in _both(world) and alarm.signal != "declared"
    }


# --- reading a synthesized plan back ---------------------------------------------------------


@dataclass(frozen=True)
class Workflow:
    """One workflow as synthesized: its action, region and (stage, step name, block) rows."""

    action: str
    region: str
    description: str
    steps: tuple[tuple[int, str, str], ...]


def read_workflows(plan: SwitchPlan) -> list[Workflow]:
    """The plan's workflows as a reader sees them (the review report)."""
    return [
        Workflow(
            w.action,
            w.region,
            w.description,
            tuple(
                (index + 1, block.name, block.kind)
                for index, stage in enumerate(w.stages)
                for block in stage
            ),
        )
        for w in plan.workflows
    ]


# A workflow's stages, each the blocks that run together.
_Stages = tuple[tuple[Block, ...], ...]


def _stages(plan: SwitchPlan, action: str, region: str) -> _Stages:
    """The stages of the workflow of ``action`` in ``region``; none without that workflow."""
    workflow = plan.workflow(action, region)
    return workflow.stages if workflow is not None else ()


# (kind, effect, target, also needed regions) of one block as Region switch runs it.
_Decoded = tuple[str, Effect, str, tuple[str, ...]]


@dataclass(frozen=True)
class _Run:
    """How a workflow runs its blocks: the region it activates (of a post-recovery workflow: the
    active region its blocks act for), whether gracefully, and which workflow it is (activate
    or postRecovery)."""

    world: World
    activating: str
    graceful: bool
    workflow: str

    @property
    def other(self) -> str:
        """The region the workflow does not activate."""
        world = self.world
        return world.primary if self.activating == world.recovery else world.recovery


def _decoded(
    world: World, block: Block, activating: str, graceful: bool, workflow: str
) -> _Decoded:
    """(kind, effect, target, also needed regions) of one block as Region switch runs it."""
    decoded = _decode(_Run(world, activating, graceful, workflow), block.config)
    if decoded is None:
        raise ValueError(f"plan step {block.name}: a {block.kind} block drtiers cannot read")
    return decoded


def _decode(run: _Run, config: BlockConfig | None) -> _Decoded | None:
    """What a block of this configuration does in ``run``; None for one drtiers cannot read."""
    match config:
        case Approval():
            return _approval_decoded(run, config)
        case AuroraGlobal():
            return _aurora_decoded(run, config)
        case RdsPromotion():
            return _rds_promote_decoded(run, config)
        case RdsReplication():
            return _rds_replica_decoded(run)
        case EcsScaling():
            return _ecs_decoded(run, config)
        case LambdaAction():
            return _lambda_decoded(run, config)
    return None


# An IAM role's ARN: its account and its name (after any path).
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::(\d{12}):role/(?:[^\s\"]*/)?([\w+=,.@-]+)")


def _approval_decoded(run: _Run, approval: Approval) -> _Decoded:
    """A person approves by assuming the block's ApprovalRole; one the tier does not create in
    its account cannot be assumed, and nothing after the block is approved. A role written as a
    reference drtiers cannot read is taken as given."""
    arn = _ROLE_ARN.fullmatch(approval.role)
    ours = arn is None or (arn[1] == run.world.account and arn[2] in run.world.role_names)
    if rules.approval_can_be_given(ours):
        return "approval", Effect.NONE, "", ()
    why = (
        f"nobody can approve: ApprovalRole {approval.role} names no role the tier creates in "
        f"account {run.world.account}, so the block waits until it times out"
    )
    return UNAPPROVABLE, Effect.NONE, why, ()


def _aurora_decoded(run: _Run, aurora: AuroraGlobal) -> _Decoded:
    """A failover promotes the activating region's cluster; a switchover moves the writer
    only into the primary region, and needs the other region up."""
    world, activating = run.world, run.activating
    if aurora.global_cluster != world.global_cluster:  # the call fails: no such global cluster
        return "database", Effect.NONE, f"names global cluster {aurora.global_cluster}", ()
    how = rules.aurora_block_promotes(run.graceful, aurora.behavior, aurora.ungraceful)
    if how == "switchover":  # both regions' clusters take part: the other must be up
        effect = Effect.SWITCHOVER if activating == world.primary else Effect.NONE
        return "database", effect, "", (run.other,)
    return "database", Effect.PROMOTE, _database(world, aurora.cluster_arns, activating), ()


def _rds_promote_decoded(run: _Run, promotion: RdsPromotion) -> _Decoded:
    world, activating = run.world, run.activating
    database = _database(world, [promotion.instance_arns.get(activating, "")], activating)
    effect = Effect.PROMOTE if activating == world.recovery else Effect.PROMOTE_BACK
    return "database", effect, database, ()


def _rds_replica_decoded(run: _Run) -> _Decoded:
    """A replica of the active region's instance in the other region: a post-recovery block."""
    if not rules.rds_replica_block_runs(run.workflow):
        return "protect", Effect.NONE, "only runs in a post-recovery workflow", ()
    effect = Effect.REPLICATE_BACK if run.activating == run.world.recovery else Effect.REPROTECT
    target = RENAMED_BY_BLOCK if rules.rds_replica_block_renames() else ""
    return "protect", effect, target, (run.other,)


def _ecs_decoded(run: _Run, ecs: EcsScaling) -> _Decoded:
    """The activating region's service scaled to what the other region's ran (as sampled)."""
    source = next(
        (x for x in run.world.services.values() if x.region == run.other and _named(x, ecs)),
        None,
    )
    sampled = source.desired if source is not None else 0
    count = rules.ecs_block_capacity(sampled, ecs.target_percent)
    return "compute", Effect.MATCH, f"{run.activating}={count}", ()


def _lambda_decoded(run: _Run, action: LambdaAction) -> _Decoded | None:
    """What the plan-actions function does with its payload, if the block runs it at all.
    Returns None for an action drtiers does not know."""
    activating = run.activating
    if not rules.lambda_block_runs(run.graceful):
        return "action", Effect.NONE, "skipped: an ungraceful execution skips function steps", ()
    expected = "activeRegion" if run.workflow == POST_RECOVERY else "activatingRegion"
    if action.region_to_run != expected:
        return "action", Effect.NONE, f"RegionToRun must be {expected} in this workflow", ()
    chosen = next((x for x in action.lambdas if f":lambda:{activating}:" in x.arn), None)
    if chosen is None or f"{activating}:{chosen.arn.rsplit(':', 1)[1]}" not in run.world.functions:
        return "action", Effect.NONE, f"no plan-actions function in {activating}", ()
    payload = chosen.payload
    region = payload["region"]
    if payload["action"] == DECLARE:
        return "declaration", Effect.DECLARE, _declaration(run.world, payload), (region,)
    if payload["action"] == SCALE:
        return "compute", Effect.SCALE, f"{region}={payload['count']}", (region,)
    if payload["action"] == DIAL:
        return "traffic", Effect.DIAL, f"{region}={payload['percent']}", (payload["api_region"],)
    if payload["action"] == DRAIN:
        return "compute", Effect.DRAIN, f"{region}={payload['prefix']}", (region,)
    if payload["action"] == ADOPT:  # the target carries what it sets, and the stale tag
        settings = ",".join(sorted(payload["settings"]))
        stale = payload.get("stale", {}).get(ROLE_TAG, "")
        return "protect", Effect.ADOPT, f"{region}={settings}={stale}", (region,)
    if payload["action"] == REGISTER:
        return "database", Effect.REGISTER, region, (region,)
    if payload["action"] == FORWARD:
        to = payload["to_region"]
        return "compute", Effect.FORWARD, f"{region}={to}", (region, to)
    return None


def _declaration(world: World, payload: dict[str, Any]) -> str:
    """A declare payload's target: ``<region>=<alarms>``, the declared alarms that hear its
    metric, those reading it in its region, namespace, name and dimensions exactly (another
    set is another metric: "dimensions are part of the unique identifier for a metric",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html)."""
    metric = payload.get("metric") or {}
    put = (metric.get("region"), metric.get("namespace"), metric.get("name"))
    heard = sorted(
        a.name
        for a in world.alarms.values()
        if a.signal == "declared"
        and put == (a.region, DECLARED_NAMESPACE, RECOVERY_WRITABLE)
        and metric.get("dimensions") == a.dimensions
    )
    return f"{payload['region']}={','.join(heard)}"


def _named(service: Service, ecs: EcsScaling) -> bool:
    return any(arn.endswith(f"/{service.cluster_name}/{service.name}") for arn in ecs.service_arns)


def _database(world: World, arns: Iterable[str], region: str) -> str:
    """The key of the database in ``region`` that one of ``arns`` names."""
    for database in world.databases.values():
        if (
            database.region == region
            and database.identifier
            and any(
                arn.startswith(f"arn:aws:rds:{region}:")
                and arn.rsplit(":", 1)[1] == database.identifier
                for arn in arns
            )
        ):
            return database.key
    return ""


# A workflow as the simulator runs it: its stages, the region it activates, whether it runs
# gracefully, and its action.
_Running = tuple[_Stages, str, bool, str]


def executed(world: World, listed: list[s.Step], event: str) -> list[s.Step]:
    """The step list as the plan runs it: every step the synthesized plan holds replaces the
    listed step of that name (or joins the list), doing what its block does, in the plan's
    order; the listed steps the plan does not hold run around it as before."""
    plan = world.plan
    if plan is None:
        return listed
    workflows = _running(world, plan, event)
    by_name = {x.name: x for x in listed}
    held = {b.name for stages, *_ in workflows for stage in stages for b in stage}
    # The plan starts when what its listed steps waited for outside the plan has happened.
    start = tuple(
        dict.fromkeys(
            a for x in listed if x.name in held for a in x.after if a not in held and a in by_name
        )
    )
    plan_steps = _plan_steps(world, workflows, by_name, start=start)
    # Listed steps a plan could run but this one does not hold do not happen; the others run
    # around the plan, as listed. A trigger happens only if the plan has one that fires.
    plannable = set(s.plan_names(listed))
    around = {x.name for x in listed if x.name not in held and x.name not in plannable}
    if event == "region-loss" and s.starting_alarm(world) is None:
        around -= {x.name for x in listed if x.kind == "trigger"}
    running = {x.name for x in plan_steps} | around
    ordered = [
        replace(x, after=tuple(a for a in x.after if a in running))
        for x in [*plan_steps, *(x for x in listed if x.name in around)]
    ]
    return s.in_order(ordered)


def _running(world: World, plan: SwitchPlan, event: str) -> list[_Running]:
    """The workflows an event runs, in order: activating R at failover; preparing P, activating
    it and re-protecting R at failback."""
    p, r = world.primary, world.recovery
    # Failover runs gracefully (README): an ungraceful execution would skip the function steps.
    if event == "region-loss":
        return [(_stages(plan, ACTIVATE, r), r, True, ACTIVATE)]
    # A post-recovery execution runs the workflow of the region opposite the one the recovery
    # execution activated; its blocks act for the active region.
    after_failover = rules.post_recovery_region(r, (p, r))
    after_failback = rules.post_recovery_region(p, (p, r))
    return [
        (_stages(plan, POST_RECOVERY, after_failover), r, True, POST_RECOVERY),
        (_stages(plan, ACTIVATE, p), p, True, ACTIVATE),
        (_stages(plan, POST_RECOVERY, after_failback), p, True, POST_RECOVERY),
    ]


def _plan_steps(
    world: World,
    workflows: list[_Running],
    by_name: Mapping[str, s.Step],
    *,
    start: tuple[str, ...],
) -> list[s.Step]:
    """The steps the plan's blocks make, stage after stage (each waiting for the whole previous
    stage; the first for ``start``): a listed step of a block's name does what the block does,
    from where the plan executes it."""
    plan_steps: list[s.Step] = []
    previous = start
    for stages, region, graceful, action in workflows:
        for stage in stages:
            for block in stage:
                kind, effect, target, needs = _decoded(world, block, region, graceful, action)
                base = by_name.get(block.name) or s.Step(
                    block.name, block.description, kind, 0, "a plan step", ()
                )
                allowed_seconds = rules.block_timeout_seconds(block.timeout_minutes)
                if base.seconds > allowed_seconds:  # the step fails: the plan stops there
                    effect = Effect.NONE
                    target = (
                        f"times out after {allowed_seconds / 60:g} min; it takes "
                        f"{base.seconds / 60:g} min"
                    )
                plan_steps.append(
                    replace(
                        base,
                        kind=kind,
                        effect=effect,
                        target=target,
                        after=previous,
                        api_region=rules.plan_executes_in(region),
                        also_needs=tuple(n for n in needs if n != region),
                        stack_update=(),
                        context=(),
                    )
                )
            previous = tuple(block.name for block in stage)
    return plan_steps


# --- what the plan's role must allow ------------------------------------------------------------


@dataclass(frozen=True)
class Denial:
    """A block whose execution role lacks what AWS's sample policy for its type lists."""

    block: Block
    missing: tuple[str, ...]
    needs: BlockNeeds

    def __str__(self) -> str:
        why = "".join(f'; AWS: "{quote}"' for quote in self.needs.quotes)
        return (
            f"the plan's execution role lacks {', '.join(self.missing)}, which AWS's sample "
            f"policy for the {self.block.kind} block lists ({self.needs.url}{why})"
        )


def _named_arns(block: Block) -> tuple[str, ...]:
    """The ARNs a block acts on (its own resources), where its configuration names them."""
    match block.config:
        case EcsScaling():
            return tuple(arn for arn in block.config.service_arns if arn)
        case LambdaAction():
            return tuple(x.arn for x in block.config.lambdas)
        case AuroraGlobal():
            return block.config.cluster_arns
    return ()


def denial(world: World, block: Block) -> Denial | None:
    """What the plan's execution role does not allow of what ``block`` needs, as IAM evaluates
    the role's statements; None when it allows everything (or AWS lists nothing for it)."""
    config = block.config
    waits = isinstance(config, EcsScaling) and config.wait_for_healthy_targets
    needs = block_needs(block.kind, {"WaitELBTargetGroupHealthy"} if waits else set())
    if needs is None:
        return None
    own = _named_arns(block)
    missing = tuple(
        action
        for action in needs.actions
        if not all(
            allowed(world.plan_role, action, arn)
            for arn in (own if action in needs.on_resources and own else ("*",))
        )
    )
    return Denial(block, missing, needs) if missing else None


def denials(world: World, event: str) -> list[Denial]:
    """Every block the event's workflows run whose execution role falls short (I8)."""
    if world.plan is None:
        return []
    found = []
    for stages, *_ in _running(world, world.plan, event):
        for stage in stages:
            found += [d for block in stage if (d := denial(world, block)) is not None]
    return found


def invoked_functions(world: World, event: str) -> list[tuple[Block, PlanLambda]]:
    """The function each custom-action block of the event's workflows invokes (the one of the
    region the workflow activates), with its payload; none where the block does not run (as
    ``_lambda_decoded`` reads it)."""
    if world.plan is None:
        return []
    found = []
    for stages, region, graceful, workflow in _running(world, world.plan, event):
        expected = "activeRegion" if workflow == POST_RECOVERY else "activatingRegion"
        for block in (b for stage in stages for b in stage):
            config = block.config
            if not isinstance(config, LambdaAction) or not rules.lambda_block_runs(graceful):
                continue
            if config.region_to_run == expected:
                found += [(block, x) for x in config.lambdas if f":lambda:{region}:" in x.arn][:1]
    return found
