"""The recovery simulation: every tier recovers from region loss and fails back, in both region
pairs; each invariant fails when a tier is broken on purpose; the CLI prints the verdict."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnResource, Fn
from constructs import IConstruct

from drtiers import build as composition
from drtiers.assembly.reader import read_assembly, template_files
from drtiers.assembly.world import World, read_world
from drtiers.assess import assess_assembly
from drtiers.build import TierStacks, synthesize
from drtiers.checks.dr import dr_findings
from drtiers.checks.gates import cfn_lint
from drtiers.cli import main as cli
from drtiers.core.facts import with_overrides
from drtiers.recovery import Simulation, simulate_assembly
from drtiers.recovery import simulate as simulation
from drtiers.recovery import steps as s
from drtiers.recovery.live import Live, deployed
from drtiers.recovery.simulate import _needs, _region_lost
from tests.conftest import Synthesized, context

TIERS = ["backup-restore", "pilot-light", "warm-standby", "multi-site"]


def child(scope: IConstruct, *path: str) -> CfnResource:
    """The L1 resource at ``path`` below ``scope`` (an escape hatch to break a tier)."""
    node = scope
    for name in path:
        node = node.node.find_child(name)
    resource = node if isinstance(node, CfnResource) else node.node.default_child
    assert isinstance(resource, CfnResource), path
    return resource


@pytest.fixture
def broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[Simulation, Simulation]]:
    """Break a tier in code (``mutate`` runs on every composition, so the stacks that steps
    deploy during the simulation are broken the same way), synthesize and simulate it."""

    def run(tier: str, mutate: Callable[[TierStacks], None]) -> tuple[Simulation, Simulation]:
        original = composition.compose_tier

        def compose_broken(*args: Any) -> TierStacks:
            stacks = original(*args)
            mutate(stacks)
            return stacks

        monkeypatch.setattr(composition, "compose_tier", compose_broken)
        composition.DrApp(outdir=tmp_path, context=context(tier=tier)).synth()
        ((loss, back),) = simulate_assembly(tmp_path, context(), synthesize)
        return loss, back

    return run


def invariants(*simulations: Simulation) -> set[str]:
    return {v.invariant for sim in simulations for v in sim.violations}


@pytest.fixture(scope="module")
def simulations(synthesized: Synthesized) -> dict[str, tuple[Simulation, Simulation]]:
    results = simulate_assembly(Path(synthesized.assembly.directory), context(), synthesize)
    return {loss.tier: (loss, back) for loss, back in results}


@pytest.mark.parametrize("tier", TIERS)
def test_every_tier_recovers_and_fails_back(
    simulations: dict[str, tuple[Simulation, Simulation]], tier: str
) -> None:
    loss, back = simulations[tier]
    assert loss.passed, [str(v) for v in loss.violations]
    assert back.passed, [str(v) for v in back.violations]
    assert set(loss.verdicts().values()) == {"pass"} and len(loss.verdicts()) == 9
    # R ends up serving every client; after failback, P does again.
    assert loss.timeline[-1].traffic == (loss.recovery,)
    assert loss.primary in back.timeline[-1].traffic


@pytest.mark.parametrize("tier", ["backup-restore", "pilot-light"])
def test_the_simulator_changes_a_copy_never_the_world_it_read(
    synthesized: Synthesized, tier: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the reader returned stays as synthesized: region loss and failback (promotions,
    scaling, deployed and retired stacks) happen to the simulator's own copy."""
    read: list[tuple[World, World]] = []

    def remembered(assembly: Any) -> World:
        world = read_world(assembly)
        read.append((world, copy.deepcopy(world)))
        return world

    monkeypatch.setattr(simulation, "read_world", remembered)
    ((loss, back),) = simulate_assembly(synthesized.directory, context(), synthesize, tier=tier)
    assert loss.timeline and back.timeline  # something happened
    ((world, before),) = read
    assert world == before


def test_the_estimate_is_the_simulated_recovery(
    synthesized: Synthesized, simulations: dict[str, tuple[Simulation, Simulation]]
) -> None:
    """I6 on the real tiers: the estimate (drtiers explain) and the simulation agree."""
    estimates = {e.tier: e for e in assess_assembly(Path(synthesized.assembly.directory))}
    for tier, (loss, _) in simulations.items():
        assert loss.recovered_at == estimates[tier].rto_seconds == loss.estimate_rto, tier
    # Slower tiers recover later: backup-restore > pilot-light > warm-standby > multi-site.
    order = [simulations[t][0].recovered_at or 0 for t in TIERS]
    assert order == sorted(order, reverse=True)


EU_PAIR = {"primary_region": "eu-west-1", "recovery_region": "eu-central-1"}


@pytest.fixture(scope="module")
def eu(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every tier in the README's other region pair, synthesized once (and kept: tests/
    test_prices.py's EU estimates copy it when it comes first)."""
    out = tmp_path_factory.mktemp("eu")
    synthesize(context(**EU_PAIR), out)
    return out


def test_the_eu_region_pair_recovers_too(eu: Path) -> None:
    results = simulate_assembly(eu, context(**EU_PAIR), synthesize)
    assert len(results) == 4
    for loss, back in results:
        assert loss.primary == "eu-west-1" and loss.recovery == "eu-central-1"
        assert loss.passed and back.passed, [str(v) for v in loss.violations + back.violations]


def test_the_eu_region_pair_lints_clean_and_meets_the_dr_rules(eu: Path) -> None:
    """The pinned cfn-lint over every template of the other pair (`make check` lints cdk.json's
    pair): zero errors and zero warnings, region-specific rules included; and the DR rule pack,
    as `cdk synth` runs it on every synthesis."""
    assert len(template_files(eu)) == 19  # four tiers: 3 + 5 + 5 + 5 stacks, and the zone
    assert cfn_lint(eu) == []
    assert [str(f) for f in dr_findings(eu)] == []


# --- each invariant, broken on purpose ---------------------------------------------------------


def _environment(stacks: TierStacks, name: str, value: Any) -> None:
    """Point one setting of the recovery service's container somewhere else."""
    assert stacks.recovery is not None
    task = child(stacks.recovery, "App", "Task")
    resolved = stacks.recovery.resolve(task.container_definitions)  # type: ignore[attr-defined]
    names = [v["name"] for v in resolved[0]["environment"]]
    task.add_property_override(
        f"ContainerDefinitions.0.Environment.{names.index(name)}.Value", value
    )


def test_i1_the_recovery_app_on_the_read_only_endpoint(broken: Callable[..., Any]) -> None:
    def read_only(stacks: TierStacks) -> None:
        endpoint = child(stacks.recovery, "Proxy", "ReadOnly")  # type: ignore[arg-type]
        _environment(stacks, "DATABASE_ENDPOINT", endpoint.get_att("Endpoint"))

    loss, _ = broken("warm-standby", read_only)
    (i1,) = [v for v in loss.violations if v.invariant == "I1"]
    # The promoted cluster is no secondary any more: nothing forwards writes.
    assert "cannot write the database" in i1.detail
    assert "read-only endpoint does not take writes" in i1.detail


def test_i1_no_connect_grant_for_the_promoted_replica(broken: Callable[..., Any]) -> None:
    def no_grant(stacks: TierStacks) -> None:
        policy = child(stacks.recovery, "App", "Task", "TaskRole", "DefaultPolicy")  # type: ignore[arg-type]
        policy.add_property_override("PolicyDocument.Statement.0.Action", "rds:DescribeDBInstances")

    loss, _ = broken("pilot-light", no_grant)
    assert any(v.invariant == "I1" and "no rds-db:connect" in v.detail for v in loss.violations)


def test_i2_a_recovery_stack_that_reads_a_primary_output(broken: Callable[..., Any]) -> None:
    def reads_primary(stacks: TierStacks) -> None:
        assert stacks.recovery is not None
        CfnResource(
            stacks.recovery,
            "ReadsPrimary",
            type="AWS::SSM::Parameter",
            properties={
                "Type": "String",
                "Value": Fn.get_stack_output(
                    stacks.primary.stack_name, "LoadBalancerDnsName", stacks.primary.region
                ),
            },
        )

    loss, _ = broken("warm-standby", reads_primary)
    steps = {v.step for v in loss.violations if v.invariant == "I2"}
    # The plan scales R by API and deploys nothing, yet R must stay deployable.
    assert steps == {"R stays deployable"}


def test_i2_the_old_backup_restore_redeploy_needs_the_lost_region(
    synthesized: Synthesized,
) -> None:
    """The runbook before the simulator: `cdk deploy --all` with the regions swapped deploys
    recovery-base into the lost region and the edge stack in us-east-1, and repoints DNS
    through Route 53's control plane there."""
    world = deployed(read_world(read_assembly(synthesized.directory)["backup-restore"]))
    lost = _region_lost(world)
    old = s.Step(
        "redeploy",
        "cdk deploy --all with the regions swapped",
        "rebuild",
        3600,
        "",
        (),
        api_region=world.recovery,
        stack_update=tuple(world.stacks),
    )
    assert _needs(lost, old, lambda context, stacks: world, world) - lost.up == {"us-east-1"}


def test_i3_a_plan_that_never_holds_r_at_full_capacity(
    broken: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the step that raises R's scaling minimum, the ECS block's tasks could be scaled
    back in by target tracking (AWS does not say the block raises the minimum)."""
    original = s.failover_steps
    monkeypatch.setattr(
        s,
        "failover_steps",
        lambda *args: [
            replace(step, after=tuple(a for a in step.after if a != "hold-capacity"))
            for step in original(*args)
            if step.name != "hold-capacity"
        ],
    )
    loss, _ = broken("warm-standby", lambda stacks: None)
    (i3,) = [v for v in loss.violations if v.invariant == "I3"]
    assert "2 tasks, scaling minimum 1" in i3.detail


def test_i4_a_secondary_record_healthy_before_the_database_is_promoted(
    broken: Callable[..., Any],
) -> None:
    def ungated(stacks: TierStacks) -> None:
        child(stacks.edge, "Entry", "Secondary").add_property_deletion_override("HealthCheckId")

    loss, _ = broken("warm-standby", ungated)
    (i4,) = [v for v in loss.violations if v.invariant == "I4"]
    assert i4.step == "detect" and "cannot write the database" in i4.detail


def test_i5_a_primary_record_that_fails_back_by_itself(broken: Callable[..., Any]) -> None:
    def automatic(stacks: TierStacks) -> None:
        records = stacks.edge.node.find_child("Entry")
        http = child(records, "PrimaryHealth")  # type: ignore[arg-type]
        child(records, "Primary").add_property_override(  # type: ignore[arg-type]
            "HealthCheckId", http.get_att("HealthCheckId")
        )

    _, back = broken("pilot-light", automatic)
    assert any(
        v.invariant == "I5" and v.step == "primary-returns" and "by itself" in v.detail
        for v in back.violations
    )


def test_i5_two_writers_when_the_app_ignores_the_writer_region_item(
    broken: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pilot light: the old primary instance comes back writable and ECS restarts P's tasks
    before anyone can stop them; only the writer-region item keeps them off it."""

    def unfenced(world: World) -> Live:
        live = deployed(world)
        live.fenced = False
        return live

    monkeypatch.setattr(simulation, "deployed", unfenced)
    _, back = broken("pilot-light", lambda stacks: None)
    (first, *_) = [v for v in back.violations if v.invariant == "I5"]
    assert first.step == "primary-returns" and first.detail == "two writers take writes"


def test_i1_without_declaring_the_recovery_region_the_writer(
    broken: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = s.failover_steps
    monkeypatch.setattr(
        s,
        "failover_steps",
        lambda *args: [
            replace(
                step,
                after=tuple(a if a != "declare-writer" else "promote-database" for a in step.after),
            )
            for step in original(*args)
            if step.name != "declare-writer"
        ],
    )
    loss, _ = broken("warm-standby", lambda stacks: None)
    assert any(
        v.invariant == "I1" and "the writer-region item names us-east-1" in v.detail
        for v in loss.violations
    )
    assert any(v.invariant == "I6" for v in loss.violations)  # Route 53 never moves either


def test_i6_a_declaration_route53_forgets(broken: Callable[..., Any]) -> None:
    """With InsufficientDataHealthStatus Healthy the one declared data point ages out and the
    check turns healthy again: the SECONDARY never serves."""

    def forgetful(stacks: TierStacks) -> None:
        gate = child(stacks.edge, "Entry", "RecoveryNotWritable")
        gate.add_property_override("HealthCheckConfig.InsufficientDataHealthStatus", "Healthy")

    loss, _ = broken("pilot-light", forgetful)
    (i6,) = [v for v in loss.violations if v.invariant == "I6"]
    assert "recovered at never" in i6.detail
    # Never only "never": the cause comes with it.
    assert "traffic goes to ['us-east-1'], not us-west-2" in i6.detail


def test_i5_a_grant_that_names_the_replaced_instance(broken: Callable[..., Any]) -> None:
    """IAM names a database user by the instance's resource id; failback re-creates P's
    instance under its identifier with a new one, and a grant naming the old id locks the
    proxy out."""

    def pinned(stacks: TierStacks) -> None:
        instance = child(stacks.primary, "Database", "Instance")
        role = child(stacks.primary, "Proxy", "Role")
        role.add_property_override(
            "Policies.0.PolicyDocument.Statement.0.Resource",
            {
                "Fn::Join": [
                    "",
                    [
                        "arn:aws:rds-db:us-east-1:123456789012:dbuser:",
                        instance.get_att("DbiResourceId"),
                        "/app",
                    ],
                ]
            },
        )

    loss, back = broken("pilot-light", pinned)
    assert loss.passed
    assert any(
        v.invariant == "I5" and "has no credentials for user app" in v.detail
        for v in back.violations
    )


def test_i5_an_accelerator_primary_never_held_off(
    broken: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without the step that sets P's dial to 0, a returning P takes traffic by itself, while
    its cluster is a secondary that cannot take writes."""
    original = s.failover_steps
    monkeypatch.setattr(
        s,
        "failover_steps",
        lambda *args: [step for step in original(*args) if step.name != "hold-primary"],
    )
    _, back = broken("multi-site", lambda stacks: None)
    assert any(v.invariant == "I5" and v.step == "primary-returns" for v in back.violations)


def test_i6_an_entry_point_that_never_moves_traffic(broken: Callable[..., Any]) -> None:
    """The gate names an alarm that does not exist: Route 53 then sees no data, the SECONDARY
    stays unhealthy, and the tier never recovers while its estimate says minutes."""

    def misnamed(stacks: TierStacks) -> None:
        gate = child(stacks.edge, "Entry", "RecoveryNotWritable")
        gate.add_property_override("HealthCheckConfig.AlarmIdentifier.Name", "no-such-alarm")

    loss, _ = broken("warm-standby", misnamed)
    (i6,) = [v for v in loss.violations if v.invariant == "I6"]
    assert "recovered at never" in i6.detail and "estimated 450 s" in i6.detail


# --- the command --------------------------------------------------------------------------------


def test_cli_simulate_json(capsys: pytest.CaptureFixture[str]) -> None:
    """As a user runs it: the CLI synthesizes the tier with cdk.json's context (the same context
    its steps deploy with; an assembly made with another context would not match them)."""
    code = cli(["simulate", "--tier", "pilot-light", "--failback", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(r["tier"], r["event"], r["passed"]) for r in out] == [
        ("pilot-light", "region-loss", True),
        ("pilot-light", "failback", True),
    ]
    assert out[0]["verdicts"] == {f"I{n}": "pass" for n in range(1, 10)}
    assert out[0]["timeline"][0]["step"] == "detect"
    assert out[0]["recovered_at_seconds"] == out[0]["estimated_rto_seconds"]


def test_cli_simulate_fails_naming_the_invariant(
    broken: Callable[..., Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def ungated(stacks: TierStacks) -> None:
        child(stacks.edge, "Entry", "Secondary").add_property_deletion_override("HealthCheckId")

    broken("warm-standby", ungated)
    assert cli(["simulate", "--tier", "warm-standby", "--assembly", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "I4 (traffic moves to R only once R can serve it) broken at step 'detect'" in err
    assert "Fix: " in err


def test_cli_simulate_rejects_an_unknown_tier(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["simulate", "--tier", "hot-standby"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("drtiers: error: tier 'hot-standby' is not known; allowed:")
    assert len(err.splitlines()) == 1


def test_figures_the_steps_use_carry_sources() -> None:
    figures, _ = with_overrides({})
    for name in (
        "secret_promotion_seconds",
        "aurora_resync_seconds",
        "rds_replica_rebuild_seconds",
    ):
        assert figures[name].source.startswith("https://docs.aws.amazon.com/")
        assert figures[name].kind == "assumption"


def test_what_failover_leaves_behind_is_protected(
    simulations: dict[str, tuple[Simulation, Simulation]],
) -> None:
    """After the event the recovery region holds the only copy: the runbook protects it."""
    steps = {
        tier: {step.name: step for step in loss.steps} for tier, (loss, _) in simulations.items()
    }
    assert "--multi-az" in steps["pilot-light"]["multi-az"].command
    assert "PointInTimeRecoveryEnabled=true" in steps["backup-restore"]["protect-table"].command
    assert "--deletion-protection-enabled" in steps["backup-restore"]["protect-table"].command
    assert "create-db-instance" in steps["warm-standby"]["add-reader"].command
    # Housekeeping does not count towards the RTO.
    assert not any(
        steps[t][name].in_rto
        for t, name in (
            ("pilot-light", "multi-az"),
            ("backup-restore", "protect-table"),
            ("warm-standby", "add-reader"),
        )
    )


def test_i2_a_rebuild_that_creates_iam_roles_needs_us_east_1(
    broken: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """IAM's control plane is in us-east-1 (the default P): a rebuild that creates its own roles,
    instead of using those made beforehand, cannot run while P is lost."""
    from drtiers.stacks import regional

    monkeypatch.setattr(regional, "imported", lambda *args: None)
    loss, _ = broken("backup-restore", lambda stacks: None)
    (i2,) = [v for v in loss.violations if v.invariant == "I2"]
    assert i2.step == "rebuild" and "needs us-east-1" in i2.detail


def test_i6_a_gate_on_a_metric_that_stops_never_fails_over(broken: Callable[..., Any]) -> None:
    """The review's finding: a gate on the replica's ReplicaLag alarm would fail over when the
    replica is promoted, if Route 53 read the alarm's state. It reads the metric's data, and a
    promoted replica stops sending any: the check keeps its last status and never moves."""

    def on_replica_lag(stacks: TierStacks) -> None:
        gate = child(stacks.edge, "Entry", "RecoveryNotWritable")
        gate.add_property_override(
            "HealthCheckConfig.AlarmIdentifier.Name", "drtiers-pilot-light-recovery-ReplicaLag"
        )

    loss, _ = broken("pilot-light", on_replica_lag)
    (i6,) = [v for v in loss.violations if v.invariant == "I6"]
    assert "recovered at never" in i6.detail


def test_a_gate_on_a_stopping_metric_fails_over_when_no_data_reads_unhealthy(
    broken: Callable[..., Any],
) -> None:
    """The same gate with InsufficientDataHealthStatus Unhealthy: the replica's lag data keeps
    it healthy until promotion stops the data, and then it fails over. The simulation gets
    this only if it knows which AWS metrics a database emits in which role."""

    def on_replica_lag(stacks: TierStacks) -> None:
        gate = child(stacks.edge, "Entry", "RecoveryNotWritable")
        gate.add_property_override(
            "HealthCheckConfig.AlarmIdentifier.Name", "drtiers-pilot-light-recovery-ReplicaLag"
        )
        gate.add_property_override("HealthCheckConfig.InsufficientDataHealthStatus", "Unhealthy")

    loss, _ = broken("pilot-light", on_replica_lag)
    assert loss.passed, [str(v) for v in loss.violations]


@pytest.mark.parametrize("tier", ["pilot-light", "warm-standby", "multi-site"])
def test_tasks_in_both_regions_may_read_the_writer_region_item(
    synthesized: Synthesized, tier: str
) -> None:
    """The model reads the control-table grant whether it names the table by reference (P's
    own) or by its fixed name (R's replica, and the other region's table): the tasks of each
    region read the item in both, their own first."""
    world = read_world(read_assembly(Path(synthesized.assembly.directory))[tier])
    both = {"us-east-1", "us-west-2"}
    assert {x.region: x.control_regions for x in world.services.values()} == {
        "us-east-1": both,
        "us-west-2": both,
    }
    assert {x.region: x.control_reads for x in world.services.values()} == {
        "us-east-1": ("us-east-1", "us-west-2"),
        "us-west-2": ("us-west-2", "us-east-1"),
    }


def test_a_primary_in_us_west_2_synthesizes_and_recovers() -> None:
    """The other pair (P us-west-2, R us-east-1): the edge stack shares R's region, so it must
    name R's writable alarm by its fixed name (a reference became an import the world could
    not read, and the synth's plan phase crashed), and it is not R's to keep deployable."""
    overrides = {
        "tier": "pilot-light",
        "primary_region": "us-west-2",
        "recovery_region": "us-east-1",
    }
    swapped = Synthesized(**overrides)
    world = read_world(swapped.read("pilot-light"))
    alarms = {c.alarm for c in world.health_checks.values() if c.kind == "CLOUDWATCH_METRIC"}
    (alarm,) = alarms  # R's, by its fixed name (its digest: constructs/alarms.py)
    assert alarm.startswith("drtiers-pilot-light-recovery-DatabaseWritable-")
    ((loss, back),) = simulate_assembly(
        swapped.directory, context(**overrides), synthesize, tier="pilot-light"
    )
    assert loss.passed and back.passed, [str(v) for v in loss.violations + back.violations]
