"""ARC Region switch: the plan (with its execution and approval roles) and the small function
its custom-action steps invoke in each region.

The plan's workflows come from drtiers.recovery.plan (rendered from the tier's step list);
these constructs only give them a home, roles and permissions. There is no L2 for Region
switch, so the plan is the L1 ``CfnPlan``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
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
from drtiers.tiers import PRIMARY_HEALTHY_TARGETS

# The plan-actions function: one handler, three actions, each the data-plane or API call that
# no Region switch block makes (see drtiers.recovery.plan). Inline, so synth needs no bundling.
_HANDLER = """
import boto3


def handler(event, context):
    # Region switch merges the step's JSON payload into the event (beside InvokedBy, PlanArn,
    # ExecutionId and StepName).
    action = event["action"]
    if action == "declare":
        boto3.client("dynamodb", region_name=event["region"]).put_item(
            TableName=event["table"],
            Item={
                "pk": {"S": "drtiers"},
                "sk": {"S": "writer-region"},
                "region": {"S": event["region"]},
            },
        )
        metric = event.get("metric")
        if metric:
            boto3.client("cloudwatch", region_name=metric["region"]).put_metric_data(
                Namespace=metric["namespace"],
                MetricData=[
                    {
                        "MetricName": metric["name"],
                        "Dimensions": [
                            {"Name": k, "Value": v} for k, v in metric["dimensions"].items()
                        ],
                        "Value": float(metric["value"]),
                    }
                ],
            )
    elif action == "scale":
        resource = "service/%s/%s" % (event["cluster"], event["service"])
        scaling = boto3.client("application-autoscaling", region_name=event["region"])
        found = scaling.describe_scalable_targets(
            ServiceNamespace="ecs", ResourceIds=[resource]
        )["ScalableTargets"]
        if found:  # the minimum first, or target tracking would undo the new count
            scaling.register_scalable_target(
                ServiceNamespace="ecs",
                ResourceId=resource,
                ScalableDimension="ecs:service:DesiredCount",
                MinCapacity=event["count"],
                MaxCapacity=max(found[0]["MaxCapacity"], event["count"]),
            )
        boto3.client("ecs", region_name=event["region"]).update_service(
            cluster=event["cluster"], service=event["service"], desiredCount=event["count"]
        )
    elif action == "probe":  # every minute, from a schedule in the recovery region
        cloudwatch = boto3.client("cloudwatch")
        for probe in range(event["probes"]):
            cloudwatch.put_metric_data(
                Namespace=event["namespace"],
                MetricData=[
                    {
                        "MetricName": event["metric"],
                        "Dimensions": [{"Name": "Tier", "Value": event["tier"]}],
                        "Value": float(healthy_targets(event)),
                        "StorageResolution": 1,
                    }
                ],
            )
            if probe + 1 < event["probes"]:
                time.sleep(event["every"])
    elif action == "dial":
        ga = boto3.client("globalaccelerator", region_name=event["api_region"])
        for accelerator in ga.list_accelerators()["Accelerators"]:
            if accelerator["Name"] != event["accelerator"]:
                continue
            for listener in ga.list_listeners(AcceleratorArn=accelerator["AcceleratorArn"])[
                "Listeners"
            ]:
                for group in ga.list_endpoint_groups(ListenerArn=listener["ListenerArn"])[
                    "EndpointGroups"
                ]:
                    if group["EndpointGroupRegion"] == event["region"]:
                        ga.update_endpoint_group(
                            EndpointGroupArn=group["EndpointGroupArn"],
                            TrafficDialPercentage=float(event["percent"]),
                        )
    else:
        raise ValueError("unknown action %r" % action)
    return {"done": action}
"""


class PlanActions(Construct):
    """The function a Region switch plan's custom-action steps invoke in this region.

    :param function_name: fixed, so the plan (in another stack) names it by ARN.
    :param table_arns: the tier's table in each region (declaring the writer's region).
    :param services: ``(region, cluster name, service name)`` it may scale.
    :param declared_namespace: the CloudWatch namespace it may put the declaration into.
    :param accelerator: whether it may change the tier's accelerator dials.
    :param log_key: encrypts its log group.
    :param probe: ``(region, cluster name, service name)`` of the primary's service: probe its
        healthy targets every ``probe_seconds`` and put them into ``declared_namespace`` here
        (the plan's trigger alarm follows them). Default: no probe.
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
        tier: str = "",
    ) -> None:
        super().__init__(scope, id_)
        if probe is not None and not (1 <= probe_seconds <= 20 and tier):
            raise ValueError(
                f"PlanActions: probe_seconds {probe_seconds} must be 1..20 and a tier given"
            )
        if not table_arns or not services:
            raise ValueError("PlanActions: give the tier's tables and services")
        log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{function_name}",
            encryption_key=log_key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=removal_policy,
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Region switch plan actions: declare the writer, scale, dial",
        )
        log_group.grant_write(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=["dynamodb:PutItem"], resources=list(table_arns))
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": declared_namespace}},
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # Application Auto Scaling describes the service when its target is registered.
                actions=["ecs:UpdateService", "ecs:DescribeServices"],
                resources=[
                    f"arn:aws:ecs:{region}:{account}:service/{cluster}/{service}"
                    for region, cluster, service in services
                ],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:RegisterScalableTarget",
                ],
                resources=["*"],
            )
        )
        if accelerator:
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=[
                        "globalaccelerator:ListAccelerators",
                        "globalaccelerator:ListListeners",
                        "globalaccelerator:ListEndpointGroups",
                        "globalaccelerator:UpdateEndpointGroup",
                    ],
                    resources=["*"],
                )
            )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(_HANDLER),
            role=role,
            timeout=Duration.seconds(90),  # a probe runs for about a minute
            log_group=log_group,
            reserved_concurrent_executions=4,
        )
        if probe is not None:
            region, cluster, service = probe
            role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["elasticloadbalancing:DescribeTargetHealth"], resources=["*"]
                )
            )
            events.Rule(
                self,
                "Probe",
                description="Probe the primary's healthy targets (the plan's trigger)",
                schedule=events.Schedule.rate(Duration.minutes(1)),
                targets=[
                    targets.LambdaFunction(
                        self.function,
                        event=events.RuleTargetInput.from_object(
                            {
                                "action": "probe",
                                "region": region,
                                "cluster": cluster,
                                "service": service,
                                "namespace": declared_namespace,
                                "metric": PRIMARY_HEALTHY_TARGETS,
                                "tier": tier,
                                "probes": 60 // probe_seconds,
                                "every": probe_seconds,
                            }
                        ),
                        retry_attempts=0,  # the next minute's probe follows anyway
                    )
                ],
            )
        policy = role.node.find_child("DefaultPolicy").node.default_child
        for finding, reason in _WILDCARDS:
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason, checker="cdk-nag")
        cfn = self.function.node.default_child
        for rule, reason in _FUNCTION_FINDINGS:
            acknowledge(cfn, rule, reason, checker="guard")
        acknowledge(
            cfn,
            "W3005",
            "The L2 function depends on its role (and the role's policy) explicitly; harmless.",
        )


_WILDCARDS = (
    (
        "Resource::*",
        "PutMetricData takes no resource (narrowed to the declared namespace by a condition); "
        "Application Auto Scaling's describe and register calls and Global Accelerator's "
        "list and update calls are made on targets looked up at run time.",
    ),
    (
        "Action::logs:*",
        "Written by LogGroup.grant_write on the function's own log group only.",
    ),
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
    :param triggers: CloudFormation ``Triggers``: each names trigger alarms of ``alarms``.
    :param resources: what the execution role may act on, by block: ``rds`` (cluster, global
        cluster and instance ARNs), ``ecs`` (service ARNs), ``lambda`` (function ARNs).
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
        triggers: Sequence[Mapping[str, Any]] = (),
        resources: Mapping[str, Sequence[str]],
        approval_role_name: str,
        account: str,
    ) -> None:
        super().__init__(scope, id_)
        if not 1 <= len(name) <= 32:
            raise ValueError(f"RegionSwitchPlan: name '{name}' must be 1-32 characters")
        if rto_seconds <= 0:
            raise ValueError(f"RegionSwitchPlan: rto_seconds {rto_seconds} must be positive")
        self.rto_minutes = math.ceil(rto_seconds / 60)
        principal = iam.ServicePrincipal("arc-region-switch.amazonaws.com")
        execution_role_name = f"{name}-plan-execution"
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            role_name=execution_role_name,
            assumed_by=principal,
            description=f"Executes the Region switch plan {name}",
        )
        plan_arn = f"arn:aws:arc-region-switch::{account}:plan/{name}:*"
        self.approval_role = iam.Role(
            self,
            "ApprovalRole",
            role_name=approval_role_name,
            assumed_by=iam.AccountRootPrincipal(),
            description=f"Approves or declines the manual steps of the Region switch plan {name}",
        )
        self.approval_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "arc-region-switch:ApprovePlanExecutionStep",
                    "arc-region-switch:GetPlanExecution",
                    "arc-region-switch:ListPlanExecutionEvents",
                ],
                resources=[plan_arn],
            )
        )
        statements = [
            iam.PolicyStatement(
                actions=["cloudwatch:DescribeAlarms", "cloudwatch:GetMetricStatistics"],
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
            # Plan evaluation checks the role's own permissions (the complete sample policy).
            iam.PolicyStatement(
                actions=["iam:SimulatePrincipalPolicy"],
                resources=[f"arn:aws:iam::{account}:role/{execution_role_name}"],
            ),
        ]
        if resources.get("rds"):
            statements += [
                iam.PolicyStatement(
                    # As AWS's sample policy for the RDS blocks: creating a replica also
                    # authorizes against the subnet, parameter and option groups it copies, and
                    # the renamed instance gets an ARN of its own.
                    actions=[
                        "rds:DescribeGlobalClusters",
                        "rds:DescribeDBClusters",
                        "rds:DescribeDBInstances",
                        "rds:PromoteReadReplica",
                        "rds:CreateDBInstanceReadReplica",
                        "rds:ModifyDBInstance",
                        "rds:AddTagsToResource",
                    ],
                    resources=["*"],
                ),
                iam.PolicyStatement(
                    actions=["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster"],
                    resources=list(resources["rds"]),
                ),
                iam.PolicyStatement(  # the encrypted replica: RDS uses the region's data key
                    actions=["kms:CreateGrant", "kms:DescribeKey"],
                    resources=["*"],
                    conditions={
                        "StringEquals": {
                            "kms:ViaService": [
                                f"rds.{r}.amazonaws.com" for r in (primary_region, recovery_region)
                            ]
                        }
                    },
                ),
            ]
        if resources.get("ecs"):
            statements += [
                iam.PolicyStatement(
                    actions=["ecs:DescribeServices", "ecs:UpdateService"],
                    resources=list(resources["ecs"]),
                ),
                iam.PolicyStatement(
                    actions=[
                        "ecs:DescribeClusters",
                        "ecs:ListServices",
                        "application-autoscaling:DescribeScalableTargets",
                        "application-autoscaling:RegisterScalableTarget",
                    ],
                    resources=["*"],
                ),
            ]
        if resources.get("lambda"):
            statements.append(
                iam.PolicyStatement(
                    actions=["lambda:GetFunction", "lambda:InvokeFunction"],
                    resources=list(resources["lambda"]),
                )
            )
        for statement in statements:
            self.execution_role.add_to_principal_policy(statement)
        plan_finding = (
            f"Resource::{plan_arn}",
            "The plan's ARN ends in an id Region switch assigns; the name fixes the plan.",
        )
        for role, reasons in (
            (self.execution_role, (*_EXECUTION_WILDCARDS, plan_finding)),
            (self.approval_role, (plan_finding,)),
        ):
            policy = role.node.find_child("DefaultPolicy").node.default_child
            for finding, reason in reasons:
                acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason, checker="cdk-nag")
        self.plan = arc.CfnPlan(
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
        self.plan.add_property_override("Workflows", list(workflows))
        for trigger in triggers:
            for condition in trigger["Conditions"]:
                alarm = alarms.get(condition["AssociatedAlarmName"], {})
                if alarm.get("AlarmType") != "trigger":
                    raise ValueError(
                        f"RegionSwitchPlan: trigger condition {condition['AssociatedAlarmName']} "
                        "is not an associated alarm of type trigger"
                    )
        if alarms:
            self.plan.add_property_override("AssociatedAlarms", dict(alarms))
        if triggers:
            self.plan.add_property_override("Triggers", list(triggers))
        # Region switch evaluates the plan's permissions when it is created.
        self.plan.node.add_dependency(self.execution_role.node.find_child("DefaultPolicy"))


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
