"""The one shape of a custom resource's function: its code inline (a module of drtiers/lambdas,
linted and tested there, read here: it imports boto3, which only the Lambda runtime has), an
encrypted log group kept for a year, and a role that may do what it is given."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from drtiers.constructs.lint import acknowledge

LAMBDAS = Path(__file__).resolve().parents[1] / "lambdas"


def custom_resource_function(
    scope: Construct,
    *,
    module: str,
    purpose: str,
    calls: str,
    log_key: kms.IKey,
    removal_policy: RemovalPolicy,
    timeout: Duration,
    statements: list[iam.PolicyStatement],
    role_name: str | None = None,
) -> lambda_.Function:
    """The function of ``drtiers/lambdas/<module>.py`` in ``scope`` (ids Role, Logs,
    Function), with a role that may do ``statements`` (named ``role_name`` where another
    account's trust names it). ``calls``: the APIs it calls, why it needs no VPC."""
    role = iam.Role(
        scope,
        "Role",
        role_name=role_name,
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"drtiers: {purpose}",
    )
    for statement in statements:
        role.add_to_principal_policy(statement)
    log_group = logs.LogGroup(
        scope,
        "Logs",
        encryption_key=log_key,
        retention=logs.RetentionDays.ONE_YEAR,
        removal_policy=removal_policy,
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_14,
        handler="index.handler",
        code=lambda_.Code.from_inline((LAMBDAS / f"{module}.py").read_text()),
        role=role,
        timeout=timeout,
        log_group=log_group,
    )
    acknowledge(
        function.node.default_child,
        "lambda_inside_vpc_check",
        f"It calls only {calls}, once per deploy; in a VPC it would need an endpoint.",
        checker="guard",
    )
    acknowledge(
        function.node.default_child,
        "W3005",
        "The L2 function depends on its role (and the role's policy) explicitly; harmless.",
    )
    return function
