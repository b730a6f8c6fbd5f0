"""What a regional stack gives its application: a way to its database, and one grant of its
tables, queues, DAX clusters and keys, with the environment that tells it where they are.

The primary and recovery stacks build different things, but the application reaches them the
same way in both; these helpers are that one way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aws_cdk import Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms

from drtiers.constructs.app import AppService
from drtiers.constructs.dynamo import DAX_DATA_ACTIONS, TABLE_DATA_ACTIONS, DaxCluster
from drtiers.constructs.keys import ENVELOPE, use_key_by_alias
from drtiers.constructs.lint import acknowledge
from drtiers.constructs.queues import QUEUE_WORKER_ACTIONS, WorkQueue
from drtiers.core.tiers import CONTROL_REGIONS_VARIABLE
from drtiers.stacks.base import TierStack

# Created by the application's schema migration for IAM authentication (PostgreSQL: granted
# rds_iam; MySQL: IDENTIFIED WITH AWSAuthenticationPlugin AS 'RDS').
APP_DB_USER = "app"
# IAM names an RDS instance's database users by its resource id, which an instance created to
# replace it during failback (under the same identifier) does not keep: grant the one user on
# any instance of the region instead. Clusters keep their resource id across a switchover.
ANY_INSTANCE = "db-*"
INSTANCE_GRANT_REASON = (
    "Only the application's own database user, in this region and account: an instance "
    "re-created during failback gets a new resource id, so a grant naming the old one would "
    "lock the application out."
)


@dataclass(frozen=True)
class DatabaseWiring:
    """What the application needs to connect to the tier's database in one region."""

    # Read/write: the writer, wherever it is after a promotion.
    endpoint: str
    port: int
    # The group the application's group reaches: the proxy's, or the database's own.
    security_group: ec2.ISecurityGroup
    # What that group is, as the application's egress rule describes it.
    reaches: str
    # What IAM names the database user by (``dbuser:<user_id>/<user>``): the proxy's id, or
    # ANY_INSTANCE for an instance reached directly.
    user_id: str
    # A read-only endpoint, where there is one.
    reader: str | None = None

    @property
    def environment(self) -> dict[str, str]:
        """DATABASE_ENDPOINT, DATABASE_PORT, DATABASE_USER and, with a reader,
        DATABASE_READER_ENDPOINT."""
        variables = {
            "DATABASE_ENDPOINT": self.endpoint,
            "DATABASE_PORT": str(self.port),
            "DATABASE_USER": APP_DB_USER,
        }
        if self.reader is not None:
            variables["DATABASE_READER_ENDPOINT"] = self.reader
        return variables


@dataclass(frozen=True)
class AppTable:
    """A table as the application is told of it: the variable that names it, name and ARN."""

    variable: str
    name: str
    arn: str


def connect_database(stack: TierStack, app: AppService, database: DatabaseWiring) -> None:
    """Let the application's group reach the database's on its port, and the application
    connect there with IAM as its own database user only."""
    port = ec2.Port.tcp(database.port)
    database.security_group.add_ingress_rule(app.security_group, port, "From the application tier")
    app.security_group.add_egress_rule(database.security_group, port, database.reaches)
    user = f"dbuser:{database.user_id}/{APP_DB_USER}"
    app.task_role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=["rds-db:connect"], resources=[stack.arn("rds-db", stack.region, user)]
        )
    )
    if database.user_id == ANY_INSTANCE:
        acknowledge(
            app.task_role.node.find_child("DefaultPolicy").node.default_child,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds-db:{stack.region}:"
            f"{stack.config.account}:{user}]",
            INSTANCE_GRANT_REASON,
            checker="cdk-nag",
        )


def grant_app(
    app: AppService,
    *,
    tables: Sequence[AppTable],
    control: AppTable,
    control_elsewhere: Sequence[tuple[str, str]],
    queues: Sequence[tuple[str, WorkQueue]],
    dax: Sequence[tuple[str, DaxCluster]],
    keys: Sequence[kms.IKey],
    key_aliases: Sequence[str] = (),
    database: DatabaseWiring | None,
) -> None:
    """Let the application use its tables, queues, DAX clusters and keys, with exactly the
    actions it needs, and tell it where they and its database are. ``control`` is the
    writer-region table, which it only reads, here and in each (region, ARN) of
    ``control_elsewhere`` (CONTROL_TABLE_REGIONS, its own region first); ``queues`` and
    ``dax`` are (environment suffix, queue or cluster); ``key_aliases`` name keys of another
    stack (IAM cannot match them by alias ARN). The application connects to ``database`` by
    ``connect_database``."""
    role = app.task_role
    _allow(role, TABLE_DATA_ACTIONS, [table.arn for table in tables])
    _allow(role, ["dynamodb:GetItem"], [control.arn, *(arn for _, arn in control_elsewhere)])
    for alias in key_aliases:
        _allow_key_by_alias(role, alias)
    _allow(role, QUEUE_WORKER_ACTIONS, [queue.queue.queue_arn for _, queue in queues])
    _allow(role, ENVELOPE, [key.key_arn for key in keys])
    _allow(role, DAX_DATA_ACTIONS, [cluster.cluster.attr_arn for _, cluster in dax])
    variables = {table.variable: table.name for table in (*tables, control)}
    # A region that returns may still hold an old item in its own replica (or none, where the
    # control table was restored elsewhere): the newest item of every region decides.
    regions = [Stack.of(app).region, *(region for region, _ in control_elsewhere)]
    variables[CONTROL_REGIONS_VARIABLE] = ",".join(regions)
    if database is not None:
        variables |= database.environment
    variables |= {f"QUEUE_URL{env}": queue.queue.queue_url for env, queue in queues}
    variables |= {
        f"DAX_ENDPOINT{env}": cluster.cluster.attr_cluster_discovery_endpoint_url
        for env, cluster in dax
    }
    app.set_environment(variables)


def _allow(role: iam.IRole, actions: Iterable[str], resources: list[str]) -> None:
    """One statement granting ``actions`` on ``resources``; none when there are none."""
    if resources:
        role.add_to_principal_policy(
            iam.PolicyStatement(actions=list(actions), resources=resources)
        )


def _allow_key_by_alias(role: iam.IRole, alias: str) -> None:
    role.add_to_principal_policy(use_key_by_alias(f"alias/{alias}"))
    acknowledge(
        role.node.find_child("DefaultPolicy").node.default_child,
        "AwsSolutions-IAM5[Resource::*]",
        "Limited to the one key whose alias the condition names: the table replica's "
        "key lives in the recovery-base stack and IAM cannot match it by alias ARN.",
        checker="cdk-nag",
    )
