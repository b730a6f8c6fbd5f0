"""Proxy: RDS Proxy in front of a PostgreSQL instance or an Aurora cluster.

RDS Proxy pools connections so that bursts from containers and functions (and the reconnect storm
after a failover) do not exhaust the database's connections, and it shortens failover for clients.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_rds as rds
from constructs import Construct

from drtiers.constructs.lint import acknowledge
from drtiers.constructs.relational import DATABASE_PORT

_PROXY_NAME = re.compile(r"[a-zA-Z](-?[a-zA-Z0-9]){0,55}")


class DatabaseProxy(Construct):
    """An RDS Proxy with TLS required and IAM authentication required, reading the database
    credentials from Secrets Manager through a role that can read only that secret.

    Give exactly one of ``instance_identifiers`` or ``cluster_identifiers``.

    :param proxy_name: CloudFormation requires a name: letters, digits and single hyphens.

    :param secret_arn: the credentials secret (in this region: a replica ARN is fine).
    :param secret_key: the KMS key that encrypts that secret in this region, or the name
        of its alias (without ``alias/``) when the key lives in another stack.
    :param database_security_group: the database's group; the proxy is let in on its port.
    :param max_connections_percent: of the database's max_connections the proxy may use,
        1..100. Default 100; lower it by the write-forwarding quota where that is on.
    :param read_only_endpoint: add a READ_ONLY endpoint (for an Aurora secondary cluster, which
        has no writer until it is promoted).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        proxy_name: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        secret_arn: str,
        secret_key: kms.IKey | str,
        database_security_group: ec2.ISecurityGroup,
        instance_identifiers: Sequence[str] = (),
        cluster_identifiers: Sequence[str] = (),
        read_only_endpoint: bool = False,
        max_connections_percent: int = 100,
    ) -> None:
        super().__init__(scope, id_)
        if not _PROXY_NAME.fullmatch(proxy_name):
            raise ValueError(
                f"DatabaseProxy: proxy_name '{proxy_name}' must be 1-56 letters, digits and "
                "single hyphens, starting with a letter"
            )
        if not 1 <= max_connections_percent <= 100:
            raise ValueError(
                f"DatabaseProxy: max_connections_percent {max_connections_percent} is outside "
                "1..100"
            )
        if bool(instance_identifiers) == bool(cluster_identifiers):
            raise ValueError(
                "DatabaseProxy: give exactly one of instance_identifiers or cluster_identifiers"
            )
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="RDS Proxy: PostgreSQL from the application tier",
            allow_all_outbound=False,
        )
        self.security_group.add_egress_rule(
            database_security_group, ec2.Port.tcp(DATABASE_PORT), "Proxy to database"
        )
        database_security_group.add_ingress_rule(
            self.security_group, ec2.Port.tcp(DATABASE_PORT), "From the RDS Proxy"
        )
        via_secrets_manager = {"kms:ViaService": f"secretsmanager.{vpc.stack.region}.amazonaws.com"}
        if isinstance(secret_key, str):
            # IAM matches a key's ARN, never its alias: name the alias in a condition instead.
            decrypt = iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=["*"],
                conditions={
                    "StringEquals": via_secrets_manager,
                    "ForAnyValue:StringEquals": {"kms:ResourceAliases": f"alias/{secret_key}"},
                },
            )
            acknowledge_alias_wildcard = True
        else:
            acknowledge_alias_wildcard = False
            decrypt = iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[secret_key.key_arn],
                conditions={"StringEquals": via_secrets_manager},
            )
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("rds.amazonaws.com"),
            description="RDS Proxy: read the one database secret",
            inline_policies={
                "ReadSecret": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["secretsmanager:GetSecretValue"],
                            resources=[secret_arn],
                        ),
                        decrypt,
                    ]
                )
            },
        )
        if acknowledge_alias_wildcard:
            acknowledge(
                self.role.node.default_child,
                "AwsSolutions-IAM5[Resource::*]",
                "Limited to the one key whose alias the condition names: the secret replica's "
                "key lives in the recovery-base stack and IAM cannot match it by alias ARN.",
                checker="cdk-nag",
            )
        subnet_ids = vpc.select_subnets(subnet_group_name=subnets.subnet_group_name).subnet_ids
        self.proxy = rds.CfnDBProxy(
            self,
            "Proxy",
            db_proxy_name=proxy_name,
            engine_family="POSTGRESQL",
            role_arn=self.role.role_arn,
            vpc_subnet_ids=subnet_ids,
            vpc_security_group_ids=[self.security_group.security_group_id],
            require_tls=True,
            auth=[
                rds.CfnDBProxy.AuthFormatProperty(
                    auth_scheme="SECRETS", secret_arn=secret_arn, iam_auth="REQUIRED"
                )
            ],
        )
        self.target_group = rds.CfnDBProxyTargetGroup(
            self,
            "Targets",
            db_proxy_name=self.proxy.ref,
            target_group_name="default",
            db_instance_identifiers=list(instance_identifiers) or None,
            db_cluster_identifiers=list(cluster_identifiers) or None,
            connection_pool_configuration_info=rds.CfnDBProxyTargetGroup.ConnectionPoolConfigurationInfoFormatProperty(
                max_connections_percent=max_connections_percent
            ),
        )
        self.endpoint = self.proxy.attr_endpoint
        if read_only_endpoint:
            read_only = rds.CfnDBProxyEndpoint(
                self,
                "ReadOnly",
                db_proxy_endpoint_name=f"{proxy_name}-ro",
                db_proxy_name=self.proxy.ref,
                vpc_subnet_ids=subnet_ids,
                vpc_security_group_ids=[self.security_group.security_group_id],
                target_role="READ_ONLY",
            )
            self.endpoint = read_only.attr_endpoint
