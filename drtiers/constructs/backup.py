"""Backup: AWS Backup vaults and a plan that copies every recovery point out of the region.

A backup that stays in the region it protects is not a disaster-recovery plan: every rule of the
plan carries a copy action to the recovery region's vault.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_backup as backup
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from drtiers.constructs.lint import acknowledge


class BackupVault(Construct):
    """A KMS-encrypted backup vault, kept on delete.

    :param vault_name: fixed, so a plan in another region can name it as a copy destination.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vault_name: str,
        key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id_)
        self.vault = backup.BackupVault(
            self,
            "Vault",
            backup_vault_name=vault_name,
            encryption_key=key,
            removal_policy=removal_policy,
        )


class AirGappedVault(Construct):
    """A logically air-gapped backup vault: "each vault is equipped with AWS Backup Vault
    Lock's compliance mode", encrypted with an AWS owned key by default
    (https://docs.aws.amazon.com/aws-backup/latest/devguide/logicallyairgappedvault.html, read
    2026-12-05), so no one in the account, its administrators included, can delete a recovery
    point before its retention ends. Kept on delete: it is deleted only empty.

    :param vault_name: fixed, so the plan in P can name it as a copy destination. Its retention
        is create-only (cfn-lint's schema), so the caller puts it in the name: a new retention
        makes a new vault beside the old one, which keeps its copies until they expire.
    :param min_days: / :param max_days: the retention the vault accepts (at least 7).
    """

    def __init__(
        self, scope: Construct, id_: str, *, vault_name: str, min_days: int, max_days: int
    ) -> None:
        super().__init__(scope, id_)
        if not 7 <= min_days <= max_days:
            raise ValueError(
                f"AirGappedVault: retention {min_days}..{max_days} days; allowed: 7 <= min <= max"
            )
        self.vault = backup.CfnLogicallyAirGappedBackupVault(
            self,
            "Vault",
            backup_vault_name=vault_name,
            min_retention_days=min_days,
            max_retention_days=max_days,
        )
        # Kept on delete and replacement, but not when the create that made it (empty) rolls
        # back, which would leave its name taken for the retry (rules.kept_on_failed_create).
        self.vault.apply_removal_policy(RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE)


def _hours(frequency_hours: int) -> str:
    """The cron hour field: 05 for a daily backup, every hour, or every N hours from 00."""
    return {24: "5", 1: "*"}.get(frequency_hours, f"0/{frequency_hours}")


_ROLE_POLICIES = (
    "AWSBackupServiceRolePolicyForBackup",
    "AWSBackupServiceRolePolicyForRestores",
)


def _check_props(
    *, frequency_hours: int, resource_arns: Sequence[str], retention_days: int
) -> None:
    """Refuse a frequency that does not divide a day, nothing to back up, or no retention."""
    if frequency_hours < 1 or 24 % frequency_hours:
        raise ValueError(
            f"CrossRegionBackupPlan: frequency_hours {frequency_hours} is not a divisor of 24"
        )
    if not resource_arns:
        raise ValueError("CrossRegionBackupPlan: resource_arns is empty; nothing to back up")
    if retention_days < 1:
        raise ValueError(f"CrossRegionBackupPlan: retention_days {retention_days} is below 1")


def _rule(
    *,
    copy_vault: backup.IBackupVault,
    frequency_hours: int,
    days: int,
    also: Sequence[backup.IBackupVault] = (),
) -> backup.BackupPlanRule:
    """Back up every ``frequency_hours`` and copy each recovery point to ``copy_vault`` (and to
    each vault of ``also``), all kept ``days``."""
    return backup.BackupPlanRule(
        rule_name="DailyWithCrossRegionCopy"
        if frequency_hours == 24
        else f"Every{frequency_hours}hWithCrossRegionCopy",
        schedule_expression=events.Schedule.cron(hour=_hours(frequency_hours), minute="0"),
        delete_after=Duration.days(days),
        copy_actions=[
            backup.BackupPlanCopyActionProps(
                destination_backup_vault=vault, delete_after=Duration.days(days)
            )
            for vault in (copy_vault, *also)
        ],
    )


class CrossRegionBackupPlan(Construct):
    """A backup of the given resources every ``frequency_hours`` into a local vault, each
    recovery point copied to a vault in the recovery region.

    :param copy_vault_arn: the recovery region's vault.
    :param resource_arns: what to back up (database instance or cluster, table).
    :param role_name: the fixed name of the role AWS Backup backs up and restores with.
    :param existing_role: use the role of that name instead of creating it (a rebuild in
        another region: IAM's control plane may be in the lost region).
    :param retention_days: how long local and copied recovery points are kept. Default 35.
    :param frequency_hours: hours between backups: 24 (every day at 05:00 UTC, the default)
        or a divisor of 24 (every N hours from midnight UTC; 1 is AWS Backup's most frequent).
    :param air_gapped_vault_arn: a logically air-gapped vault every recovery point is copied to
        as well. Default None.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vault: backup.IBackupVault,
        copy_vault_arn: str,
        resource_arns: Sequence[str],
        role_name: str,
        existing_role: bool = False,
        retention_days: int = 35,
        frequency_hours: int = 24,
        air_gapped_vault_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        _check_props(
            frequency_hours=frequency_hours,
            resource_arns=resource_arns,
            retention_days=retention_days,
        )
        self.copy_vault = backup.BackupVault.from_backup_vault_arn(
            self, "CopyVault", copy_vault_arn
        )
        self.plan = backup.BackupPlan(self, "Plan", backup_vault=vault)
        also = (
            [backup.BackupVault.from_backup_vault_arn(self, "AirGapped", air_gapped_vault_arn)]
            if air_gapped_vault_arn
            else []
        )
        self.plan.add_rule(
            _rule(
                copy_vault=self.copy_vault,
                frequency_hours=frequency_hours,
                days=retention_days,
                also=also,
            )
        )
        # IAM roles are global: a rebuild in another region uses the role that exists, and a
        # fixed name lets a restore step name it without the lost region's stack.
        self.role: iam.IRole = (
            iam.Role.from_role_name(self, "Role", role_name)
            if existing_role
            else self._role(role_name)
        )
        self.plan.add_selection(
            "Data",
            resources=[backup.BackupResource.from_arn(arn) for arn in resource_arns],
            role=self.role,
            disable_default_backup_policy=True,  # the role carries both policies itself
        )

    def _role(self, role_name: str) -> iam.Role:
        """The role AWS Backup backs up and restores with, under its two service-role
        policies."""
        role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            assumed_by=iam.ServicePrincipal("backup.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(f"service-role/{policy}")
                for policy in _ROLE_POLICIES
            ],
        )
        self._acknowledge(role, _ROLE_POLICIES)
        return role

    def _acknowledge(self, role: iam.Role, policies: Sequence[str]) -> None:
        """Acknowledge AWS Backup's own policies on ``role``."""
        for policy in policies:
            acknowledge(
                role.node.default_child,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                f"service-role/{policy}]",
                "AWS Backup's own service-role policy, the documented way to let it back up and "
                "restore RDS and DynamoDB; AWS keeps it current as services change.",
                checker="cdk-nag",
            )
