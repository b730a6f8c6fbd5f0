"""Keys: the customer-managed KMS key that encrypts a stack's data at rest."""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class DataKey(Construct):
    """A rotating, retained KMS key for one region's data, usable by CloudWatch Logs (flow logs,
    container logs) and by CloudWatch alarms publishing to an encrypted SNS topic.

    :param alias: alias name without the ``alias/`` prefix. Give one only when another region
        must name this key before it can be referenced (DynamoDB replica keys, backup vaults).
    :param removal_policy: default RETAIN: data encrypted with a deleted key is lost.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        description: str,
        alias: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id_)
        region = Stack.of(self).region
        log_groups = f"arn:{Aws.PARTITION}:logs:{region}:{Aws.ACCOUNT_ID}:*"
        self.key = kms.Key(
            self,
            "Key",
            description=description,
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        if alias is not None:
            self.key.add_alias(f"alias/{alias}")
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsInThisAccountAndRegion",
                principals=[iam.ServicePrincipal(f"logs.{region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                resources=["*"],
                conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": log_groups}},
            )
        )
        # Grants only for AWS services acting for a resource (RDS, DynamoDB, Secrets Manager):
        # no principal can hand this key on by itself (Control Tower CT.KMS.PR.3).
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="GrantsOnlyForAwsServices",
                effect=iam.Effect.DENY,
                principals=[iam.AnyPrincipal()],
                actions=["kms:CreateGrant"],
                resources=["*"],
                conditions={
                    "BoolIfExists": {
                        "kms:GrantIsForAWSResource": "false",
                        "aws:PrincipalIsAWSService": "false",
                    }
                },
            )
        )
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsToEncryptedTopics",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
