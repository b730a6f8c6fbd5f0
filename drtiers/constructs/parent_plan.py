"""A parent Region switch plan's pieces around its children (drtiers.fleet.parent_stack holds
them): finding each child plan's ARN as the stack deploys, letting the parent's execution role
run the children, and, in a child's own account, the role the parent acts through.

AWS, for a plan whose blocks run child plans: the execution role needs
``StartPlanExecution``, ``GetPlanExecution``, ``CancelPlanExecution``, ``UpdatePlanExecution``
and ``ListPlanExecutions`` on the child plans (security_iam_region_switch_plan_execution.html);
"If resources are in different accounts, you'll need a cross-account role", trusted by the
execution role with an external id (security_iam_region_switch_cross_account.html; both
https://docs.aws.amazon.com/r53recovery/latest/dg/, read 2026-12-06).

The child's role is deployed before the parent's roles exist (the parent's wave follows the
stage's), and IAM refuses a trust naming a role that does not exist; so it trusts the parent's
account, held by a condition to the parent's two roles by name (``aws:PrincipalArn``) and to
the external id.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from drtiers.constructs.functions import custom_resource_function
from drtiers.constructs.lint import acknowledge
from drtiers.constructs.region_switch import PLAN_ID_REASON, plan_arn

RESOURCE_TYPE = "Custom::RegionSwitchChildPlans"  # drtiers/lambdas/plan_lookup.py's
# What runs a child plan (AWS's sample policy for the Region switch plan execution block).
CHILD_PLAN_ACTIONS = (
    "arc-region-switch:StartPlanExecution",
    "arc-region-switch:GetPlanExecution",
    "arc-region-switch:CancelPlanExecution",
    "arc-region-switch:UpdatePlanExecution",
    "arc-region-switch:ListPlanExecutions",
)
# Not in that sample, but in AWS's managed plan execution policy: reading the child plan, which
# the parent's evaluation may do (an independent review's advice: reads only).
CHILD_PLAN_READS = ("arc-region-switch:GetPlan", "arc-region-switch:GetPlanInRegion")
LIST_IN_REGION = "arc-region-switch:ListPlansInRegion"  # takes no resource (IAM catalogue)


@dataclass(frozen=True)
class ChildPlan:
    """A child plan: the block's name (the application), the plan's name and account, and
    where the child is in another account, the role the parent acts through."""

    name: str
    plan: str
    account: str
    role_arn: str | None = None

    @property
    def arn_pattern(self) -> str:
        return plan_arn(self.account, self.plan)


class ChildPlanLookup(Construct):
    """Each child plan's ARN, found as the stack deploys; :meth:`arn` is its token."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        children: Sequence[ChildPlan],
        regions: Sequence[str],
        external_id: str,
        role_name: str,
        log_key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, id_)
        roles = sorted({c.role_arn for c in children if c.role_arn})
        statements = [iam.PolicyStatement(actions=[LIST_IN_REGION], resources=["*"])]
        if roles:
            statements.append(assume_statement(roles, external_id))
        function = custom_resource_function(
            self,
            module="plan_lookup",
            purpose="finds the ARNs of a parent Region switch plan's child plans",
            calls="Region switch's and STS's APIs",
            log_key=log_key,
            removal_policy=removal_policy,
            timeout=Duration.seconds(120),  # 45 s of asking again, then a call's 30 s margin
            statements=statements,
            role_name=role_name,
        )
        policy = function.role.node.find_child("DefaultPolicy").node.default_child  # type: ignore[union-attr]
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ListPlansInRegion takes no resource: the function keeps the plans named in its "
            "properties.",
            checker="cdk-nag",
        )
        self.resource = CustomResource(
            self,
            "ChildPlans",
            service_token=function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={
                "Children": [
                    {
                        "Name": c.name,
                        "Plan": c.plan,
                        "Account": c.account,
                        "Role": c.role_arn or "",
                        "ExternalId": external_id if c.role_arn else "",
                    }
                    for c in children
                ],
                # A child plan replaced (other regions) has a new id: a change here looks again.
                "Regions": list(regions),
            },
            service_timeout=Duration.seconds(180),  # the function's 2 minutes, and a margin
        )

    def arn(self, child: str) -> str:
        return self.resource.get_att_string(child)


def assume_statement(roles: Sequence[str], external_id: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        actions=["sts:AssumeRole"],
        resources=list(roles),
        conditions={"StringEquals": {"sts:ExternalId": external_id}},
    )


def let_run_children(
    execution_role: iam.Role, children: Sequence[ChildPlan], external_id: str
) -> None:
    """The parent's execution role runs its same-account children itself, and the others
    through their roles."""
    here = [c.arn_pattern for c in children if not c.role_arn]
    roles = sorted({c.role_arn for c in children if c.role_arn})
    if here:
        execution_role.add_to_principal_policy(
            iam.PolicyStatement(actions=[*CHILD_PLAN_ACTIONS, *CHILD_PLAN_READS], resources=here)
        )
    if roles:
        execution_role.add_to_principal_policy(assume_statement(roles, external_id))
    policy = execution_role.node.find_child("DefaultPolicy").node.default_child
    for pattern in here:
        acknowledge(policy, f"AwsSolutions-IAM5[Resource::{pattern}]", PLAN_ID_REASON, "cdk-nag")


class ParentAccess(Construct):
    """In a child plan's account: the role its parent plan (in ``parent_account``) runs it
    through, and lists its plans with, assumed by the parent's ``parent_roles`` (names) only,
    with ``external_id``."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        role_name: str,
        child: ChildPlan,
        parent_account: str,
        parent_roles: Sequence[str],
        external_id: str,
    ) -> None:
        super().__init__(scope, id_)
        principals = [f"arn:aws:iam::{parent_account}:role/{name}" for name in parent_roles]
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.AccountPrincipal(parent_account).with_conditions(
                {
                    "StringEquals": {"sts:ExternalId": external_id},
                    "ArnEquals": {"aws:PrincipalArn": principals},
                }
            ),
            description=f"Runs the Region switch plan {child.plan} for its parent plan",
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[*CHILD_PLAN_ACTIONS, *CHILD_PLAN_READS], resources=[child.arn_pattern]
            )
        )
        self.role.add_to_principal_policy(
            iam.PolicyStatement(actions=[LIST_IN_REGION], resources=["*"])
        )
        policy = self.role.node.find_child("DefaultPolicy").node.default_child
        for finding, reason in (
            (f"Resource::{child.arn_pattern}", PLAN_ID_REASON),
            ("Resource::*", "ListPlansInRegion takes no resource: the parent's lookup."),
        ):
            acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason, checker="cdk-nag")
