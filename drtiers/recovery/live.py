"""The tier as the simulator runs it: the World read from the assembly (never changed), and
what has happened to it since, which only the simulator writes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields

from drtiers.assembly.world import World
from drtiers.core import rules


@dataclass
class Live(World):
    """A copy of the deployed tier's World that steps change (roles, counts, stacks), with the
    event's own state beside it."""

    up: set[str] = field(default_factory=set)  # regions (and control planes) that answer
    promoted_secrets: set[str] = field(default_factory=set)
    added_reader: bool = False
    stale_http: set[str] = field(default_factory=set)  # health not yet seen down
    declared: dict[str, float] = field(default_factory=dict)  # alarm -> last value put
    fresh: set[str] = field(default_factory=set)  # alarms with a data point not yet evaluated
    check_status: dict[str, bool] = field(default_factory=dict)  # CLOUDWATCH_METRIC checks
    # The writer-region item in each region's control table: (the region it names, its "at",
    # the order of the declaration). A region's tasks write only where the newest item they
    # read names (none: the primary's).
    writer_items: dict[str, tuple[str, int]] = field(default_factory=dict)
    # The application honours that item (README, "What the application must do").
    fenced: bool = True
    clients_follow: bool = False  # resolvers have dropped the answer cached before the change
    # Regions whose database missed writes made elsewhere during the event (a standalone
    # instance left behind by a promotion): no one may write to it again.
    missed_writes: set[str] = field(default_factory=set)
    # Regions whose work queues hold messages sent during the event (drtiers.recovery.messages).
    messages: set[str] = field(default_factory=set)
    # Regions whose tables were restored from backup (standalone, no replicas), and regions
    # whose tables missed writes made in one of those (drtiers.recovery.tables).
    restored_tables: set[str] = field(default_factory=set)
    stale_tables: set[str] = field(default_factory=set)
    # Stacks a rebuild deployed -> the event stamp it was given (restore_from's event); what
    # deleted stacks left behind under their own names: resource key -> (type, name).
    rebuilt: dict[str, str] = field(default_factory=dict)
    left_behind: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The instances a failback renamed out of the way (kept for what they alone hold):
    # "<region> #<n>" -> the drtiers:role tag each carries now.
    renamed: dict[str, str] = field(default_factory=dict)


def deployed(world: World) -> Live:
    """The tier as deployed, before anything happens: everything up, as synthesized."""
    facts = copy.deepcopy({f.name: getattr(world, f.name) for f in fields(World)})
    up = set(world.regions) | {rules.ACCELERATOR_API_REGION, rules.ROUTE53_CONTROL_REGION}
    up |= {region for regions in world.strong_tables.values() for region in regions}
    return Live(**facts, up=up)
