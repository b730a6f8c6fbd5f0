"""Tables restored from backup (backup-restore), as the simulator follows them (I5: P takes
traffic only on stores that hold what was written in R during the event).

A table restored from a recovery point is a new table, no replica of any other
(rules.restored_table_replicates), so nothing R's tasks write there reaches another region by
itself. Those writes come back only with a copy of R's table taken after the last of
them: a copy taken while R's tasks still write (they take traffic, or process what R's queues
hold) misses what they write afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable

from drtiers.recovery.live import Live


def writing(w: Live, region: str, routed: Iterable[str]) -> bool:
    """Whether ``region``'s tasks write to its tables now: they run and take traffic, or
    process messages its queues hold. A task that runs but has neither writes nothing."""
    service = w.service_in(region)
    if service is None or region not in w.up or service.desired == 0:
        return False
    return region in set(routed) or (region in w.messages and bool(service.queues))


def note_writes(w: Live, routed: Iterable[str]) -> None:
    """Writes made now to restored tables leave every other region's tables behind."""
    routed = set(routed)
    for region in sorted(w.restored_tables):
        if writing(w, region, routed):
            w.stale_tables |= w.table_regions - {region}


def copy_back(w: Live, target: str) -> str:
    """``source=target``: the source region's tables, as they are now, replace the target's
    (backed up, copied across and restored under their names). Returns what changed."""
    source, destination = target.split("=")
    if source not in w.restored_tables:
        return f"{source} holds no restored table to copy"
    w.stale_tables.discard(destination)
    return f"{destination}'s tables hold {source}'s as they are now"


def stale_served(w: Live, routed: Iterable[str]) -> str | None:
    """Why P taking traffic now loses writes made in R (its tables missed them); None when it
    does not."""
    service = w.service_in(w.primary)
    if service is None or service.desired == 0 or w.primary not in set(routed):
        return None
    if w.primary not in w.stale_tables:
        return None
    names = ", ".join(x for x in w.table_names if x != w.control_table)
    return (
        f"P takes traffic on its tables ({names}), which missed writes made in {w.recovery}: "
        f"{w.recovery}'s tasks wrote to its restored tables (no replicas) after the last copy "
        "of them to P was taken, or no copy was"
    )
