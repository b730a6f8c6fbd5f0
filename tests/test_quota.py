"""New-account defaults (issue 19): no reserved concurrency unless asked for."""

from __future__ import annotations

import json
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
