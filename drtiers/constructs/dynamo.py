"""Dynamo: a DynamoDB global table (TableV2) and DynamoDB Accelerator (DAX) clusters.

DAX has no L2 construct, so the cluster is built from L1 resources.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dax as dax
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from drtiers.constructs.lint import acknowledge

DAX_PORT_TLS = 9111
# What an application does through DAX: IAM authorizes each call on the cluster's ARN
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/iam-policy-example-read-write-dax-access.html).
DAX_DATA_ACTIONS = (
    "dax:GetItem",
    "dax:BatchGetItem",
    "dax:Query",
    "dax:Scan",
    "dax:PutItem",
    "dax:UpdateItem",
    "dax:DeleteItem",
    "dax:BatchWriteItem",
    "dax:ConditionCheckItem",
)
# What an application (or DAX on its behalf) does with items: no table management.
TABLE_DATA_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
)


class GlobalTable(Construct):
    """A DynamoDB global table with point-in-time recovery and deletion protection on every
    replica and a customer managed key in every region (or AWS's managed key,
    ``aws/dynamodb``, in each).

    :param partition_key: / :param sort_key: the key schema. Default ``pk``/``sk``, strings.
    :param billing: default on-demand. A provisioned global table must auto scale its writes.

    :param table_name: a fixed name, so that the other region's stack can name the table without
        reading this stack's outputs (it must deploy while this region is lost). Default: generated.
    :param key: the customer managed key here; None: AWS's managed key in every region.
    :param replica_keys: recovery region -> KMS key ARN (or alias ARN) in that region, one per
        replica beyond this stack's region (with ``key`` None only the regions count). Default:
        none (a single-region table).
    :param pitr_days: point-in-time recovery window, 1..35. Default 35.
    :param removal_policy: default RETAIN.
    :param witness_region: a table of multi-Region strong consistency (MRSC) with its one
        replica beyond this region and a witness there: "A MRSC global table must be deployed
        in exactly three Regions. You can configure a MRSC global table with three replicas,
        or with two replicas and one witness", and it "supports an RPO of zero"
        (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-global-table-design.html,
        read 2026-12-05). The mode is set at creation: "You cannot change a global table's
        consistency mode after creation" (GlobalTables.html, same date). Default None:
        eventual consistency.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        key: kms.IKey | None,
        table_name: str | None = None,
        partition_key: dynamodb.Attribute | None = None,
        sort_key: dynamodb.Attribute | None = None,
        billing: dynamodb.Billing | None = None,
        replica_keys: Mapping[str, str] | None = None,
        pitr_days: int = 35,
        deletion_protection: bool = True,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        witness_region: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if not 1 <= pitr_days <= 35:
            raise ValueError(f"GlobalTable: pitr_days {pitr_days} is outside 1..35")
        replica_keys = dict(replica_keys or {})
        if witness_region is not None and len(replica_keys) != 1:
            raise ValueError(
                f"GlobalTable: witness_region {witness_region} with {len(replica_keys)} "
                "replicas beyond this region; allowed: exactly one (two replicas and a witness)"
            )
        self.witness_region = witness_region
        self.table = self._table(
            key=key,
            table_name=table_name,
            partition_key=partition_key,
            sort_key=sort_key,
            billing=billing,
            replica_keys=replica_keys,
            pitr=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True, recovery_period_in_days=pitr_days
            ),
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        self.replica_regions: tuple[str, ...] = tuple(sorted(replica_keys))

    def _table(
        self,
        *,
        key: kms.IKey | None,
        table_name: str | None,
        partition_key: dynamodb.Attribute | None,
        sort_key: dynamodb.Attribute | None,
        billing: dynamodb.Billing | None,
        replica_keys: Mapping[str, str],
        pitr: dynamodb.PointInTimeRecoverySpecification,
        deletion_protection: bool,
        removal_policy: RemovalPolicy,
    ) -> dynamodb.TableV2:
        """The table, with a replica (and a stream) in each region of ``replica_keys``, every
        copy with ``pitr`` and ``deletion_protection``."""
        return dynamodb.TableV2(
            self,
            "Table",
            table_name=table_name,
            partition_key=partition_key
            or dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=sort_key
            if partition_key
            else dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing=billing or dynamodb.Billing.on_demand(),
            encryption=dynamodb.TableEncryptionV2.customer_managed_key(
                key, replica_key_arns=dict(replica_keys) or None
            )
            if key is not None
            else dynamodb.TableEncryptionV2.aws_managed_key(),
            point_in_time_recovery_specification=pitr,
            deletion_protection=deletion_protection,
            dynamo_stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES if replica_keys else None,
            multi_region_consistency=dynamodb.MultiRegionConsistency.STRONG
            if self.witness_region
            else None,
            witness_region=self.witness_region,
            replicas=[
                dynamodb.ReplicaTableProps(
                    region=region,
                    point_in_time_recovery_specification=pitr,
                    deletion_protection=deletion_protection,
                )
                for region in sorted(replica_keys)
            ],
            removal_policy=removal_policy,
        )


def _zone_per_node(zones: Sequence[str], nodes: int) -> list[str] | None:
    """DAX's CreateCluster: "If the AvailabilityZones parameter is provided, its length must
    equal the ReplicationFactor" (https://docs.aws.amazon.com/amazondynamodb/latest/
    APIReference/API_dax_CreateCluster.html, read 2026-12-04): more nodes than zones go round
    the zones again."""
    return [zones[node % len(zones)] for node in range(nodes)] if zones else None


class DaxCluster(Construct):
    """A DAX cluster for one table in this region: encrypted at rest, TLS endpoint, nodes spread
    over the data subnets, and a role that can use that table (and its indexes) only.

    :param table_arn: the table (or this region's replica) ARN.
    :param node_type: default dax.r5.large.
    :param replication_factor: nodes, 1..10. Default 3 (one per zone, as AWS recommends for
        production).
    :param availability_zones: zones to spread the nodes over: one per node, the zones in
        turn, so the first three differ (Control Tower CT.DAX.PR.2 wants three).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        table_arn: str,
        node_type: str = "dax.r5.large",
        replication_factor: int = 3,
        availability_zones: Sequence[str] = (),
        client_security_groups: Sequence[ec2.ISecurityGroup] = (),
        role: iam.IRole | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if not 1 <= replication_factor <= 10:
            raise ValueError(
                f"DaxCluster: replication_factor {replication_factor} is outside 1..10"
            )
        self.role = role or self._role(table_arn)
        self.security_group = self._security_group(vpc=vpc, clients=client_security_groups)
        subnet_group = dax.CfnSubnetGroup(
            self,
            "Subnets",
            description="Isolated subnets for DAX",
            subnet_ids=vpc.select_subnets(subnet_group_name=subnets.subnet_group_name).subnet_ids,
        )
        self.cluster = dax.CfnCluster(
            self,
            "Cluster",
            iam_role_arn=self.role.role_arn,
            node_type=node_type,
            replication_factor=replication_factor,
            subnet_group_name=subnet_group.ref,
            security_group_ids=[self.security_group.security_group_id],
            availability_zones=_zone_per_node(availability_zones, replication_factor),
            sse_specification=dax.CfnCluster.SSESpecificationProperty(sse_enabled=True),
            cluster_endpoint_encryption_type="TLS",
            description="DAX read-through cache for the global table",
        )
        if availability_zones:
            acknowledge(
                self.cluster,
                "W3010",
                "Zones come from configuration (no account lookup at synth), and naming three "
                "is how DAX spreads its nodes (Control Tower CT.DAX.PR.2).",
            )

    def _role(self, table_arn: str) -> iam.Role:
        """The role DAX reads and writes the one table it caches with."""
        return iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("dax.amazonaws.com"),
            description="DAX: read and write the one table it caches",
            inline_policies={
                "Table": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            actions=[
                                "dynamodb:DescribeTable",
                                "dynamodb:Scan",
                                *TABLE_DATA_ACTIONS,
                            ],
                            resources=[table_arn],  # the table has no indexes
                        )
                    ]
                )
            },
        )

    def _security_group(
        self, *, vpc: ec2.IVpc, clients: Sequence[ec2.ISecurityGroup]
    ) -> ec2.SecurityGroup:
        """The cluster's group: TLS from each client group (which may reach it), and no more."""
        group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="DAX: TLS clients from the application tier",
            allow_all_outbound=False,
        )
        for client in clients:
            group.add_ingress_rule(client, ec2.Port.tcp(DAX_PORT_TLS), "DAX TLS")
            client.add_egress_rule(
                group,
                ec2.Port.tcp(DAX_PORT_TLS),
                "To DAX over TLS: the table's read-through cache",
            )
        return group
