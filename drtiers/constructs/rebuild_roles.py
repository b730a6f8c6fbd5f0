"""Roles a rebuild of the primary stack uses, made before any event.

Creating or changing an IAM role needs IAM's control plane, which is served from us-east-1
(https://docs.aws.amazon.com/IAM/latest/UserGuide/disaster-recovery-resiliency.html, read
2026-11-28); using a role does not. A tier rebuilt after losing its primary region (which may be
us-east-1) must therefore create none: these roles exist beforehand, under fixed names, and name
the rebuilt resources by their fixed names in any region.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from constructs import Construct

from drtiers.constructs.dynamo import DAX_DATA_ACTIONS, TABLE_DATA_ACTIONS
from drtiers.constructs.keys import use_key_by_alias
from drtiers.constructs.lint import acknowledge
from drtiers.constructs.queues import QUEUE_WORKER_ACTIONS
from drtiers.constructs.relational import ENHANCED_MONITORING_POLICY

WHY_ANY_REGION = (
    "Made before the event for a rebuild in whichever region survives: the resources it names "
    "do not exist yet, so it names them by their fixed names (the account and the tier's own "
    "table, queue, log groups, database user), in any region."
)


class RebuildRoles(Construct):
    """Task, execution, proxy, DAX, monitoring and flow-log roles for a rebuilt primary stack.

    :param names: ``<app>-<tier>``; each role is ``<names>-rebuild-<what>``.
    :param table_names: / :param queue_names: / :param app_log_group: / :param flow_log_group:
        the fixed names the rebuilt stack gives those resources (the workload's tables and
        queues, zero or more).
    :param control_table: the table holding the writer-region item, which the app reads.
    :param dax_table_names: the tables DAX caches.
    :param table_key_alias: alias (``alias/...``) of the key the restored table is encrypted
        with.
    :param database_user: the database user the app and the proxy log in as; None: the
        workload has no database.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        names: str,
        table_names: Sequence[str],
        control_table: str,
        dax_table_names: Sequence[str],
        queue_names: Sequence[str],
        app_log_group: str,
        flow_log_group: str,
        table_key_alias: str,
        database_user: str | None,
    ) -> None:
        super().__init__(scope, id_)
        self.names = names

        def arn(service: str, resource: str) -> str:
            return f"arn:{Aws.PARTITION}:{service}:*:{Aws.ACCOUNT_ID}:{resource}"

        def tables(names: Sequence[str]) -> list[str]:
            return [arn("dynamodb", f"table/{name}") for name in names]

        task = [
            iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=tables([control_table])),
            use_key_by_alias(table_key_alias),
        ]
        if table_names:
            indexes = [f"{table}/index/*" for table in tables(table_names)]
            task.insert(
                0,
                iam.PolicyStatement(
                    actions=list(TABLE_DATA_ACTIONS), resources=tables(table_names) + indexes
                ),
            )
        if dax_table_names:  # the rebuilt clusters' names are generated: any in the account
            task.append(
                iam.PolicyStatement(
                    actions=list(DAX_DATA_ACTIONS), resources=[arn("dax", "cache/*")]
                )
            )
        if queue_names:
            task.append(
                iam.PolicyStatement(
                    actions=list(QUEUE_WORKER_ACTIONS),
                    resources=[arn("sqs", name) for name in queue_names],
                )
            )
        if database_user is not None:
            task.append(
                iam.PolicyStatement(
                    actions=["rds-db:connect"],
                    resources=[arn("rds-db", f"dbuser:prx-*/{database_user}")],
                )
            )
        self._role("task", "ecs-tasks.amazonaws.com", task)
        self._role(
            "execution",
            "ecs-tasks.amazonaws.com",
            [
                iam.PolicyStatement(
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[arn("logs", f"log-group:{app_log_group}:*")],
                )
            ],
        )
        if database_user is not None:
            self._role(
                "proxy",
                "rds.amazonaws.com",
                [
                    iam.PolicyStatement(
                        actions=["rds-db:connect"],
                        resources=[arn("rds-db", f"dbuser:db-*/{database_user}")],
                    )
                ],
            )
        if dax_table_names:
            self._role(
                "dax",
                "dax.amazonaws.com",
                [
                    iam.PolicyStatement(
                        actions=["dynamodb:DescribeTable", "dynamodb:Scan", *TABLE_DATA_ACTIONS],
                        resources=tables(dax_table_names),
                    )
                ],
            )
        self._role(
            "flow-logs",
            "vpc-flow-logs.amazonaws.com",
            [
                iam.PolicyStatement(
                    actions=[
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                        "logs:DescribeLogStreams",
                    ],
                    resources=[arn("logs", f"log-group:{flow_log_group}:*")],
                )
            ],
        )
        if database_user is None:
            return
        monitoring = self._role("monitoring", "monitoring.rds.amazonaws.com", [])
        monitoring.add_managed_policy(
            iam.ManagedPolicy.from_aws_managed_policy_name(ENHANCED_MONITORING_POLICY)
        )
        acknowledge(
            monitoring.node.default_child,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
            f"{ENHANCED_MONITORING_POLICY}]",
            "AWS's own policy for enhanced monitoring: it only lets RDS write OS metrics to the "
            "RDSOSMetrics log group, and AWS keeps it current.",
            checker="cdk-nag",
        )

    def role_name(self, what: str) -> str:
        return f"{self.names}-rebuild-{what}"

    def _role(self, what: str, service: str, statements: Sequence[iam.PolicyStatement]) -> iam.Role:
        role = iam.Role(
            self,
            what.title().replace("-", ""),
            role_name=self.role_name(what),
            assumed_by=iam.ServicePrincipal(service),
            description=f"drtiers rebuild: the {what} role, made before any event",
            inline_policies={"Rebuild": iam.PolicyDocument(statements=list(statements))}
            if statements
            else None,
        )
        stack = role.stack
        for statement in statements:
            for resource in statement.resources:
                if "*" in resource:
                    rendered = stack.resolve(resource)
                    text = (
                        rendered
                        if isinstance(rendered, str)
                        else "".join(
                            p if isinstance(p, str) else f"<{p['Ref']}>"
                            for p in rendered["Fn::Join"][1]
                        )
                    )
                    acknowledge(
                        role.node.default_child,
                        f"AwsSolutions-IAM5[Resource::{text}]",
                        WHY_ANY_REGION,
                        checker="cdk-nag",
                    )
        return role


def imported(scope: Construct, names: str, what: str) -> iam.IRole:
    """A rebuild role by its fixed name (no IAM call at deploy time)."""
    return iam.Role.from_role_name(
        scope,
        f"Rebuild{what.title().replace('-', '')}Role",
        f"{names}-rebuild-{what}",
        mutable=False,
    )
