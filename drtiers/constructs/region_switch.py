"""ARC Region switch: the plan (with its execution and approval roles) and the small function
its custom-action steps invoke in each region.

The plan's workflows come from drtiers.recovery.plan (rendered from the tier's step list);
these constructs only give them a home, roles and permissions. There is no L2 for Region
switch, so the plan is the L1 ``CfnPlan``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_arcregionswitch as arc
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from drtiers.constructs.lint import acknowledge
from drtiers.constructs.relational import monitoring_role_name
from drtiers.constructs.reports import ReportBucket
from drtiers.core.tiers import PRIMARY_HEALTHY_TARGETS, ROLE_TAG, STALE_ROLE

# The plan-actions function's code (drtiers/lambdas/plan_actions.py, linted and tested as a
# module), deployed inline so that synth needs no bundling.
# It imports boto3, which only the Lambda runtime has: read, never imported, here.
_CODE = (Path(__file__).resolve().parents[1] / "lambdas" / "plan_actions.py").read_text()


def _check_plan_actions(
    table_arns: Sequence[str],
    services: Sequence[tuple[str, str, str]],
    probe: tuple[str, str, str] | None,
    probe_seconds: int,
    probe_dimensions: Mapping[str, str],
) -> None:
    """Refuse a probe that cannot report, and a function with nothing to act on."""
    if probe is not None and not (1 <= probe_seconds <= 30 and 60 % probe_seconds == 0):
        raise ValueError(f"PlanActions: probe_seconds {probe_seconds} must divide 60, up to 30")
    if probe is not None and not probe_dimensions:
        raise ValueError("PlanActions: a probe needs the dimensions its alarm reads")
    if not table_arns or not services:
        raise ValueError("PlanActions: give the tier's tables and services")


def plan_arn(account: str, name: str) -> str:
    """Any Region switch plan named ``name`` (its ARN ends in an id Region switch assigns)."""
    return f"arn:aws:arc-region-switch::{account}:plan/{name}:*"


def execution_role(plan: str) -> str:
    """The name of the plan ``plan``'s execution role (a parent's child trusts it by name)."""
    return f"{plan}-plan-execution"


def _dial_accelerator() -> iam.PolicyStatement:
    """Find the tier's accelerator and turn its endpoint groups' dials."""
    return iam.PolicyStatement(
        actions=[
            "globalaccelerator:ListAccelerators",
            "globalaccelerator:ListListeners",
            "globalaccelerator:ListEndpointGroups",
            "globalaccelerator:UpdateEndpointGroup",
        ],
        resources=["*"],
    )


class PlanActions(Construct):
    """The function a Region switch plan's custom-action steps invoke in this region and, in
    the recovery region of a tier that fails over by itself, a probe of the primary and what
    starts the plan when the probe's alarm turns red.

    :param function_name: fixed, so the plan (in another stack) names it by ARN.
    :param table_arns: the tier's table in each region (declaring the writer's region).
    :param services: ``(region, cluster name, service name)`` it may scale.
    :param declared_namespace: the CloudWatch namespace it may put the declaration into.
    :param accelerator: whether it may change the tier's accelerator dials.
    :param log_key: encrypts its log groups.
    :param probe: ``(region, cluster name, service name)`` of the primary's service: probe its
        healthy targets every ``probe_seconds`` into ``declared_namespace`` here, with
        ``probe_dimensions`` (those its alarm reads: core.tiers.declared_dimensions), from a
        function of its own (``<function_name>-probe``). Default: no probe.
    :param plan_start: ``(plan name, primary region, recovery region, alarm name)``: start the
        plan's failover, gracefully, when that alarm turns red. Default: never.
    :param forward: ``((region, stack name), (region, stack name))``: move what the first
        stack's work queues hold to the second's queues of the same logical ids (failback,
        R's messages to P). Default: never.
    :param instances: ``(region, identifier)`` of the RDS instances a replica block makes
        again: it sets what their templates set and that block does not copy, their
        monitoring role (``<identifier>-monitoring-<region>``) among them. Default: none.
    :param proxy: ``(region, identifier)`` of the instance whose proxy it points at the
        instance now under that identifier. Default: none.
    :param scope_tags: the tags of this deployment's resources (app and tier): with
        ``instances``, it may tag ``drtiers:role=stale`` the instances of those regions that
        carry them, which the replica block renamed out of the way. Default: none.
    :param reserved_concurrency: reserve this many concurrent executions for each function.
        Default: none, as a new account's quota may have none to spare (docs/decisions.md).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        function_name: str,
        account: str,
        table_arns: Sequence[str],
        services: Sequence[tuple[str, str, str]],
        declared_namespace: str,
        accelerator: bool,
        log_key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        probe: tuple[str, str, str] | None = None,
        probe_seconds: int = 10,
        probe_dimensions: Mapping[str, str] | None = None,
        plan_start: tuple[str, str, str, str] | None = None,
        forward: tuple[tuple[str, str], tuple[str, str]] | None = None,
        instances: Sequence[tuple[str, str]] = (),
        proxy: tuple[str, str] | None = None,
        scope_tags: Mapping[str, str] | None = None,
        reserved_concurrency: int | None = None,
    ) -> None:
        super().__init__(scope, id_)
        put = dict(probe_dimensions or {})
        _check_plan_actions(table_arns, services, probe, probe_seconds, put)
        self._account, self._namespace = account, declared_namespace
        self._log_key, self._removal = log_key, removal_policy
        self._concurrency = reserved_concurrency
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Region switch plan actions: declare the writer, scale, dial",
        )
        for statement in self._statements(
            table_arns=table_arns,
            services=services,
            accelerator=accelerator,
            plan_start=plan_start,
            forward=forward,
        ):
            role.add_to_principal_policy(statement)
        for statement in self._rds_statements(instances=instances, proxy=proxy):
            role.add_to_principal_policy(statement)
        for statement in self._stale_statements(instances, scope_tags or {}):
            role.add_to_principal_policy(statement)
        wildcards = self._wildcards(plan_start=plan_start, forward=forward)
        wildcards += self._instance_wildcards(instances, proxy)
        self.function = self._function("Function", function_name, role, wildcards=wildcards)
        if plan_start is not None:
            self._start_plan_rule(plan_start, table_arns=table_arns)
        if probe is not None:
            self._probe(probe, function_name=function_name, dimensions=put, every=probe_seconds)

    def _statements(
        self,
        *,
        table_arns: Sequence[str],
        services: Sequence[tuple[str, str, str]],
        accelerator: bool,
        plan_start: tuple[str, str, str, str] | None,
        forward: tuple[tuple[str, str], tuple[str, str]] | None,
    ) -> list[iam.PolicyStatement]:
        """What the function's role may do: declare the writer, scale the services and, as
        asked, dial the accelerator, start the plan and forward messages."""
        statements = [
            # The control table's AWS managed key lets any caller DynamoDB serves in the account
            # use it: no key statement.
            iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=list(table_arns)),
            self._put_declared_metric(),
            iam.PolicyStatement(
                # Application Auto Scaling describes the service when its target is registered.
                actions=["ecs:UpdateService", "ecs:DescribeServices"],
                resources=[self._service_arn(service) for service in services],
            ),
            iam.PolicyStatement(
                actions=[
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:RegisterScalableTarget",
                ],
                resources=["*"],
            ),
        ]
        if accelerator:
            statements.append(_dial_accelerator())
        if plan_start is not None:
            statements += [
                iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=list(table_arns)),
                iam.PolicyStatement(
                    actions=["arc-region-switch:ListPlansInRegion"], resources=["*"]
                ),
                iam.PolicyStatement(
                    actions=["arc-region-switch:StartPlanExecution"],
                    resources=[plan_arn(self._account, plan_start[0])],
                ),
            ]
        if forward is not None:
            statements += self._forward_statements(*forward)
        return statements

    def _rds_statements(
        self, *, instances: Sequence[tuple[str, str]], proxy: tuple[str, str] | None
    ) -> list[iam.PolicyStatement]:
        """Modify the instances a replica block makes; move the proxy's target to the instance
        under its identifier. Its predecessor is deregistered under whatever name the RDS
        replica block renamed it to (AWS documents only that it is "renamed and tagged with
        renamedByRegionSwitch"), so deregistering takes any instance of the region; registering
        takes only the identifier."""
        statements = []
        if instances:
            statements += [
                # Describing them is in _stale_statements, on every instance of their regions.
                iam.PolicyStatement(
                    actions=["rds:ModifyDBInstance", "rds:AddTagsToResource"],
                    resources=[self._rds_arn(r, f"db:{name}") for r, name in instances],
                ),
                # The monitoring role the template names, passed to RDS monitoring only.
                iam.PolicyStatement(
                    actions=["iam:PassRole"],
                    resources=[
                        f"arn:aws:iam::{self._account}:role/{monitoring_role_name(name, r)}"
                        for r, name in instances
                    ],
                    conditions={
                        "StringEquals": {"iam:PassedToService": "monitoring.rds.amazonaws.com"}
                    },
                ),
            ]
        if proxy is not None:
            region, name = proxy
            groups = [self._rds_arn(region, "db-proxy:*"), self._rds_arn(region, "target-group:*")]
            statements += [
                iam.PolicyStatement(actions=["rds:DescribeDBProxyTargets"], resources=groups),
                iam.PolicyStatement(
                    actions=["rds:DeregisterDBProxyTargets"],
                    resources=[*groups, self._rds_arn(region, "db:*")],
                ),
                iam.PolicyStatement(
                    actions=["rds:RegisterDBProxyTargets"],
                    resources=[*groups, self._rds_arn(region, f"db:{name}")],
                ),
            ]
        return statements

    def _rds_arn(self, region: str, resource: str) -> str:
        return f"arn:aws:rds:{region}:{self._account}:{resource}"

    def _stale_statements(
        self, instances: Sequence[tuple[str, str]], scope_tags: Mapping[str, str]
    ) -> list[iam.PolicyStatement]:
        """List the instances of each region (the renamed one's name is the block's), and tag
        drtiers:role=stale only those carrying the deployment's tags, with nothing else."""
        if not instances:
            return []
        if not scope_tags:
            raise ValueError("PlanActions: instances need the scope_tags of the deployment")
        regions = sorted({region for region, _ in instances})
        every = [self._rds_arn(region, "db:*") for region in regions]
        tagged = {f"aws:ResourceTag/{key}": value for key, value in scope_tags.items()}
        return [
            iam.PolicyStatement(actions=["rds:DescribeDBInstances"], resources=every),
            iam.PolicyStatement(
                actions=["rds:AddTagsToResource"],
                resources=every,
                conditions={
                    "StringEquals": {**tagged, f"aws:RequestTag/{ROLE_TAG}": STALE_ROLE},
                    "ForAllValues:StringEquals": {"aws:TagKeys": [ROLE_TAG]},
                },
            ),
        ]

    def _instance_wildcards(
        self, instances: Sequence[tuple[str, str]], proxy: tuple[str, str] | None
    ) -> list[tuple[str, str]]:
        """The instances the replica block renamed, by a scheme AWS does not document: listed,
        and tagged stale or deregistered from the proxy."""
        regions = {region for region, _ in instances} | ({proxy[0]} if proxy else set())
        why = (
            "The instance the RDS replica block renamed, by a scheme AWS does not document: "
            "listed, tagged stale only if it carries this deployment's tags, and deregistered "
            "from the proxy."
        )
        wildcards = [(f"Resource::{self._rds_arn(r, 'db:*')}", why) for r in sorted(regions)]
        if proxy is not None:
            region, _ = proxy
            ids = "A proxy and its target group are named by ids RDS assigns; only this region's."
            wildcards += [
                (f"Resource::{self._rds_arn(region, 'db-proxy:*')}", ids),
                (f"Resource::{self._rds_arn(region, 'target-group:*')}", ids),
            ]
        return wildcards

    def _forward_statements(
        self, source: tuple[str, str], target: tuple[str, str]
    ) -> list[iam.PolicyStatement]:
        """Exactly what the forward calls: each stack's queue URLs from CloudFormation; receive,
        delete and count in the source's queues, send to the target's; and their keys as SQS
        uses them (SQS's key management: producers and consumers of an encrypted queue need
        the key's permissions, https://docs.aws.amazon.com/AWSSimpleQueueService/latest/
        SQSDeveloperGuide/sqs-key-management.html, read 2026-12-04)."""
        return [
            iam.PolicyStatement(
                actions=["cloudformation:DescribeStackResource"],
                resources=[self._stack_arn(source), self._stack_arn(target)],
            ),
            iam.PolicyStatement(
                actions=["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                resources=[self._queues_arn(source)],
            ),
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[self._queues_arn(target)]),
            self._key_through_sqs(source[0], ["kms:Decrypt"]),
            self._key_through_sqs(target[0], ["kms:Decrypt", "kms:GenerateDataKey"]),
        ]

    def _key_through_sqs(self, region: str, actions: list[str]) -> iam.PolicyStatement:
        """The queues' key in ``region`` (another stack's, whose ARN this one may not read), used
        only as SQS uses it there on the function's behalf."""
        return iam.PolicyStatement(
            actions=actions,
            resources=[f"arn:aws:kms:{region}:{self._account}:key/*"],
            conditions={"StringEquals": {"kms:ViaService": f"sqs.{region}.amazonaws.com"}},
        )

    def _stack_arn(self, stack: tuple[str, str]) -> str:
        """Any stack of that name in that region (its ARN ends in an id CloudFormation assigns)."""
        region, name = stack
        return f"arn:aws:cloudformation:{region}:{self._account}:stack/{name}/*"

    def _put_declared_metric(self) -> iam.PolicyStatement:
        """PutMetricData, into the declared namespace only."""
        return iam.PolicyStatement(
            actions=["cloudwatch:PutMetricData"],
            resources=["*"],
            conditions={"StringEquals": {"cloudwatch:namespace": self._namespace}},
        )

    def _service_arn(self, service: tuple[str, str, str]) -> str:
        """The ARN of ``(region, cluster name, service name)``."""
        region, cluster, name = service
        return f"arn:aws:ecs:{region}:{self._account}:service/{cluster}/{name}"

    def _queues_arn(self, queues: tuple[str, str]) -> str:
        """The queues CloudFormation names after the stack of ``(region, stack name)``."""
        region, stack = queues
        return f"arn:aws:sqs:{region}:{self._account}:{stack}-*"

    def _wildcards(
        self,
        *,
        plan_start: tuple[str, str, str, str] | None,
        forward: tuple[tuple[str, str], tuple[str, str]] | None,
    ) -> list[tuple[str, str]]:
        """The function's wildcard resources, each with its reason."""
        wildcards = list(_WILDCARDS)
        for stack in forward or ():
            wildcards += [
                (
                    f"Resource::{self._queues_arn(stack)}",
                    "The queues CloudFormation names after their stack: only that stack's.",
                ),
                (
                    f"Resource::{self._stack_arn(stack)}",
                    "The stack's ARN ends in an id CloudFormation assigns: that stack's only.",
                ),
                (
                    f"Resource::arn:aws:kms:{stack[0]}:{self._account}:key/*",
                    "The queues' key is another stack's, in another region: usable only "
                    "through SQS there (kms:ViaService).",
                ),
            ]
        if plan_start is not None:
            wildcards.append(
                (f"Resource::{plan_arn(self._account, plan_start[0])}", PLAN_ID_REASON)
            )
        return wildcards

    def _start_plan_rule(
        self, plan_start: tuple[str, str, str, str], *, table_arns: Sequence[str]
    ) -> events.Rule:
        """The rule that starts the plan's failover when the probe's alarm turns red."""
        plan, primary_region, recovery_region, alarm = plan_start
        table = next(a for a in table_arns if f":{recovery_region}:" in a).split("/")[-1]
        # EventBridge sends the alarm's state changes in this region (a data-plane path).
        return events.Rule(
            self,
            "StartPlan",
            description=f"Fail over by the plan {plan} when {alarm} turns red",
            event_pattern=events.EventPattern(
                source=["aws.cloudwatch"],
                detail_type=["CloudWatch Alarm State Change"],
                detail={"alarmName": [alarm], "state": {"value": ["ALARM"]}},
            ),
            targets=[
                targets.LambdaFunction(
                    self.function,
                    event=events.RuleTargetInput.from_object(
                        {
                            "action": "start-plan",
                            "plan": plan,
                            "primary_region": primary_region,
                            "recovery_region": recovery_region,
                            "table": table,
                        }
                    ),
                    retry_attempts=2,
                )
            ],
        )

    def _probe(
        self,
        probe: tuple[str, str, str],
        *,
        function_name: str,
        dimensions: Mapping[str, str],
        every: int,
    ) -> None:
        """The probe of the primary's service: its own role, function and schedule."""
        probe_role = iam.Role(
            self,
            "ProbeRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Probe the primary's healthy targets from the recovery region",
        )
        for statement in (
            iam.PolicyStatement(
                actions=["ecs:DescribeServices"], resources=[self._service_arn(probe)]
            ),
            iam.PolicyStatement(
                actions=["elasticloadbalancing:DescribeTargetHealth"], resources=["*"]
            ),
            self._put_declared_metric(),
        ):
            probe_role.add_to_principal_policy(statement)
        # Its own function: a probe of a lost region must never keep the plan's steps waiting
        # (nor, with reserved_concurrency, draw on their reservation). Asynchronous, once a
        # minute, never retried and timed out at 90 s: it never runs more than two at once.
        prober = self._function(
            "Probe", f"{function_name}-probe", probe_role, wildcards=_PROBE_WILDCARDS
        )
        prober.configure_async_invoke(retry_attempts=0, max_event_age=Duration.seconds(60))
        self._probe_schedule(prober, probe, dimensions=dimensions, every=every)

    def _probe_schedule(
        self,
        prober: lambda_.Function,
        probe: tuple[str, str, str],
        *,
        dimensions: Mapping[str, str],
        every: int,
    ) -> events.Rule:
        """The rule that runs the probe every minute (it probes every ``every`` seconds)."""
        region, cluster, service = probe
        return events.Rule(
            self,
            "ProbeSchedule",
            description="Probe the primary's healthy targets (what starts the plan)",
            schedule=events.Schedule.rate(Duration.minutes(1)),
            targets=[
                targets.LambdaFunction(
                    prober,
                    event=events.RuleTargetInput.from_object(
                        {
                            "action": "probe",
                            "region": region,
                            "cluster": cluster,
                            "service": service,
                            "namespace": self._namespace,
                            "metric": PRIMARY_HEALTHY_TARGETS,
                            "dimensions": dict(dimensions),
                            "every": every,
                        }
                    ),
                    retry_attempts=0,
                )
            ],
        )

    def _function(
        self,
        id_: str,
        name: str,
        role: iam.Role,
        *,
        wildcards: Sequence[tuple[str, str]],
    ) -> lambda_.Function:
        """A function of this code, with its own encrypted log group, under ``role`` (whose
        wildcard resources ``wildcards`` acknowledge, each with its reason)."""
        log_group = logs.LogGroup(
            self,
            f"{id_}Logs",
            log_group_name=f"/aws/lambda/{name}",
            encryption_key=self._log_key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=self._removal,
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            id_,
            function_name=name,
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(_CODE),
            role=role,
            timeout=Duration.seconds(90),  # a probe runs for about a minute
            log_group=log_group,
            reserved_concurrent_executions=self._concurrency,
        )
        policy = role.node.find_child("DefaultPolicy").node.default_child
        for finding, reason in wildcards:
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason, checker="cdk-nag")
        cfn = function.node.default_child
        for rule, reason in _FUNCTION_FINDINGS:
            acknowledge(cfn, rule, reason, checker="guard")
        acknowledge(
            cfn,
            "W3005",
            "The L2 function depends on its role (and the role's policy) explicitly; harmless.",
        )
        return function


PLAN_ID_REASON = "The plan's ARN ends in an id Region switch assigns; the name fixes the plan."
_WILDCARDS = (
    (
        "Resource::*",
        "PutMetricData takes no resource (narrowed to the declared namespace by a condition); "
        "Application Auto Scaling's describe and register calls, Global Accelerator's list and "
        "update calls and Region switch's plan listing are made on what is looked up at "
        "run time; the table replicas' key (another stack's) is named by its "
        "alias in a condition, as IAM cannot match a key by alias ARN.",
    ),
    (
        "Action::logs:*",
        "Written by LogGroup.grant_write on the function's own log group only.",
    ),
)
_PROBE_WILDCARDS = (
    (
        "Resource::*",
        "DescribeTargetHealth takes target groups looked up at run time; PutMetricData takes no "
        "resource (narrowed to the declared namespace by a condition).",
    ),
    ("Action::logs:*", "Written by LogGroup.grant_write on the function's own log group only."),
)
_FUNCTION_FINDINGS = (
    (
        "lambda_inside_vpc_check",
        "It calls only AWS APIs (DynamoDB, CloudWatch, ECS, Application Auto Scaling, Global "
        "Accelerator); in a VPC it would need an endpoint for each, in both regions.",
    ),
)


class RegionSwitchPlan(Construct):
    """An ARC Region switch plan, active/passive between the tier's two regions.

    :param name: the plan's name (1-32 letters, digits and hyphens).
    :param workflows: CloudFormation ``Workflows`` (drtiers.recovery.plan.workflows).
    :param rto_seconds: the tier's estimated RTO; the plan's objective is it in minutes,
        rounded up.
    :param alarms: CloudFormation ``AssociatedAlarms`` (name -> AlarmType, ResourceIdentifier).
    :param resources: what the execution role may act on, by block: ``aurora`` (global cluster
        and cluster ARNs), ``rds`` (instance ARNs), ``ecs`` (service ARNs), ``lambda`` (function
        ARNs): drtiers.recovery.plan.acted_on.
    :param reports: where the execution role writes a report of each execution.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        primary_region: str,
        recovery_region: str,
        workflows: Sequence[Mapping[str, Any]],
        rto_seconds: float,
        alarms: Mapping[str, Mapping[str, str]],
        resources: Mapping[str, Sequence[str]],
        approval_role_name: str,
        account: str,
        reports: ReportBucket,
    ) -> None:
        super().__init__(scope, id_)
        if not 1 <= len(name) <= 32:
            raise ValueError(f"RegionSwitchPlan: name '{name}' must be 1-32 characters")
        if rto_seconds <= 0:
            raise ValueError(f"RegionSwitchPlan: rto_seconds {rto_seconds} must be positive")
        self.rto_minutes = math.ceil(rto_seconds / 60)
        execution_role_name = execution_role(name)
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            role_name=execution_role_name,
            assumed_by=iam.ServicePrincipal("arc-region-switch.amazonaws.com"),
            description=f"Executes the Region switch plan {name}",
        )
        arn = plan_arn(account, name)
        self.approval_role = self._approval_role(approval_role_name, plan=name, plan_arn=arn)
        for statement in (
            *_evaluation_statements(
                plan_arn=arn, role_arn=f"arn:aws:iam::{account}:role/{execution_role_name}"
            ),
            *_execution_statements(resources, regions=(primary_region, recovery_region)),
            *reports.writer_statements(),
        ):
            self.execution_role.add_to_principal_policy(statement)
        self._acknowledge_wildcards(arn, reports.wildcards())
        self.plan = self._plan(
            name=name,
            primary_region=primary_region,
            recovery_region=recovery_region,
            workflows=workflows,
            alarms=alarms,
        )
        # A PDF report of each execution, to the bucket in this region (decision 47).
        self.plan.add_property_override("ReportConfiguration", reports.configuration)

    def _approval_role(self, role_name: str, *, plan: str, plan_arn: str) -> iam.Role:
        """The role an operator assumes to approve or decline the plan's manual steps."""
        role = iam.Role(
            self,
            "ApprovalRole",
            role_name=role_name,
            assumed_by=iam.AccountRootPrincipal(),
            description=f"Approves or declines the manual steps of the Region switch plan {plan}",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "arc-region-switch:ApprovePlanExecutionStep",
                    "arc-region-switch:GetPlanExecution",
                    "arc-region-switch:ListPlanExecutionEvents",
                ],
                resources=[plan_arn],
            )
        )
        return role

    def _acknowledge_wildcards(self, plan_arn: str, reports: Sequence[tuple[str, str]]) -> None:
        """Acknowledge both roles' wildcard resources, each with its reason."""
        plan_finding = (f"Resource::{plan_arn}", PLAN_ID_REASON)
        for role, reasons in (
            (self.execution_role, (*_EXECUTION_WILDCARDS, *reports, plan_finding)),
            (self.approval_role, (plan_finding,)),
        ):
            policy = role.node.find_child("DefaultPolicy").node.default_child
            for finding, reason in reasons:
                acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason, checker="cdk-nag")

    def _plan(
        self,
        *,
        name: str,
        primary_region: str,
        recovery_region: str,
        workflows: Sequence[Mapping[str, Any]],
        alarms: Mapping[str, Mapping[str, str]],
    ) -> arc.CfnPlan:
        """The plan, created once its execution role's policy exists."""
        plan = arc.CfnPlan(
            self,
            "Plan",
            name=name,
            execution_role=self.execution_role.role_arn,
            recovery_approach="activePassive",
            regions=[primary_region, recovery_region],
            primary_region=primary_region,
            recovery_time_objective_minutes=self.rto_minutes,
            workflows=[arc.CfnPlan.WorkflowProperty(workflow_target_action="activate")],
        )
        # The workflows as rendered (CloudFormation's own property names), not via the L1's
        # typed structs: one source of truth, and the simulator reads exactly this.
        plan.add_property_override("Workflows", list(workflows))
        if alarms:
            plan.add_property_override("AssociatedAlarms", dict(alarms))
        acknowledge(
            plan,
            "F3018",
            "The CDK's built-in validator carries an older AWS::ARCRegionSwitch::Plan schema (18 "
            "execution blocks, no Lambdas.Payload); the pinned cfn-lint 1.58 (make lint) and "
            "the Region switch API model (botocore 1.44.8) have both, and check this plan.",
            checker="cdk-builtin",
        )
        # Region switch evaluates the plan's permissions when it is created.
        plan.node.add_dependency(self.execution_role.node.find_child("DefaultPolicy"))
        return plan


def _evaluation_statements(*, plan_arn: str, role_arn: str) -> list[iam.PolicyStatement]:
    """What Region switch needs to evaluate the plan: read alarms, the plan and its executions,
    and simulate the execution role's own permissions (the complete sample policy)."""
    return [
        iam.PolicyStatement(
            actions=[
                "cloudwatch:DescribeAlarms",
                "cloudwatch:DescribeAlarmHistory",
                "cloudwatch:GetMetricStatistics",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            actions=[
                "arc-region-switch:GetPlan*",
                "arc-region-switch:GetPlanExecution",
                "arc-region-switch:ListPlanExecutions",
            ],
            resources=[plan_arn],
        ),
        iam.PolicyStatement(actions=["iam:SimulatePrincipalPolicy"], resources=[role_arn]),
    ]


def _execution_statements(
    resources: Mapping[str, Sequence[str]], *, regions: tuple[str, str]
) -> list[iam.PolicyStatement]:
    """What the plan's blocks act on, by block (drtiers.recovery.plan.acted_on)."""
    statements: list[iam.PolicyStatement] = []
    if resources.get("aurora"):
        statements.append(
            iam.PolicyStatement(
                actions=["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"],
                resources=list(resources["aurora"]),
            )
        )
    if resources.get("rds") or resources.get("aurora"):
        statements += _database_statements(replicas=bool(resources.get("rds")), regions=regions)
    if resources.get("ecs"):
        statements += _service_statements(resources["ecs"])
    if resources.get("lambda"):
        statements.append(
            iam.PolicyStatement(
                actions=["lambda:GetFunction", "lambda:InvokeFunction"],
                resources=list(resources["lambda"]),
            )
        )
    return statements


def _database_statements(*, replicas: bool, regions: tuple[str, str]) -> list[iam.PolicyStatement]:
    """Describe the databases and, for the RDS instance blocks (``replicas``), promote and
    create read replicas, with the data key of either region."""
    return [
        iam.PolicyStatement(
            # As AWS's sample policy for the RDS blocks: creating a replica also authorizes
            # against the subnet, parameter and option groups it copies, and the renamed
            # instance gets an ARN of its own. The Aurora blocks only describe; the replica
            # actions are for the RDS instance blocks alone.
            actions=[
                "rds:DescribeGlobalClusters",
                "rds:DescribeDBClusters",
                "rds:DescribeDBInstances",
                *(_REPLICA_ACTIONS if replicas else ()),
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(  # the encrypted replica: RDS uses the region's data key
            actions=["kms:CreateGrant", "kms:DescribeKey"],
            resources=["*"],
            conditions={
                "StringEquals": {"kms:ViaService": [f"rds.{r}.amazonaws.com" for r in regions]}
            },
        ),
    ]


_REPLICA_ACTIONS = (
    "rds:PromoteReadReplica",
    "rds:CreateDBInstanceReadReplica",
    "rds:ModifyDBInstance",
    "rds:AddTagsToResource",
)


def _service_statements(services: Sequence[str]) -> list[iam.PolicyStatement]:
    """Scale the tier's services (by ARN) and read what scaling them needs."""
    return [
        iam.PolicyStatement(
            actions=["ecs:DescribeServices", "ecs:UpdateService"], resources=list(services)
        ),
        iam.PolicyStatement(
            actions=[
                "ecs:DescribeClusters",
                "ecs:ListServices",
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:RegisterScalableTarget",
                # WaitELBTargetGroupHealthy lists the service's tasks and reads the target
                # group's health (AWS: "If waitELBTargetGroupHealthy option is disabled, you can
                # omit these permissions"; core/block_permissions.json).
                "ecs:ListTasks",
                "ecs:DescribeTasks",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            resources=["*"],
        ),
    ]


_EXECUTION_WILDCARDS = (
    (
        "Resource::*",
        "Describe and list calls Region switch makes to evaluate the plan and read alarms, which "
        "accept no narrower resource; the RDS replica actions as AWS's sample policy for the "
        "RDS blocks grants them (creating a replica authorizes against the groups it copies "
        "and the renamed instance); KMS grants only through RDS in the tier's two regions.",
    ),
    (
        "Action::arc-region-switch:GetPlan*",
        "GetPlan and GetPlanInRegion on this plan only.",
    ),
)
