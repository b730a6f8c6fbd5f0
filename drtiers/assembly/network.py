"""Network paths of a synthesized tier: its security groups with their rules (inline in
AWS::EC2::SecurityGroup, or standalone AWS::EC2::SecurityGroupIngress / SecurityGroupEgress),
the VPC range of each stack, and whether one set of groups reaches another on a TCP port as AWS
decides it (drtiers.core.security_groups). The model of a deployed tier (world.py) asks which
database endpoints a service's tasks reach, and whether its load balancer reaches them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from drtiers.assembly.queries import instance_engine
from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.core import security_groups as sg

GROUP = "AWS::EC2::SecurityGroup"
INGRESS = "AWS::EC2::SecurityGroupIngress"
EGRESS = "AWS::EC2::SecurityGroupEgress"


@dataclass(frozen=True)
class Rule:
    """One rule: its protocol and ports, and its peer: a group of the tier (its key), an IPv4
    range, or a peer the model cannot resolve (a prefix list, IPv6, a group of no stack here),
    which it takes to match."""

    protocol: str
    from_port: int | None
    to_port: int | None
    group: str | None = None
    cidr: str | None = None

    def admits(self, groups: Iterable[str], vpc_cidr: str | None, port: int) -> bool:
        if not sg.tcp_port_admitted(self.protocol, self.from_port, self.to_port, port):
            return False
        if self.group is not None:
            return self.group in set(groups)
        if self.cidr is not None:
            return sg.cidr_may_hold(self.cidr, vpc_cidr)
        return True


@dataclass
class Group:
    key: str
    vpc_cidr: str | None
    ingress: list[Rule] = field(default_factory=list)
    egress: list[Rule] = field(default_factory=list)
    all_egress: bool = False  # created without outbound rules: AWS lets everything out


@dataclass
class Network:
    groups: dict[str, Group]

    def reaches(self, sources: tuple[str, ...], targets: tuple[str, ...], port: int) -> str | None:
        """Why members of ``sources`` cannot open a TCP connection to members of ``targets``
        on ``port``; None when they can (or when a group is not in the tier: unknown, allowed).
        """
        if not sources or not targets:
            return None
        if any(key not in self.groups for key in (*sources, *targets)):
            return None
        out = any(
            group.all_egress or any(r.admits(targets, group.vpc_cidr, port) for r in group.egress)
            for group in (self.groups[key] for key in sources)
        )
        into = any(
            any(r.admits(sources, group.vpc_cidr, port) for r in group.ingress)
            for group in (self.groups[key] for key in targets)
        )
        if sg.connection_allowed(out, into):
            return None
        if not out:
            return f"no outbound rule of {_names(sources)} lets TCP {port} out to {_names(targets)}"
        return f"no inbound rule of {_names(targets)} admits {_names(sources)} on TCP {port}"


def _names(keys: tuple[str, ...]) -> str:
    return ", ".join(key.rsplit("/", 1)[-1] for key in keys)


def group_key(region: str, stack: str, logical_id: str) -> str:
    """A group's name in the model, as world.key_of names every resource."""
    return f"{region}:{stack}/{logical_id}"


def group_ids(tier: TierAssembly, at: Resource, value: Any) -> tuple[str, ...]:
    """Keys of the groups a list of group ids names (Fn::GetAtt [group, GroupId] or Ref), in
    the stack of ``at``; a value that names no group of the stack keeps its text, which no group
    of the tier has (unknown: allowed)."""
    keys = []
    for item in value if isinstance(value, list) else [value]:
        logical_id = _referenced(item)
        if logical_id is None:
            keys.append(f"?{item}")
        else:
            keys.append(group_key(at.region, at.stack, logical_id))
    return tuple(keys) if value else ()


def _referenced(value: Any) -> str | None:
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute[1:] == ["GroupId"]:
            return str(attribute[0])
    return None


def _rule(tier: TierAssembly, at: Resource, spec: dict[str, Any], peer_key: str) -> Rule:
    """A rule from its CloudFormation properties; ``peer_key`` names its peer group property."""
    peer = spec.get(peer_key)
    group = None
    if peer is not None:
        (named,) = group_ids(tier, at, peer)
        group = None if named.startswith("?") else named  # unknown peer: taken to match
    cidr = spec.get("CidrIp") if isinstance(spec.get("CidrIp"), str) else None
    return Rule(
        protocol=str(spec.get("IpProtocol", sg.ALL_TRAFFIC)),
        from_port=_port(spec.get("FromPort")),
        to_port=_port(spec.get("ToPort")),
        group=group,
        cidr=cidr,
    )


def _port(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def read_network(tier: TierAssembly) -> Network:
    """Every security group of the tier with its inbound and outbound rules."""
    cidrs = {
        r.stack: str(r.prop("CidrBlock"))
        for r in tier.of_type("AWS::EC2::VPC")
        if isinstance(r.prop("CidrBlock"), str)
    }
    groups: dict[str, Group] = {}
    for resource in tier.of_type(GROUP):
        inline_egress = resource.prop("SecurityGroupEgress", default=[]) or []
        group = Group(
            group_key(resource.region, resource.stack, resource.logical_id),
            cidrs.get(resource.stack),
            ingress=[
                _rule(tier, resource, spec, "SourceSecurityGroupId")
                for spec in resource.prop("SecurityGroupIngress", default=[]) or []
            ],
            egress=[
                _rule(tier, resource, spec, "DestinationSecurityGroupId") for spec in inline_egress
            ],
            all_egress=sg.allows_all_egress(bool(inline_egress)),
        )
        groups[group.key] = group
    for type_, peer_key in (
        (INGRESS, "SourceSecurityGroupId"),
        (EGRESS, "DestinationSecurityGroupId"),
    ):
        for resource in tier.of_type(type_):
            owners = group_ids(tier, resource, resource.prop("GroupId"))
            owner = groups.get(owners[0]) if owners else None
            if owner is not None:
                rules = owner.ingress if type_ == INGRESS else owner.egress
                rules.append(_rule(tier, resource, resource.properties, peer_key))
    return Network(groups)


# --- the paths a service's tasks need -----------------------------------------------------------


@dataclass(frozen=True)
class _Listener:
    """Who listens at a database endpoint: its key in the model, groups and port."""

    key: str
    name: str
    groups: tuple[str, ...]
    port: int | None


@dataclass(frozen=True)
class ServicePaths:
    """What the network lets a service's tasks do."""

    unreachable: dict[str, str]  # key of a proxy or database in its settings -> why not
    unserved: str  # why its load balancer cannot reach the tasks; "" when it can


def service_paths(
    tier: TierAssembly, network: Network, service: Resource, environment: dict[str, Any]
) -> ServicePaths:
    """Which database endpoints in the service's settings its tasks cannot reach (security
    groups both ways, the port DATABASE_PORT names against the one that listens, and a proxy's
    own path to its database), and whether its load balancer reaches the tasks."""
    tasks = group_ids(
        tier, service, service.prop("NetworkConfiguration", "AwsvpcConfiguration", "SecurityGroups")
    )
    configured = _port(environment.get("DATABASE_PORT"))
    unreachable: dict[str, str] = {}
    for name in ("DATABASE_ENDPOINT", "DATABASE_READER_ENDPOINT"):
        found = _endpoint(tier, service.stack, environment.get(name))
        if found is None:
            continue
        listener, behind = found
        why = _why_not(network, tasks, listener, configured, behind)
        if why:
            unreachable.setdefault(listener.key, "; ".join(why))
    return ServicePaths(unreachable, _unserved(tier, network, service, tasks))


def _why_not(
    network: Network,
    tasks: tuple[str, ...],
    listener: _Listener,
    configured: int | None,
    behind: _Listener | None,
) -> list[str]:
    why = []
    if configured is not None and listener.port is not None and configured != listener.port:
        why.append(
            f"DATABASE_PORT says {configured} but {listener.name} listens on {listener.port}"
        )
    port = listener.port if listener.port is not None else configured
    blocked = network.reaches(tasks, listener.groups, port) if port is not None else None
    if blocked:
        why.append(f"the tasks cannot reach {listener.name}: {blocked}")
    if behind is not None and behind.port is not None:
        blocked = network.reaches(listener.groups, behind.groups, behind.port)
        if blocked:
            why.append(f"{listener.name} cannot reach {behind.name}: {blocked}")
    return why


def _logical_id(value: Any) -> str | None:
    """The resource an endpoint setting names (Fn::GetAtt [id, ...] or Ref)."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute:
            return str(attribute[0])
    return None


def _endpoint(
    tier: TierAssembly, stack: str, value: Any
) -> tuple[_Listener, _Listener | None] | None:
    """The proxy or database an endpoint setting names, and for a proxy its database."""
    logical_id = _logical_id(value)
    resource = tier.by_id(stack, logical_id) if logical_id else None
    if resource is None:
        return None
    if resource.type == "AWS::RDS::DBInstance":
        return _database(tier, resource), None
    proxy: Resource | None = resource
    if resource.type == "AWS::RDS::DBProxyEndpoint":
        proxy_id = _logical_id(resource.prop("DBProxyName"))
        proxy = tier.by_id(stack, proxy_id) if proxy_id else None
    if proxy is None or proxy.type != "AWS::RDS::DBProxy":
        return None
    listener = _Listener(
        group_key(proxy.region, proxy.stack, proxy.logical_id),
        f"proxy {proxy.logical_id}",
        group_ids(tier, resource, resource.prop("VpcSecurityGroupIds")),
        sg.proxy_port(str(proxy.prop("EngineFamily", default=""))),
    )
    return listener, _proxy_target(tier, proxy)


def _proxy_target(tier: TierAssembly, proxy: Resource) -> _Listener | None:
    """The database a proxy's target group registers."""
    for group in tier.of_type("AWS::RDS::DBProxyTargetGroup"):
        if group.stack != proxy.stack or _logical_id(group.prop("DBProxyName")) != proxy.logical_id:
            continue
        for name in ("DBInstanceIdentifiers", "DBClusterIdentifiers"):
            for value in group.prop(name, default=[]) or []:
                target_id = _logical_id(value)
                target = tier.by_id(proxy.stack, target_id) if target_id else None
                if target is not None:
                    return _database(tier, target)
    return None


def _database(tier: TierAssembly, database: Resource) -> _Listener:
    """An RDS instance or Aurora cluster as a listener. A replica that sets no Port inherits
    its source's, which the model does not follow: its port is then unknown."""
    cluster = database.type == "AWS::RDS::DBCluster"
    engine = (
        str(database.prop("Engine", default="")) if cluster else instance_engine(tier, database)
    )
    port = _port(database.prop("Port"))
    inherits = not port and bool(database.prop("SourceDBInstanceIdentifier"))
    return _Listener(
        group_key(database.region, database.stack, database.logical_id),
        f"database {database.logical_id}",
        group_ids(
            tier, database, database.prop("VpcSecurityGroupIds" if cluster else "VPCSecurityGroups")
        ),
        None if inherits else sg.database_port(engine, port),
    )


def _unserved(
    tier: TierAssembly, network: Network, service: Resource, tasks: tuple[str, ...]
) -> str:
    """Why the load balancers that forward to the service's target groups cannot reach its
    tasks on the container port (a target type ip group sends requests and health checks
    there); "" when they can."""
    for registration in service.prop("LoadBalancers", default=[]) or []:
        target_group = _logical_id(registration.get("TargetGroupArn"))
        port = _port(registration.get("ContainerPort"))
        if target_group is None or port is None:
            continue
        for balancer in _balancers(tier, service.stack, target_group):
            groups = group_ids(tier, balancer, balancer.prop("SecurityGroups"))
            blocked = network.reaches(groups, tasks, port)
            if blocked:
                return f"load balancer {balancer.logical_id} cannot reach its tasks: {blocked}"
    return ""


def _balancers(tier: TierAssembly, stack: str, target_group: str) -> list[Resource]:
    """The load balancers whose listeners forward to a target group."""
    found = []
    for listener in tier.of_type("AWS::ElasticLoadBalancingV2::Listener"):
        if listener.stack != stack or f'"{target_group}"' not in json.dumps(
            listener.prop("DefaultActions")
        ):
            continue
        balancer_id = _logical_id(listener.prop("LoadBalancerArn"))
        balancer = tier.by_id(stack, balancer_id) if balancer_id else None
        if balancer is not None and balancer not in found:
            found.append(balancer)
    return found
