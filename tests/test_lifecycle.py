"""The sandbox life cycle (issue 19, decision 36): deploy in order, destroy as `drtiers destroy`
says, remove what stays, deploy again, twice; several deployments side by side in one account.
Each collision the issue found, put back, makes the check fail naming the resource and the fix."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import jmespath
import pytest

from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.assembly.world import read_world
from drtiers.build import synthesize
from drtiers.cli import main as cli
from drtiers.core.commands import aws_calls
from drtiers.core.facts import default_figures, default_workload
from drtiers.core.tiers import APP_TAG, TIER_NAMES
from drtiers.recovery import fail_over_and_back, lifecycle
from drtiers.recovery import steps as s
from drtiers.recovery.lifecycle import Deployment, destroy_plan, life_cycle
from tests.conftest import Synthesized, context, edit_adopt_payloads

README = Path(__file__).resolve().parent.parent / "README.md"


def deployment(synthesized: Synthesized, tier: str) -> Deployment:
    config = synthesized.config
    label = f"{config.app_name} {tier} {config.primary_region}/{config.recovery_region}"
    return Deployment(label, synthesized.read(tier))


# The second region pair of each tier: the reversed one, where the tier may have its primary
# in us-west-2 (tests.generated.PAIRS); else another pair with a DAX region.
SECOND_PAIR = {
    "pilot-light": ("us-west-2", "us-east-1"),
    "warm-standby": ("us-west-2", "us-east-1"),
    "backup-restore": ("eu-west-1", "us-east-1"),
    "multi-site": ("eu-west-1", "us-east-1"),
}
_second: dict[str, Synthesized] = {}


def second_pair(tier: str) -> Synthesized:
    if tier not in _second:
        primary, recovery = SECOND_PAIR[tier]
        _second[tier] = Synthesized(tier=tier, primary_region=primary, recovery_region=recovery)
    return _second[tier]


@pytest.fixture(scope="module")
def other_app() -> Synthesized:
    """warm-standby of a second app, with its drills: they run beside the first app's tiers."""
    return Synthesized(tier="warm-standby", app_name="other", drills="true")


@pytest.mark.parametrize("tier", TIER_NAMES)
def test_each_tier_deploys_destroys_and_deploys_again_twice(
    synthesized: Synthesized, sandbox: Synthesized, tier: str
) -> None:
    for tiers in (synthesized, sandbox, second_pair(tier)):
        assert life_cycle([deployment(tiers, tier)], cycles=2) == []


def test_four_tiers_and_two_apps_side_by_side(
    synthesized: Synthesized, other_app: Synthesized
) -> None:
    side_by_side = [deployment(synthesized, t) for t in TIER_NAMES]
    side_by_side.append(deployment(other_app, "warm-standby"))
    assert life_cycle(side_by_side, cycles=2) == []


def test_each_tier_fails_over_and_back_between_deploy_and_destroy(
    synthesized: Synthesized,
) -> None:
    """The whole cycle, twice: deploy, drill, lose P and fail back (the simulator), destroy
    what failback left, deploy again."""
    side_by_side = [deployment(synthesized, t) for t in TIER_NAMES]
    assert life_cycle(side_by_side, 2, fail_over_and_back(context(), synthesize)) == []


def test_a_failback_that_leaves_the_renamed_instance_primary_breaks_the_cycle(
    synthesized: Synthesized,
) -> None:
    """The plan's function does not tag the instance the RDS block renamed: the next drill
    would fail it over as the tier's primary."""
    tier = synthesized.read("pilot-light")

    def unstaled(r: Resource) -> Resource:
        if r.type != "AWS::ARCRegionSwitch::Plan":
            return r
        properties = copy.deepcopy(r.properties)
        edit_adopt_payloads(properties, lambda payload: payload.pop("stale"))
        return replace(r, properties=properties)

    broken = replace(tier, resources=[unstaled(r) for r in tier.resources])
    event = fail_over_and_back(context(), synthesize)
    found = life_cycle([Deployment("drtiers pilot-light", broken)], 1, event)
    assert any(
        f.startswith("cycle 1: fail over and back drtiers pilot-light: I10")
        and "still carries drtiers:role=primary" in f
        for f in found
    ), found


def test_the_same_app_and_tier_in_two_region_pairs_collides_and_says_so(
    synthesized: Synthesized,
) -> None:
    """Names do not carry the region pair yet: the check says which names meet and that a
    second app_name separates them."""
    found = life_cycle(
        [
            deployment(synthesized, "warm-standby"),
            deployment(second_pair("warm-standby"), "warm-standby"),
        ]
    )
    roles = [f for f in found if "AWS::IAM::Role drtiers-warm-standby-plan-execution" in f]
    assert roles and "app_name" in roles[0] and "AlreadyExists" in roles[0]


def _targets_retagged(tier: TierAssembly, change: Callable[[dict[str, str]], dict[str, str]]):
    """``tier`` with every experiment target's tags changed by ``change``."""

    def retagged(r: Resource) -> Resource:
        if r.type != "AWS::FIS::ExperimentTemplate":
            return r
        targets = {
            name: {**target, "ResourceTags": change(target["ResourceTags"])}
            for name, target in r.prop("Targets").items()
        }
        return replace(r, properties={**r.properties, "Targets": targets})

    return replace(tier, resources=[retagged(r) for r in tier.resources])


def test_a_drill_that_targets_the_tier_alone_reaches_the_other_apps_resources(
    synthesized: Synthesized, other_app: Synthesized
) -> None:
    """Two apps deploy warm-standby side by side: drills that select by tier and role alone
    stop the other app's tasks, cut its subnets off and fail its database over."""
    tier = other_app.read("warm-standby")
    untold = _targets_retagged(tier, lambda tags: {k: v for k, v in tags.items() if k != APP_TAG})
    found = life_cycle(
        [Deployment("other warm-standby", untold), deployment(synthesized, "warm-standby")], 1
    )
    reached = [f for f in found if f.startswith("cycle 1: drill other warm-standby:")]
    first = "drtiers warm-standby us-east-1/us-west-2's"
    assert reached and all(first in f and APP_TAG in f for f in reached), found
    kinds = {"AWS::ECS::Service", "AWS::EC2::Subnet", "AWS::RDS::DBCluster"}
    assert kinds <= {k for f in reached for k in kinds if f"{first} {k}" in f}


def test_a_drill_that_selects_nothing_fails(other_app: Synthesized) -> None:
    tier = other_app.read("warm-standby")
    nothing = _targets_retagged(tier, lambda tags: {**tags, APP_TAG: "x"})
    found = life_cycle([Deployment("other warm-standby", nothing)], cycles=1)
    assert any("selects none of its AWS::ECS::Service" in f for f in found), found


def test_a_retained_name_without_a_removal_blocks_the_next_deploy(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    removal = lifecycle._removal
    monkeypatch.setattr(
        lifecycle,
        "_removal",
        lambda kind, name, regions: (
            "" if kind == "AWS::Backup::BackupVault" else removal(kind, name, regions)
        ),
    )
    found = life_cycle([deployment(synthesized, "warm-standby")])
    kept = [f for f in found if "knows no command" in f]
    met = [
        f for f in found if f.startswith("cycle 2: deploy") and "drtiers-warm-standby-backups" in f
    ]
    assert kept and "AWS::Backup::BackupVault drtiers-warm-standby-backups" in kept[0]
    assert met and "left by" in met[0] and "cdk import" in met[0]


def test_a_plan_deployed_before_what_it_names_fails(synthesized: Synthesized) -> None:
    tier = synthesized.read("pilot-light")
    undeclared = TierAssembly(
        **{**vars(tier), "dependencies": {**tier.dependencies, "drtiers-pilot-light-plan": []}}
    )
    found = life_cycle([Deployment("drtiers pilot-light", undeclared)], cycles=1)
    assert any("drtiers-pilot-light-plan deploys before" in f for f in found), found


def test_a_protected_stack_left_protected_cannot_be_destroyed(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(s, "unprotect", lambda w, key: "")
    found = life_cycle([deployment(synthesized, "multi-site")], cycles=1)
    assert any(
        "destroying us-east-1:drtiers-multi-site-primary fails" in f
        and "termination protection" in f
        for f in found
    ), found


def test_a_sandbox_vault_left_full_cannot_be_destroyed(
    sandbox: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sandbox mode deletes the vaults, which AWS allows only once they are empty: the copies
    vault too, which the primary's plan fills."""
    monkeypatch.setattr(lifecycle, "_emptied", lambda region, vault, sources, account: "")
    found = life_cycle([deployment(sandbox, "backup-restore")], cycles=1)
    assert any("drtiers-backup-restore-copies holds the recovery points" in f for f in found)
    assert any("drtiers-backup-restore-backups holds the recovery points" in f for f in found)


def test_every_destroy_command_is_an_aws_cli_call_botocore_knows(
    synthesized: Synthesized, sandbox: Synthesized
) -> None:
    for tiers in (synthesized, sandbox):
        for tier in TIER_NAMES:
            plan = destroy_plan(tiers.read(tier))
            for command in [x.command for x in plan.steps] + [x.remove for x in plan.stays]:
                assert not command or aws_calls(command), command


def test_destroy_says_how_to_find_the_instances_a_failback_renamed(
    synthesized: Synthesized,
) -> None:
    """They stay after a failback (kept for what they alone hold) and no stack holds them:
    the query destroy prints finds this deployment's, tagged stale, and nothing else."""
    (found,) = [
        x.note
        for x in destroy_plan(synthesized.read("pilot-light")).stays
        if x.what.startswith("AWS::RDS::DBInstance renamed") and "(us-east-1)" in x.what
    ]
    query = re.search(r'--query "([^"]+)"', found)[1]  # type: ignore[index]

    def instance(name: str, app: str, role: str, *more: str) -> dict[str, Any]:
        tags = {"drtiers:app": app, "drtiers:tier": "pilot-light", "drtiers:role": role}
        tags |= {key: "" for key in more}
        return {
            "DBInstanceIdentifier": name,
            "TagList": [{"Key": k, "Value": v} for k, v in tags.items()],
        }

    block = "renamedByRegionSwitch"  # renamed by the RDS block, its adopt step never ended
    described = {
        "DBInstances": [
            instance("drtiers-pilot-light-db", "drtiers", "primary"),
            instance("drtiers-pilot-light-db-old-2612051200", "drtiers", "stale"),
            instance("drtiers-pilot-light-db-renamed", "drtiers", "primary", block),
            instance("other-pilot-light-db-old", "other", "stale"),
            instance("other-pilot-light-db-renamed", "other", "primary", block),
        ]
    }
    assert jmespath.search(query, described) == [
        "drtiers-pilot-light-db-old-2612051200",
        "drtiers-pilot-light-db-renamed",
    ]


def test_what_stays_after_a_default_destroy_is_in_the_readme(synthesized: Synthesized) -> None:
    section = README.read_text().split("### Destroy", 1)[1].split("\n## ", 1)[0]
    kinds = {
        stays.what.split()[0]
        for tier in TIER_NAMES
        for stays in destroy_plan(synthesized.read(tier)).stays
    }
    assert kinds and all(kind in section for kind in kinds), kinds - set(
        re.findall(r"AWS::\w+::\w+", section)
    )


def test_the_failover_reader_is_named_for_its_app(
    synthesized: Synthesized, other_app: Synthesized
) -> None:
    """Two apps' warm-standby readers added at failover in one region must not meet."""
    readers = []
    for tiers in (synthesized, other_app):
        world = read_world(tiers.read("warm-standby"))
        step = next(
            x
            for x in s.failover_steps(world, default_figures(), default_workload())
            if x.name == "add-reader"
        )
        readers.append(re.search(r"--db-instance-identifier (\S+)", step.command)[1])
    assert readers == [
        "drtiers-warm-standby-recovery-failover-reader",
        "other-warm-standby-recovery-failover-reader",
    ]


def test_drtiers_destroy_prints_the_order_and_what_stays(
    synthesized: Synthesized, capsys: pytest.CaptureFixture[str]
) -> None:
    assembly = str(synthesized.directory)
    assert cli(["destroy", "--tier", "warm-standby", "--assembly", assembly]) == 0
    out = capsys.readouterr().out
    order = [m for m in re.findall(r"Delete (drtiers-[a-z-]+) in", out)]
    assert order == [
        "drtiers-warm-standby-plan",
        "drtiers-warm-standby-edge",
        "drtiers-warm-standby-recovery",
        "drtiers-warm-standby-primary",
        "drtiers-warm-standby-recovery-base",
        "drtiers-zone",
    ]
    # The global database goes with the primary stack, its protection off first; the
    # clusters' data stays in their final snapshots.
    assert "modify-global-cluster --region us-east-1 --global-cluster-identifier " in out
    assert "the final snapshot of AWS::RDS::DBCluster" in out
    assert cli(["destroy", "--tier", "hot-standby", "--assembly", assembly]) == 2


def test_a_first_create_that_rolls_back_leaves_no_name_for_the_retry(
    synthesized: Synthesized,
) -> None:
    """Retain keeps what a failed first create made; the retry meets it. RetainExceptOnCreate
    (what drtiers gives what it keeps) does not."""
    tier = synthesized.read("warm-standby")
    assert lifecycle.failed_first_create(Deployment("drtiers warm-standby", tier)) == []
    kept = [
        replace(r, deletion_policy="Retain") if r.type == "AWS::Backup::BackupVault" else r
        for r in tier.resources
    ]
    found = life_cycle([Deployment("drtiers warm-standby", replace(tier, resources=kept))])
    assert any(
        "first create of us-east-1:drtiers-warm-standby-primary that rolls back leaves "
        "AWS::Backup::BackupVault drtiers-warm-standby-backups"
        in f
        and "RetainExceptOnCreate" in f
        for f in found
    ), found


def test_a_kept_global_database_keeps_its_primary_cluster_from_being_deleted(
    synthesized: Synthesized,
) -> None:
    """CloudFormation deletes the primary cluster without detaching it from a global database
    that stays (its template names no GlobalClusterIdentifier): RDS refuses."""
    tier = synthesized.read("warm-standby")
    kept = [
        replace(r, deletion_policy="Retain") if r.type == "AWS::RDS::GlobalCluster" else r
        for r in tier.resources
    ]
    found = life_cycle([Deployment("drtiers warm-standby", replace(tier, resources=kept))], 1)
    assert any(
        "destroying us-east-1:drtiers-warm-standby-primary fails: its cluster is a member of "
        "the global database drtiers-warm-standby-global" in f
        for f in found
    ), found


def test_a_global_database_left_protected_cannot_be_deleted(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lifecycle, "_global_unprotected", lambda tier, key: "")
    found = life_cycle([deployment(synthesized, "multi-site")], cycles=1)
    assert any("drtiers-multi-site-global has deletion protection" in f for f in found), found


def test_what_the_destroy_keeps_protected_stays_protected(synthesized: Synthesized) -> None:
    """pilot-light's replica in R is kept (after a failover it is the writer): its deletion
    protection stays on while its stack goes."""
    step = next(
        x
        for x in destroy_plan(synthesized.read("pilot-light")).steps
        if x.target == "us-west-2:drtiers-pilot-light-recovery"
    )
    assert "--db-instance-identifier drtiers-pilot-light-db" not in step.command
