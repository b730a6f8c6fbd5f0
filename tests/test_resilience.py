"""Resilience Hub (opt-in): the policy repeats the estimate, one policy and one application per
tier, in R, naming the tier's regional stacks and reading nothing from another region."""

from __future__ import annotations

import json
import math
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Capture, Match, Template

from drtiers.assembly.reader import template_files
from drtiers.assess import Estimate, assess_assembly
from drtiers.assess.model import RtoStep, StoreRpo
from drtiers.assess.resilience import resilience_targets
from drtiers.build import add_resilience, synthesize
from drtiers.config.context import from_context
from drtiers.constructs.resilience import ResilienceTargets, SourceStack
from drtiers.core.tiers import ROLE_TAG, TIERS
from drtiers.stacks.resilience import ResilienceStack
from tests.conftest import ROOT, context

CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"


def property_of_the_one(template: Template, type_: str, key: str) -> Capture:
    """``key`` of the template's one resource of ``type_``, captured (the count is asserted)."""
    template.resource_count_is(type_, 1)
    value = Capture()
    template.has_resource_properties(type_, {key: value})
    return value


class Phase:
    """The tiers synthesized once and assessed, then each tier's resilience stack built from
    its estimate in a fresh app (what the second synthesis does)."""

    def __init__(self, **overrides: Any) -> None:
        self.context = context(resilience_hub="true", **overrides)
        with tempfile.TemporaryDirectory(prefix="drtiers-") as outdir:
            synthesize(self.context, Path(outdir))
            self.estimates = {e.tier: e for e in assess_assembly(Path(outdir))}
        self.app = cdk.App(context=self.context)
        self.config = from_context(self.app.node.try_get_context)
        self.stacks: dict[str, ResilienceStack] = {}
        for tier in self.config.tiers:
            stack = add_resilience(self.app, self.config, tier, self.estimates[tier.name])
            assert stack is not None
            self.stacks[tier.name] = stack
        self.templates = {name: Template.from_stack(s) for name, s in self.stacks.items()}


@pytest.fixture(scope="module")
def phase() -> Phase:
    return Phase()


@pytest.mark.parametrize("tier", list(TIERS))
def test_the_policy_repeats_the_estimate_in_whole_seconds(phase: Phase, tier: str) -> None:
    estimate = phase.estimates[tier]
    template = phase.templates[tier]
    captured = property_of_the_one(template, "AWS::ResilienceHub::ResiliencyPolicy", "Policy")
    policy = captured.as_object()
    region = policy["Region"]
    assert region == {
        "RtoInSecs": math.ceil(estimate.rto_seconds),
        "RpoInSecs": math.ceil(estimate.rpo_seconds),
    }
    assert region["RtoInSecs"] >= estimate.rto_seconds  # never stricter than the estimate
    expected = resilience_targets(estimate)
    assert {k: (v["RtoInSecs"], v["RpoInSecs"]) for k, v in policy.items()} == expected
    assert all(isinstance(n, int) and n >= 0 for pair in policy.values() for n in pair.values())


def test_in_region_targets_follow_the_primary_database(phase: Phase) -> None:
    # Every tier runs a database that fails over inside P and tasks in two or more zones:
    # a zone or host loses no data and recovers in the longer of failover and task start.
    for tier, estimate in phase.estimates.items():
        targets = resilience_targets(estimate)
        assert targets["AZ"] == targets["Hardware"] == (120, 0), tier
        assert targets["Software"] == (1800 + 3600, 300), tier  # decide, restore 100 GB


def test_a_primary_without_in_region_failover_recovers_as_from_a_region() -> None:
    single = Estimate(
        tier="pilot-light",
        primary_region="us-east-1",
        recovery_region="us-west-2",
        recovery_holds="",
        rpo=[StoreRpo("relational database", 59.5, "lag", ("a source",))],
        rto_steps=[RtoStep("promote", 600.2, "api", ("a source",))],
        resource_keys=frozenset({("us-east-1", "AWS::RDS::DBInstance", "Db")}),
    )
    targets = resilience_targets(single)
    assert targets["Region"] == (601, 60)
    assert targets["AZ"] == targets["Hardware"] == (601, 60)
    assumed = resilience_targets(single, {"restorable_lag_seconds": 60})
    assert assumed["Software"][1] == 60


def test_one_policy_and_one_application_per_tier_in_the_recovery_region(phase: Phase) -> None:
    assert sorted(phase.stacks) == sorted(TIERS)
    for tier, stack in phase.stacks.items():
        template = phase.templates[tier]
        template.resource_count_is("AWS::ResilienceHub::ResiliencyPolicy", 1)
        template.resource_count_is("AWS::ResilienceHub::App", 1)
        policy_id = next(iter(template.find_resources("AWS::ResilienceHub::ResiliencyPolicy")))
        app_id = next(iter(template.find_resources("AWS::ResilienceHub::App")))
        only_these = {policy_id: Match.any_value(), app_id: Match.any_value()}
        template.template_matches({"Resources": Match.object_equals(only_these)})
        assert stack.stack_name == f"drtiers-{tier}-resilience"
        assert stack.region == "us-west-2"
        assert stack.tags.tag_values()[ROLE_TAG] == "resilience"
        template.has_resource_properties(
            "AWS::ResilienceHub::App",
            {
                "ResiliencyPolicyArn": Match.exact({"Fn::GetAtt": [policy_id, "PolicyArn"]}),
                "Name": f"drtiers-{tier}",
            },
        )


@pytest.mark.parametrize("tier", list(TIERS))
def test_the_application_names_the_tiers_regional_stacks(phase: Phase, tier: str) -> None:
    expected = {
        f"drtiers-{tier}-primary": "us-east-1",
        f"drtiers-{tier}-recovery-base": "us-west-2",
    }
    if TIERS[tier].has_recovery_stack:
        expected[f"drtiers-{tier}-recovery"] = "us-west-2"
    template = phase.templates[tier]
    sources = Capture()
    template.has_output("SourceStacks", {"Value": sources})
    assert json.loads(sources.as_string()) == expected
    description = property_of_the_one(
        template, "AWS::ResilienceHub::App", "Description"
    ).as_string()
    for name, region in expected.items():
        assert f"{name} ({region})" in description


def test_no_output_of_another_stack_is_read(phase: Phase) -> None:
    for tier, stack in phase.stacks.items():
        text = json.dumps(phase.templates[tier].to_json())
        assert "Fn::GetStackOutput" not in text and "Fn::ImportValue" not in text, tier
        assert stack.dependencies == [], tier  # deployable while P is lost


def test_the_context_key_is_off_by_default(phase: Phase) -> None:
    app = cdk.App(context=context())
    config = from_context(app.node.try_get_context)
    assert config.resilience_hub is False
    for tier in config.tiers:
        assert add_resilience(app, config, tier, phase.estimates[tier.name]) is None
    assert not [c for c in app.node.children if isinstance(c, ResilienceStack)]


def test_an_estimate_of_another_tier_is_refused(phase: Phase) -> None:
    app = cdk.App(context=phase.context)
    config = from_context(app.node.try_get_context)
    with pytest.raises(ValueError, match="add_resilience: the estimate is of multi-site"):
        add_resilience(app, config, TIERS["pilot-light"], phase.estimates["multi-site"])
    moved = replace(phase.estimates["pilot-light"], recovery_region="eu-west-1")
    with pytest.raises(ValueError, match="allowed: an estimate of pilot-light in us-east-1"):
        add_resilience(app, config, TIERS["pilot-light"], moved)


GOOD: dict[str, Any] = {
    "policy_name": "drtiers-pilot-light-targets",
    "app_name": "drtiers-pilot-light",
    "targets": {"AZ": (120, 0), "Hardware": (120, 0), "Software": (5400, 300)},
    "stacks": [SourceStack("drtiers-pilot-light-primary", "us-east-1")],
    "tier_name": "pilot-light",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"policy_name": "a"}, "policy_name 'a' is not valid"),
        ({"app_name": "drtiers pilot"}, "app_name 'drtiers pilot' is not valid"),
        ({"targets": {"AZ": (1, 0), "Hardware": (1, 0)}}, "allowed: AZ, Hardware, Software"),
        ({"targets": {**GOOD["targets"], "Flood": (1, 0)}}, "allowed: AZ, Hardware, Software"),
        ({"targets": {**GOOD["targets"], "Region": (90.5, 1)}}, "target Region (90.5, 1)"),
        ({"targets": {**GOOD["targets"], "Region": (-1, 1)}}, "target Region (-1, 1)"),
        ({"targets": {**GOOD["targets"], "Region": (True, 1)}}, "target Region (True, 1)"),
        ({"stacks": []}, "no stacks"),
        ({"stacks": [SourceStack("s", "us-east-1")] * 2}, "repeat a name"),
        ({"stacks": [SourceStack("s", "Virginia")]}, "stack 's' in 'Virginia' is not valid"),
        ({"policy_tier": "Vital"}, "policy_tier 'Vital' is not valid"),
    ],
)
def test_bad_input_is_refused_at_construction(change: dict[str, Any], message: str) -> None:
    stack = cdk.Stack(cdk.App(), "S")
    with pytest.raises(ValueError, match=r"^ResilienceTargets: ") as raised:
        ResilienceTargets(stack, "Targets", **{**GOOD, **change})
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)
    assert not stack.node.children  # nothing was made


def test_cfn_lint_finds_nothing(phase: Phase) -> None:
    paths = template_files(Path(phase.app.synth().directory))
    assert [p.name for p in paths] == [
        f"drtiers-{t}-resilience.template.json" for t in sorted(phase.stacks)
    ]
    lint = subprocess.run(
        [str(CFN_LINT), "--regions", "us-west-2", "--format", "parseable", "--", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert (lint.returncode, lint.stdout) == (0, ""), lint.stdout + lint.stderr


def test_the_second_synthesis_adds_the_stacks_keeping_the_estimate_adding_the_price(
    tmp_path: Path,
) -> None:
    """build_app's second phase (DrApp) adds one resilience stack per tier from its estimate:
    RTO and RPO stay, the application's price is added."""
    without = {e.tier: e for e in assess_assembly(_synth(tmp_path / "off", context()))}
    on = _synth(tmp_path / "on", context(resilience_hub="true"))
    added = [p.name for p in template_files(on) if p.name.endswith("-resilience.template.json")]
    assert added == [f"drtiers-{t}-resilience.template.json" for t in sorted(TIERS)]
    for again in assess_assembly(on):
        first = without[again.tier]
        assert (again.rto_seconds, again.rpo_seconds) == (first.rto_seconds, first.rpo_seconds)
        (line,) = [c for c in again.cost if c.item == "Resilience Hub applications"]
        assert (line.region, line.monthly_usd) == ("us-west-2", 15.0)
        assert again.monthly_cost_usd == pytest.approx(first.monthly_cost_usd + 15.0)


def _synth(out: Path, given: dict[str, Any]) -> Path:
    synthesize(given, out)  # as the commands do: one synthesis of a configuration, kept
    return out
