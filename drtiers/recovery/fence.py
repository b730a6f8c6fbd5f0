"""The writer-region item, as the simulator follows it: the application's side of the fence.

Each region's control table holds its own copy of the item `pk=drtiers, sk=writer-region`
(the region it names, and when it was declared). A declaration is a PutItem in one region's
table; a global table carries it to the replicas that are up. A replica in a region that was
lost gets it only after the region returns, at a time AWS does not bound
(rules.returning_replica_current), while ECS restarts that region's tasks at once
(rules.returning_tasks_restart): so a returning region's own copy may still name it. A table
restored from backup is no replica: it holds what its backup held, and nothing written
elsewhere reaches it.

The application reads the item in every region its settings name (CONTROL_TABLE_REGIONS) that
answers, and follows the newest (README, "What the application must do"); where none holds
one, the primary region writes.
"""

from __future__ import annotations

from drtiers.assembly.world import Service
from drtiers.core import rules
from drtiers.recovery.live import Live


def declare(w: Live, region: str) -> None:
    """A PutItem naming ``region`` in ``region``'s table, carried to the global table's
    replicas that are up (a restored table is no replica: the item stays there)."""
    order = 1 + max((o for _, o in w.writer_items.values()), default=0)
    w.writer_items[region] = (region, order)
    if region in w.control_replicas:
        for other in w.control_replicas & w.up:
            w.writer_items[other] = (region, order)


def returns(w: Live, region: str) -> None:
    """``region`` is back: its replica holds the newest item only if AWS says it would by
    now (it does not)."""
    if rules.returning_replica_current() and region in w.control_replicas and w.writer_items:
        w.writer_items[region] = _newest(list(w.writer_items.values()))


def restored(w: Live, region: str) -> None:
    """The control table restored in ``region`` from the primary's backup: it holds the item
    the primary's table held (or none)."""
    item = w.writer_items.get(w.primary)
    if item is not None:
        w.writer_items.setdefault(region, item)


def copied(w: Live, source: str, target: str) -> None:
    """``source``'s tables, as they are now, replace ``target``'s: the item with them."""
    item = w.writer_items.get(source)
    if item is None:
        w.writer_items.pop(target, None)
    else:
        w.writer_items[target] = item


def deleted(w: Live, region: str) -> None:
    """``region``'s control table is deleted: its item with it."""
    w.writer_items.pop(region, None)


def _newest(items: list[tuple[str, int]]) -> tuple[str, int]:
    return max(items, key=lambda item: item[1])


def newest(w: Live) -> str:
    """The region the newest declaration names (the primary before any)."""
    items = list(w.writer_items.values())
    return _newest(items)[0] if items else w.primary


def _answering(w: Live, service: Service) -> list[str]:
    """The regions whose item ``service``'s tasks read and get: named in their settings, up,
    and allowed by their role and the table's key there (a denied read is no answer)."""
    return [
        r
        for r in service.control_reads
        if r in w.up and r in service.control_regions and r not in service.control_denied
    ]


def declared_for(w: Live, service: Service) -> str:
    """The region ``service``'s tasks take for the writer's: the newest item among the tables
    they read that answer."""
    items = [w.writer_items[r] for r in _answering(w, service) if r in w.writer_items]
    return _newest(items)[0] if items else w.primary


def unfenced(w: Live) -> list[tuple[str, str]]:
    """(service, why) for running tasks that write beside the declared writer: they read only
    copies of the item that have not seen the newest declaration, so they take their own
    region for the writer's."""
    found = []
    declared = newest(w)
    for service in w.services.values():
        if service.region not in w.up or service.desired == 0 or service.region == declared:
            continue
        if declared_for(w, service) == service.region:
            read = ", ".join(_answering(w, service)) or "no region"
            found.append(
                (
                    service.key,
                    f"its tasks read the writer-region item in {read} only, which "
                    f"still names {service.region}, while {declared} was declared: they write "
                    f"(and receive from their queues) beside {declared}'s. Name every region of "
                    "the control table in CONTROL_TABLE_REGIONS, let the task role read each, "
                    "and follow the newest item"
                    + "".join(f"; {why}" for why in service.control_denied.values()),
                )
            )
    return found
