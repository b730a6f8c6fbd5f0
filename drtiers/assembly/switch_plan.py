"""A tier's ARC Region switch plan as synthesized (``AWS::ARCRegionSwitch::Plan``), read into
typed values: its workflows, their stages, and of each execution block the configuration the
simulator (drtiers.recovery.plan) and the review report go by.

drtiers.recovery.plan renders the plan's properties and drtiers.constructs.region_switch writes
them; this module is the one that reads them back. Each record names, beside a field, the
CloudFormation property it comes from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from drtiers.assembly.reader import Resource, TierAssembly

PLAN_TYPE = "AWS::ARCRegionSwitch::Plan"
# Execution block types (a step's ExecutionBlockType), as drtiers renders and reads them.
APPROVAL = "ManualApproval"
AURORA = "AuroraGlobalDatabase"
RDS_PROMOTE = "RdsPromoteReadReplica"
RDS_REPLICA = "RdsCreateCrossRegionReplica"
ECS = "ECSServiceScaling"
LAMBDA = "CustomActionLambda"
PARALLEL = "Parallel"


@dataclass(frozen=True)
class Approval:
    """A ManualApproval block (ExecutionApprovalConfig): a person approves the execution."""

    role: str = ""  # ApprovalRole: the role a person assumes to approve (as written)


@dataclass(frozen=True)
class AuroraGlobal:
    """An AuroraGlobalDatabase block: its GlobalAuroraConfig."""

    behavior: str  # Behavior: switchoverOnly or failover ("" if none)
    ungraceful: str | None  # Ungraceful.Ungraceful: what an ungraceful execution does
    cluster_arns: tuple[str, ...]  # DatabaseClusterArns: the global database's clusters
    global_cluster: str = ""  # GlobalClusterIdentifier: the global database it acts on


@dataclass(frozen=True)
class RdsPromotion:
    """An RdsPromoteReadReplica block: its RdsPromoteReadReplicaConfig."""

    instance_arns: dict[str, str]  # DbInstanceArnMap: region -> the DB instance's ARN there


@dataclass(frozen=True)
class RdsReplication:
    """An RdsCreateCrossRegionReplica block (RdsCreateCrossRegionReadReplicaConfig): what it
    does follows from the workflow that runs it; nothing of its configuration is read."""


@dataclass(frozen=True)
class EcsScaling:
    """An ECSServiceScaling block: its EcsCapacityIncreaseConfig."""

    service_arns: tuple[str, ...]  # Services[].ServiceArn ("" for a service without one)
    target_percent: int  # TargetPercent: of the capacity sampled in the other region (100)
    # WaitELBTargetGroupHealthy: "enabled" makes the block wait for healthy targets
    wait_for_healthy_targets: bool = False


@dataclass(frozen=True)
class PlanLambda:
    """One function a CustomActionLambda block may invoke: an entry of its Lambdas."""

    arn: str  # Arn
    payload: dict[str, Any]  # Payload, parsed from its JSON text ({} without one)


@dataclass(frozen=True)
class LambdaAction:
    """A CustomActionLambda block: its CustomActionLambdaConfig."""

    region_to_run: str  # RegionToRun: activatingRegion or activeRegion ("" if none)
    lambdas: tuple[PlanLambda, ...]  # Lambdas: one function per region
    timeout_minutes: int | None  # TimeoutMinutes: how long a failing function is retried


BlockConfig = Approval | AuroraGlobal | RdsPromotion | RdsReplication | EcsScaling | LambdaAction


@dataclass(frozen=True)
class Block:
    """One execution block of a workflow (an entry of its Steps, or of a Parallel block's)."""

    name: str  # Name: the step of the step list it does
    description: str  # Description
    kind: str  # ExecutionBlockType
    # ExecutionBlockConfiguration as read; None for a block type drtiers does not read.
    config: BlockConfig | None
    # TimeoutMinutes of its configuration; None: not set (the service's default applies).
    timeout_minutes: int | None = None


@dataclass(frozen=True)
class Workflow:
    """One of the plan's Workflows."""

    action: str  # WorkflowTargetAction: activate or postRecovery
    region: str  # WorkflowTargetRegion: the region the workflow activates
    description: str  # WorkflowDescription
    # Steps as stages, in order, each the blocks that run together: a Parallel block's
    # ParallelConfig.Steps make one stage, any other block a stage of its own.
    stages: tuple[tuple[Block, ...], ...]


@dataclass(frozen=True)
class ReportTarget:
    """Where the plan writes its execution reports (ReportConfiguration's S3 output)."""

    bucket: Resource  # the AWS::S3::Bucket of the plan's stack that BucketPath names
    prefix: str  # the path under the bucket, without slashes around it
    owner: str  # BucketOwner


@dataclass(frozen=True)
class SwitchPlan:
    """The tier's Region switch plan."""

    resource: Resource  # the AWS::ARCRegionSwitch::Plan (for a finding to point at)
    workflows: tuple[Workflow, ...]  # Workflows
    reports: ReportTarget | None = None  # None: no report, or not to a bucket of its stack

    def workflow(self, action: str, region: str) -> Workflow | None:
        """The first workflow of ``action`` (WorkflowTargetAction) that targets ``region``;
        None without one."""
        return next(
            (w for w in self.workflows if (w.action, w.region) == (action, region)),
            None,
        )


def switch_plan(tier: TierAssembly) -> SwitchPlan | None:
    """The tier's Region switch plan as synthesized; None without one (backup-restore)."""
    plan = next(iter(tier.of_type(PLAN_TYPE)), None)
    if plan is None:
        return None
    return SwitchPlan(
        resource=plan,
        workflows=tuple(_workflow(w) for w in plan.prop("Workflows", default=[])),
        reports=_reports(tier, plan),
    )


def _reports(tier: TierAssembly, plan: Resource) -> ReportTarget | None:
    """The report output as drtiers writes it: ``{Ref: <bucket>}`` joined to ``/<prefix>``."""
    outputs = plan.prop("ReportConfiguration", "ReportOutput", default=[])
    s3 = outputs[0].get("S3Configuration", {}) if outputs else {}
    path = s3.get("BucketPath")
    parts = path["Fn::Join"][1] if isinstance(path, dict) and "Fn::Join" in path else []
    if len(parts) != 2 or not isinstance(parts[0], dict) or not isinstance(parts[1], str):
        return None
    bucket = tier.by_id(plan.stack, str(parts[0].get("Ref", "")))
    if bucket is None or bucket.type != "AWS::S3::Bucket":
        return None
    return ReportTarget(bucket, parts[1].strip("/"), str(s3.get("BucketOwner", "")))


def _workflow(workflow: Mapping[str, Any]) -> Workflow:
    return Workflow(
        action=workflow.get("WorkflowTargetAction", ""),
        region=workflow.get("WorkflowTargetRegion", ""),
        description=workflow.get("WorkflowDescription", ""),
        stages=tuple(_stage(step) for step in workflow.get("Steps", [])),
    )


def _stage(step: Mapping[str, Any]) -> tuple[Block, ...]:
    """The blocks of one workflow step: a Parallel block's steps, else the block itself."""
    if step.get("ExecutionBlockType") == PARALLEL:
        parallel = step.get("ExecutionBlockConfiguration", {}).get("ParallelConfig", {})
        return tuple(_block(x) for x in parallel.get("Steps", []))
    return (_block(step),)


def _block(step: Mapping[str, Any]) -> Block:
    kind = step.get("ExecutionBlockType", "")
    read = _CONFIGS.get(kind)
    config = step.get("ExecutionBlockConfiguration", {})
    # Each configuration is one object (GlobalAuroraConfig, ...) that may set TimeoutMinutes.
    inner = next((v for v in config.values() if isinstance(v, dict)), {})
    return Block(
        name=step.get("Name", ""),
        description=step.get("Description", ""),
        kind=kind,
        config=read(config) if read else None,
        timeout_minutes=inner.get("TimeoutMinutes"),
    )


def _aurora(config: Mapping[str, Any]) -> AuroraGlobal:
    aurora = config.get("GlobalAuroraConfig", {})
    return AuroraGlobal(
        behavior=aurora.get("Behavior", ""),
        ungraceful=aurora.get("Ungraceful", {}).get("Ungraceful"),
        cluster_arns=tuple(aurora.get("DatabaseClusterArns", [])),
        global_cluster=str(aurora.get("GlobalClusterIdentifier", "")),
    )


def _rds_promotion(config: Mapping[str, Any]) -> RdsPromotion:
    promote = config.get("RdsPromoteReadReplicaConfig", {})
    return RdsPromotion(instance_arns=dict(promote.get("DbInstanceArnMap", {})))


def _ecs(config: Mapping[str, Any]) -> EcsScaling:
    ecs = config.get("EcsCapacityIncreaseConfig", {})
    return EcsScaling(
        service_arns=tuple(x.get("ServiceArn", "") for x in ecs.get("Services", [])),
        target_percent=ecs.get("TargetPercent", 100),
        wait_for_healthy_targets=ecs.get("WaitELBTargetGroupHealthy") == "enabled",
    )


def _lambda(config: Mapping[str, Any]) -> LambdaAction:
    action = config.get("CustomActionLambdaConfig", {})
    return LambdaAction(
        region_to_run=action.get("RegionToRun", ""),
        lambdas=tuple(
            PlanLambda(arn=x.get("Arn", ""), payload=json.loads(x.get("Payload", "{}")))
            for x in action.get("Lambdas", [])
        ),
        timeout_minutes=action.get("TimeoutMinutes"),
    )


# How each block type's ExecutionBlockConfiguration is read.
_CONFIGS: dict[str, Callable[[Mapping[str, Any]], BlockConfig]] = {
    APPROVAL: lambda config: Approval(
        role=str(config.get("ExecutionApprovalConfig", {}).get("ApprovalRole", ""))
    ),
    AURORA: _aurora,
    RDS_PROMOTE: _rds_promotion,
    RDS_REPLICA: lambda _: RdsReplication(),
    ECS: _ecs,
    LAMBDA: _lambda,
}
