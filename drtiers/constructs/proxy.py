"""Proxy: RDS Proxy in front of a PostgreSQL or MySQL instance, or an Aurora cluster.

RDS Proxy pools connections so that bursts from containers and functions (and the reconnect storm
after a failover) do not exhaust the database's connections, and it shortens failover for clients.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from aws_cdk import Aws, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from constructs import Construct

from drtiers.constructs.engines import DEFAULT_ENGINE, Engine
from drtiers.constructs.lint import acknowledge
from drtiers.constructs.network import egress_stated_at_create

_PROXY_NAME = re.compile(r"[a-zA-Z](-?[a-zA-Z0-9]){0,55}")


class DatabaseProxy(Construct):
    """An RDS Proxy with TLS required and end-to-end IAM authentication: clients connect with an
    IAM token, and the proxy logs in to the database with IAM as the same user, so it holds no
    password and needs no secret in any region (the recovery region's proxy works with nothing
    from the primary). Source: https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/
    rds-proxy-iam-migration.html (read 2026-11-28).

    Give exactly one of ``instance_identifiers`` or ``cluster_identifiers``.

    :param proxy_name: CloudFormation requires a name: letters, digits and single hyphens.
    :param database_resource_id: the target's resource id (``DBClusterResourceId`` of a
        cluster), or ``db-*`` for any instance of the region: IAM names database users by it.
    :param wildcard_reason: why, when ``database_resource_id`` is a wildcard (acknowledged for
        cdk-nag on the proxy's role).
    :param role: a role made beforehand that already grants that login (a rebuild). Default:
        one is created.
    :param database_user: the user the proxy may log in as (it must have the rds_iam role).
    :param database_security_group: the database's group; the proxy is let in on its port.
    :param max_connections_percent: of the database's max_connections the proxy may use,
        1..100. Default 100; lower it by the write-forwarding quota where that is on.
    :param read_only_endpoint: add a READ_ONLY endpoint (for an Aurora cluster with readers).
    :param engine: the target's engine (drtiers.constructs.engines): the proxy's engine family,
        and the database's port it reaches the target on. Default PostgreSQL 17. Clients
        connect on ``port``, the family's RDS Proxy port (5432 or 3306).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        proxy_name: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        database_resource_id: str,
        database_user: str,
        wildcard_reason: str | None = None,
        role: iam.IRole | None = None,
        database_security_group: ec2.ISecurityGroup,
        instance_identifiers: Sequence[str] = (),
        cluster_identifiers: Sequence[str] = (),
        read_only_endpoint: bool = False,
        max_connections_percent: int = 100,
        engine: Engine = DEFAULT_ENGINE,
    ) -> None:
        super().__init__(scope, id_)
        _check_props(
            proxy_name=proxy_name,
            max_connections_percent=max_connections_percent,
            instance_identifiers=instance_identifiers,
            cluster_identifiers=cluster_identifiers,
            database_resource_id=database_resource_id,
            wildcard_reason=wildcard_reason,
            role_given=role is not None,
        )
        self.engine = engine
        self.port = engine.proxy_port
        self.security_group = self._security_group(vpc=vpc, database=database_security_group)
        self.role: iam.IRole = role or self._role(
            database_resource_id=database_resource_id,
            database_user=database_user,
            wildcard_reason=wildcard_reason,
        )
        subnet_ids = vpc.select_subnets(subnet_group_name=subnets.subnet_group_name).subnet_ids
        self.proxy = self._proxy(proxy_name=proxy_name, subnet_ids=subnet_ids)
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
        # The default endpoint is read/write: it sends everything to the writer, and on a
        # secondary cluster it fails until that cluster is promoted.
        self.endpoint = self.proxy.attr_endpoint
        self.read_only_endpoint: str | None = (
            self._read_only_endpoint(proxy_name=proxy_name, subnet_ids=subnet_ids)
            if read_only_endpoint
            else None
        )

    def _security_group(self, *, vpc: ec2.IVpc, database: ec2.ISecurityGroup) -> ec2.SecurityGroup:
        """The proxy's group, allowed to reach the database (which lets it in) on its port."""
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description=f"RDS Proxy: {self.engine.label} from the application tier",
            allow_all_outbound=False,
        )
        group.add_egress_rule(database, ec2.Port.tcp(self.engine.port), "Proxy to database")
        database.add_ingress_rule(group, ec2.Port.tcp(self.engine.port), "From the RDS Proxy")
        egress_stated_at_create(group)  # its one rule is its own resource
        return group

    def _role(
        self, *, database_resource_id: str, database_user: str, wildcard_reason: str | None
    ) -> iam.Role:
        """The role the proxy logs in to the database with, as ``database_user`` only."""
        stack = Stack.of(self)
        user_arn = (
            f"arn:{Aws.PARTITION}:rds-db:{stack.region}:{stack.account}:"
            f"dbuser:{database_resource_id}/{database_user}"
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("rds.amazonaws.com"),
            description="RDS Proxy: log in to its database as the application user, with IAM",
            inline_policies={
                "Connect": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=["rds-db:connect"],
                            resources=[user_arn],
                        )
                    ]
                )
            },
        )
        if wildcard_reason and "*" in database_resource_id:
            acknowledge(
                role.node.default_child,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds-db:{stack.region}:"
                f"{stack.account}:dbuser:{database_resource_id}/{database_user}]",
                wildcard_reason,
                checker="cdk-nag",
            )
        return role

    def _proxy(self, *, proxy_name: str, subnet_ids: Sequence[str]) -> rds.CfnDBProxy:
        """The proxy: TLS required, IAM authentication end to end."""
        return rds.CfnDBProxy(
            self,
            "Proxy",
            db_proxy_name=proxy_name,
            engine_family=self.engine.proxy_engine_family,
            role_arn=self.role.role_arn,
            vpc_subnet_ids=list(subnet_ids),
            vpc_security_group_ids=[self.security_group.security_group_id],
            require_tls=True,
            default_auth_scheme="IAM_AUTH",
        )

    def _read_only_endpoint(self, *, proxy_name: str, subnet_ids: Sequence[str]) -> str:
        """A READ_ONLY endpoint (``<proxy_name>-ro``), for a cluster's readers; its address."""
        read_only = rds.CfnDBProxyEndpoint(
            self,
            "ReadOnly",
            db_proxy_endpoint_name=f"{proxy_name}-ro",
            db_proxy_name=self.proxy.ref,
            vpc_subnet_ids=list(subnet_ids),
            vpc_security_group_ids=[self.security_group.security_group_id],
            target_role="READ_ONLY",
        )
        return read_only.attr_endpoint


def _check_props(
    *,
    proxy_name: str,
    max_connections_percent: int,
    instance_identifiers: Sequence[str],
    cluster_identifiers: Sequence[str],
    database_resource_id: str,
    wildcard_reason: str | None,
    role_given: bool,
) -> None:
    """Refuse a name RDS Proxy rejects, a share of connections outside 1..100, other than one
    kind of target, and a wildcard login (on a role made here) without its reason."""
    if not _PROXY_NAME.fullmatch(proxy_name):
        raise ValueError(
            f"DatabaseProxy: proxy_name '{proxy_name}' must be 1-56 letters, digits and "
            "single hyphens, starting with a letter"
        )
    if not 1 <= max_connections_percent <= 100:
        raise ValueError(
            f"DatabaseProxy: max_connections_percent {max_connections_percent} is outside 1..100"
        )
    if bool(instance_identifiers) == bool(cluster_identifiers):
        raise ValueError(
            "DatabaseProxy: give exactly one of instance_identifiers or cluster_identifiers"
        )
    if not role_given and "*" in database_resource_id and not wildcard_reason:
        raise ValueError(
            f"DatabaseProxy: database_resource_id '{database_resource_id}' is a "
            "wildcard; give wildcard_reason"
        )
