"""How AWS lets a connection through security groups, and which port a database or an RDS Proxy
listens on: one small function each, with AWS's words, the page and when it was read. The
assembly's network reader (drtiers.assembly.network) asks these; tests/test_network.py tests
each on its own."""

from __future__ import annotations

import ipaddress

from drtiers.core.rules import Source

READ = "2026-12-04"

VPC_SECURITY_GROUPS = Source(
    "https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html", READ
)
CFN_SECURITY_GROUP = Source(
    "https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/"
    "aws-resource-ec2-securitygroup.html",
    READ,
)
RDS_MODEL = Source(
    "botocore's RDS service model (CreateDBInstance and CreateDBCluster Port, CreateDBProxy, "
    "DBProxyTarget Port); https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/"
    "API_CreateDBProxy.html",
    READ,
)

ALL_TRAFFIC = "-1"  # IpProtocol of a rule that admits every protocol and port
_TCP = {"tcp", "6", ALL_TRAFFIC}


def connection_allowed(source_egress_allows: bool, destination_ingress_allows: bool) -> bool:
    """A connection from one group's members to another's needs an outbound rule of the source
    and an inbound rule of the destination; its replies need no rule: "Security groups are
    stateful — if you send a request from your instance, the response traffic for that request
    is allowed to flow in regardless of inbound security group rules. Responses to allowed
    inbound traffic are allowed to flow out, regardless of outbound rules."
    (VPC_SECURITY_GROUPS)"""
    return source_egress_allows and destination_ingress_allows


def allows_all_egress(created_with_egress_rules: bool) -> bool:
    """Whether a group lets everything out because it was created without outbound rules:
    "When you create a security group, if you do not add egress rules, we add egress rules that
    allow all outbound IPv4 and IPv6 traffic. Otherwise, we do not add them." Rules a template
    adds afterwards (AWS::EC2::SecurityGroupEgress) are not "at create": AWS does not say that
    they remove the added rules, so the model keeps them (it errs towards allowed).
    (CFN_SECURITY_GROUP)"""
    return not created_with_egress_rules


def tcp_port_admitted(protocol: str, from_port: int | None, to_port: int | None, port: int) -> bool:
    """Whether a rule admits TCP to ``port``: protocol tcp (6) with the port in its range, or
    "-1": "Use -1 to specify all protocols. When authorizing security group rules, specifying
    -1 or a protocol number other than tcp, udp, icmp, or icmpv6 allows traffic on all ports,
    regardless of any port range you specify" (AWS::EC2::SecurityGroupIngress IpProtocol, in
    cfn-lint's CloudFormation schema). (CFN_SECURITY_GROUP)"""
    if str(protocol).lower() not in _TCP:
        return False
    if str(protocol) == ALL_TRAFFIC:
        return True
    low = -1 if from_port is None else from_port
    high = -1 if to_port is None else to_port
    return low <= port <= high


def cidr_may_hold(cidr: str, vpc_cidr: str | None) -> bool:
    """Whether a rule's IPv4 range may hold the addresses of a member in the VPC: the model
    knows the VPC's range, not which of its subnets a member's address is in, so a range that
    overlaps the VPC's counts (it errs towards allowed); without the VPC's range, any does."""
    if vpc_cidr is None:
        return True
    try:
        return ipaddress.ip_network(cidr, strict=False).overlaps(
            ipaddress.ip_network(vpc_cidr, strict=False)
        )
    except ValueError:
        return True  # not a literal range (a parameter or an import): the model cannot know


# Engine (RDS Engine property) -> the port RDS gives a database that sets none: CreateDBInstance
# Port "Default: ... RDS for MySQL - 3306 ... RDS for PostgreSQL - 5432" and CreateDBCluster
# Port "Default: RDS for MySQL and Aurora MySQL - 3306; RDS for PostgreSQL and Aurora PostgreSQL
# - 5432" (RDS_MODEL).
_DEFAULT_PORTS = {
    "postgres": 5432,
    "aurora-postgresql": 5432,
    "mysql": 3306,
    "mariadb": 3306,
    "aurora-mysql": 3306,
}
# RDS Proxy EngineFamily -> the port of its family: "For Aurora MySQL, RDS for MariaDB, and RDS
# for MySQL databases, specify MYSQL. For Aurora PostgreSQL and RDS for PostgreSQL databases,
# specify POSTGRESQL" (CreateDBProxy EngineFamily, RDS_MODEL).
_FAMILY_ENGINES = {"POSTGRESQL": "postgres", "MYSQL": "mysql"}


def database_port(engine: str, port: int | None) -> int | None:
    """The port a database listens on: its Port ("The port number on which the database
    accepts connections"), else its engine's default (RDS_MODEL); None when neither is known."""
    if port:
        return port
    return _DEFAULT_PORTS.get(engine)


def proxy_port(engine_family: str) -> int | None:
    """The port an RDS Proxy and its endpoints listen on: the default port of its engine
    family, whatever port its targets use. CreateDBProxy takes no port, and neither the DBProxy
    nor the DBProxyEndpoint shape has one; the port of a target is another thing, "The port
    that the RDS Proxy uses to connect to the target RDS DB instance or Aurora DB cluster"
    (DBProxyTarget Port). (RDS_MODEL)"""
    engine = _FAMILY_ENGINES.get(engine_family)
    return _DEFAULT_PORTS.get(engine) if engine else None
