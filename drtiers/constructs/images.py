"""The image's copy in the recovery region: one ECR replication rule, added to the registry's
configuration by a custom resource (drtiers/lambdas/ecr_replication.py says why not
AWS::ECR::ReplicationConfiguration) and kept when the stack goes; and, in R, a custom resource
its service waits on until the copy is there."""

from __future__ import annotations

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from drtiers.constructs.functions import custom_resource_function
from drtiers.constructs.lint import acknowledge
from drtiers.core.images import COPY_TYPE, PULL_ACTIONS, RULE_TYPE, TOKEN_ACTION

# ECR's registry-level actions take no resource; the first replication configuration makes
# ECR's service-linked role (https://docs.aws.amazon.com/AmazonECR/latest/userguide/
# using-service-linked-roles-replication.html, read 2026-12-05).
_REGISTRY_ACTIONS = ("ecr:DescribeRegistry", "ecr:PutReplicationConfiguration")
_REPLICATION_SERVICE = "replication.ecr.amazonaws.com"
# Why the pull's token statement names no resource (cdk-nag's AwsSolutions-IAM5).
TOKEN_REASON = (
    f"{TOKEN_ACTION} takes no resource: ECR's authorization token is the registry's, not a "
    "repository's; the pull actions name the repository."
)


def pull_statements(repository_arn: str) -> list[iam.PolicyStatement]:
    """What an execution role needs to pull an image from a private ECR repository."""
    return [
        iam.PolicyStatement(actions=list(PULL_ACTIONS), resources=[repository_arn]),
        iam.PolicyStatement(actions=[TOKEN_ACTION], resources=["*"]),
    ]


class ImageReplication(Construct):
    """Copies ``repository`` of this account's registry here to ``destination`` as pushed.

    :param log_key: the key its function's log group is encrypted with.
    :param removal_policy: what becomes of that log group when the stack goes. Default: kept.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        repository: str,
        destination: str,
        account: str,
        log_key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id_)
        function = custom_resource_function(
            self,
            module="ecr_replication",
            calls="ECR's API",
            purpose="adds the image's replication rule to the registry",
            log_key=log_key,
            removal_policy=removal_policy,
            timeout=Duration.seconds(60),
            statements=[
                iam.PolicyStatement(actions=list(_REGISTRY_ACTIONS), resources=["*"]),
                iam.PolicyStatement(
                    actions=["iam:CreateServiceLinkedRole"],
                    resources=["*"],
                    conditions={"StringEquals": {"iam:AWSServiceName": _REPLICATION_SERVICE}},
                ),
            ],
        )
        self.rule = CustomResource(
            self,
            "Rule",
            service_token=function.function_arn,
            resource_type=RULE_TYPE,
            properties={"Repository": repository, "Region": destination, "RegistryId": account},
            # Other tiers of the app may pull what it copies: the rule stays (README).
            removal_policy=RemovalPolicy.RETAIN,
            # A function that never answers holds the stack an hour by default.
            service_timeout=Duration.seconds(120),
        )
        policy = function.role.node.find_child("DefaultPolicy").node.default_child  # type: ignore[union-attr]
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ECR's DescribeRegistry and PutReplicationConfiguration act on the registry and "
            "take no resource; CreateServiceLinkedRole is held to ECR's replication service by "
            "its condition.",
            checker="cdk-nag",
        )


class ImageCopyCheck(Construct):
    """Waits, as the stack deploys, until ``repository`` holds ``reference`` (":<tag>" or
    "@sha256:<digest>") in this region's registry, and fails with one line if it does not come
    in the function's 15 minutes; what needs the image depends on :attr:`resource`.

    :param repository_arn: the repository here, which the function may describe.
    :param log_key: the key its function's log group is encrypted with.
    :param removal_policy: what becomes of that log group when the stack goes. Default: kept.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        repository: str,
        reference: str,
        repository_arn: str,
        log_key: kms.IKey,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id_)
        function = custom_resource_function(
            self,
            module="ecr_replication",
            calls="ECR's API",
            purpose="waits for the image's copy in this region",
            log_key=log_key,
            removal_policy=removal_policy,
            timeout=Duration.minutes(15),  # Lambda's longest: ECR's copy may take minutes
            statements=[
                iam.PolicyStatement(actions=["ecr:DescribeImages"], resources=[repository_arn])
            ],
        )
        self.resource = CustomResource(
            self,
            "Copy",
            service_token=function.function_arn,
            resource_type=COPY_TYPE,
            properties={"Repository": repository, "Reference": reference},
            service_timeout=Duration.seconds(960),  # the function's 15 minutes, and a margin
        )
