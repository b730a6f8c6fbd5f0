"""Network paths: a task reaches an endpoint only if security groups and ports let it through
both ways (drtiers.core.security_groups, drtiers.assembly.network), and the simulator holds R to
it (I1), as it holds R's load balancer to reaching its tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from drtiers.assembly.network import Group, Network, Rule, read_network
from drtiers.assembly.reader import copy_assembly, read_assembly
from drtiers.assembly.world import World, read_world
from drtiers.checks.mutants import MUTANTS, plant
from drtiers.core import security_groups as sg
from drtiers.recovery.live import deployed
from drtiers.recovery.simulate import problems, targets_healthy
from tests.conftest import Synthesized

TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")

# --- AWS's behaviours ---------------------------------------------------------------------------


def test_a_connection_needs_egress_of_the_source_and_ingress_of_the_destination() -> None:
    assert sg.connection_allowed(True, True)
    assert not sg.connection_allowed(True, False)
    assert not sg.connection_allowed(False, True)


def test_a_group_created_without_egress_rules_lets_everything_out() -> None:
    assert sg.allows_all_egress(created_with_egress_rules=False)
    assert not sg.allows_all_egress(created_with_egress_rules=True)


def test_ports_and_protocols() -> None:
    assert sg.tcp_port_admitted("tcp", 5432, 5432, 5432)
    assert not sg.tcp_port_admitted("tcp", 5433, 5433, 5432)
    assert sg.tcp_port_admitted("6", 5000, 6000, 5432)
    assert sg.tcp_port_admitted("-1", None, None, 5432), "-1: every protocol and port"
    assert not sg.tcp_port_admitted("udp", 0, 65535, 5432)
    assert not sg.tcp_port_admitted("icmp", 252, 86, 5432), "CDK's rule that matches nothing"


def test_ranges_that_may_hold_a_member_of_the_vpc() -> None:
    assert sg.cidr_may_hold("0.0.0.0/0", "10.0.0.0/16")
    assert sg.cidr_may_hold("10.0.3.0/24", "10.0.0.0/16"), "a subnet of the VPC: may"
    assert not sg.cidr_may_hold("255.255.255.255/32", "10.0.0.0/16")
    assert sg.cidr_may_hold("192.168.0.0/16", None), "no VPC range known: allowed"


def test_ports_databases_and_proxies_listen_on() -> None:
    assert sg.database_port("postgres", 5438) == 5438
    assert sg.database_port("aurora-postgresql", None) == 5432
    assert sg.database_port("mysql", None) == 3306
    assert sg.database_port("oracle-ee", None) is None
    assert sg.proxy_port("POSTGRESQL") == 5432
    assert sg.proxy_port("MYSQL") == 3306
    assert sg.proxy_port("SQLSERVER") is None


# --- the question, on a network made by hand ----------------------------------------------------

VPC = "10.0.0.0/16"


def _network(*, app_egress: bool = True, db_ingress: bool = True) -> Network:
    app = Group("app", VPC, egress=[Rule("tcp", 5438, 5438, group="db")] if app_egress else [])
    database = Group("db", VPC, ingress=[Rule("tcp", 5438, 5438, group="app")] * db_ingress)
    return Network({"app": app, "db": database})


def test_reaches_needs_both_ways_and_no_rule_for_the_reply() -> None:
    assert _network().reaches(("app",), ("db",), 5438) is None
    # stateful: the database needs no outbound rule for its replies
    assert _network().groups["db"].egress == []
    no_out = _network(app_egress=False).reaches(("app",), ("db",), 5438)
    assert no_out is not None and "no outbound rule of app" in no_out
    no_in = _network(db_ingress=False).reaches(("app",), ("db",), 5438)
    assert no_in is not None and "no inbound rule of db admits app" in no_in
    wrong_port = _network().reaches(("app",), ("db",), 5432)
    assert wrong_port is not None and "TCP 5432" in wrong_port


def test_reaches_by_range_by_default_egress_and_unknown_groups() -> None:
    network = _network(app_egress=False)
    network.groups["app"].all_egress = True
    assert network.reaches(("app",), ("db",), 5438) is None
    network.groups["db"].ingress = [Rule("tcp", 5438, 5438, cidr="10.0.0.0/8")]
    assert network.reaches(("app",), ("db",), 5438) is None
    assert _network().reaches(("app",), ("elsewhere",), 5438) is None, "unknown: allowed"


# --- the synthesized tiers ----------------------------------------------------------------------


def test_every_group_is_created_with_its_egress_rules(synthesized: Synthesized) -> None:
    """No group gets AWS's allow-all outbound rules: each is created with rules of its own
    (the proxy's and the load balancer's, whose rules all name other groups, with CDK's rule
    that matches nothing)."""
    for tier in TIERS:
        network = read_network(synthesized.read(tier))
        assert network.groups
        assert [g.key for g in network.groups.values() if g.all_egress] == [], tier


@pytest.mark.parametrize("tier", TIERS)
def test_every_path_of_the_synthesized_tiers_is_open(synthesized: Synthesized, tier: str) -> None:
    world = read_world(synthesized.read(tier))
    for service in world.services.values():
        assert service.unreachable == {}, service.key
        assert service.unserved == "", service.key


def _planted(synthesized: Synthesized, tmp_path: Path, mutant_id: str) -> World:
    (mutant,) = [m for m in MUTANTS if m.id == mutant_id]
    directory = copy_assembly(synthesized.directory, tmp_path / mutant_id)
    plant(mutant, directory)
    return read_world(read_assembly(directory)[mutant.tier])


# mutant id -> what R's tasks are told, in the words of problems()
CUT = {
    "sg-db-from-app-pl": "no inbound rule of DatabaseSecurityGroup5C91FDCB admits "
    "AppServiceSecurityGroupA4191BE9 on TCP 5438",
    "sg-app-to-proxy-ws": "no outbound rule of AppServiceSecurityGroupA4191BE9 lets TCP 5432 "
    "out to ProxySecurityGroup31CCABE3",
    "sg-proxy-port-ws": "no inbound rule of ProxySecurityGroup31CCABE3 admits "
    "AppServiceSecurityGroupA4191BE9 on TCP 5432",
    "sg-proxy-to-db-ms": "proxy ProxyA6897D5D cannot reach database DatabaseClusterC6094C50: no "
    "outbound rule of ProxySecurityGroup31CCABE3 lets TCP 5438 out",
    "env-wrong-port-pl": "DATABASE_PORT says 5432 but database DatabaseInstance02E622FB listens "
    "on 5438",
}


@pytest.mark.parametrize("mutant_id", sorted(CUT))
def test_a_cut_path_is_why_rs_tasks_cannot_use_the_database(
    synthesized: Synthesized, tmp_path: Path, mutant_id: str
) -> None:
    world = deployed(_planted(synthesized, tmp_path, mutant_id))
    service = world.service_in(world.recovery)
    assert service is not None
    found = "; ".join(problems(world, service))
    assert "cannot read the database" in found, found
    assert CUT[mutant_id] in found, found


def test_a_load_balancer_that_cannot_reach_its_tasks_serves_nothing(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    world = deployed(_planted(synthesized, tmp_path, "sg-lb-to-app-ms"))
    service = world.service_in(world.recovery)
    assert service is not None and service.desired > 0
    assert not targets_healthy(world, world.recovery)
    assert targets_healthy(world, world.primary)
    found = "; ".join(problems(world, service))
    assert "load balancer AppLoadBalancer" in found and "TCP 8080" in found, found
