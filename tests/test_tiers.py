"""The tier matrix of docs/design.md, asserted on the synthesized templates."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk.assertions import Capture, Match

from drtiers.assembly.reader import Resource, missing_lookups
from tests.conftest import REBUILD_LISTENER, REBUILD_SNAPSHOT, Synthesized

APP = "drtiers"
P, R, EDGE = "us-east-1", "us-west-2", "us-east-1"
TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")


def name(tier: str, role: str) -> str:
    return f"{APP}-{tier}-{role}"


def logical_ids(s: Synthesized, stack: str, type_: str) -> list[str]:
    """The logical ids of the stack's resources of one type, in template order."""
    return list(s.template(stack).find_resources(type_))


def stack_resources(s: Synthesized, stack: str) -> list[Resource]:
    """Every resource of one stack, whatever its type, as the assembly reader sees it."""
    tier = next(t for t in s.tiers if stack in s.read(t).stacks)
    return [r for r in s.read(tier).resources if r.stack == stack]


def of_type(s: Synthesized, stack: str, type_: str) -> list[Resource]:
    """The stack's resources of one type, in template order."""
    return [r for r in stack_resources(s, stack) if r.type == type_]


def one(s: Synthesized, stack: str, type_: str) -> Resource:
    """The stack's one resource of this type (the test fails if there are more or none)."""
    found = of_type(s, stack, type_)
    assert len(found) == 1, f"{stack}: {len(found)} {type_}, expected 1"
    return found[0]


_ABSENT = object()


def has(resource: Resource, *path: str) -> bool:
    """Whether the resource's properties hold ``path``, whatever its value."""
    return resource.prop(*path, default=_ABSENT) is not _ABSENT


def proxy_role_statement(s: Synthesized, stack: str) -> dict[str, Any]:
    """The one statement of the policy of the role the stack's RDS Proxy assumes."""
    role = next(
        r
        for r in of_type(s, stack, "AWS::IAM::Role")
        if r.prop("AssumeRolePolicyDocument", "Statement")[0]["Principal"]
        == {"Service": "rds.amazonaws.com"}
    )
    (statement,) = role.prop("Policies")[0]["PolicyDocument"]["Statement"]
    return dict(statement)


# --- stacks, regions, names, tags -------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
def test_stacks_are_named_by_tier_and_role_with_concrete_regions(
    synthesized: Synthesized, tier: str
) -> None:
    stacks = synthesized.tiers[tier]
    expected = {name(tier, "recovery-base"): R, name(tier, "primary"): P, name(tier, "edge"): EDGE}
    if tier != "backup-restore":
        expected[name(tier, "recovery")] = R
    assert {s.stack_name: s.region for s in stacks.all} == expected
    for stack in stacks.all:
        assert stack.account == "123456789012"
        assert stack.termination_protection is True
        synthesized.template(stack.stack_name).has_resource_properties(
            "AWS::EC2::VPC"
            if stack.role in ("primary", "recovery")
            else "AWS::KMS::Key"
            if stack.role == "recovery-base"
            else "AWS::Route53::RecordSet",
            Match.any_value(),
        )


@pytest.mark.parametrize("tier", TIERS)
def test_every_taggable_resource_carries_the_tier_tag(synthesized: Synthesized, tier: str) -> None:
    for stack in synthesized.tiers[tier].all:
        for vpc in of_type(synthesized, stack.stack_name, "AWS::EC2::VPC"):
            assert {"Key": "drtiers:tier", "Value": tier} in vpc.prop("Tags")
        for key in of_type(synthesized, stack.stack_name, "AWS::KMS::Key"):
            assert {"Key": "drtiers:tier", "Value": tier} in key.prop("Tags")


def test_no_context_lookup_is_missing(synthesized: Synthesized) -> None:
    assert missing_lookups(synthesized.directory) == []


def test_deploy_order_follows_the_data(synthesized: Synthesized) -> None:
    def deps(tier: str, role: str) -> set[str]:
        return set(synthesized.read(tier).dependencies[name(tier, role)])

    # DNS tiers: base -> primary -> recovery -> edge (the edge reads both load balancers).
    assert deps("warm-standby", "primary") == {name("warm-standby", "recovery-base")}
    assert name("warm-standby", "primary") in deps("warm-standby", "recovery")
    assert {name("warm-standby", "primary"), name("warm-standby", "recovery")} <= deps(
        "warm-standby", "edge"
    )
    # Accelerator tiers too: the edge holds the listener and the endpoint groups, and reads the
    # load balancers; no regional stack reads the edge (it may be in the lost region).
    for tier in ("multi-site", "backup-restore"):
        assert name(tier, "primary") in deps(tier, "edge")
        assert name(tier, "edge") not in deps(tier, "primary")
    assert name("multi-site", "recovery") in deps("multi-site", "edge")


def test_cross_region_values_use_no_exports(synthesized: Synthesized) -> None:
    """Exports lock the producer (aws/aws-cdk #22842, #30771, #34813); we never emit them."""
    for stacks in synthesized.tiers.values():
        for stack in stacks.all:
            text = str(synthesized.json(stack.stack_name))
            assert "Fn::ImportValue" not in text
            assert "Export" not in str(synthesized.template(stack.stack_name).find_outputs("*"))
            assert "Custom::CrossRegion" not in text


# --- relational -------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", ["backup-restore", "pilot-light"])
def test_rds_tiers_run_multi_az_postgres_behind_a_tls_proxy(
    synthesized: Synthesized, tier: str
) -> None:
    primary = name(tier, "primary")
    db = one(synthesized, primary, "AWS::RDS::DBInstance")
    assert db.prop("MultiAZ") is True
    assert db.prop("Engine") == "postgres"
    assert db.prop("StorageEncrypted") is True
    assert has(db, "KmsKeyId")
    assert db.prop("DeletionProtection") is True
    assert db.prop("PubliclyAccessible") is False
    assert db.prop("BackupRetentionPeriod") == 14
    assert db.prop("DBInstanceIdentifier") == f"{APP}-{tier}-db"
    proxy = one(synthesized, primary, "AWS::RDS::DBProxy")
    assert proxy.prop("RequireTLS") is True
    # End-to-end IAM: the proxy logs in as the app's user with its role, no secret.
    assert proxy.prop("DefaultAuthScheme") == "IAM_AUTH" and not has(proxy, "Auth")
    # The app's user on any instance of the region: failback re-creates the instance under its
    # identifier with a new resource id, which a grant naming the old one would lock out.
    parts = proxy_role_statement(synthesized, primary)["Resource"]["Fn::Join"][1]
    assert "".join(p if isinstance(p, str) else "<partition>" for p in parts) == (
        "arn:<partition>:rds-db:us-east-1:123456789012:dbuser:db-*/app"
    )
    assert one(synthesized, primary, "AWS::RDS::DBParameterGroup").prop("Parameters") == {
        "rds.force_ssl": "1"
    }
    synthesized.template(primary).has_resource(
        "AWS::RDS::DBInstance", {"DeletionPolicy": "Snapshot", "UpdateReplacePolicy": "Snapshot"}
    )


def proxy_connects_as(synthesized: Synthesized, stack: str) -> tuple[Any, str]:
    """(resource id, "/user") the stack's RDS Proxy role may rds-db:connect as."""
    statement = proxy_role_statement(synthesized, stack)
    assert statement["Action"] == "rds-db:connect"
    parts = statement["Resource"]["Fn::Join"][1]
    return parts[-2], parts[-1]


def test_backup_restore_has_no_relational_copy_running_in_recovery(
    synthesized: Synthesized,
) -> None:
    stacks = synthesized.tiers["backup-restore"]
    assert stacks.recovery is None
    base = stack_resources(synthesized, name("backup-restore", "recovery-base"))
    assert {r.type for r in base} == {
        "AWS::KMS::Key",
        "AWS::KMS::Alias",
        "AWS::Backup::BackupVault",
        "AWS::IAM::Role",  # the rebuild's roles, made beforehand (they hold no data)
        # R's topic and the rule that tells it of AWS Health there (decision 44), and the
        # tier's dashboard (decision 45)
        "AWS::SNS::Topic",
        "AWS::SNS::TopicPolicy",
        "AWS::Events::Rule",
        "AWS::CloudWatch::Dashboard",
        # the restore tests, and the isolated network a restored database is put in
        "AWS::Backup::RestoreTestingPlan",
        "AWS::Backup::RestoreTestingSelection",
        "AWS::EC2::VPC",
        "AWS::EC2::Subnet",
        "AWS::EC2::SecurityGroup",
        "AWS::RDS::DBSubnetGroup",
    }


def test_pilot_light_replicates_the_instance_across_regions(synthesized: Synthesized) -> None:
    replica = one(synthesized, name("pilot-light", "recovery"), "AWS::RDS::DBInstance")
    assert replica.prop("SourceDBInstanceIdentifier") == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":rds:us-east-1:123456789012:db:drtiers-pilot-light-db",
            ],
        ]
    }
    assert replica.prop("SourceRegion") == P
    assert has(replica, "KmsKeyId")  # encrypted with a key of the recovery region
    assert replica.prop("PubliclyAccessible") is False
    # No proxy in R until the replica is promoted.
    assert of_type(synthesized, name("pilot-light", "recovery"), "AWS::RDS::DBProxy") == []


@pytest.mark.parametrize("tier", ["warm-standby", "multi-site"])
def test_aurora_tiers_run_a_global_database(synthesized: Synthesized, tier: str) -> None:
    primary, recovery = name(tier, "primary"), name(tier, "recovery")
    cluster = one(synthesized, primary, "AWS::RDS::DBCluster")
    assert cluster.prop("Engine") == "aurora-postgresql"
    assert cluster.prop("StorageEncrypted") is True
    assert cluster.prop("DeletionProtection") is True
    assert len(of_type(synthesized, primary, "AWS::RDS::DBInstance")) == 2  # writer + reader
    global_cluster = one(synthesized, primary, "AWS::RDS::GlobalCluster")
    assert global_cluster.prop("GlobalClusterIdentifier") == f"{APP}-{tier}-global"
    secondary = one(synthesized, recovery, "AWS::RDS::DBCluster")
    assert secondary.prop("GlobalClusterIdentifier") == f"{APP}-{tier}-global"
    assert not has(secondary, "MasterUsername") and not has(secondary, "MasterUserPassword")
    assert secondary.prop("StorageEncrypted") is True and has(secondary, "KmsKeyId")
    proxy_endpoint = one(synthesized, recovery, "AWS::RDS::DBProxyEndpoint")
    assert proxy_endpoint.prop("TargetRole") == "READ_ONLY"
    assert one(synthesized, recovery, "AWS::RDS::DBProxy").prop("RequireTLS") is True
    share = 90 if tier == "multi-site" else 100  # write forwarding keeps 10 % of connections
    for stack in (primary, recovery):
        targets = one(synthesized, stack, "AWS::RDS::DBProxyTargetGroup")
        pool = targets.prop("ConnectionPoolConfigurationInfo", "MaxConnectionsPercent")
        assert pool == share
    # Both proxies log in as the app's user with IAM: R's needs nothing from P.
    for stack in (primary, recovery):
        cluster_id = logical_ids(synthesized, stack, "AWS::RDS::DBCluster")[0]
        assert proxy_connects_as(synthesized, stack) == (
            {"Fn::GetAtt": [cluster_id, "DBClusterResourceId"]},
            "/app",
        )
        assert "GetStackOutput" not in json.dumps(synthesized.json(recovery))
    # R's tasks write through the read/write endpoint (the writer once promoted) and may read
    # through the read-only one.
    environment = container_environment(synthesized, recovery)
    proxy_id = logical_ids(synthesized, recovery, "AWS::RDS::DBProxy")[0]
    endpoint_id = logical_ids(synthesized, recovery, "AWS::RDS::DBProxyEndpoint")[0]
    assert environment["DATABASE_ENDPOINT"] == {"Fn::GetAtt": [proxy_id, "Endpoint"]}
    assert environment["DATABASE_READER_ENDPOINT"] == {"Fn::GetAtt": [endpoint_id, "Endpoint"]}


@pytest.mark.parametrize("tier", TIERS)
def test_password_rotation_waits_for_the_database_in_the_secret(
    synthesized: Synthesized, tier: str
) -> None:
    """A rotation that starts before the SecretTargetAttachment has written the engine and host
    into the secret fails: every schedule must depend on its secret's attachment."""
    for stack in synthesized.tiers[tier].all:
        template = synthesized.template(stack.stack_name)
        schedule = "AWS::SecretsManager::RotationSchedule"
        template.resource_count_is(schedule, 1 if stack.role == "primary" else 0)
        if stack.role != "primary":
            continue
        secret = Capture()
        # Tested at deploy (testSecret), rotated on the schedule only: see relational._rotate.
        template.has_resource_properties(
            schedule, {"SecretId": secret, "RotateImmediatelyOnUpdate": False}
        )
        attachments = template.find_resources("AWS::SecretsManager::SecretTargetAttachment")
        if secret.as_object().get("Ref") in attachments:
            continue  # the schedule names the attachment itself, so it follows it
        (attachment,) = template.find_resources(
            "AWS::SecretsManager::SecretTargetAttachment",
            {"Properties": {"SecretId": Match.object_equals(secret.as_object())}},
        )
        template.has_resource(schedule, {"DependsOn": Match.array_with([attachment])})
        # A cluster's endpoint answers testSecret only once its writer instance exists.
        writers = [x for x in template.find_resources("AWS::RDS::DBInstance") if "Writer" in x]
        if writers:
            template.has_resource(schedule, {"DependsOn": Match.array_with(writers)})


@pytest.mark.parametrize("tier", TIERS)
def test_rotated_passwords_can_be_replicated_under_the_recovery_key(
    synthesized: Synthesized, tier: str
) -> None:
    """Secrets Manager encrypts each new version of a replica under the replica's key on behalf
    of whoever wrote the version: after a rotation that is the hosted rotation function, whose
    role the key policy must therefore admit, through Secrets Manager in R only."""
    statements = Capture()
    replica_key = {
        "Description": "Table and secret replicas in the recovery region",
        "KeyPolicy": {"Statement": statements},
    }
    found = synthesized.template(name(tier, "recovery-base")).find_resources(
        "AWS::KMS::Key", {"Properties": replica_key}
    )
    assert list(found) == ["ReplicaKey2E487A43"]
    via_secrets_manager = [
        s
        for s in statements.as_array()
        if "kms:ViaService" in s.get("Condition", {}).get("StringEquals", {})
    ]
    if not synthesized.tiers[tier].primary.tier.has_recovery_stack:
        assert via_secrets_manager == []  # no secret replica, nothing to admit
        return
    assert via_secrets_manager == [
        {
            "Sid": "SecretReplicaVersionsThroughSecretsManager",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"secretsmanager.{R}.amazonaws.com",
                    "kms:CallerAccount": "123456789012",
                }
            },
        }
    ]


def test_warm_standby_secondary_is_one_smaller_reader(synthesized: Synthesized) -> None:
    readers = of_type(synthesized, name("warm-standby", "recovery"), "AWS::RDS::DBInstance")
    writers = of_type(synthesized, name("warm-standby", "primary"), "AWS::RDS::DBInstance")
    assert len(readers) == 1
    assert readers[0].prop("DBInstanceClass") == "db.r7g.large"
    assert writers[0].prop("DBInstanceClass") == "db.r7g.xlarge"
    secondary = one(synthesized, name("warm-standby", "recovery"), "AWS::RDS::DBCluster")
    assert not has(secondary, "EnableGlobalWriteForwarding")


def test_multi_site_secondary_is_full_size_with_write_forwarding(
    synthesized: Synthesized,
) -> None:
    recovery = name("multi-site", "recovery")
    readers = of_type(synthesized, recovery, "AWS::RDS::DBInstance")
    assert [r.prop("DBInstanceClass") for r in readers] == ["db.r7g.xlarge"] * 2
    assert one(synthesized, recovery, "AWS::RDS::DBCluster").prop("EnableGlobalWriteForwarding")


# --- DynamoDB and DAX -------------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
def test_global_table_replicas_keep_their_data(synthesized: Synthesized, tier: str) -> None:
    """The workload's table and drtiers' control table (the writer-region item) alike."""
    template = synthesized.template(name(tier, "primary"))
    template.resource_count_is("AWS::DynamoDB::GlobalTable", 2)
    kept = {
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "DeletionProtectionEnabled": True,
    }
    regions = [P] if tier == "backup-restore" else [P, R]
    for table_name in (f"{APP}-{tier}-control", f"{APP}-{tier}-table"):
        # The workload's table: a customer managed key in each region; the control table:
        # AWS's managed key (no key named), which every task may use to read it.
        control = table_name.endswith("-control")
        key = {"SSESpecification": Match.absent() if control else Match.any_value()}
        replica = {**kept, **key}
        replicas = Capture()
        template.has_resource_properties(
            "AWS::DynamoDB::GlobalTable",
            {
                "TableName": table_name,
                "Replicas": replicas,
                "SSESpecification": Match.object_equals({"SSEEnabled": True, "SSEType": "KMS"}),
            },
        )
        assert len(replicas.as_array()) == len(regions)  # one replica in each region, any order
        for region in regions:
            template.has_resource_properties(
                "AWS::DynamoDB::GlobalTable",
                {
                    "TableName": table_name,
                    "Replicas": Match.array_with(
                        [Match.object_like({**replica, "Region": region})]
                    ),
                },
            )
    template.has_resource(
        "AWS::DynamoDB::GlobalTable",
        {"DeletionPolicy": "RetainExceptOnCreate", "UpdateReplacePolicy": "Retain"},
    )


@pytest.mark.parametrize(
    ("tier", "dax_in_recovery"),
    [
        ("backup-restore", None),
        ("pilot-light", False),
        ("warm-standby", True),
        ("multi-site", True),
    ],
)
def test_dax_runs_where_the_tier_says(
    synthesized: Synthesized, tier: str, dax_in_recovery: bool | None
) -> None:
    dax = one(synthesized, name(tier, "primary"), "AWS::DAX::Cluster")
    assert dax.prop("ReplicationFactor") == 3
    assert dax.prop("SSESpecification") == {"SSEEnabled": True}
    assert dax.prop("ClusterEndpointEncryptionType") == "TLS"
    if dax_in_recovery is not None:
        in_r = of_type(synthesized, name(tier, "recovery"), "AWS::DAX::Cluster")
        assert len(in_r) == int(dax_in_recovery)
        if in_r:
            assert in_r[0].prop("ReplicationFactor") == 3  # one node per zone
            zones = ["us-west-2a", "us-west-2b", "us-west-2c"]
            assert in_r[0].prop("AvailabilityZones") == zones
            # warm standby: smaller nodes in R; multi-site: the same as P
            expected = "dax.r5.large" if tier == "multi-site" else "dax.t3.medium"
            assert in_r[0].prop("NodeType") == expected


# --- queues -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
def test_queues_have_longer_lived_encrypted_dead_letter_queues(
    synthesized: Synthesized, tier: str
) -> None:
    stacks = [name(tier, "primary")] + (
        [] if tier == "backup-restore" else [name(tier, "recovery")]
    )
    for stack in stacks:
        template = synthesized.template(stack)
        template.resource_count_is("AWS::SQS::Queue", 2)
        redriven = {"Properties": {"RedrivePolicy": Match.any_value()}}
        assert len(template.find_resources("AWS::SQS::Queue", redriven)) == 1
        dlq_id, kept, dlq_kept = Capture(), Capture(), Capture()
        template.has_resource_properties(
            "AWS::SQS::Queue",
            {
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, Match.any_value()]}
                },
                "MessageRetentionPeriod": kept,
            },
        )
        dlq = {"RedrivePolicy": Match.absent(), "MessageRetentionPeriod": dlq_kept}
        found = template.find_resources("AWS::SQS::Queue", {"Properties": dlq})
        assert list(found) == [dlq_id.as_string()]
        assert dlq_kept.as_number() > kept.as_number()
        template.all_resources(
            "AWS::SQS::Queue",
            {
                "DeletionPolicy": "RetainExceptOnCreate",
                "Properties": {"KmsMasterKeyId": Match.any_value()},
            },
        )


# --- application tier -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "recovery_tasks", "recovery_max"),
    # The same ceiling as P's: failed over, R takes P's load, peaks included.
    [("pilot-light", 0, 4), ("warm-standby", 1, 4), ("multi-site", 2, 4)],
)
def test_recovery_capacity_matches_the_tier(
    synthesized: Synthesized, tier: str, recovery_tasks: int, recovery_max: int
) -> None:
    assert one(synthesized, name(tier, "primary"), "AWS::ECS::Service").prop("DesiredCount") == 2
    service = one(synthesized, name(tier, "recovery"), "AWS::ECS::Service")
    assert service.prop("DesiredCount") == recovery_tasks
    target = one(synthesized, name(tier, "recovery"), "AWS::ApplicationAutoScaling::ScalableTarget")
    capacity = (target.prop("MinCapacity"), target.prop("MaxCapacity"))
    assert capacity == (recovery_tasks, recovery_max)


def container_environment(s: Synthesized, stack: str) -> dict[str, Any]:
    (container,) = one(s, stack, "AWS::ECS::TaskDefinition").prop("ContainerDefinitions")
    return {v["Name"]: v["Value"] for v in container["Environment"]}


def test_the_app_is_told_where_its_data_lives(synthesized: Synthesized) -> None:
    primary = container_environment(synthesized, name("warm-standby", "primary"))
    assert set(primary) == {
        "TABLE_NAME",
        "CONTROL_TABLE_NAME",
        "CONTROL_TABLE_REGIONS",
        "DATABASE_ENDPOINT",
        "DATABASE_USER",
        "DATABASE_PORT",
        "QUEUE_URL",
        "DAX_ENDPOINT",
    }
    assert primary["DATABASE_ENDPOINT"]["Fn::GetAtt"][1] == "Endpoint"  # the RDS Proxy
    assert primary["DATABASE_PORT"] == "5432"
    pilot = container_environment(synthesized, name("pilot-light", "recovery"))
    assert "DAX_ENDPOINT" not in pilot
    assert pilot["DATABASE_ENDPOINT"]["Fn::GetAtt"][1] == "Endpoint.Address"  # the replica
    assert pilot["DATABASE_PORT"] == "5438"  # not the engine default
    # A fixed name: the recovery stack reads nothing from P, so it deploys while P is lost.
    assert pilot["TABLE_NAME"] == f"{APP}-pilot-light-table"
    assert pilot["CONTROL_TABLE_NAME"] == f"{APP}-pilot-light-control"
    # Both regions' copies of the writer-region item, the task's own first.
    assert (primary["CONTROL_TABLE_REGIONS"], pilot["CONTROL_TABLE_REGIONS"]) == (
        "us-east-1,us-west-2",
        "us-west-2,us-east-1",
    )


def test_backup_restore_runs_no_compute_in_recovery(synthesized: Synthesized) -> None:
    assert synthesized.tiers["backup-restore"].recovery is None
    service = one(synthesized, name("backup-restore", "primary"), "AWS::ECS::Service")
    assert service.prop("DesiredCount") == 2


# --- entry point ------------------------------------------------------------------------------


# RFC 2606 / RFC 6761 names, for which Route 53 refuses to create a hosted zone.
RESERVED_TLDS = ("test", "example", "invalid", "localhost")
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")


def test_the_default_zone_can_be_created(synthesized: Synthesized) -> None:
    zone = one(synthesized, f"{APP}-zone", "AWS::Route53::HostedZone")  # the app's, see test_zone
    zone_name = zone.prop("Name").rstrip(".")
    labels = zone_name.split(".")
    assert len(labels) >= 2, zone_name  # Route 53 hosts no top-level domain
    assert labels[-1] not in RESERVED_TLDS, zone_name
    assert ".".join(labels[-2:]) not in RESERVED_DOMAINS, zone_name
    assert zone_name == "drtiers-123456789012.com"  # from app_name and account: no look-up


def test_backup_restore_enters_through_the_accelerator_with_one_group(
    synthesized: Synthesized,
) -> None:
    """A static entry point: the rebuild in R adds its endpoint group; no DNS change, so no
    Route 53 control plane (in us-east-1), is needed after the event."""
    edge = name("backup-restore", "edge")
    one(synthesized, edge, "AWS::GlobalAccelerator::Listener")
    record = one(synthesized, edge, "AWS::Route53::RecordSet")
    assert record.prop("AliasTarget", "HostedZoneId") == "Z2BJ6XQ5FK7U4H"
    (group,) = of_type(synthesized, edge, "AWS::GlobalAccelerator::EndpointGroup")
    assert group.prop("EndpointGroupRegion") == P and group.prop("TrafficDialPercentage") == 100


@pytest.mark.parametrize("tier", ["pilot-light", "warm-standby"])
def test_dns_tiers_fail_over_on_a_health_check(synthesized: Synthesized, tier: str) -> None:
    edge = name(tier, "edge")
    records = {r.prop("Failover"): r for r in of_type(synthesized, edge, "AWS::Route53::RecordSet")}
    assert set(records) == {"PRIMARY", "SECONDARY"}
    template = synthesized.template(edge)
    template.resource_count_is("AWS::Route53::HealthCheck", 4)

    def checks_of(kind: str) -> list[str]:
        return list(
            template.find_resources(
                "AWS::Route53::HealthCheck", {"Properties": {"HealthCheckConfig": {"Type": kind}}}
            )
        )

    (http,), (gate,) = checks_of("HTTP"), checks_of("CLOUDWATCH_METRIC")
    assert len(checks_of("CALCULATED")) == 2
    template.template_matches(
        {
            "Resources": {
                gate: {
                    "Properties": {
                        "HealthCheckConfig": {
                            # The gate follows R's "database takes writes" alarm, by its name.
                            "AlarmIdentifier": Match.object_equals(
                                {
                                    "Region": R,
                                    "Name": Match.string_like_regexp(
                                        f"^{APP}-{tier}-recovery-DatabaseWritable-[0-9a-f]{{8}}$"
                                    ),
                                }
                            ),
                            # One declared data point holds until the next: Route 53 keeps the
                            # last known status.
                            "InsufficientDataHealthStatus": "LastKnownStatus",
                        }
                    }
                }
            }
        }
    )
    alarm = next(
        a
        for a in of_type(synthesized, name(tier, "recovery"), "AWS::CloudWatch::Alarm")
        if str(a.prop("AlarmName")).startswith(f"{APP}-{tier}-recovery-DatabaseWritable-")
    )
    assert (alarm.prop("Namespace"), alarm.prop("MetricName"), alarm.prop("Dimensions")) == (
        "drtiers",
        "RecoveryWritable",
        [{"Name": "App", "Value": APP}, {"Name": "Tier", "Value": tier}],  # each app its own
    )
    primary_check = records["PRIMARY"].prop("HealthCheckId", "Fn::GetAtt")[0]
    secondary_check = records["SECONDARY"].prop("HealthCheckId", "Fn::GetAtt")[0]

    def calculated(children: list[str], **config: Any) -> dict[str, Any]:
        child_checks = [{"Fn::GetAtt": [c, Match.any_value()]} for c in children]
        return {
            "Type": "AWS::Route53::HealthCheck",
            "Properties": {
                "HealthCheckConfig": {
                    "Type": "CALCULATED",
                    "ChildHealthChecks": child_checks,
                    **config,
                }
            },
        }

    # PRIMARY: P answers AND R does not take writes; SECONDARY: R takes writes.
    template.template_matches(
        {
            "Resources": {
                primary_check: calculated([http, gate], HealthThreshold=2),
                secondary_check: calculated([gate], Inverted=True),
            }
        }
    )
    assert records["SECONDARY"].prop("AliasTarget", "DNSName") == {
        "Fn::GetStackOutput": {
            "StackName": name(tier, "recovery"),
            "Region": R,
            "OutputName": "LoadBalancerDnsName",
        }
    }
    template.template_matches(
        {
            "Resources": {
                http: {
                    "Properties": {
                        "HealthCheckConfig": {"RequestInterval": 30, "FailureThreshold": 3}
                    }
                }
            }
        }
    )
    alarm = one(synthesized, edge, "AWS::CloudWatch::Alarm")
    assert alarm.prop("MetricName") == "HealthCheckStatus"


def test_multi_site_serves_from_both_regions_through_the_accelerator(
    synthesized: Synthesized,
) -> None:
    edge = name("multi-site", "edge")
    one(synthesized, edge, "AWS::GlobalAccelerator::Accelerator")
    one(synthesized, edge, "AWS::GlobalAccelerator::Listener")
    record = one(synthesized, edge, "AWS::Route53::RecordSet")
    assert record.prop("AliasTarget", "HostedZoneId") == "Z2BJ6XQ5FK7U4H"
    assert of_type(synthesized, edge, "AWS::Route53::HealthCheck") == []
    groups = {
        g.prop("EndpointGroupRegion"): g
        for g in of_type(synthesized, edge, "AWS::GlobalAccelerator::EndpointGroup")
    }
    assert set(groups) == {P, R}
    listener = logical_ids(synthesized, edge, "AWS::GlobalAccelerator::Listener")[0]
    for role, region in (("primary", P), ("recovery", R)):
        group = groups[region]
        assert group.prop("TrafficDialPercentage") == 100
        assert group.prop("ListenerArn") == {"Fn::GetAtt": [listener, "ListenerArn"]}
        (endpoint,) = group.prop("EndpointConfigurations")
        assert endpoint["EndpointId"] == {
            "Fn::GetStackOutput": {
                "StackName": name("multi-site", role),
                "OutputName": "LoadBalancerArn",
            }
            | ({"Region": region} if region != EDGE else {})
        }
        # The accelerator judges a load balancer by its target group's health check.
        target_group = one(
            synthesized, name("multi-site", role), "AWS::ElasticLoadBalancingV2::TargetGroup"
        )
        assert (
            target_group.prop("HealthCheckIntervalSeconds"),
            target_group.prop("UnhealthyThresholdCount"),
        ) == (10, 3)


# --- backup -----------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", TIERS)
def test_backups_are_copied_to_the_recovery_region(synthesized: Synthesized, tier: str) -> None:
    plan = one(synthesized, name(tier, "primary"), "AWS::Backup::BackupPlan")
    rules = plan.prop("BackupPlan", "BackupPlanRule")
    assert rules, "a plan with no rules backs nothing up"
    for rule in rules:
        (copy,) = rule["CopyActions"]
        assert copy["DestinationBackupVaultArn"] == {
            "Fn::Join": [
                "",
                [
                    "arn:",
                    {"Ref": "AWS::Partition"},
                    f":backup:{R}:123456789012:backup-vault:{APP}-{tier}-copies",
                ],
            ]
        }
    vault = one(synthesized, name(tier, "recovery-base"), "AWS::Backup::BackupVault")
    assert vault.prop("BackupVaultName") == f"{APP}-{tier}-copies"
    assert has(vault, "EncryptionKeyArn")
    one(synthesized, name(tier, "primary"), "AWS::Backup::BackupSelection")
    selected = Capture()
    synthesized.template(name(tier, "primary")).has_resource_properties(
        "AWS::Backup::BackupSelection", {"BackupSelection": {"Resources": selected}}
    )
    assert len(selected.as_array()) == 3  # database, table, control


# --- alarms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "role", "metrics"),
    [
        (
            "backup-restore",
            "primary",
            {
                "ApproximateNumberOfMessagesVisible",
                "ApproximateAgeOfOldestMessage",
                "HTTPCode_ELB_5XX_Count",
                "CPUUtilization",
            },
        ),
        (
            "pilot-light",
            "recovery",
            {
                "ApproximateNumberOfMessagesVisible",
                "ApproximateAgeOfOldestMessage",  # the work queue's backlog
                "HTTPCode_ELB_5XX_Count",
                "ReplicaLag",
                "RecoveryWritable",  # the declared writer, which Route 53 follows
            },
        ),
        (
            "warm-standby",
            "primary",
            {
                "ApproximateNumberOfMessagesVisible",
                "ApproximateAgeOfOldestMessage",  # the work queue's backlog
                "HTTPCode_ELB_5XX_Count",
                "CPUUtilization",
                "ReplicationLatency",
            },
        ),
        (
            "multi-site",
            "recovery",
            {
                "ApproximateNumberOfMessagesVisible",
                "ApproximateAgeOfOldestMessage",  # the work queue's backlog
                "HTTPCode_ELB_5XX_Count",
                "AuroraGlobalDBReplicationLag",
                "PrimaryHealthyTargets",  # what the plan's trigger follows
            },
        ),
    ],
)
def test_alarms_notify_an_encrypted_topic(
    synthesized: Synthesized, tier: str, role: str, metrics: set[str]
) -> None:
    stack = name(tier, role)
    alarms = of_type(synthesized, stack, "AWS::CloudWatch::Alarm")
    assert {a.prop("MetricName") for a in alarms} == metrics
    topic_id = logical_ids(synthesized, stack, "AWS::SNS::Topic")[0]
    for alarm in alarms:
        assert alarm.prop("AlarmActions") == [{"Ref": topic_id}]
    assert has(one(synthesized, stack, "AWS::SNS::Topic"), "KmsMasterKeyId")


# --- data is kept -----------------------------------------------------------------------------

# Not AWS::RDS::GlobalCluster: it holds no data (its clusters do) and goes with its stack,
# else RDS refuses to delete the primary cluster (decision 36).
STATEFUL = {
    "AWS::RDS::DBInstance",
    "AWS::RDS::DBCluster",
    "AWS::DynamoDB::GlobalTable",
    "AWS::SQS::Queue",
    "AWS::KMS::Key",
    "AWS::Backup::BackupVault",
    "AWS::SecretsManager::Secret",
    "AWS::Logs::LogGroup",
    "AWS::Route53::HostedZone",
}


def is_cluster_member(resource: Resource) -> bool:
    """Aurora instances hold no data of their own; the cluster they belong to does."""
    return resource.type == "AWS::RDS::DBInstance" and has(resource, "DBClusterIdentifier")


@pytest.mark.parametrize("tier", TIERS)
def test_stateful_resources_keep_their_data(synthesized: Synthesized, tier: str) -> None:
    for stack in synthesized.tiers[tier].all:
        stateful = [r for r in stack_resources(synthesized, stack.stack_name) if r.type in STATEFUL]
        for resource in stateful:
            if not is_cluster_member(resource):
                # RetainExceptOnCreate keeps it on every delete and update; only a first create
                # that rolls back (nothing written yet) removes it (rules.retained_on_delete).
                kept = ("Retain", "Snapshot", "RetainExceptOnCreate")
                assert resource.deletion_policy in kept, resource.logical_id
                assert resource.update_replace_policy in kept, resource.logical_id


def test_stateful_logical_ids_stay_fixed(synthesized: Synthesized) -> None:
    """Renaming a construct id of a database, table, queue, key or vault replaces it: these ids
    are part of the contract. Change this list only with a migration note."""

    def ids(tier: str, role: str) -> set[str]:
        return {
            r.logical_id
            for r in stack_resources(synthesized, name(tier, role))
            if r.type in STATEFUL - {"AWS::Logs::LogGroup"} | {"AWS::RDS::GlobalCluster"}
            and not is_cluster_member(r)
        }

    regional = {"DataKey2A0DE9E6", "WorkDeadLetters7D6F983C", "WorkQueue1CAC4D2F"}
    primary = regional | {
        "DatabaseSecret3B817195",
        "Table710B521B",
        "ControlTable70B6FEE0",
        "Vault645BC77C",
        "VaultKey15E6834C",
    }
    for tier in ("backup-restore", "pilot-light"):
        assert ids(tier, "primary") == primary | {"DatabaseInstanceAA8A5FDE"}
    for tier in ("warm-standby", "multi-site"):
        assert ids(tier, "primary") == primary | {
            "DatabaseCluster5B53A178",
            "DatabaseGlobal9DB5D85B",
        }
        assert ids(tier, "recovery") == regional | {"DatabaseClusterC6094C50"}
    assert ids("pilot-light", "recovery") == regional | {"DatabaseInstance02E622FB"}
    for tier in TIERS:
        assert ids(tier, "recovery-base") == {
            "CopyVault87F9E5EC",
            "ReplicaKey2E487A43",
            "VaultKey15E6834C",
        }
        edge = {"DataKey2A0DE9E6"} if tier in ("pilot-light", "warm-standby") else set()
        assert ids(tier, "edge") == edge
    # The zone left the edge stacks for the app's zone stack under the id it had there, so the
    # zone an edge stack kept (retained) can be imported into the zone stack as it is.
    zone = {r.logical_id for r in stack_resources(synthesized, f"{APP}-zone") if r.type in STATEFUL}
    assert zone == {"ZoneA5DE4B68"}


# --- stacks deployed during an event ----------------------------------------------------------


def test_failed_over_recovery_runs_at_full_capacity_and_stays_there() -> None:
    """The failover step deploys the recovery stack with failed_over=true: full capacity, and a
    scaling minimum of as many, so target tracking cannot scale it back in."""
    failed_over = Synthesized(tier="warm-standby", failed_over="true")
    recovery = name("warm-standby", "recovery")
    assert one(failed_over, recovery, "AWS::ECS::Service").prop("DesiredCount") == 2
    scaling = one(failed_over, recovery, "AWS::ApplicationAutoScaling::ScalableTarget")
    assert (scaling.prop("MinCapacity"), scaling.prop("MaxCapacity")) == (2, 4)
    assert failed_over.read("warm-standby").failed_over


def test_a_rebuild_restores_into_the_recovery_region_reading_nothing_from_the_lost_one(
    rebuilt: Synthesized,
) -> None:
    snapshot, listener = REBUILD_SNAPSHOT, REBUILD_LISTENER
    primary = name("backup-restore", "primary")
    template = rebuilt.json(primary)
    assert "Fn::GetStackOutput" not in json.dumps(template)
    assert rebuilt.read("backup-restore").stacks[primary] == ("primary", R)
    db = one(rebuilt, primary, "AWS::RDS::DBInstance")
    assert db.prop("DBSnapshotIdentifier") == snapshot
    assert not has(db, "EngineVersion")  # the snapshot's own version: P may have upgraded since
    plan = one(rebuilt, primary, "AWS::Backup::BackupPlan")
    (copy,) = plan.prop("BackupPlan", "BackupPlanRule")[0]["CopyActions"]
    assert f":backup:{P}:123456789012:backup-vault:{APP}-backup-restore-backups" in json.dumps(
        copy["DestinationBackupVaultArn"]
    )
    assert db.prop("DBInstanceIdentifier") == f"{APP}-backup-restore-db"
    # The table was restored under the tier's fixed name: the stack uses it, does not create it.
    assert of_type(rebuilt, primary, "AWS::DynamoDB::GlobalTable") == []
    assert container_environment(rebuilt, primary)["TABLE_NAME"] == f"{APP}-backup-restore-table"
    group = one(rebuilt, primary, "AWS::GlobalAccelerator::EndpointGroup")
    assert group.prop("ListenerArn") == listener and group.prop("EndpointGroupRegion") == R
    # IAM's control plane is in us-east-1: the rebuild makes no IAM entity, it uses the roles
    # the recovery-base stack made beforehand, by name.
    every = stack_resources(rebuilt, primary)
    assert not [r for r in every if r.type.startswith("AWS::IAM::")]
    assert "Transform" not in template  # no hosted rotation (it makes a function and a role)
    task = one(rebuilt, primary, "AWS::ECS::TaskDefinition")
    assert f":role/{APP}-backup-restore-rebuild-task" in json.dumps(task.prop("TaskRoleArn"))


def test_backup_restore_makes_its_rebuild_roles_beforehand(synthesized: Synthesized) -> None:
    base = name("backup-restore", "recovery-base")
    roles = of_type(synthesized, base, "AWS::IAM::Role")
    # the restore tests' role is the one without a fixed name (it is used in this stack only)
    names = {r.prop("RoleName") for r in roles if r.prop("RoleName")}
    assert names == {
        f"{APP}-backup-restore-rebuild-{what}"
        for what in ("task", "execution", "proxy", "dax", "flow-logs", "monitoring")
    }
    # Only backup-restore is rebuilt: the other tiers' recovery-base stacks make no role.
    assert of_type(synthesized, name("pilot-light", "recovery-base"), "AWS::IAM::Role") == []


def test_the_replica_keeps_backups_once_promoted(synthesized: Synthesized) -> None:
    """A promoted replica keeps its own retention (RDS gives a promoted replica 1 day
    otherwise): pilot-light's only writer during an event keeps P's 14 days."""
    replica = one(synthesized, name("pilot-light", "recovery"), "AWS::RDS::DBInstance")
    assert replica.prop("BackupRetentionPeriod") == 14


@pytest.mark.parametrize(
    ("tier", "role"),
    [(t, "primary") for t in TIERS] + [("warm-standby", "recovery"), ("multi-site", "recovery")],
)
def test_the_app_may_call_its_dax_cluster(synthesized: Synthesized, tier: str, role: str) -> None:
    """DAX authorizes every call on the cluster's ARN against the caller's policy."""
    template = synthesized.template(name(tier, role))
    (cluster,) = template.find_resources("AWS::DAX::Cluster")
    statements, policy = Capture(), "AppTaskTaskRoleDefaultPolicy7B7ECC25"
    found = template.find_resources(
        "AWS::IAM::Policy",
        {"Properties": {"PolicyName": policy, "PolicyDocument": {"Statement": statements}}},
    )
    assert list(found) == [policy]
    (statement,) = [s for s in statements.as_array() if "dax:PutItem" in s["Action"]]
    assert {"dax:GetItem", "dax:Query"} <= set(statement["Action"])
    assert statement["Resource"] == {"Fn::GetAtt": [cluster, "Arn"]}


def test_new_settings_of_the_alarm_route_53_follows_are_a_new_name(
    synthesized: Synthesized,
) -> None:
    """Route 53 copies a followed alarm's settings once, and reads them again only when the
    health check is updated: the name carries a digest of them, so new dimensions (another app
    here) rename the alarm, and CloudFormation updates the health check that names it."""
    other = Synthesized(tier="pilot-light", app_name="orders")
    names = [
        next(
            str(a.prop("AlarmName"))
            for a in of_type(s, f"{app}-pilot-light-recovery", "AWS::CloudWatch::Alarm")
            if "-DatabaseWritable-" in str(a.prop("AlarmName"))
        )
        for s, app in ((synthesized, APP), (other, "orders"))
    ]
    digests = {name.rsplit("-", 1)[1] for name in names}
    assert len(digests) == 2 and all(re.fullmatch("[0-9a-f]{8}", d) for d in digests), names
