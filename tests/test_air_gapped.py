"""A logically air-gapped vault in R, backup-restore's and pilot-light's option: every recovery
point is copied there as well as to the copy vault, which the recovery keeps restoring from; AWS's
limits are refused in one line; the estimate and the destroy plan count it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from drtiers.assembly.queries import backup_rules
from drtiers.assembly.reader import copy_assembly, edit_template
from drtiers.assembly.world import read_world
from drtiers.assess import assess_assembly
from drtiers.build import synthesize
from drtiers.checks.dr import backups_copied_out
from drtiers.config.context import ConfigError
from drtiers.constructs.backup import AirGappedVault
from drtiers.core.tiers import TIERS
from drtiers.recovery import simulate_assembly
from drtiers.recovery.lifecycle import destroy_plan
from drtiers.stacks.regional import air_gapped_name
from tests.conftest import ROOT, Synthesized, config, context

LAGGED = ROOT / "tests" / "fixtures" / "workloads" / "air-gapped.yaml"
VAULT = "drtiers-backup-restore-air-gapped-30d"  # its retention in its name


@pytest.fixture(scope="module")
def lagged() -> Synthesized:
    return Synthesized(tier="backup-restore", workload=str(LAGGED))


def test_every_recovery_point_is_copied_to_both_vaults_in_r(lagged: Synthesized) -> None:
    tier = lagged.read("backup-restore")
    (vault,) = tier.of_type("AWS::Backup::LogicallyAirGappedBackupVault")
    assert vault.region == tier.recovery_region
    # kept, but not after the create that made it empty rolls back (its name stays free)
    assert (vault.deletion_policy, vault.update_replace_policy) == (
        "RetainExceptOnCreate",
        "Retain",
    )
    assert (vault.prop("BackupVaultName"), vault.prop("MinRetentionDays")) == (VAULT, 7)
    assert vault.prop("MaxRetentionDays") == 30  # the workload's retention
    (plan,) = tier.of_type("AWS::Backup::BackupPlan")
    for rule in backup_rules(plan):
        assert sorted(name for _, name in rule.destinations()) == [
            VAULT,
            "drtiers-backup-restore-copies",
        ]
    assert backups_copied_out(tier, TIERS["backup-restore"]) == []


def test_the_recovery_restores_from_the_copy_vault(lagged: Synthesized) -> None:
    world = read_world(lagged.read("backup-restore"))
    assert world.backup_copies == {world.recovery: "drtiers-backup-restore-copies"}
    ((loss, back),) = simulate_assembly(
        lagged.directory, context(tier="backup-restore", workload=str(LAGGED)), synthesize
    )
    assert loss.violations == [] and back.violations == []
    commands = " ".join(step.command for step in loss.steps)
    assert "drtiers-backup-restore-copies" in commands and VAULT not in commands


def test_a_copy_to_an_undeclared_vault_is_found(lagged: Synthesized, tmp_path: Path) -> None:
    def without_vault(resources: dict[str, dict[str, Any]]) -> None:
        for logical_id, resource in list(resources.items()):
            if resource["Type"] == "AWS::Backup::LogicallyAirGappedBackupVault":
                del resources[logical_id]

    directory = copy_assembly(lagged.directory, tmp_path / "asm")
    edit_template(directory, "drtiers-backup-restore-recovery-base", without_vault)
    from drtiers.assembly.reader import read_assembly

    tier = read_assembly(directory)["backup-restore"]
    found = backups_copied_out(tier, TIERS["backup-restore"]) or []
    assert any(f"copies to vault {VAULT} in us-west-2" in v.detail for v in found)


def test_it_is_priced_and_left_by_a_destroy(lagged: Synthesized) -> None:
    (estimate,) = assess_assembly(lagged.directory)
    items = {line.item for line in estimate.cost}
    assert "Backup storage, air-gapped vault (GB-month)" in items
    assert "Backup storage, copy vault (GB-month)" in items
    stays = [s for s in destroy_plan(lagged.read("backup-restore")).stays if VAULT in s.what]
    assert len(stays) == 1 and "compliance mode" in stays[0].billed
    assert f"delete-backup-vault --region us-west-2 --backup-vault-name {VAULT}" in stays[0].remove


def test_a_new_retention_is_a_new_vault(tmp_path: Path) -> None:
    """The vault's retention is create-only: a new one names a new vault, so the update
    neither replaces a named resource nor meets the old vault, which keeps its copies."""
    longer = config(tier="backup-restore", workload=_workload(tmp_path, ", retention_days: 90"))
    assert longer.workload.backups.retention_days == 90
    assert air_gapped_name("drtiers-backup-restore", 90) == "drtiers-backup-restore-air-gapped-90d"
    assert air_gapped_name("drtiers-backup-restore", 30) == VAULT
    stack = cdk.Stack(cdk.App(), "S", env={"account": "123456789012", "region": "us-west-2"})
    AirGappedVault(stack, "V", vault_name="v", min_days=7, max_days=90)
    (vault,) = (
        Template.from_stack(stack)
        .find_resources("AWS::Backup::LogicallyAirGappedBackupVault")
        .values()
    )
    assert (vault["Properties"]["MinRetentionDays"], vault["Properties"]["MaxRetentionDays"]) == (
        7,
        90,
    )
    with pytest.raises(ValueError, match=r"retention 8\.\.7 days"):
        AirGappedVault(stack, "W", vault_name="w", min_days=8, max_days=7)


def _workload(tmp_path: Path, extra: str, database: bool = True) -> str:
    file = tmp_path / "w.yaml"
    file.write_text(
        "service: {image: public.ecr.aws/nginx/nginx-unprivileged:alpine}\n"
        + ("database: {}\n" if database else "")
        + f"backups: {{air_gapped: true{extra}}}\n"
    )
    return str(file)


def test_aurora_and_short_retention_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        config(tier="warm-standby", workload=_workload(tmp_path, ""))
    assert "backups.air_gapped: true is not valid; allowed: false for tier warm-standby" in str(
        refused.value
    )
    with pytest.raises(ConfigError) as refused:
        config(tier="pilot-light", workload=_workload(tmp_path, ", retention_days: 5"))
    assert "backups.retention_days: 5 is not valid; allowed: 7 to 36500" in str(refused.value)
    # Without a database nothing of Aurora is copied: every tier may have it.
    assert config(tier="multi-site", workload=_workload(tmp_path, "", database=False))
