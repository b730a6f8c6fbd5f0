"""The assembly's named queries: one answer to what each tier's recovery region holds."""

from __future__ import annotations

from pathlib import Path

from drtiers.assembly.queries import (
    db_instances,
    recovery_database,
    table_replica_regions,
    tasks,
)
from drtiers.assembly.reader import read_assembly
from drtiers.assembly.world import read_world
from drtiers.core.tiers import TIERS
from tests.conftest import Synthesized


def test_recovery_database_is_what_each_tier_promises(synthesized: Synthesized) -> None:
    for name, tier in read_assembly(Path(synthesized.assembly.directory)).items():
        assert tier.name == name
        assert recovery_database(tier) is TIERS[name].recovery_database, name


def test_a_replica_runs_its_sources_engine(synthesized: Synthesized) -> None:
    tier = read_assembly(Path(synthesized.assembly.directory))["pilot-light"]
    replicas = [i for i in db_instances(tier, tier.recovery_region) if i.replica]
    assert replicas
    writer = db_instances(tier, tier.primary_region)[0]
    assert {i.engine for i in replicas} == {writer.engine} != {""}
    world = read_world(tier)
    assert {d.engine for d in world.databases.values()} == {writer.engine}


def test_tasks_and_table_replicas_agree_with_the_world(synthesized: Synthesized) -> None:
    for tier in read_assembly(Path(synthesized.assembly.directory)).values():
        world = read_world(tier)
        assert table_replica_regions(tier) == world.table_regions
        for region in (tier.primary_region, tier.recovery_region):
            service = world.service_in(region)
            assert tasks(tier, region) == (service.desired if service else None)
