"""Network: a VPC over configured availability zones, with flow logs and gateway endpoints."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from drtiers.constructs.lint import acknowledge

PUBLIC = "Public"
APP = "App"
DATA = "Data"


class Network(Construct):
    """A VPC with public subnets (load balancer), private subnets with egress (application) and
    private isolated subnets (databases, DAX), spread over the given availability zones.

    :param availability_zones: zone names, from configuration; never looked up.
    :param nat_gateways: NAT gateways for the app subnets. Default: one per zone, so losing a
        zone does not cut the others off; sandbox mode passes 1.
    :param log_key: KMS key for the flow-log group.
    :param log_retention: how long flow logs are kept. Default: one year.
    :param cidr: the VPC's address range. Default: 10.0.0.0/16.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        availability_zones: Sequence[str],
        log_key: kms.IKey,
        nat_gateways: int | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        log_removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
        cidr: str = "10.0.0.0/16",
        flow_log_role: iam.IRole | None = None,
        flow_log_group_name: str | None = None,
        restrict_default_security_group: bool = True,
    ) -> None:
        super().__init__(scope, id_)
        nat_count = _nat_count(availability_zones, nat_gateways)
        self.flow_log_group = logs.LogGroup(
            self,
            "FlowLogs",
            log_group_name=flow_log_group_name,
            encryption_key=log_key,
            retention=log_retention,
            removal_policy=log_removal_policy,
        )
        self.vpc = self._vpc(
            cidr=cidr,
            availability_zones=availability_zones,
            nat_gateways=nat_count,
            flow_log_role=flow_log_role,
            restrict_default_security_group=restrict_default_security_group,
        )
        self._acknowledge_configured_zones()
        _acknowledge_default_group_handler(Stack.of(self))
        self.app_subnets = ec2.SubnetSelection(subnet_group_name=APP)
        self.data_subnets = ec2.SubnetSelection(subnet_group_name=DATA)
        self.public_subnets = ec2.SubnetSelection(subnet_group_name=PUBLIC)

    def _vpc(
        self,
        *,
        cidr: str,
        availability_zones: Sequence[str],
        nat_gateways: int,
        flow_log_role: iam.IRole | None,
        restrict_default_security_group: bool,
    ) -> ec2.Vpc:
        """The VPC: three subnet tiers, every flow logged, S3 and DynamoDB gateway endpoints."""
        return ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(cidr),
            restrict_default_security_group=restrict_default_security_group,
            availability_zones=list(availability_zones),
            nat_gateways=nat_gateways,
            subnet_configuration=_subnet_configuration(),
            flow_logs={
                "All": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                        self.flow_log_group, flow_log_role
                    ),
                    traffic_type=ec2.FlowLogTrafficType.ALL,
                    max_aggregation_interval=ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
                )
            },
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )

    def _acknowledge_configured_zones(self) -> None:
        """Every subnet names its zone from configuration, which cfn-lint flags (W3010)."""
        for subnet in [
            *self.vpc.public_subnets,
            *self.vpc.private_subnets,
            *self.vpc.isolated_subnets,
        ]:
            acknowledge(
                subnet.node.default_child,
                "W3010",
                "Zones come from configuration so that synthesis needs no account lookup; "
                "each is checked against its region when the configuration is read.",
            )


def _nat_count(availability_zones: Sequence[str], nat_gateways: int | None) -> int:
    """The NAT gateways to make (default: one per zone), once the zones and it are checked."""
    if len(availability_zones) < 2:
        raise ValueError(
            f"Network: availability_zones {list(availability_zones)} has fewer than 2 zones; "
            "Multi-AZ databases need at least 2"
        )
    nat_count = len(availability_zones) if nat_gateways is None else nat_gateways
    if not 1 <= nat_count <= len(availability_zones):
        raise ValueError(
            f"Network: nat_gateways {nat_count} is outside 1..{len(availability_zones)}"
        )
    return nat_count


def _subnet_configuration() -> list[ec2.SubnetConfiguration]:
    """Public (load balancer, NAT), app (private with egress) and data (isolated) subnets."""
    return [
        # Only the load balancer and NAT gateways live here; neither needs
        # instances to get public addresses (Control Tower CT.EC2.PR.11).
        ec2.SubnetConfiguration(
            name=PUBLIC,
            subnet_type=ec2.SubnetType.PUBLIC,
            cidr_mask=24,
            map_public_ip_on_launch=False,
        ),
        ec2.SubnetConfiguration(
            name=APP, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
        ),
        ec2.SubnetConfiguration(
            name=DATA, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
        ),
    ]


def _acknowledge_default_group_handler(stack: Stack) -> None:
    """Acknowledge, on CDK's handler that empties the default security group (if the stack
    has one), what it does by design."""
    provider = stack.node.try_find_child("Custom::VpcRestrictDefaultSGCustomResourceProvider")
    if provider is None:
        return
    handler = provider.node.try_find_child("Handler")
    acknowledge(
        handler,
        "W3005",
        "CDK-generated: the handler's DependsOn on its role repeats the Ref; harmless.",
    )
    acknowledge(
        handler,
        "lambda_inside_vpc_check",
        "CDK-generated: runs once at deploy to empty the default security group; it "
        "calls the EC2 API only and touches no data.",
        checker="guard",
    )


# CDK's rule for a group that lets nothing out: no address is 255.255.255.255/32, and ICMP has no
# type 252 with code 86.
NOTHING_OUT = {
    "CidrIp": "255.255.255.255/32",
    "Description": "Disallow all traffic",
    "FromPort": 252,
    "IpProtocol": "icmp",
    "ToPort": 86,
}


def egress_stated_at_create(group: ec2.SecurityGroup) -> None:
    """Create a group whose outbound rules all name other groups (so CDK writes each as its own
    AWS::EC2::SecurityGroupEgress) with CDK's rule that matches nothing, instead of none:
    "When you create a security group, if you do not add egress rules, we add egress rules that
    allow all outbound IPv4 and IPv6 traffic" (AWS::EC2::SecurityGroup, read 2026-12-04), and
    AWS does not say that rules added afterwards remove them. Its own rules then say all it
    may reach. Only for groups with no inline egress: this replaces the inline list."""
    cfn = group.node.default_child
    assert isinstance(cfn, ec2.CfnSecurityGroup)
    cfn.add_property_override("SecurityGroupEgress", [NOTHING_OUT])
