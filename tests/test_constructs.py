"""Building blocks on their own: defaults, and validation at construction time."""

from __future__ import annotations

import re

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from drtiers.constructs.accelerator import AcceleratorEndpointGroup
from drtiers.constructs.app import AppService
from drtiers.constructs.backup import BackupVault, CrossRegionBackupPlan
from drtiers.constructs.dns_failover import AliasTarget, FailoverRecords
from drtiers.constructs.dynamo import DaxCluster, GlobalTable
from drtiers.constructs.network import Network
from drtiers.constructs.queues import WorkQueue
from drtiers.constructs.relational import AuroraGlobalSecondary, CrossRegionReplica

REPLICA_KEY = "arn:aws:kms:us-west-2:123456789012:alias/replicas"


def stack(region: str = "us-east-1") -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Test", env={"account": "123456789012", "region": region})


def key(scope: cdk.Stack) -> kms.Key:
    return kms.Key(scope, f"Key{len(scope.node.children)}")


def test_work_queue_defaults() -> None:
    s = stack()
    WorkQueue(s, "Work", key=key(s))
    template = Template.from_stack(s)
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "MessageRetentionPeriod": 4 * 86400,
            "RedrivePolicy": {"maxReceiveCount": 5, "deadLetterTargetArn": Match.any_value()},
            "KmsMasterKeyId": Match.any_value(),
        },
    )
    template.has_resource_properties("AWS::SQS::Queue", {"MessageRetentionPeriod": 14 * 86400})
    template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
                    )
                ]
            }
        },
    )
    template.resource_count_is("AWS::SQS::Queue", 2)


@pytest.mark.parametrize(("retention", "dlq"), [(14, 14), (5, 4), (0, 14), (4, 15)])
def test_work_queue_rejects_a_dlq_that_would_drop_messages_first(retention: int, dlq: int) -> None:
    s = stack()
    with pytest.raises(ValueError, match=f"retention_days {retention} and dlq_retention_days"):
        WorkQueue(s, "Work", key=key(s), retention_days=retention, dlq_retention_days=dlq)


def test_failover_records_validate_route53_limits() -> None:
    s = stack()
    zone = cdk.aws_route53.PublicHostedZone(s, "Zone", zone_name="example.com")
    target = AliasTarget(dns_name="a.example.com", hosted_zone_id="Z1")
    with pytest.raises(ValueError, match="request_interval_seconds 15 is not 10 or 30"):
        FailoverRecords(
            s,
            "A",
            zone=zone,
            record_name="x.example.com",
            primary=target,
            secondary=target,
            request_interval_seconds=15,
        )
    with pytest.raises(ValueError, match=re.escape("failure_threshold 11 is outside 1..10")):
        FailoverRecords(
            s,
            "B",
            zone=zone,
            record_name="x.example.com",
            primary=target,
            secondary=target,
            failure_threshold=11,
        )


def test_endpoint_group_rejects_a_bad_dial() -> None:
    with pytest.raises(
        ValueError, match=re.escape("traffic_dial_percentage 120 is outside 0..100")
    ):
        AcceleratorEndpointGroup(
            stack(),
            "G",
            listener_arn="arn",
            load_balancer_arn="arn",
            endpoint_group_region="us-east-1",
            traffic_dial_percentage=120,
        )


def test_network_spreads_over_configured_zones_without_lookups() -> None:
    s = stack()
    Network(s, "Net", availability_zones=["us-east-1a", "us-east-1b"], log_key=key(s))
    template = Template.from_stack(s)
    template.resource_count_is("AWS::EC2::Subnet", 6)
    template.resource_count_is("AWS::EC2::NatGateway", 2)
    template.resource_count_is("AWS::EC2::FlowLog", 1)
    assert not cdk.App().node.try_get_context("availability-zones:account=123456789012")
    with pytest.raises(ValueError, match="fewer than 2 zones"):
        Network(s, "One", availability_zones=["us-east-1a"], log_key=key(s))


def test_app_service_rejects_impossible_capacity() -> None:
    s = stack()
    net = Network(s, "Net", availability_zones=["us-east-1a", "us-east-1b"], log_key=key(s))
    with pytest.raises(ValueError, match="desired_count 3 / max_count 2"):
        AppService(
            s,
            "App",
            vpc=net.vpc,
            app_subnets=net.app_subnets,
            public_subnets=net.public_subnets,
            container_image="nginx",
            desired_count=3,
            max_count=2,
            log_key=key(s),
        )


def test_replica_must_come_from_another_region() -> None:
    s = stack()
    net = Network(s, "Net", availability_zones=["us-east-1a", "us-east-1b"], log_key=key(s))
    with pytest.raises(ValueError, match="source_region us-east-1 is this stack's region"):
        CrossRegionReplica(
            s,
            "Replica",
            vpc=net.vpc,
            subnets=net.data_subnets,
            key=key(s),
            source_instance_arn="arn",
            source_region="us-east-1",
        )


def test_aurora_secondary_has_no_credentials_and_joins_the_global_cluster() -> None:
    s = stack("us-west-2")
    net = Network(s, "Net", availability_zones=["us-west-2a", "us-west-2b"], log_key=key(s))
    AuroraGlobalSecondary(
        s,
        "Db",
        vpc=net.vpc,
        subnets=net.data_subnets,
        key=key(s),
        global_cluster_identifier="app-global",
        reader_count=2,
    )
    template = Template.from_stack(s)
    template.has_resource_properties(
        "AWS::RDS::DBCluster",
        {
            "GlobalClusterIdentifier": "app-global",
            "MasterUsername": Match.absent(),
            "MasterUserPassword": Match.absent(),
            "StorageEncrypted": True,
            "DeletionProtection": True,
        },
    )
    template.resource_count_is("AWS::RDS::DBInstance", 2)
    template.has_resource("AWS::RDS::DBCluster", {"DeletionPolicy": "Snapshot"})


def test_global_table_and_dax_defaults() -> None:
    s = stack()
    table = GlobalTable(
        s,
        "Table",
        key=key(s),
        replica_keys={"us-west-2": REPLICA_KEY},
    )
    net = Network(s, "Net", availability_zones=["us-east-1a", "us-east-1b"], log_key=key(s))
    DaxCluster(s, "Dax", vpc=net.vpc, subnets=net.data_subnets, table_arn=table.table.table_arn)
    template = Template.from_stack(s)
    template.has_resource_properties(
        "AWS::DAX::Cluster",
        {
            "ReplicationFactor": 3,
            "SSESpecification": {"SSEEnabled": True},
            "ClusterEndpointEncryptionType": "TLS",
        },
    )
    template.has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "Replicas": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Region": "us-west-2",
                            "SSESpecification": {"KMSMasterKeyId": REPLICA_KEY},
                            "PointInTimeRecoverySpecification": {
                                "PointInTimeRecoveryEnabled": True,
                                "RecoveryPeriodInDays": 35,
                            },
                        }
                    )
                ]
            )
        },
    )
    with pytest.raises(ValueError, match=re.escape("pitr_days 40 is outside 1..35")):
        GlobalTable(s, "Bad", key=key(s), pitr_days=40)


@pytest.mark.parametrize(
    ("hours", "expression", "rule"),
    [
        (24, "cron(0 5 * * ? *)", "DailyWithCrossRegionCopy"),
        (4, "cron(0 0/4 * * ? *)", "Every4hWithCrossRegionCopy"),
        (1, "cron(0 * * * ? *)", "Every1hWithCrossRegionCopy"),
    ],
)
def test_backup_plan_runs_at_its_frequency(hours: int, expression: str, rule: str) -> None:
    scope = stack()
    vault = BackupVault(scope, "V", vault_name="vault", key=key(scope))
    CrossRegionBackupPlan(
        scope,
        "B",
        vault=vault.vault,
        copy_vault_arn="arn:aws:backup:us-west-2:123456789012:backup-vault:copies",
        resource_arns=["arn:aws:dynamodb:us-east-1:123456789012:table/t"],
        role_name="backup",
        frequency_hours=hours,
    )
    Template.from_stack(scope).has_resource_properties(
        "AWS::Backup::BackupPlan",
        {
            "BackupPlan": {
                "BackupPlanRule": [
                    Match.object_like({"ScheduleExpression": expression, "RuleName": rule})
                ]
            }
        },
    )


def test_backup_plan_rejects_a_frequency_that_does_not_divide_a_day() -> None:
    scope = stack()
    vault = BackupVault(scope, "V", vault_name="vault", key=key(scope))
    with pytest.raises(ValueError, match="frequency_hours 5 is not a divisor of 24"):
        CrossRegionBackupPlan(
            scope,
            "B",
            vault=vault.vault,
            copy_vault_arn="arn:aws:backup:us-west-2:123456789012:backup-vault:copies",
            resource_arns=["arn:aws:dynamodb:us-east-1:123456789012:table/t"],
            role_name="backup",
            frequency_hours=5,
        )
