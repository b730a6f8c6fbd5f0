"""Restore tests in R: every tier's restore testing plan restores the newest copy of each kind of
store it backs up, from the vault the backups copy to, a database into a network of its own
stack; the estimate prices each run (DR-RestoresTested)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from drtiers.assembly.queries import backed_up_types, restore_tests
from drtiers.assembly.reader import copy_assembly, edit_template, read_assembly
from drtiers.assess import assess_assembly
from drtiers.checks.dr import restores_tested
from drtiers.constructs.restore_tests import RestoreTests, plan_name
from drtiers.core.schemas import name_scope
from drtiers.core.tiers import RESTORE_TEST_CADENCES, TIERS
from tests.conftest import Synthesized


@pytest.mark.parametrize("name", list(TIERS))
def test_each_tier_tests_every_kind_of_store_it_backs_up(
    synthesized: Synthesized, name: str
) -> None:
    tier = synthesized.read(name)
    (test,) = restore_tests(tier)
    assert test.plan.region == tier.recovery_region
    assert {s.type for s in test.selections} == set(backed_up_types(tier))
    expected = {"DynamoDB", "Aurora" if name in ("warm-standby", "multi-site") else "RDS"}
    assert set(backed_up_types(tier)) == expected
    assert test.recovery_point_types == ("SNAPSHOT",)
    assert restores_tested(tier, TIERS[name]) == []


@pytest.mark.parametrize("name", ["backup-restore", "multi-site"])
def test_a_restored_database_lands_in_its_stacks_network(
    synthesized: Synthesized, name: str
) -> None:
    tier = synthesized.read(name)
    (test,) = restore_tests(tier)
    (database,) = [s for s in test.selections if s.type != "DynamoDB"]
    group = tier.by_id(database.resource.stack, database.overrides["dbsubnetgroupname"]["Ref"])
    assert group is not None and group.type == "AWS::RDS::DBSubnetGroup"
    subnets = [tier.by_id(group.stack, s["Ref"]) for s in group.prop("SubnetIds")]
    zones = {s.prop("AvailabilityZone") for s in subnets if s is not None}
    assert len(zones) >= 2 and all(z.startswith(tier.recovery_region) for z in zones)
    if database.type == "Aurora":  # else AWS picks "up to three random zones"
        assert set(json.loads(database.overrides["availabilityzones"])) == zones
    (security_group,) = re.findall(
        r'"Fn::GetAtt": \["([A-Za-z0-9]+)"', json.dumps(database.overrides["vpcsecuritygroupids"])
    )
    group_resource = tier.by_id(database.resource.stack, security_group)
    assert group_resource is not None
    assert group_resource.prop("SecurityGroupIngress") is None  # nobody reaches it


def test_backup_restore_network_has_no_way_out(synthesized: Synthesized) -> None:
    """R holds nothing else of backup-restore's before a rebuild: the restore tests' VPC has
    no gateway, NAT or route table of its own."""
    tier = synthesized.read("backup-restore")
    base = [r for r in tier.resources if r.region == tier.recovery_region]
    kinds = {r.type for r in base}
    assert "AWS::EC2::VPC" in kinds
    assert not kinds & {
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::Route",
        "AWS::EC2::VPCGatewayAttachment",
    }


def test_a_tier_without_its_plan_is_found(synthesized: Synthesized, tmp_path: Path) -> None:
    def without_plan(resources: dict[str, dict[str, Any]]) -> None:
        for logical_id, resource in list(resources.items()):
            if resource["Type"].startswith("AWS::Backup::RestoreTesting"):
                del resources[logical_id]

    directory = copy_assembly(synthesized.directory, tmp_path / "asm")
    edit_template(directory, "drtiers-pilot-light-recovery", without_plan)
    tier = read_assembly(directory)["pilot-light"]
    found = restores_tested(tier, TIERS["pilot-light"])
    assert [v.detail for v in found] == [f"no restore testing plan in {tier.recovery_region}"]


def test_plan_names_are_what_aws_allows() -> None:
    """ "only alphanumeric characters and underscores" (botocore), at most 50."""
    longest = f"{'a' * 16}-{max(TIERS, key=len)}"
    for names in (longest, "drtiers-warm-standby"):
        assert re.fullmatch(r"[A-Za-z0-9_]{1,50}", plan_name(names)), plan_name(names)


def test_an_unknown_cadence_is_refused_in_one_line() -> None:
    stack = cdk.Stack(cdk.App(), "S", env={"account": "123456789012", "region": "us-west-2"})
    with pytest.raises(ValueError, match=r"^RestoreTests: cadence 'daily'; allowed: weekly, "):
        RestoreTests(
            stack,
            "T",
            name="x_restore_tests",
            vault_arn="arn:aws:backup:us-west-2:123456789012:backup-vault:v",
            cadence="daily",
            retention_days=35,
            database=None,
        )


def test_a_selection_name_is_its_plans() -> None:
    """Two plans may each hold a selection named DynamoDB (the identifier is both names)."""
    region = "us-west-2"
    assert name_scope(region, "AWS::Backup::RestoreTestingSelection") == ("RestoreTestingPlanName",)
    assert name_scope(region, "AWS::DynamoDB::Table") == ()


def _restore_lines(directory: Path, tier: str) -> dict[str, float]:
    (estimate,) = [e for e in assess_assembly(directory) if e.tier == tier]
    return {
        line.item: line.monthly_usd
        for line in estimate.cost
        if "restore test" in line.item or "restored for a test" in line.item
    }


def test_the_estimate_prices_each_run(synthesized: Synthesized, tmp_path: Path) -> None:
    """Weekly runs cost 52/12 of monthly ones: the fee per store, and the restored instance."""
    weekly = _restore_lines(synthesized.directory, "backup-restore")
    assert set(weekly) == {
        "AWS Backup restore tests",
        "RDS single-AZ db.m7g.large (postgres), restored for a test",
    }
    monthly_schedule = RESTORE_TEST_CADENCES["monthly"].schedule

    def monthly(resources: dict[str, dict[str, Any]]) -> None:
        for resource in resources.values():
            if resource["Type"] == "AWS::Backup::RestoreTestingPlan":
                resource["Properties"]["ScheduleExpression"] = monthly_schedule

    directory = copy_assembly(synthesized.directory, tmp_path / "asm")
    edit_template(directory, "drtiers-backup-restore-recovery-base", monthly)
    once = _restore_lines(directory, "backup-restore")
    for item, usd in weekly.items():
        assert usd == pytest.approx(once[item] * 52 / 12, rel=0.01)
