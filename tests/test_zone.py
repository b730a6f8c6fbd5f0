"""One hosted zone per app (issue 19): without a hosted_zone_id, the ``<app>-zone`` stack holds
it whatever tiers are synthesized, and every tier's edge stack puts its records there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drtiers.assembly.reader import read_assembly
from drtiers.report.content import inventory
from tests.conftest import Synthesized

ZONE_STACK = "drtiers-zone"
ZONE_ID = {"Fn::GetStackOutput": {"StackName": ZONE_STACK, "OutputName": "HostedZoneId"}}
TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")


def _templates(directory: Path) -> dict[str, dict[str, Any]]:
    return {
        path.name.removesuffix(".template.json"): json.loads(path.read_text())
        for path in directory.glob("*.template.json")
    }


def test_four_tiers_create_one_zone_and_put_their_records_in_it(synthesized: Synthesized) -> None:
    zones = [
        (stack, logical_id)
        for stack, template in _templates(synthesized.directory).items()
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Route53::HostedZone"
    ]
    assert len(zones) == 1 and zones[0][0] == ZONE_STACK, zones
    manifest = json.loads((synthesized.directory / "manifest.json").read_text())
    for tier in TIERS:
        edge = f"drtiers-{tier}-edge"
        records = synthesized.template(edge).find_resources("AWS::Route53::RecordSet")
        assert records and all(r["Properties"]["HostedZoneId"] == ZONE_ID for r in records.values())
        assert ZONE_STACK in manifest["artifacts"][edge]["dependencies"]  # deployed after it


def test_the_zone_is_kept_and_each_tier_reads_the_zone_stack(synthesized: Synthesized) -> None:
    (zone,) = synthesized.template(ZONE_STACK).find_resources("AWS::Route53::HostedZone").values()
    assert (zone["DeletionPolicy"], zone["UpdateReplacePolicy"]) == (
        "RetainExceptOnCreate",
        "Retain",
    )
    for tier in TIERS:  # a tier's model holds what its edge stack needs
        assert synthesized.read(tier).stacks[ZONE_STACK] == ("zone", "us-east-1")


def test_in_sandbox_mode_the_zone_goes_with_its_stack(sandbox: Synthesized) -> None:
    """As the edge stacks' zone did: destroyable, once no tier's records are left in it."""
    (zone,) = sandbox.template(ZONE_STACK).find_resources("AWS::Route53::HostedZone").values()
    assert (zone["DeletionPolicy"], zone["UpdateReplacePolicy"]) == ("Delete", "Delete")
    assert sandbox.read("pilot-light").sandbox  # no termination protection on any stack


def test_one_tier_alone_synthesizes_the_same_zone_stack(
    synthesized: Synthesized, rebuilt: Synthesized
) -> None:
    """Deploying tier after tier (or a rebuild in the other region pair) leaves it unchanged."""
    assert rebuilt.config.tiers != synthesized.config.tiers
    one, four = (s.directory / f"{ZONE_STACK}.template.json" for s in (rebuilt, synthesized))
    assert one.read_bytes() == four.read_bytes()
    assert read_assembly(rebuilt.directory)["backup-restore"].stacks[ZONE_STACK][1] == "us-east-1"


def test_the_review_inventory_shows_the_zone_stack(synthesized: Synthesized) -> None:
    rows = [r for r in inventory(synthesized.read("pilot-light")) if r.stack == ZONE_STACK]
    assert [(r.region, r.type, r.settings) for r in rows] == [
        (
            "us-east-1",
            "AWS::Route53::HostedZone",
            "public zone drtiers-123456789012.com., shared by the app's tiers",
        )
    ]
