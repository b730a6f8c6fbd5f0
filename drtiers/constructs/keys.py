"""Keys: the customer-managed KMS key that encrypts a stack's data at rest."""

from __future__ import annotations

from aws_cdk import Aws, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from drtiers.core import rules


def _logs_in_this_region(region: str) -> iam.PolicyStatement:
    """CloudWatch Logs of this region, for log groups of this account and region."""
    log_groups = f"arn:{Aws.PARTITION}:logs:{region}:{Aws.ACCOUNT_ID}:*"
    return iam.PolicyStatement(
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


def _grants_only_for_aws_services() -> iam.PolicyStatement:
    """Grants only for AWS services acting for a resource (RDS, DynamoDB, Secrets Manager): no
    principal can hand the key on by itself (Control Tower CT.KMS.PR.3)."""
    return iam.PolicyStatement(
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


def _alarms_to_encrypted_topics() -> iam.PolicyStatement:
    """CloudWatch alarms of this account, publishing to a topic encrypted with the key."""
    return iam.PolicyStatement(
        sid="CloudWatchAlarmsToEncryptedTopics",
        principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
        actions=["kms:Decrypt", "kms:GenerateDataKey*"],
        resources=["*"],
        conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
    )


class DataKey(Construct):
    """A rotating, retained KMS key for one region's data, usable by CloudWatch Logs (flow logs,
    container logs) and by CloudWatch alarms publishing to an encrypted SNS topic.

    :param alias: alias name without the ``alias/`` prefix. Give one only when another region
        must name this key before it can be referenced (DynamoDB replica keys, backup vaults).
    :param secret_replicas: this key encrypts replicas of secrets whose primary is in another
        region: let Secrets Manager here encrypt each new version (a rotated password) for
        whichever principal of the account wrote it. Default False.
    :param removal_policy: default RETAIN: data encrypted with a deleted key is lost.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        description: str,
        alias: str | None = None,
        secret_replicas: bool = False,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id_)
        self.key = kms.Key(
            self,
            "Key",
            description=description,
            enable_key_rotation=True,
            removal_policy=removal_policy,
        )
        if alias is not None:
            self.key.add_alias(f"alias/{alias}")
        for statement in (
            _logs_in_this_region(Stack.of(self).region),
            _grants_only_for_aws_services(),
            _alarms_to_encrypted_topics(),
        ):
            self.key.add_to_resource_policy(statement)
        if secret_replicas:
            self._allow_secret_replica_versions()

    def _allow_secret_replica_versions(self) -> None:
        """Secrets Manager replicates a new version by re-encrypting it under the replica's key,
        acting for the caller who wrote the version, who needs kms:GenerateDataKey and
        kms:Encrypt on that key:
        https://docs.aws.amazon.com/secretsmanager/latest/userguide/replicate-secrets_troubleshoot.html
        https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html
        After a rotation that caller is the hosted rotation function. Its role is made by the
        rotation transform, under a name not known at synth, from one key ARN (KmsKeyArn, the
        primary's):
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-secretsmanager-rotationschedule-hostedrotationlambda.html
        So the key policy admits the account's principals as the key replicas get by default,
        aws/secretsmanager, does (security-encryption.html above;
        https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-secretsmanager-secret-replicaregion.html),
        but narrower: through Secrets Manager in this region, from this account, and only the
        two actions replication needs. (All read 2026-11-28.)"""
        stack = Stack.of(self)
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="SecretReplicaVersionsThroughSecretsManager",
                principals=[iam.AnyPrincipal()],
                actions=["kms:Encrypt", "kms:GenerateDataKey"],
                resources=["*"],
                conditions={
                    "StringEquals": {
                        "kms:ViaService": f"secretsmanager.{stack.region}.amazonaws.com",
                        "kms:CallerAccount": stack.account,
                    }
                },
            )
        )


def let_imported_role_use_queues(key: kms.IKey, role: iam.IRole) -> None:
    """Let ``role`` send and receive the messages of queues ``key`` encrypts, in the key policy.

    A role imported by name (made beforehand by another stack, immutable here) takes no
    statement of this stack: CDK's grant on it is dropped, "If this is false or not specified,
    grant permissions added to this role are ignored. It is your own responsibility to make sure
    the role has the required permissions."
    (https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_iam.FromRoleNameOptions.html,
    addGrantsToResources, read 2026-12-04). So the key policy names the role: "For a customer
    managed KMS key, you must configure the key policy to add permissions for each queue
    producer and consumer." (rules.store_key_actions). Only the two actions SQS needs, only
    through SQS in the key's region. KMS checks that the role exists when the policy is set
    ("The principals in the key policy must exist and be visible to KMS.", botocore's KMS
    model, CreateKey's Policy;
    https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html, read 2026-12-04):
    it does, made before any event."""
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="QueueMessagesForImportedRole",
            principals=[iam.ArnPrincipal(role.role_arn)],
            actions=list(rules.store_key_actions()),
            resources=["*"],
            conditions={
                "StringEquals": {"kms:ViaService": f"sqs.{Stack.of(key).region}.amazonaws.com"}
            },
        )
    )


# What a service's caller needs of a table's or a queue's customer key: envelope encryption.
ENVELOPE = ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey")


def use_key_by_alias(alias: str) -> iam.PolicyStatement:
    """Envelope use of the key another stack made, named by its alias (``alias/...``): IAM
    matches a key's ARN, never its alias, so the alias goes in a condition."""
    return iam.PolicyStatement(
        actions=list(ENVELOPE),
        resources=["*"],
        conditions={"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}},
    )
