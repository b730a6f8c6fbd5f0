"""Alarms: an encrypted SNS topic and the CloudWatch alarms that tell people in time."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from drtiers.core.tiers import DECLARED_NAMESPACE, PRIMARY_HEALTHY_TARGETS, RECOVERY_WRITABLE

ONE_MINUTE = Duration.minutes(1)
DEAD_LETTERS = "DeadLetters"
QUEUE_BACKLOG = "QueueBacklog"
QUEUE_BACKLOG_SECONDS = 900
LB_5XX = "LoadBalancer5xx"
DATABASE_CPU = "DatabaseCpu"


DATABASE_WRITABLE = "DatabaseWritable"
PRIMARY_DOWN = "PrimaryDown"
PROBE_SECONDS = 10  # how often the probe looks (a high-resolution metric)


def alarm_name(prefix: str, what: str) -> str:
    return f"{prefix}-{what}"


class Alarms(Construct):
    """A topic for operators and one method per alarm; every alarm notifies the topic on ALARM
    and on OK. ``self.alarms`` lists what was created.

    :param name_prefix: alarms are named ``<prefix>-<what>``, so that fault-injection
        experiments can name them as stop conditions (alarms hold no data: renaming is safe).
    """

    def __init__(self, scope: Construct, id_: str, *, key: kms.IKey, name_prefix: str) -> None:
        super().__init__(scope, id_)
        self.name_prefix = name_prefix
        self.topic = sns.Topic(self, "Topic", master_key=key, enforce_ssl=True)
        self.alarms: list[cloudwatch.Alarm] = []
        self.named: list[tuple[str, str]] = []  # (name, description) of each alarm

    def _add(
        self,
        id_: str,
        description: str,
        metric: cloudwatch.IMetric,
        threshold: float,
        evaluation_periods: int = 1,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD
        ),
        datapoints_to_alarm: int | None = None,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
        name: str | None = None,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            id_,
            alarm_name=alarm_name(self.name_prefix, name or id_),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            comparison_operator=comparison,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        alarm.add_ok_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)
        self.named.append((alarm_name(self.name_prefix, name or id_), description))
        return alarm

    def dead_letters(self, dlq: sqs.IQueue, suffix: str = "") -> cloudwatch.Alarm:
        """``suffix`` tells one queue's alarm from another's."""
        return self._add(
            DEAD_LETTERS + suffix,
            "Messages are landing in the dead-letter queue",
            dlq.metric_approximate_number_of_messages_visible(
                period=ONE_MINUTE, statistic="Maximum"
            ),
            0,
        )

    def queue_backlog(
        self, queue: sqs.IQueue, suffix: str = "", seconds: int = QUEUE_BACKLOG_SECONDS
    ) -> cloudwatch.Alarm:
        """The oldest message has waited ``seconds`` for five minutes: the queue's consumers are
        down or too few (before a failover's move of the work, or after it in R), long before
        the queue's retention (a day at least) loses a message."""
        return self._add(
            QUEUE_BACKLOG + suffix,
            f"A message has waited over {seconds // 60} minutes in the work queue (the alarm "
            f"fires about {seconds // 60 + 5} minutes after it was sent)",
            queue.metric_approximate_age_of_oldest_message(period=ONE_MINUTE, statistic="Maximum"),
            seconds,
            evaluation_periods=5,
        )

    def load_balancer_5xx(self, load_balancer: elbv2.ApplicationLoadBalancer) -> cloudwatch.Alarm:
        return self._add(
            LB_5XX,
            "The load balancer is returning 5xx errors",
            load_balancer.metrics.http_code_elb(
                elbv2.HttpCodeElb.ELB_5XX_COUNT, period=ONE_MINUTE, statistic="Sum"
            ),
            10,
            evaluation_periods=3,
        )

    def database_cpu(self, dimension: str, identifier: str) -> cloudwatch.Alarm:
        """``dimension`` is DBInstanceIdentifier or DBClusterIdentifier."""
        return self._add(
            DATABASE_CPU,
            "Database CPU above 80 % for 15 minutes",
            cloudwatch.Metric(
                namespace="AWS/RDS",
                metric_name="CPUUtilization",
                dimensions_map={dimension: identifier},
                period=Duration.minutes(5),
            ),
            80,
            evaluation_periods=3,
        )

    def replica_lag(self, instance_identifier: str, seconds: int = 300) -> cloudwatch.Alarm:
        return self._add(
            "ReplicaLag",
            f"Cross-region read replica more than {seconds} s behind",
            cloudwatch.Metric(
                namespace="AWS/RDS",
                metric_name="ReplicaLag",
                dimensions_map={"DBInstanceIdentifier": instance_identifier},
                period=ONE_MINUTE,
                statistic="Maximum",
            ),
            seconds,
            evaluation_periods=5,
        )

    def recovery_writable(self, dimensions: Mapping[str, str]) -> str:
        """In ALARM once someone has declared this region's database the writer (the failover
        step `declare-writer` puts RecoveryWritable=1, the failback step puts 0). A declared,
        positive signal: Route 53 evaluates the metric's data itself (not the alarm's state or
        its missing-data setting), and a health check on it keeps its last known status between
        data points, so one data point holds until the next declaration; the alarm keeps its
        state between them too (missing data ignored: no OK while R is still the writer).
        Sources: https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/
        dns-failover-determining-health-of-endpoints.html and https://docs.aws.amazon.com/
        Route53/latest/APIReference/API_HealthCheckConfig.html (read 2026-11-28).

        Returns its name, ``<prefix>-DatabaseWritable-<digest>``: the digest is of the settings
        Route 53 copies into a health check that follows the alarm, which it does not read
        again by itself ("If you ... update the settings in the CloudWatch alarm, Route 53
        doesn't automatically update the alarm settings in the health check",
        https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/
        health-checks-updating-cloudwatch-alarm-settings.html). New settings are a new name,
        which CloudFormation gives the health check, and Route 53 reads the alarm again."""
        metric = _ours(RECOVERY_WRITABLE, dimensions, ONE_MINUTE)
        threshold, periods = 1, 1
        comparison = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        copied = {  # CloudWatchAlarmConfiguration, as Route 53 keeps it
            "Namespace": metric.namespace,
            "MetricName": metric.metric_name,
            "Dimensions": dict(dimensions),
            "Period": metric.period.to_seconds(),
            "Statistic": metric.statistic,
            "Threshold": threshold,
            "ComparisonOperator": comparison.value,
            "EvaluationPeriods": periods,
        }
        digest = hashlib.sha256(json.dumps(copied, sort_keys=True).encode()).hexdigest()[:8]
        name = f"{DATABASE_WRITABLE}-{digest}"
        self._add(
            DATABASE_WRITABLE,
            "This region's database has been declared the writer (failed over)",
            metric,
            threshold,
            evaluation_periods=periods,
            comparison=comparison,
            missing=cloudwatch.TreatMissingData.IGNORE,
            name=name,
        )
        return alarm_name(self.name_prefix, name)

    def primary_down(self, dimensions: Mapping[str, str], probes: int = 3) -> cloudwatch.Alarm:
        """In ALARM once the probe in this (the recovery) region has seen no healthy target
        behind the primary's load balancer in ``probes`` of ``probes + 1`` periods, including
        when it cannot reach the primary region's APIs at all (it puts 0 then). A period with no
        data point (a probe late) is skipped rather than counted as healthy; with no data at
        all (the probe itself not running) the alarm has no evidence and does not fire. What
        starts the tier's Region switch plan. High-resolution metrics and 10 s periods:
        https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/publishingMetrics.html
        and missing data with M of N: https://docs.aws.amazon.com/AmazonCloudWatch/latest/
        monitoring/AlarmThatSendsEmail.html (read 2026-11-28)."""
        return self._add(
            PRIMARY_DOWN,
            "The primary region's load balancer has no healthy target, seen from here",
            _ours(PRIMARY_HEALTHY_TARGETS, dimensions, Duration.seconds(PROBE_SECONDS)),
            1,
            evaluation_periods=probes + 1,
            datapoints_to_alarm=probes,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
            missing=cloudwatch.TreatMissingData.MISSING,
        )

    def global_database_lag(
        self, cluster_identifier: str, milliseconds: int = 5000
    ) -> cloudwatch.Alarm:
        return self._add(
            "GlobalDatabaseLag",
            f"Aurora global database replication more than {milliseconds} ms behind",
            cloudwatch.Metric(
                namespace="AWS/RDS",
                metric_name="AuroraGlobalDBReplicationLag",
                dimensions_map={"DBClusterIdentifier": cluster_identifier},
                period=ONE_MINUTE,
                statistic="Maximum",
            ),
            milliseconds,
            evaluation_periods=3,
        )

    def table_replication_latency(
        self, table_name: str, receiving_region: str, suffix: str = "", milliseconds: int = 60000
    ) -> cloudwatch.Alarm:
        """``suffix`` tells one table's alarm from another's."""
        return self._add(
            "TableReplicationLatency" + suffix,
            f"Global table replication to {receiving_region} above {milliseconds} ms",
            cloudwatch.Metric(
                namespace="AWS/DynamoDB",
                metric_name="ReplicationLatency",
                dimensions_map={"TableName": table_name, "ReceivingRegion": receiving_region},
                period=ONE_MINUTE,
                statistic="Average",
            ),
            milliseconds,
            evaluation_periods=5,
        )

    def health_check(self, health_check_id: str) -> cloudwatch.Alarm:
        """Route 53 publishes health-check metrics in us-east-1 only: use in a stack there."""
        return self._add(
            "PrimaryHealthCheck",
            "Route 53 sees the primary endpoint as unhealthy: traffic is failing over",
            cloudwatch.Metric(
                namespace="AWS/Route53",
                metric_name="HealthCheckStatus",
                dimensions_map={"HealthCheckId": health_check_id},
                period=ONE_MINUTE,
                statistic="Minimum",
            ),
            1,
            comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        )


def _ours(metric_name: str, dimensions: Mapping[str, str], period: Duration) -> cloudwatch.Metric:
    """A metric drtiers itself puts (the declaration, the probe), per app and tier
    (core.tiers.declared_dimensions)."""
    return cloudwatch.Metric(
        namespace=DECLARED_NAMESPACE,
        metric_name=metric_name,
        dimensions_map=dict(dimensions),
        period=period,
        statistic="Maximum",
    )
