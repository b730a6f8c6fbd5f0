"""The writer-region item in each region's control table (review finding A7): a region that
returns restarts its tasks at once, before anyone can stop them, and its own copy of the item
may not have seen the declaration made elsewhere (a replica catches up at a time AWS does not
bound; a table restored in R never tells P). The tasks follow the newest item of every region
they read, so they stay off the writer until the failback declares their region again."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from drtiers.assembly.reader import copy_assembly, read_assembly
from drtiers.assembly.world import World, read_world
from drtiers.checks.mutants import MUTANTS, plant
from drtiers.core import rules
from drtiers.recovery import fence
from drtiers.recovery.live import Live, deployed
from tests.conftest import Synthesized

P, R = "us-east-1", "us-west-2"


def _event(synthesized: Synthesized, tier: str) -> Live:
    """The tier after R was declared the writer while P was lost, and P is back."""
    return _event_in(read_world(synthesized.read(tier)))


def _event_in(world: World) -> Live:
    w = deployed(world)
    w.up.discard(P)
    if world.tier == "backup-restore":
        fence.restored(w, R)  # the control table restored from P's backup copy
    fence.declare(w, R)
    w.up.add(P)
    fence.returns(w, P)
    return w


def test_a_declaration_reaches_only_the_replicas_that_are_up(synthesized: Synthesized) -> None:
    w = _event(synthesized, "pilot-light")
    assert w.control_replicas == {P, R}
    assert w.writer_items == {R: (R, 1)}  # P's replica has not seen it yet
    assert not rules.returning_replica_current()
    fence.declare(w, P)  # failback's declaration: both are up
    assert w.writer_items == {P: (P, 2), R: (P, 2)}


def test_a_table_restored_in_r_is_no_replica(synthesized: Synthesized) -> None:
    w = _event(synthesized, "backup-restore")
    assert w.control_replicas == {P}
    fence.declare(w, P)
    assert w.writer_items == {P: (P, 2), R: (R, 1)}  # R's restored copy keeps its own
    assert fence.newest(w) == P
    fence.deleted(w, R)
    assert w.writer_items == {P: (P, 2)}


def test_p_follows_r_s_declaration_through_r_s_table(synthesized: Synthesized) -> None:
    """As synthesized, P's tasks read both regions' items: R's is the newest, so P's tasks,
    restarted on P's return, do not write."""
    for tier in ("backup-restore", "pilot-light", "warm-standby", "multi-site"):
        w = _event(synthesized, tier)
        p = w.service_in(P)
        assert p is not None and p.desired > 0  # ECS restarted them
        assert fence.declared_for(w, p) == R, tier
        assert fence.unfenced(w) == [], tier


def test_p_reading_its_own_table_only_writes_beside_r(synthesized: Synthesized) -> None:
    for tier in ("backup-restore", "pilot-light"):
        w = _event(synthesized, tier)
        p = w.service_in(P)
        assert p is not None
        w.services[p.key] = replace(p, control_reads=(P,))
        ((key, why),) = fence.unfenced(w)
        assert key == p.key
        assert f"read the writer-region item in {P} only, which still names {P}" in why
        assert "CONTROL_TABLE_REGIONS" in why


def test_a_read_the_role_denies_is_no_answer(synthesized: Synthesized) -> None:
    w = _event(synthesized, "backup-restore")
    p = w.service_in(P)
    assert p is not None
    w.services[p.key] = denied = replace(p, control_regions={P})
    assert fence.declared_for(w, denied) == P
    assert [key for key, _ in fence.unfenced(w)] == [p.key]


def test_backup_restore_reads_the_table_r_restores(synthesized: Synthesized) -> None:
    """P's tasks read R's control table too, which exists only once an event restored it (a
    table that does not exist gives no item), and may: granted by its fixed name."""
    world = read_world(synthesized.read("backup-restore"))
    (service,) = world.services.values()
    assert service.control_reads == (P, R)
    assert service.control_regions == {P, R}


def test_the_control_table_needs_no_key_grant_across_regions(synthesized: Synthesized) -> None:
    """AWS's managed key (aws/dynamodb) lets any caller DynamoDB serves in the account decrypt
    the item, so no task is kept from the other region's copy by a key."""
    for tier in ("pilot-light", "warm-standby", "multi-site"):
        world = read_world(synthesized.read(tier))
        assert [s.control_denied for s in world.services.values()] == [{}, {}], tier


def test_a_customer_managed_key_on_r_s_copy_shuts_p_s_tasks_out(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """The review's finding: with the tables' customer managed keys on the control table, P's
    task role may not decrypt R's copy (DynamoDB decrypts for the caller), so R's declaration
    never reaches P's tasks."""
    (mutant,) = [m for m in MUTANTS if m.id == "key-control-cmk-ws"]
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")
    plant(mutant, directory)
    world = read_world(read_assembly(directory)["warm-standby"])
    p = world.service_in(P)
    assert p is not None and list(p.control_denied) == [R]
    assert "may not call kms:Decrypt" in p.control_denied[R]
    w = _event_in(world)
    ((key, why),) = fence.unfenced(w)
    assert key == p.key and "kms:Decrypt" in why
