"""The sandbox life cycle (issue 19): no reserved concurrency unless asked for, the quotas a
deploy uses against a new account's defaults, and plan stacks deployed after what they name."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template
from rich.console import Console

from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.assess.model import Estimate
from drtiers.assess.quotas import quota_use
from drtiers.build import DrApp
from drtiers.cli.estimates import _quota_table
from drtiers.config.context import ConfigError, DrConfig
from drtiers.core.quotas import default_quotas
from tests.conftest import Synthesized, context


def _reservations(template: dict[str, Any]) -> dict[str, Any]:
    """Each function's ReservedConcurrentExecutions, by logical id (None: not reserved)."""
    return {
        logical: resource["Properties"].get("ReservedConcurrentExecutions")
        for logical, resource in template.get("Resources", {}).items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


def test_a_default_synth_reserves_no_concurrency(synthesized: Synthesized) -> None:
    templates = sorted(Path(synthesized.directory).glob("*.template.json"))
    functions = {
        f"{path.name}:{logical}": reserved
        for path in templates
        for logical, reserved in _reservations(json.loads(path.read_text())).items()
    }
    assert sum("PlanActions" in key for key in functions) >= 6  # P and R of three tiers
    assert {key: value for key, value in functions.items() if value is not None} == {}


def test_reserve_concurrency_reserves_two_for_each_plan_function() -> None:
    app = DrApp(context=context(tier="multi-site", reserve_concurrency="true"))
    (tier,) = app.tiers
    assert tier.recovery is not None
    recovery = Template.from_stack(tier.recovery).to_json()
    planned = {k: v for k, v in _reservations(recovery).items() if "PlanActions" in k}
    assert list(planned.values()) == [2, 2]  # the function and its probe


# The properties that give the resources a plan acts on or watches their fixed names.
_NAMING = (
    "FunctionName",
    "AlarmName",
    "ServiceName",
    "ClusterName",
    "DBClusterIdentifier",
    "DBInstanceIdentifier",
    "GlobalClusterIdentifier",
    "Name",  # the accelerator the plan's dial steps find by name
)


def _deploy_order(manifest: dict[str, Any]) -> list[str]:
    """The stacks in the order `cdk deploy --all` deploys them: each after its dependencies
    (manifest.json), ties in the manifest's order."""
    stacks = {
        name: [d for d in artifact.get("dependencies", []) if not d.endswith(".assets")]
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    order: list[str] = []
    while len(order) < len(stacks):
        ready = [s for s, deps in stacks.items() if s not in order and set(deps) <= set(order)]
        assert ready, f"a dependency cycle among {set(stacks) - set(order)}"
        order.append(ready[0])
    return order


def _named_by(plan: str, template: dict[str, Any]) -> list[str]:
    """The fixed names of ``template``'s resources that the plan's template names."""
    names = [
        value
        for resource in template.get("Resources", {}).values()
        for prop, value in resource.get("Properties", {}).items()
        if prop in _NAMING and isinstance(value, str)
    ]
    # A whole name: in an ARN, a quoted value or a JSON payload inside one, never the start of
    # a longer name (a cluster's name begins its alarms' names).
    return [n for n in names if re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", plan)]


def test_cdk_deploy_all_puts_each_plan_after_every_stack_it_names(
    synthesized: Synthesized,
) -> None:
    directory = Path(synthesized.directory)
    manifest = json.loads((directory / "manifest.json").read_text())
    order = _deploy_order(manifest)
    plans = [s for s in order if s.endswith("-plan")]
    assert {p.removeprefix("drtiers-").removesuffix("-plan") for p in plans} == {
        "pilot-light",
        "warm-standby",
        "multi-site",
    }
    for plan in plans:
        text = (directory / f"{plan}.template.json").read_text()
        tier = plan.removesuffix("-plan")
        named = {
            stack: found
            for stack in order
            if stack.startswith(f"{tier}-") and stack != plan
            if (
                found := _named_by(
                    text, json.loads((directory / f"{stack}.template.json").read_text())
                )
            )
        }
        # The edge stack's health check alarm (DNS failover) or accelerator (multi-site).
        assert {f"{tier}-primary", f"{tier}-recovery", f"{tier}-edge"} <= set(named), named
        late = [s for s in named if order.index(s) > order.index(plan)]
        assert late == [], f"{plan} deploys before {late}, whose {named} it names"
        # Declared, not only an accident of the manifest's order.
        assert set(named) <= set(manifest["artifacts"][plan]["dependencies"])


def _uses(tier: TierAssembly) -> dict[tuple[str, str], float]:
    return {(u.quota.key, u.where): u.uses for u in quota_use(tier)}


def test_quota_use_is_counted_from_the_reference_tiers_templates(
    synthesized: Synthesized,
) -> None:
    both = ("us-east-1", "us-west-2")
    network = {
        **{("vpcs", r): 1 for r in both},
        **{("elastic_ips", r): 3 for r in both},  # a NAT gateway in each of 3 zones
        **{("nat_gateways", f"{r}{z}"): 1 for r in both for z in "abc"},
        **{("application_load_balancers", r): 1 for r in both},
    }
    assert _uses(synthesized.read("multi-site")) == {
        **network,
        ("accelerators", "account"): 1,
        **{("db_instances", r): 2 for r in both},  # Aurora writer and reader in each region
        **{("db_clusters", r): 1 for r in both},
        **{("fargate_vcpus", r): 1 for r in both},  # 2 tasks of 0.5 vCPU at full size
    }
    pilot = _uses(synthesized.read("pilot-light"))
    assert {k: v for k, v in pilot.items() if k[0] != "fargate_vcpus"} == {
        **network,
        **{("db_instances", r): 1 for r in both},  # the instance and its replica
    }
    assert pilot[("fargate_vcpus", "us-east-1")] == 1
    # A default deploy needs no quota increase, and reserves no concurrency.
    for tier in ("backup-restore", "pilot-light", "warm-standby", "multi-site"):
        uses = quota_use(synthesized.read(tier))
        assert [u for u in uses if u.above_default] == []
        assert [u for u in uses if u.quota.key == "concurrent_executions"] == []


def _resources(type_: str, count: int, **properties: Any) -> list[Resource]:
    return [
        Resource("s", "us-east-1", "primary", f"R{i}", type_, dict(properties))
        for i in range(count)
    ]


def test_a_count_above_the_default_is_flagged_in_explain() -> None:
    tier = TierAssembly(
        name="pilot-light",
        resources=[
            *_resources("AWS::EC2::EIP", 6),
            *_resources("AWS::EC2::VPC", 5),
            # Lambda keeps 100 of the 1,000 unreserved: 901 is too many, 900 is not.
            *_resources("AWS::Lambda::Function", 1, ReservedConcurrentExecutions=901),
        ],
    )
    flagged = {u.quota.key: u.above_default for u in quota_use(tier)}
    assert flagged == {"elastic_ips": True, "vpcs": False, "concurrent_executions": True}
    tier.resources[-1].properties["ReservedConcurrentExecutions"] = 900
    assert [u.quota.key for u in quota_use(tier) if u.above_default] == ["elastic_ips"]
    estimate = Estimate("pilot-light", "us-east-1", "us-west-2", "", quotas=quota_use(tier))
    console = Console(record=True, width=300)
    console.print(_quota_table(estimate))
    lines = console.export_text().splitlines()
    eips = next(line for line in lines if "Elastic IP addresses per Region" in line)
    assert "6 ABOVE DEFAULT" in eips
    assert not any("ABOVE DEFAULT" in line for line in lines if "VPCs per Region" in line)


def test_every_quota_names_its_aws_source_and_when_it_was_read() -> None:
    for quota in default_quotas().values():
        assert quota.source.startswith("https://docs.aws.amazon.com/"), quota.key
        assert quota.read == "2026-12-04", quota.key
        assert (quota.status == "verified") == (quota.default is not None), quota.key
        assert quota.scope in ("region", "availability-zone", "account"), quota.key


def test_reserve_concurrency_is_a_boolean(make_config: Callable[..., DrConfig]) -> None:
    assert make_config().reserve_concurrency is False
    assert make_config(reserve_concurrency="true").reserve_concurrency is True
    with pytest.raises(ConfigError, match=r"reserve_concurrency.*'maybe'.*true or false"):
        make_config(reserve_concurrency="maybe")
