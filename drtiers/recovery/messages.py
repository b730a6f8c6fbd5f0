"""Messages made during the event, as the simulator follows them (I9: every message sent during
the event is processed).

A region's work queues fill while its tasks, the producers, take traffic. A queue empties only
while its consumers (the region's service tasks: running, and able to read and write the stores
its messages go to) run and nothing new arrives, or when its messages are moved to the queue of
the same workload in a region whose consumers will run. SQS keeps what is left only for the
queue's retention period (rules.unprocessed_messages_expire), so a region whose consumers stop
while its queues hold messages loses them. Dead-letter queues are not followed: their messages
wait for a person, not for a consumer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from drtiers.recovery.live import Live

# Whether a region's consumers run and can process what its queues hold (the simulator's view).
Able = Callable[[Live, str], bool]


def _has_queues(w: Live, region: str) -> bool:
    service = w.service_in(region)
    return service is not None and bool(service.queues)


def producing(w: Live, region: str, routed: Iterable[str]) -> bool:
    """Whether new messages arrive in ``region``'s queues: its tasks run and take traffic."""
    service = w.service_in(region)
    return region in set(routed) and region in w.up and service is not None and service.desired > 0


def arrive(w: Live, routed: Iterable[str]) -> None:
    """Messages made now: in every region whose tasks take traffic and send to work queues."""
    routed = set(routed)
    for region in sorted(routed):
        if producing(w, region, routed) and _has_queues(w, region):
            w.messages.add(region)


def holding(w: Live, able: Able) -> dict[str, bool]:
    """The regions whose queues hold messages made during the event, each with whether its
    consumers process them now."""
    return {region: able(w, region) for region in sorted(w.messages)}


def drain(w: Live, region: str, routed: Iterable[str], able: Able) -> str:
    """A wait until ``region``'s work queues are empty: it ends once the consumers there have
    processed what the queues hold and nothing new arrives. Returns what changed, in words."""
    if region not in w.messages:
        return f"the queues in {region} hold no message made during the event"
    if able(w, region) and not producing(w, region, routed):
        w.messages.discard(region)
        return f"{region}'s consumers have emptied its queues"
    return f"the queues in {region} still hold messages"


def forward(w: Live, source: str, target: str, routed: Iterable[str]) -> str:
    """What ``source``'s work queues hold moves to the same workload's queues in ``target``
    (once nothing new arrives in ``source``: otherwise what arrives later stays behind)."""
    if source not in w.messages:
        return f"the queues in {source} hold no message made during the event"
    if target not in w.up or not _has_queues(w, target):
        return f"{target} has no queue to take the messages"
    w.messages.add(target)
    if producing(w, source, routed):
        return f"{source}'s messages moved to {target}; its tasks still send more"
    w.messages.discard(source)
    return f"{source}'s messages moved to {target}'s queues"


def left_behind(w: Live, before: dict[str, bool], able: Able) -> list[str]:
    """The regions whose consumers the last step stopped (or took the stores from) while their
    queues still hold messages made during the event: nothing will process those."""
    return [
        region
        for region, processing in before.items()
        if processing and region in w.messages and not able(w, region)
    ]
