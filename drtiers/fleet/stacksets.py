"""The pieces every account of a stage needs, whatever applications it holds, as service-managed
CloudFormation StackSets over the stage's organizational units, where the fleet file has an
``organization`` (decision 56 says which pieces go this way and why):

- ``drtiers-<stage>-bootstrap``: the CDK bootstrap stack the pinned CDK CLI ships (its
  ``bootstrap-template.yaml``), trusting the toolchain account, in P, R and us-east-1 (where the
  edge and zone stacks go): what README's per-account ``cdk bootstrap`` loop does by hand;
- ``drtiers-<stage>-<group>-parent-access``: the role ``drtiers-<group>-parent-access``, in
  every account, that the group's parent plan in that stage runs its children through (in place
  of each application's own).

Each is a template with parameters (the stage's values are given as the StackSet's
parameters, not synthesized into the template), deployed by the pipeline's first wave from the
toolchain account in R, as the organization's delegated administrator or its management
account. A new account in an organizational unit gets them by the StackSet's automatic
deployment; an account that leaves keeps its bootstrap (stacks there depend on it) and loses
the role.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_cloudformation as cfn
from constructs import Construct

from drtiers.config.context import ConfigError
from drtiers.config.fleet import FailoverGroup, Fleet, Stage
from drtiers.constructs.parent_plan import CHILD_PLAN_ACTIONS, CHILD_PLAN_READS, LIST_IN_REGION
from drtiers.constructs.region_switch import execution_role
from drtiers.core.tiers import APP_TAG
from drtiers.fleet.parent import group_role, parent_names

BOOTSTRAP_TEMPLATE = Path("node_modules/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml")
EDGE_REGION = "us-east-1"  # the edge and zone stacks' region, bootstrapped in every account
TEMPLATE_BODY_LIMIT = 51_200  # bytes: CloudFormation's TemplateBody, for a StackSet too


def bootstrap_template() -> str:
    """The bootstrap template of the CDK CLI that package.json pins (``npm ci`` installs it)."""
    path = Path.cwd() / BOOTSTRAP_TEMPLATE
    if not path.is_file():
        raise ConfigError(
            f"organization: {BOOTSTRAP_TEMPLATE} not found; allowed: synthesize from the "
            "repository after `npm ci` (the pinned CDK CLI's bootstrap template)"
        )
    return path.read_text()


def parent_access_template() -> dict[str, Any]:
    """A group's parent-access role, its name, principals, external id and applications given
    as parameters (the same for every account of the stage)."""
    trust = {
        "Effect": "Allow",
        "Principal": {"AWS": {"Ref": "ParentAccounts"}},
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {"sts:ExternalId": {"Ref": "ExternalIds"}},
            "ArnEquals": {"aws:PrincipalArn": {"Ref": "ParentRoleArns"}},
        },
    }
    # A plan's name is the account's to choose; its drtiers:app tag (every tier's stacks carry
    # it) holds the role to the applications' plans: one template for every account.
    permissions = [
        {
            "Effect": "Allow",
            "Action": [*CHILD_PLAN_ACTIONS, *CHILD_PLAN_READS],
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:arc-region-switch::${AWS::AccountId}:plan/*"
            },
            "Condition": {"StringEquals": {f"aws:ResourceTag/{APP_TAG}": {"Ref": "AppNames"}}},
        },
        {"Effect": "Allow", "Action": LIST_IN_REGION, "Resource": "*"},
    ]

    def listed(description: str) -> dict[str, str]:
        return {"Type": "CommaDelimitedList", "Description": description}

    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "drtiers: the role a fleet's parent Region switch plan runs this "
        "account's plans of its group through",
        "Parameters": {
            "RoleName": {"Type": "String", "Description": "the role's name"},
            "ParentAccounts": listed("the account of the group's parent plan"),
            "ParentRoleArns": listed("the parent plan's execution and lookup roles"),
            "ExternalIds": listed("the parent plan's external id"),
            "AppNames": listed("the group's applications, whose plans the parent may run"),
        },
        "Resources": {
            "ParentAccess": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "Description": "Runs this account's drtiers plans for their parent plan",
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [trust]},
                    "Policies": [
                        {
                            "PolicyName": "run-child-plans",
                            "PolicyDocument": {"Version": "2012-10-17", "Statement": permissions},
                        }
                    ],
                },
            }
        },
    }


def parent_access_parameters(fleet: Fleet, stage: Stage, group: FailoverGroup) -> dict[str, str]:
    """The group's parent plan in ``stage``: its account, roles and external id, and the
    applications whose plans it runs. One group's only: a parent may run no other group's."""
    names = parent_names(fleet, group, stage)
    roles = [
        f"arn:aws:iam::{names.account}:role/{r}"
        for r in (execution_role(names.plan), names.lookup_role)
    ]
    return {
        "RoleName": group_role(group),
        "ParentAccounts": names.account,
        "ParentRoleArns": ",".join(roles),
        "ExternalIds": names.external_id,
        "AppNames": ",".join(m for s in group.steps for m in s),
    }


class OrganizationStack(cdk.Stack):
    """The StackSets, per stage: ``drtiers-fleet-organization`` in the toolchain account, R."""

    def __init__(self, scope: Construct, id_: str, *, fleet: Fleet) -> None:
        super().__init__(
            scope,
            id_,
            stack_name=id_,
            env=cdk.Environment(account=fleet.toolchain.account, region=fleet.regions.recovery),
            description="drtiers fleet: every stage account's bootstrap and parent-access role",
            analytics_reporting=False,
        )
        organization = fleet.organization
        assert organization is not None, "an organization's StackSets need its units"
        self.administrator = organization.administrator
        self.toolchain = fleet.toolchain.account
        bootstrap = bootstrap_template()
        regions = sorted({fleet.regions.primary, fleet.regions.recovery, EDGE_REGION})
        for stage in fleet.stages:
            units = list(organization.organizational_units[stage.name])
            booted = self._stack_set(
                f"drtiers-{stage.name}-bootstrap",
                bootstrap,
                {
                    "TrustedAccounts": fleet.toolchain.account,
                    "CloudFormationExecutionPolicies": ",".join(organization.execution_policies),
                    # as `cdk bootstrap` passes it: no customer managed key per account and region
                    "FileAssetsBucketKmsKeyId": "AWS_MANAGED_KEY",
                },
                units=units,
                regions=regions,
                keep_on_removal=True,  # stacks deployed there depend on it
            )
            # Deleting it (this stack gone, a stage renamed) would delete every account's
            # bootstrap, under stacks that need it, and leave its buckets in the way of the next.
            booted.apply_removal_policy(cdk.RemovalPolicy.RETAIN)
            for group in fleet.failover_groups:
                self._stack_set(
                    f"drtiers-{stage.name}-{group.name}-parent-access",
                    json.dumps(parent_access_template(), indent=1),
                    parent_access_parameters(fleet, stage, group),
                    units=units,
                    regions=[fleet.regions.recovery],  # a role is global: one region
                    keep_on_removal=False,
                )

    def _stack_set(
        self,
        name: str,
        body: str,
        parameters: dict[str, str],
        *,
        units: list[str],
        regions: list[str],
        keep_on_removal: bool,
    ) -> cfn.CfnStackSet:
        if len(body.encode()) > TEMPLATE_BODY_LIMIT:
            raise ConfigError(
                f"StackSet {name}: its template is {len(body.encode())} bytes; allowed: up to "
                f"{TEMPLATE_BODY_LIMIT} (CloudFormation's TemplateBody)"
            )
        return cfn.CfnStackSet(
            self,
            name,
            stack_set_name=name,
            permission_model="SERVICE_MANAGED",
            call_as="DELEGATED_ADMIN" if self.administrator == "delegated" else "SELF",
            auto_deployment=cfn.CfnStackSet.AutoDeploymentProperty(
                enabled=True, retain_stacks_on_account_removal=keep_on_removal
            ),
            capabilities=["CAPABILITY_NAMED_IAM"],
            managed_execution={"Active": True},
            # No account may fail; all at once (the strict mode would go one by one at a tolerance
            # of 0: "the lower of MaxConcurrentCount, or FailureToleranceCount +1").
            operation_preferences=cfn.CfnStackSet.OperationPreferencesProperty(
                failure_tolerance_count=0,
                max_concurrent_percentage=100,
                concurrency_mode="SOFT_FAILURE_TOLERANCE",
                region_concurrency_type="PARALLEL",
            ),
            parameters=[
                cfn.CfnStackSet.ParameterProperty(parameter_key=k, parameter_value=v)
                for k, v in parameters.items()
            ],
            stack_instances_group=[
                cfn.CfnStackSet.StackInstancesProperty(
                    # The toolchain account is bootstrapped by hand (the pipeline's own) and keeps
                    # no workload: never a target, should it sit in a unit.
                    deployment_targets=cfn.CfnStackSet.DeploymentTargetsProperty(
                        organizational_unit_ids=units,
                        account_filter_type="DIFFERENCE",
                        accounts=[self.toolchain],
                    ),
                    regions=regions,
                )
            ],
            template_body=body,
        )
