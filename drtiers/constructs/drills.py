"""Drills: AWS Fault Injection Service experiment templates that rehearse a tier's failover.

Every experiment finds its targets by the tier's tags (never by name or ARN), stops as soon as
one of the tier's alarms fires, and runs as a role that may touch only resources carrying the
tier's tag, the network ACLs FIS creates, and (named) the ACLs it gives the subnets back. There
is no L2 for FIS, so the templates are L1 resources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Aws
from aws_cdk import aws_fis as fis
from aws_cdk import aws_iam as iam
from constructs import Construct

from drtiers.constructs.lint import acknowledge
from drtiers.core.durations import fault_seconds
from drtiers.core.tiers import EXERCISES_TAG

FIS_MANAGED_TAG = "managedByFIS"
DISRUPT_CONNECTIVITY = "aws:network:disrupt-connectivity"
# Pauses a global table's replication from the targeted replica for `duration` (required) by a
# time-bound resource-policy statement that FIS removes at the end; target type
# aws:dynamodb:global-table, permissions dynamodb:PutResourcePolicy, DeleteResourcePolicy,
# GetResourcePolicy, DescribeTable and tag:GetResources. Read 2026-11-28:
# https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#dynamodb-actions-reference
PAUSE_TABLE_REPLICATION = "aws:dynamodb:global-table-pause-replication"
_STEP_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
Target = (
    fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty
)  # put on the network ACLs that disrupt-connectivity creates


@dataclass(frozen=True)
class Drill:
    """One experiment: what it breaks and the runbook steps it exercises."""

    name: str
    description: str
    action_id: str
    resource_type: str
    target_key: str  # the action's target name (Clusters, Instances, Tasks, Subnets)
    target_tags: Mapping[str, str]
    parameters: Mapping[str, str]
    # Names of failover steps (drtiers.recovery.steps) the fault alone brings about, so that
    # running it rehearses them; () when it rehearses none. drtiers-dr's DR-DrillsRehearse
    # (drtiers/checks/drills.py) holds every claim against the tier's step list and the
    # fault's duration.
    exercises: tuple[str, ...]
    restores: str = ""  # how the experiment leaves the system as it found it


def _validate(drill: Drill) -> None:
    if not re.match(r"^[A-Za-z][A-Za-z0-9]*$", drill.name):
        raise ValueError(f"Drills: {drill.name!r} is not a name (letters and digits)")
    bad = [e for e in drill.exercises if not _STEP_NAME.match(e)]
    if bad:
        raise ValueError(
            f"Drills: {drill.name} exercises {bad}: name steps of the step list "
            "(drtiers.recovery.steps, e.g. 'detect'), not descriptions"
        )
    if len(set(drill.exercises)) != len(drill.exercises):
        raise ValueError(f"Drills: {drill.name} names a step twice")
    try:
        fault_seconds(drill.parameters.get("duration"))
    except ValueError as error:
        raise ValueError(f"Drills: {drill.name}: {error}") from None
    if drill.action_id == PAUSE_TABLE_REPLICATION and "duration" not in drill.parameters:
        raise ValueError(f"Drills: {drill.name}: {PAUSE_TABLE_REPLICATION} needs a duration")


def _arn(service: str, resource: str) -> str:
    return f"arn:{Aws.PARTITION}:{service}:{Aws.REGION}:{Aws.ACCOUNT_ID}:{resource}"


class Drills(Construct):
    """Experiment templates for ``drills``, with a least-privilege role and alarm stop
    conditions.

    :param scope_tags: the tags every target must carry (the deployment's app and tier): the
        role may act only on resources that carry them all.
    :param stop_alarm_arns: alarms (in this region) that stop an experiment when they fire.
    :param original_network_acl_ids: the network ACLs the subnets a disrupt-connectivity drill
        targets are associated with before it (required for such a drill). FIS re-associates
        the subnets with them at the end; these ACLs carry no tag the role could match on.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        drills: Sequence[Drill],
        scope_tags: Mapping[str, str],
        stop_alarm_arns: Sequence[str],
        original_network_acl_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        _check_props(drills, stop_alarm_arns=stop_alarm_arns, acl_ids=original_network_acl_ids)
        pauses = any(d.action_id == PAUSE_TABLE_REPLICATION for d in drills)
        self.role = self._role(
            # Every key must match: "If your policy statement has multiple context keys
            # attached to a single condition operator, the context keys are evaluated using a
            # logical AND." (https://docs.aws.amazon.com/IAM/latest/UserGuide/
            # reference_policies_multi-value-conditions.html, read 2026-12-05)
            tagged={"StringEquals": {f"aws:ResourceTag/{k}": v for k, v in scope_tags.items()}},
            pauses_replication=pauses,
            original_network_acl_ids=original_network_acl_ids,
        )
        self.templates: dict[str, fis.CfnExperimentTemplate] = {
            drill.name: self._template(drill, stop_alarm_arns=stop_alarm_arns) for drill in drills
        }

    def _role(
        self,
        *,
        tagged: Mapping[str, Mapping[str, str]],
        pauses_replication: bool,
        original_network_acl_ids: Sequence[str],
    ) -> iam.Role:
        """The role every experiment runs as, allowed only what the drills need, on resources
        carrying the tier's tag (``tagged``, a condition), with its wildcards acknowledged."""
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "fis.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
            description="Fault Injection Service: act only on this tier's tagged resources",
        )
        statements = [*_target_statements(tagged), *_network_acl_statements(tagged)]
        if pauses_replication:
            statements.append(_pause_replication_statement(tagged))
        if original_network_acl_ids:
            statements.append(_original_acls_statement(original_network_acl_ids))
        for statement in statements:
            role.add_to_principal_policy(statement)
        policy = role.node.find_child("DefaultPolicy").node.default_child
        wildcards = list(_WILDCARDS)
        if pauses_replication:
            wildcards.append(
                (f"Resource::{_ARN_TEXT}:dynamodb:{_REGION_ACCOUNT}:table/*", _TAG_REASON)
            )
        for finding, reason in wildcards:
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason, checker="cdk-nag")
        return role

    def _template(
        self, drill: Drill, *, stop_alarm_arns: Sequence[str]
    ) -> fis.CfnExperimentTemplate:
        """The experiment template of ``drill``, stopped by any of the alarms, tagged with the
        steps it exercises."""
        return fis.CfnExperimentTemplate(
            self,
            drill.name,
            description=drill.description,
            role_arn=self.role.role_arn,
            stop_conditions=[
                fis.CfnExperimentTemplate.ExperimentTemplateStopConditionProperty(
                    source="aws:cloudwatch:alarm", value=alarm
                )
                for alarm in stop_alarm_arns
            ],
            targets={
                drill.target_key: fis.CfnExperimentTemplate.ExperimentTemplateTargetProperty(
                    resource_type=drill.resource_type,
                    selection_mode="ALL",
                    resource_tags=dict(drill.target_tags),
                )
            },
            actions={
                drill.name: fis.CfnExperimentTemplate.ExperimentTemplateActionProperty(
                    action_id=drill.action_id,
                    description=drill.description,
                    parameters=dict(drill.parameters) or None,
                    targets={drill.target_key: drill.target_key},
                )
            },
            tags={"Name": drill.name}
            | ({EXERCISES_TAG: " ".join(drill.exercises)} if drill.exercises else {}),
        )


def _check_props(
    drills: Sequence[Drill], *, stop_alarm_arns: Sequence[str], acl_ids: Sequence[str]
) -> None:
    """Refuse drills that could not be stopped, share a name, or could not give subnets their
    network ACL back."""
    if not drills:
        raise ValueError("Drills: no drills given")
    if not stop_alarm_arns:
        raise ValueError("Drills: an experiment without a stop condition cannot be stopped")
    for drill in drills:
        _validate(drill)
    names = [d.name for d in drills]
    if len(set(names)) != len(names):
        raise ValueError(f"Drills: two drills share a name in {names}")
    cutting = [d.name for d in drills if d.action_id == DISRUPT_CONNECTIVITY]
    if cutting and not acl_ids:
        raise ValueError(
            f"Drills: {', '.join(cutting)} cut subnets off; without original_network_acl_ids "
            "FIS could not give them their network ACL back and they would stay cut off"
        )


def _target_statements(tagged: Mapping[str, Mapping[str, str]]) -> list[iam.PolicyStatement]:
    """Resolve tag-based targets, and fail over, reboot, stop and cut off the tagged ones."""
    return [
        # FIS resolves tag-based targets through the tagging API and describes them.
        iam.PolicyStatement(
            actions=[
                "tag:GetResources",
                "rds:DescribeDBClusters",
                "rds:DescribeDBInstances",
                "ecs:DescribeTasks",
                "ecs:ListTasks",
                "ec2:DescribeSubnets",
                "ec2:DescribeNetworkAcls",
                "ec2:DescribeVpcs",
                "ec2:DescribeManagedPrefixLists",
                "ec2:GetManagedPrefixListEntries",
            ],
            resources=["*"],
        ),
        iam.PolicyStatement(
            actions=["rds:FailoverDBCluster", "rds:RebootDBInstance"],
            resources=[
                _arn("rds", "cluster:*"),
                _arn("rds", "db:*"),
            ],
            conditions=tagged,
        ),
        iam.PolicyStatement(
            actions=["ecs:StopTask"],
            resources=[_arn("ecs", "task/*")],
            conditions=tagged,
        ),
        iam.PolicyStatement(
            actions=["ec2:ReplaceNetworkAclAssociation"],
            resources=[_arn("ec2", "subnet/*")],
            conditions=tagged,
        ),
    ]


def _network_acl_statements(tagged: Mapping[str, Mapping[str, str]]) -> list[iam.PolicyStatement]:
    """Create, fill and delete the network ACLs that cut the tier's subnets off."""
    return [
        # The ACLs FIS creates to cut the subnets off, and only those: the tag that unlocks
        # the statement below can be set only while creating one, as AWS's managed policy
        # does. Read 2026-11-28:
        # https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSFaultInjectionSimulatorNetworkAccess.html
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkAcl"],
            resources=[_arn("ec2", "network-acl/*")],
            conditions={"StringEquals": {f"aws:RequestTag/{FIS_MANAGED_TAG}": "true"}},
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateTags"],
            resources=[_arn("ec2", "network-acl/*")],
            conditions={
                "StringEquals": {
                    "ec2:CreateAction": "CreateNetworkAcl",
                    f"aws:RequestTag/{FIS_MANAGED_TAG}": "true",
                }
            },
        ),
        iam.PolicyStatement(
            actions=[
                "ec2:CreateNetworkAclEntry",
                "ec2:DeleteNetworkAcl",
                "ec2:ReplaceNetworkAclAssociation",
            ],
            resources=[_arn("ec2", "network-acl/*")],
            conditions={"StringEquals": {f"aws:ResourceTag/{FIS_MANAGED_TAG}": "true"}},
        ),
        iam.PolicyStatement(
            actions=["ec2:CreateNetworkAcl"],
            resources=[_arn("ec2", "vpc/*")],
            conditions=tagged,
        ),
    ]


def _pause_replication_statement(tagged: Mapping[str, Mapping[str, str]]) -> iam.PolicyStatement:
    """The pause is a resource-policy statement on the tier's own replica (tagged), put at the
    start and deleted at the end. Read 2026-11-28:
    https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#dynamodb-actions-reference
    """
    return iam.PolicyStatement(
        actions=[
            "dynamodb:DescribeTable",
            "dynamodb:GetResourcePolicy",
            "dynamodb:PutResourcePolicy",
            "dynamodb:DeleteResourcePolicy",
        ],
        resources=[_arn("dynamodb", "table/*")],
        conditions=tagged,
    )


def _original_acls_statement(acl_ids: Sequence[str]) -> iam.PolicyStatement:
    """disrupt-connectivity ends by re-associating each subnet with its original ACL
    (ReplaceNetworkAclAssociation on the subnet and that ACL). That ACL carries neither tag
    the other statements match, so it is named: these ACLs and no other. Read 2026-11-28:
    https://docs.aws.amazon.com/fis/latest/userguide/fis-actions-reference.html#disrupt-connectivity
    https://docs.aws.amazon.com/aws-managed-policy/latest/reference/AWSFaultInjectionSimulatorNetworkAccess.html
    """
    return iam.PolicyStatement(
        actions=["ec2:ReplaceNetworkAclAssociation"],
        resources=[_arn("ec2", f"network-acl/{acl}") for acl in acl_ids],
    )


_ARN_TEXT = "arn:<AWS::Partition>"
_REGION_ACCOUNT = "<AWS::Region>:<AWS::AccountId>"
_TAG_REASON = (
    "Narrowed by a condition to resources tagged with this app and tier (or, for network "
    "ACLs, created by FIS for the drill); the resource ids are not known before the "
    "experiment runs."
)
_WILDCARDS = (
    (
        "Resource::*",
        "Describe and tag look-up calls FIS makes to resolve tag-based targets; "
        "they accept no narrower resource.",
    ),
    ("Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:cluster:*", _TAG_REASON),
    ("Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:*", _TAG_REASON),
    ("Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/*", _TAG_REASON),
    ("Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:subnet/*", _TAG_REASON),
    (
        "Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-acl/*",
        _TAG_REASON,
    ),
    ("Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:vpc/*", _TAG_REASON),
)
