"""Policy gates, in-process: cdk-nag AwsSolutions and CloudFormation Guard's Control Tower rules
report nothing unacknowledged for any tier, and do report a resource that breaks them."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from cdk_nag import AwsSolutionsChecks
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from drtiers.assembly.reader import (
    acknowledgments,
    copy_assembly,
    edit_template,
    stack_tiers,
    template_files,
)
from drtiers.checks.gates import _EarlyLint, _tier_of, cfn_lint, drtiers_dr, synthesize_with_guard
from tests.conftest import DEFAULT_CONTEXT, Synthesized

TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")


def plant_bogus_queue(resources: dict[str, dict[str, Any]]) -> None:
    """Adds a queue with a property no queue has: a defect cfn-lint reports."""
    resources["Bogus"] = {"Type": "AWS::SQS::Queue", "Properties": {"NoSuch": 1}}


def nag_findings(scope: cdk.App) -> Counter[str]:
    report = AwsSolutionsChecks().validate_scope(scope)
    return Counter(
        r.construct_path.split("/")[0] for v in report.violations for r in v.violating_resources
    )


def test_cdk_nag_reports_nothing_unacknowledged_for_any_tier(synthesized: Synthesized) -> None:
    findings = nag_findings(synthesized.app)
    for tier in TIERS:
        for stack in synthesized.tiers[tier].all:
            assert findings[stack.stack_name] == 0, stack.stack_name


def test_cdk_nag_is_not_vacuous() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Bad")
    s3.Bucket(stack, "Plain")
    app.synth()
    assert nag_findings(app)["Bad"] >= 1


@pytest.fixture(scope="session")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    out = tmp_path_factory.mktemp("guarded")
    _, guard = synthesize_with_guard(out, {**DEFAULT_CONTEXT, "tier": "", "drills": True})
    return out, guard


def test_guard_control_tower_rules_pass_every_tier(guarded: tuple[Path, list[str]]) -> None:
    out, guard = guarded
    assert guard == []
    stacks = {p.name.removesuffix(".template.json") for p in template_files(out)}
    assert len(stacks) == 22  # all four tiers, their three drill stacks, three plans, the zone
    report = (out / "validation-report.json").read_text()
    assert '"pluginName": "cdk-validator-cfnguard"' in report  # Guard really ran


def test_guard_is_not_vacuous(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    cdk.Validations.of(app).add_plugins(CfnGuardValidator())
    sqs.Queue(cdk.Stack(app, "Bad"), "NoDeadLetters")
    with pytest.raises(Exception, match="ValidationFailed"):
        app.synth()
    assert "sqs_dlq_check" in (tmp_path / "validation-report.json").read_text()


def test_every_acknowledgment_is_per_resource_with_a_reason(
    guarded: tuple[Path, list[str]],
) -> None:
    out, _ = guarded
    found = list(acknowledgments(out))
    assert found
    for stack, logical_id, checker, rule, reason in found:
        assert checker in ("cfn-lint", "cdk-builtin", "cdk-nag", "guard")
        assert logical_id and stack.startswith("drtiers-")
        assert len(reason) > 30, (rule, reason)
    # No acknowledgment names a whole rule family (cdk-nag v3 has no prefix matching anyway).
    assert not any(rule in ("AwsSolutions-IAM4", "AwsSolutions-IAM5") for *_, rule, _ in found)


def test_a_cfn_lint_finding_is_filed_under_its_stack(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """cfn-lint names the template by its absolute path; the table must still find the tier."""
    directory = copy_assembly(synthesized.directory, tmp_path / "asm")
    edit_template(directory, "drtiers-pilot-light-edge", plant_bogus_queue)
    findings = cfn_lint(directory)
    assert findings
    assert {stack_tiers(directory).get(_tier_of(line)) for line in findings} == {"pilot-light"}


def test_early_lint_checks_what_the_second_phase_added_or_changed(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """make check lints the first phase's templates while Guard runs; a template the second
    phase changed or added is linted as it ended up."""
    directory = tmp_path / "asm"
    directory.mkdir()
    for template in template_files(synthesized.directory):
        if template.name.startswith("drtiers-pilot-light-"):
            shutil.copy(template, directory)
    (tmp_path / "early").mkdir()
    linting = _EarlyLint(tmp_path / "early")
    linting.start(directory)
    edit_template(directory, "drtiers-pilot-light-edge", plant_bogus_queue)  # changed
    edge = directory / "drtiers-pilot-light-edge.template.json"
    shutil.copy(edge, directory / "drtiers-pilot-light-extra.template.json")  # added
    findings = linting.finish(directory)
    assert {line.split(":")[0] for line in findings} == {
        "drtiers-pilot-light-edge",
        "drtiers-pilot-light-extra",
    }


def test_a_missing_resource_finding_is_filed_under_its_tier(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """drtiers-dr findings about something absent name no stack, only the tier."""

    def without_backup_plans(resources: dict[str, dict[str, Any]]) -> None:
        for logical_id, resource in list(resources.items()):
            if resource["Type"] == "AWS::Backup::BackupPlan":
                del resources[logical_id]

    directory = copy_assembly(synthesized.directory, tmp_path / "asm")
    edit_template(directory, "drtiers-warm-standby-primary", without_backup_plans)
    findings = drtiers_dr(directory)
    assert findings == [
        "warm-standby: drtiers-dr: DR-BackupCopiedOut on tier warm-standby: no "
        "AWS Backup plan. Fix: add a copy action to the recovery region's vault "
        "to every backup plan rule"
    ]
    assert _tier_of(findings[0]) in stack_tiers(directory).values()
