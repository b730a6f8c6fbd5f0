"""A failover group's parent Region switch plan, run over its applications' own simulations.

The parent plan runs one approval, then the group's steps in order: every application of a step
runs its own plan (a Parallel block of ARCRegionSwitchPlan blocks where a step holds more than
one), and the next step starts once all of them have recovered: "A parent execution block is
marked as completed when all child plans and other execution blocks within it are completed"
(https://docs.aws.amazon.com/r53recovery/latest/dg/working-with-rs-child-plan.html, read
2026-12-05). Each child's steps are taken as its own simulation executed them, its approvals
included: an assumption (AWS does not say whether a child's approval waits when a parent runs
it), the cautious one. Each application's times are taken from its simulation, counted from the
end of its detection (the parent starts once a person knows of the event):

- writable: its database is declared the writer in the target region ("... is declared the
  writer's region"), or never for an application without one;
- traffic: traffic first reaches the target region (an accelerator tier may serve there from
  the start: the parent cannot hold that back);
- done: it has recovered.

What is checked, beside every application's own invariants: no application takes traffic in the
target region before the applications it depends on are writable there (F1), and the group
recovers within its ``rto_target`` with every figure at its slow end (F2). Failback runs the
same order back to P.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from drtiers.config.fleet import FailoverGroup, Fleet
from drtiers.fleet.runs import AppRun
from drtiers.recovery.simulate import Simulation, declared

FLEET_INVARIANTS = {
    "F1": "no application takes traffic before the applications it depends on are writable",
    "F2": "the group recovers within its rto_target, every figure at its slow end",
}


@dataclass(frozen=True)
class ChildTimes:
    """One application's run within the parent, in seconds from the parent's start."""

    start: float
    writable: float | None
    traffic: float | None
    done: float


@dataclass
class ParentRun:
    group: str
    event: str  # region-loss | failback
    target: str  # the region the group moves to
    children: dict[str, ChildTimes] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    recovered_at: float = 0.0
    slow_recovered_at: float | None = None  # region loss, every figure at its slow end

    @property
    def passed(self) -> bool:
        return not self.violations


def child_times(sim: Simulation, target: str, start: float) -> ChildTimes:
    """``sim``'s writable, traffic and done times, its detection's end placed at ``start``."""
    begin = next((e.end for e in sim.timeline if e.step == "detect"), 0.0)

    def at(t: float) -> float:
        return start + max(0.0, t - begin)

    writable = next((e.end for e in sim.timeline if e.changed == declared(target)), None)
    traffic = next((e.end for e in sim.timeline if target in e.traffic), None)
    done = (
        sim.recovered_at
        if sim.recovered_at is not None
        else max((e.end for e in sim.timeline), default=0.0)
    )
    return ChildTimes(
        start,
        at(writable) if writable is not None else None,
        at(traffic) if traffic is not None else None,
        at(done),
    )


def run_parent(
    fleet: Fleet, group: FailoverGroup, runs: dict[str, AppRun], approval_seconds: float
) -> tuple[ParentRun, ParentRun]:
    """The group's parent plan: region loss (to R), then failback (to P). The group's
    ``rto_target`` is held to region loss with every figure at its slow end (F2), as a tier's
    target is."""
    loss = _run(fleet, group, runs, approval_seconds, "region-loss", fleet.regions.recovery)
    slow = _run(fleet, group, runs, approval_seconds, "region-loss-slow", fleet.regions.recovery)
    if group.rto_target is not None and slow.recovered_at > group.rto_target:
        loss.violations.append(
            f"F2: with every figure at its slow end the group recovers at "
            f"{slow.recovered_at:.0f} s, after its rto_target {group.rto_target} s"
        )
    loss.slow_recovered_at = slow.recovered_at
    return loss, _run(fleet, group, runs, approval_seconds, "failback", fleet.regions.primary)


def _run(
    fleet: Fleet,
    group: FailoverGroup,
    runs: dict[str, AppRun],
    approval_seconds: float,
    event: str,
    target: str,
) -> ParentRun:
    result = ParentRun(group.name, event, target)
    start = approval_seconds  # the parent's one approval, first
    for step in group.steps:
        for name in step:
            sim = {
                "region-loss": runs[name].loss,
                "region-loss-slow": runs[name].slow_loss,
                "failback": runs[name].back,
            }[event]
            result.children[name] = child_times(sim, target, start)
            result.violations += [f"{name}: {v}" for v in sim.violations]
        start = max(result.children[name].done for name in step)
    result.recovered_at = start
    result.violations += _dependencies(fleet, result)
    return result


def _dependencies(fleet: Fleet, result: ParentRun) -> list[str]:
    found = []
    for name, times in result.children.items():
        for other in fleet.application(name).depends_on:
            needed = result.children[other].writable if other in result.children else None
            if times.traffic is None or needed is None or times.traffic >= needed:
                continue
            found.append(
                f"F1: {name} takes traffic in {result.target} at {times.traffic:.0f} s, before "
                f"{other}, which it depends on, is writable there ({needed:.0f} s): run "
                f"{other} in an earlier step of group {result.group}"
            )
    return found
