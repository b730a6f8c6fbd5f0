"""Roles a rebuild of the primary stack uses, made before any event.

Creating or changing an IAM role needs IAM's control plane, which is served from us-east-1
(https://docs.aws.amazon.com/IAM/latest/UserGuide/disaster-recovery-resiliency.html, read
2026-11-28); using a role does not. A tier rebuilt after losing its primary region (which may be
us-east-1) must therefore create none: these roles exist beforehand, under fixed names, and name
the rebuilt resources by their fixed names in any region. What the rebuilt stack keeps when it
is deleted (log groups, queues) carries the event's stamp, ``<name>-<yymmddHHMM>``, so the roles
name each of those by its fixed stem and one ``?`` a digit of the stamp: "You can use wildcard
characters (* and ?) within the individual segments of an ARN", ``?`` for "Any single
character" (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html,
read 2026-12-04).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from constructs import Construct

from drtiers.config.context import EVENT_DIGITS, per_event
from drtiers.constructs.dynamo import DAX_DATA_ACTIONS, TABLE_DATA_ACTIONS
from drtiers.constructs.images import TOKEN_REASON, pull_statements
from drtiers.constructs.keys import use_key_by_alias
from drtiers.constructs.lint import acknowledge
from drtiers.constructs.queues import QUEUE_WORKER_ACTIONS
from drtiers.constructs.relational import ENHANCED_MONITORING_POLICY

WHY_ANY_REGION = (
    "Made before the event for a rebuild in whichever region survives: the resources it names "
    "do not exist yet, so it names them by their fixed names (the account and the tier's own "
    "table, queue, log groups, database user; a queue or log group followed by the event's "
    "10-digit stamp), in any region."
)


def any_event(name: str) -> str:
    """``name`` as a rebuild names it for any event: one ``?`` a digit of the stamp."""
    return per_event(name, "?" * EVENT_DIGITS)


def _arn(service: str, resource: str) -> str:
    """``resource`` of ``service`` in this account, in any region."""
    return f"arn:{Aws.PARTITION}:{service}:*:{Aws.ACCOUNT_ID}:{resource}"


def _tables(names: Sequence[str]) -> list[str]:
    """The ARNs of the tables named ``names``, in any region."""
    return [_arn("dynamodb", f"table/{name}") for name in names]


def _write_logs(log_group: str, *actions: str) -> iam.PolicyStatement:
    """``actions`` on the log group named ``log_group`` for any event, in any region."""
    return iam.PolicyStatement(
        actions=list(actions),
        resources=[_arn("logs", f"log-group:{any_event(log_group)}:*")],
    )


def _connect(database_user: str, *, via: str) -> iam.PolicyStatement:
    """Log in as ``database_user`` to the databases (``db-*``) or proxies (``prx-*``) whose
    resource ids match ``via``."""
    return iam.PolicyStatement(
        actions=["rds-db:connect"], resources=[_arn("rds-db", f"dbuser:{via}/{database_user}")]
    )


def _task_statements(
    *,
    table_names: Sequence[str],
    control_table: str,
    dax_table_names: Sequence[str],
    queue_names: Sequence[str],
    table_key_alias: str,
    database_user: str | None,
) -> list[iam.PolicyStatement]:
    """What the rebuilt app's tasks use: the tables (and their indexes), the writer-region
    item, the table key, DAX, the queues and the database, as the workload has them."""
    task = [
        iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=_tables([control_table])),
        use_key_by_alias(table_key_alias),
    ]
    if table_names:
        indexes = [f"{table}/index/*" for table in _tables(table_names)]
        task.insert(
            0,
            iam.PolicyStatement(
                actions=list(TABLE_DATA_ACTIONS), resources=_tables(table_names) + indexes
            ),
        )
    if dax_table_names:  # the rebuilt clusters' names are generated: any in the account
        task.append(
            iam.PolicyStatement(actions=list(DAX_DATA_ACTIONS), resources=[_arn("dax", "cache/*")])
        )
    if queue_names:
        task.append(
            iam.PolicyStatement(
                actions=list(QUEUE_WORKER_ACTIONS),
                resources=[_arn("sqs", any_event(name)) for name in queue_names],
            )
        )
    if database_user is not None:  # through any proxy of the region
        task.append(_connect(database_user, via="prx-*"))
    return task


class RebuildRoles(Construct):
    """Task, execution, proxy, DAX, monitoring and flow-log roles for a rebuilt primary stack.

    :param names: ``<app>-<tier>``; each role is ``<names>-rebuild-<what>``.
    :param table_names: / :param queue_names: / :param app_log_group: / :param flow_log_group:
        the fixed names the rebuilt stack gives those resources (the workload's tables and
        queues, zero or more); queues and log groups without the event's stamp it adds.
    :param control_table: the table holding the writer-region item, which the app reads.
    :param dax_table_names: the tables DAX caches.
    :param table_key_alias: alias (``alias/...``) of the key the restored table is encrypted
        with.
    :param database_user: the database user the app and the proxy log in as; None: the
        workload has no database.
    :param image_repository_arn: the private ECR repository the rebuilt tasks pull their image
        from; None: an image pulled without credentials.
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
        image_repository_arn: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.names = names
        task = _task_statements(
            table_names=table_names,
            control_table=control_table,
            dax_table_names=dax_table_names,
            queue_names=queue_names,
            table_key_alias=table_key_alias,
            database_user=database_user,
        )
        self._role("task", "ecs-tasks.amazonaws.com", task)
        self._execution_role(app_log_group, image_repository_arn)
        if database_user is not None:  # the proxy logs in to any database of the region
            self._role("proxy", "rds.amazonaws.com", [_connect(database_user, via="db-*")])
        if dax_table_names:
            self._role(
                "dax",
                "dax.amazonaws.com",
                [
                    iam.PolicyStatement(
                        actions=["dynamodb:DescribeTable", "dynamodb:Scan", *TABLE_DATA_ACTIONS],
                        resources=_tables(dax_table_names),
                    )
                ],
            )
        self._role(
            "flow-logs",
            "vpc-flow-logs.amazonaws.com",
            [
                _write_logs(
                    flow_log_group,
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                )
            ],
        )
        if database_user is not None:
            self._monitoring_role()

    def _execution_role(self, app_log_group: str, repository_arn: str | None) -> iam.Role:
        """The rebuilt tasks' execution role: it writes their logs, and pulls a private image."""
        statements = [_write_logs(app_log_group, "logs:CreateLogStream", "logs:PutLogEvents")]
        if repository_arn is not None:
            statements += pull_statements(repository_arn)
        role = self._role("execution", "ecs-tasks.amazonaws.com", statements)
        if repository_arn is not None:
            acknowledge(
                role.node.default_child,
                "AwsSolutions-IAM5[Resource::*]",
                TOKEN_REASON,
                checker="cdk-nag",
            )
        return role

    def _monitoring_role(self) -> iam.Role:
        """The enhanced-monitoring role of the rebuilt database, with AWS's own policy."""
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
        return monitoring

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
    """A rebuild role by its fixed name (no IAM call at deploy time), imported once per
    ``scope``: every DAX cluster of a workload with several uses the one DAX role."""
    construct_id = f"Rebuild{what.title().replace('-', '')}Role"
    existing = scope.node.try_find_child(construct_id)
    if existing is not None:
        return cast(iam.IRole, existing)
    return iam.Role.from_role_name(scope, construct_id, f"{names}-rebuild-{what}", mutable=False)
