"""The image's copy in the recovery region: one ECR replication rule, added to the registry's
configuration by a custom resource (drtiers/lambdas/ecr_replication.py says why not
AWS::ECR::ReplicationConfiguration), and kept when the stack goes."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import CustomResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from drtiers.constructs.lint import acknowledge
from drtiers.core.images import RULE_TYPE

# It imports boto3, which only the Lambda runtime has: read, never imported, here.
_CODE = (Path(__file__).resolve().parents[1] / "lambdas" / "ecr_replication.py").read_text()
# ECR's registry-level actions take no resource; the first replication configuration makes
# ECR's service-linked role (https://docs.aws.amazon.com/AmazonECR/latest/userguide/
# using-service-linked-roles-replication.html, read 2026-12-05).
_REGISTRY_ACTIONS = ("ecr:DescribeRegistry", "ecr:PutReplicationConfiguration")
_REPLICATION_SERVICE = "replication.ecr.amazonaws.com"


class ImageReplication(Construct):
    """Copies ``repository`` of this account's registry here to ``destination`` as pushed.

    :param log_key: the key its function's log group is encrypted with.
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
    ) -> None:
        super().__init__(scope, id_)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="drtiers: adds the image's replication rule to the registry",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(_REGISTRY_ACTIONS), resources=["*"])
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:CreateServiceLinkedRole"],
                resources=["*"],
                conditions={"StringEquals": {"iam:AWSServiceName": _REPLICATION_SERVICE}},
            )
        )
        log_group = logs.LogGroup(
            self,
            "Logs",
            encryption_key=log_key,
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        log_group.grant_write(role)
        function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            handler="index.handler",
            code=lambda_.Code.from_inline(_CODE),
            role=role,
            timeout=Duration.seconds(60),
            log_group=log_group,
        )
        self.rule = CustomResource(
            self,
            "Rule",
            service_token=function.function_arn,
            resource_type=RULE_TYPE,
            properties={"Repository": repository, "Region": destination, "RegistryId": account},
            # Other tiers of the app may pull what it copies: the rule stays (README).
            removal_policy=RemovalPolicy.RETAIN,
        )
        self._acknowledge(role, function)

    @staticmethod
    def _acknowledge(role: iam.Role, function: lambda_.Function) -> None:
        policy = role.node.find_child("DefaultPolicy").node.default_child
        acknowledge(
            policy,
            "AwsSolutions-IAM5[Resource::*]",
            "ECR's DescribeRegistry and PutReplicationConfiguration act on the registry and "
            "take no resource; CreateServiceLinkedRole is held to ECR's replication service by "
            "its condition.",
            checker="cdk-nag",
        )
        acknowledge(
            function.node.default_child,
            "lambda_inside_vpc_check",
            "It calls only ECR's API, once per deploy; in a VPC it would need an endpoint.",
            checker="guard",
        )
        acknowledge(
            function.node.default_child,
            "W3005",
            "The L2 function depends on its role (and the role's policy) explicitly; harmless.",
        )
