"""New-account defaults (issue 19): no reserved concurrency unless asked for."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk.assertions import Template

from drtiers.build import DrApp
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
    return [n for n in names if f'"{n}"' in plan or re.search(rf"[:/]{re.escape(n)}[\"/:]", plan)]


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
        assert {f"{tier}-primary", f"{tier}-recovery"} <= set(named), named
        late = [s for s in named if order.index(s) > order.index(plan)]
        assert late == [], f"{plan} deploys before {late}, whose {named} it names"
        # Declared, not only an accident of the manifest's order.
        assert set(named) <= set(manifest["artifacts"][plan]["dependencies"])
