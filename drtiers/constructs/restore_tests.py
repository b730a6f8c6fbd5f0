"""Restore tests: an AWS Backup restore testing plan in the recovery region that restores the
newest copy of each protected resource type on a schedule, so that AWS measures the restore time
the estimate only assumes, and deletes what it restored afterwards.

AWS's words (https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing.html, read
2026-12-05): "When the scheduled time in your plan arrives, AWS Backup starts restore jobs based
on your plan and monitors the time taken to complete the restore"; "Once the optional validation
completes or the validation window closes, AWS Backup deletes the resources involved with the
restore test"; "Restore testing runs restore jobs in the same way as on-demand restores and uses
the same recovery points (backups) as an on-demand restore". The plan selects recovery points by
vault (``IncludeVaults``): the recovery region's copy vault, whose copies are what a recovery
there restores.

A database is restored into the given subnet group and security group: "AWS Backup can infer
that a resource should be restored to the default setting, such as an Amazon EC2 instance or
Amazon RDS cluster restored to the default VPC. However, if the default is not present ... the
restore will not be successful"
(https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html,
read 2026-12-05); list values "must be specified as JSON-array-encoded strings" (same page).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Fn
from aws_cdk import aws_backup as backup
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from constructs import Construct

from drtiers.constructs.lint import acknowledge
from drtiers.core.tiers import RESTORE_TEST_CADENCES, RESTORE_TEST_VALIDATION_HOURS

START_WINDOW_HOURS = 24  # AWS's default: a test that has not started a day late is cancelled
RESTORE_ROLE_POLICY = "AWSBackupServiceRolePolicyForRestores"


def plan_name(names: str) -> str:
    """The plan's name from ``<app>-<tier>``: AWS allows "only alphanumeric characters and
    underscores" (botocore, backup CreateRestoreTestingPlan RestoreTestingPlanName)."""
    return re.sub(r"[^A-Za-z0-9]", "_", names) + "_restore_tests"


@dataclass(frozen=True)
class DatabaseTarget:
    """Where a restored database goes: the ``ProtectedResourceType`` (``RDS`` or ``Aurora``), a
    DB subnet group's name, the one security group it gets and the subnet group's zones."""

    resource_type: str
    subnet_group: str
    security_group: str
    zones: tuple[str, ...]


class RestoreTests(Construct):
    """The restore testing plan ``name``, choosing the newest snapshot copy in ``vault_arn``
    within the cadence's window, and one selection per protected resource type: DynamoDB tables
    always (every tier backs up its control table), the database where there is one.

    :param cadence: a key of RESTORE_TEST_CADENCES.
    :param retention_days: how long copies are kept; the window never reaches past it.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        name: str,
        vault_arn: str,
        cadence: str,
        retention_days: int,
        database: DatabaseTarget | None,
    ) -> None:
        super().__init__(scope, id_)
        if cadence not in RESTORE_TEST_CADENCES:
            allowed = ", ".join(RESTORE_TEST_CADENCES)
            raise ValueError(f"RestoreTests: cadence '{cadence}'; allowed: {allowed}")
        chosen = RESTORE_TEST_CADENCES[cadence]
        self.plan = backup.CfnRestoreTestingPlan(
            self,
            "Plan",
            restore_testing_plan_name=name,
            schedule_expression=chosen.schedule,
            start_window_hours=START_WINDOW_HOURS,
            recovery_point_selection=backup.CfnRestoreTestingPlan.RestoreTestingRecoveryPointSelectionProperty(
                algorithm="LATEST_WITHIN_WINDOW",
                recovery_point_types=["SNAPSHOT"],  # copies across regions are snapshots
                include_vaults=[vault_arn],
                selection_window_days=min(chosen.window_days, retention_days),
            ),
        )
        self.role = self._role()
        self._select("DynamoDB", {})
        if database is not None:
            self._select(database.resource_type, _placed(database))

    def _select(self, resource_type: str, overrides: dict[str, str]) -> None:
        """Every protected resource of ``resource_type`` with a copy in the vault: the vault
        already limits the choice to this tier's copies."""
        selection = backup.CfnRestoreTestingSelection(
            self,
            resource_type,
            restore_testing_plan_name=self.plan.restore_testing_plan_name,
            restore_testing_selection_name=resource_type,
            protected_resource_type=resource_type,
            protected_resource_arns=["*"],
            iam_role_arn=self.role.role_arn,
            restore_metadata_overrides=overrides or None,
            validation_window_hours=RESTORE_TEST_VALIDATION_HOURS,
        )
        selection.node.add_dependency(self.plan)

    def _role(self) -> iam.Role:
        """The role AWS Backup restores with: "The IAM role you choose for restore testing must
        contain the permissions found in AWSBackupServiceRolePolicyForRestores" and "must be
        assumable by AWS Backup" (restore-testing.html, above)."""
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(
                    f"service-role/{RESTORE_ROLE_POLICY}"
                )
            ],
        )
        acknowledge(
            role.node.default_child,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            f"service-role/{RESTORE_ROLE_POLICY}]",
            "AWS Backup's own restore policy, which AWS asks a restore testing role to hold; "
            "AWS keeps it current as services change.",
            checker="cdk-nag",
        )
        return role


def _placed(database: DatabaseTarget) -> dict[str, str]:
    """The overrides that put a restored database in its subnet group and security group; a
    cluster's zones too, which AWS would otherwise choose at random ("up to three random
    zones", restore-testing-inferred-metadata.html above) and may not be the group's."""
    overrides = {
        "dbSubnetGroupName": database.subnet_group,
        "vpcSecurityGroupIds": json_list([database.security_group]),
    }
    if database.resource_type == "Aurora":
        overrides["availabilityZones"] = json.dumps(list(database.zones[:3]))
    return overrides


def json_list(values: Sequence[str]) -> str:
    """``values`` as the JSON array string AWS Backup reads, tokens resolved at deploy."""
    return Fn.join("", ['["', Fn.join('","', list(values)), '"]'])


class RestoreTarget(Construct):
    """A DB subnet group over ``placement``'s subnets and a security group that lets nothing
    in or out, for restored test copies of a database of ``resource_type``: reachable by
    nobody, they exist to be timed and deleted."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        resource_type: str,
        placement: Placement,
    ) -> None:
        super().__init__(scope, id_)
        subnet_group = rds.CfnDBSubnetGroup(
            self,
            "SubnetGroup",
            db_subnet_group_description="Restore tests: isolated subnets for restored databases",
            subnet_ids=list(placement.subnet_ids),
        )
        security_group = ec2.CfnSecurityGroup(
            self,
            "SecurityGroup",
            vpc_id=placement.vpc_id,
            group_description="Restore tests: restored databases, reachable by nobody",
            # CDK's own way to allow no egress: a rule no packet matches.
            security_group_egress=[
                ec2.CfnSecurityGroup.EgressProperty(
                    ip_protocol="icmp",
                    from_port=252,
                    to_port=86,
                    cidr_ip="255.255.255.255/32",
                    description="Disallow all traffic",
                )
            ],
        )
        self.database = DatabaseTarget(
            resource_type, subnet_group.ref, security_group.attr_group_id, tuple(placement.zones)
        )


@dataclass(frozen=True)
class Placement:
    """A network a restored database can be placed in: its VPC, subnets and their zones."""

    vpc_id: str
    subnet_ids: Sequence[str]
    zones: Sequence[str]


def isolated_vpc(
    scope: Construct, id_: str, *, zones: Sequence[str], cidr: str = "10.254.0.0/24"
) -> Placement:
    """A VPC with one subnet in each of two ``zones``, no gateway and no
    route out: where a tier with no network in the recovery region restores its database."""
    vpc = ec2.CfnVPC(scope, id_, cidr_block=cidr)
    acknowledge(
        vpc,
        "AwsSolutions-VPC7",
        "No gateway and no route out, and its one security group admits nothing: it holds "
        "restored test copies for an hour and carries no traffic to log.",
        checker="cdk-nag",
    )
    halves = Fn.cidr(vpc.attr_cidr_block, 2, "7")
    subnets = [
        ec2.CfnSubnet(
            scope,
            f"{id_}Subnet{i}",
            vpc_id=vpc.ref,
            availability_zone=zone,
            cidr_block=Fn.select(i, halves),
        )
        for i, zone in enumerate(zones[:2])
    ]
    for subnet in subnets:
        acknowledge(
            subnet,
            "W3010",
            "Zones come from configuration, as the tier's own subnets' do, so that synthesis "
            "needs no account lookup.",
        )
    return Placement(vpc.ref, [s.ref for s in subnets], zones[:2])
