"""Every security group states its egress: what it may reach, and why."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aws_cdk.assertions import Match

from drtiers.assembly.reader import Resource
from tests.conftest import Synthesized

ANYWHERE = ("0.0.0.0/0", "::/0")
# What CDK writes into a group that allows no egress at all (allow_all_outbound=False, no rule).
NOTHING_OUT = {
    "CidrIp": "255.255.255.255/32",
    "Description": "Disallow all traffic",
    "FromPort": 252,
    "IpProtocol": "icmp",
    "ToPort": 86,
}


def _of_type(assembly: Synthesized, type_: str) -> Iterator[tuple[str, Resource]]:
    """(stack, resource) of every resource of ``type_``, stack by stack, as the assembly reader
    sees them."""
    for tier, stacks in assembly.tiers.items():
        found = assembly.read(tier).of_type(type_)
        for stack in stacks.all:
            for resource in found:
                if resource.stack == stack.stack_name:
                    yield stack.stack_name, resource


def _egress(assembly: Synthesized) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(stack, security group logical id, rule source, rule) for every egress rule."""
    for stack, group in _groups(assembly):
        for rule in group.prop("SecurityGroupEgress", default=[]):
            yield stack, group.logical_id, "inline", rule
    for stack, egress in _of_type(assembly, "AWS::EC2::SecurityGroupEgress"):
        owner = egress.prop("GroupId", "Fn::GetAtt")[0]
        # A rule of its own: the resource's properties are the rule (and its group).
        yield stack, owner, egress.logical_id, egress.properties


def _groups(assembly: Synthesized) -> Iterator[tuple[str, Resource]]:
    return _of_type(assembly, "AWS::EC2::SecurityGroup")


def test_no_group_allows_all_outbound_traffic(synthesized: Synthesized) -> None:
    open_rules = [
        (stack, group, rule)
        for stack, group, _, rule in _egress(synthesized)
        if rule.get("CidrIp") in ANYWHERE or rule.get("CidrIpv6") in ANYWHERE
        if str(rule.get("IpProtocol")) == "-1"
        or (rule.get("FromPort"), rule.get("ToPort")) != (443, 443)
    ]
    assert open_rules == []


def test_egress_to_anywhere_is_https_with_a_reason(synthesized: Synthesized) -> None:
    anywhere = [
        (stack, group, rule)
        for stack, group, _, rule in _egress(synthesized)
        if rule.get("CidrIp") in ANYWHERE or rule.get("CidrIpv6") in ANYWHERE
    ]
    assert anywhere, "the app and the rotation function reach AWS APIs over 443"
    for stack, group, rule in anywhere:
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 443, 443)
        reason = rule.get("Description", "")
        assert "NAT" in reason and "endpoint" in reason, (stack, group, reason)


def test_every_group_states_its_egress(synthesized: Synthesized) -> None:
    """allow_all_outbound=False everywhere: a group has explicit rules, or CDK's rule that
    matches nothing (255.255.255.255/32, an ICMP type that does not exist)."""
    with_rules = {(stack, group) for stack, group, _, _ in _egress(synthesized)}
    for stack, group in _groups(synthesized):
        key = (stack, group.logical_id)
        assert key in with_rules, (*key, "no egress rule at all")
        for rule in group.prop("SecurityGroupEgress", default=[]):
            assert rule.get("Description"), (stack, group.logical_id, rule)


@pytest.mark.parametrize("tier", ["pilot-light", "warm-standby"])
def test_data_stores_reach_nothing(synthesized: Synthesized, tier: str) -> None:
    for role in ("primary", "recovery"):
        template = synthesized.template(f"drtiers-{tier}-{role}")
        groups = template.find_resources("AWS::EC2::SecurityGroup")
        for logical_id in ("DatabaseSecurityGroup5C91FDCB", "DaxSecurityGroup91D568E1"):
            if logical_id in groups:
                egress = {"SecurityGroupEgress": Match.exact([NOTHING_OUT])}
                template.template_matches({"Resources": {logical_id: {"Properties": egress}}})


def _egress_ports(assembly: Synthesized, stack: str, group: str) -> dict[int, str]:
    """Port -> what the rule reaches (a group's logical id, or a CIDR)."""
    ports = {}
    for name, owner, _, rule in _egress(assembly):
        if (name, owner) == (stack, group) and rule.get("IpProtocol") == "tcp":
            target = rule.get("DestinationSecurityGroupId", {}).get("Fn::GetAtt", [None])[0]
            ports[int(rule["FromPort"])] = target or rule.get("CidrIp", "")
    return ports


def test_the_app_reaches_its_stores_and_aws_apis_only(synthesized: Synthesized) -> None:
    app = "AppServiceSecurityGroupA4191BE9"
    primary = _egress_ports(synthesized, "drtiers-warm-standby-primary", app)
    assert primary == {
        5432: "ProxySecurityGroup31CCABE3",
        9111: "DaxSecurityGroup91D568E1",
        443: "0.0.0.0/0",
    }
    # pilot light's recovery app talks to the replica (then the writer) directly, no DAX there.
    recovery = _egress_ports(synthesized, "drtiers-pilot-light-recovery", app)
    assert recovery == {5438: "DatabaseSecurityGroup5C91FDCB", 443: "0.0.0.0/0"}


def test_secret_rotation_reaches_its_database_and_secrets_manager(
    synthesized: Synthesized,
) -> None:
    ports = _egress_ports(
        synthesized, "drtiers-pilot-light-primary", "DatabaseRotationSecurityGroup8E1B7C66"
    )
    assert ports == {5438: "DatabaseSecurityGroup5C91FDCB", 443: "0.0.0.0/0"}
