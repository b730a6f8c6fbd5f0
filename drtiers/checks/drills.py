"""Drills rehearse what they claim: each fault-injection experiment names the failover steps
(drtiers.recovery.steps) it rehearses, and this module holds every claim against the tier's own
step list, read from the synthesized tier, and against how long the fault lasts.

A drill rehearses a step only if its fault alone brings the step about: ``detect``, and the
automatic steps that wait for nothing but steps the drill also claims (the accelerator's shift
follows detection by itself; Route 53's follows a declaration people make, so a drill cannot
claim it). And the fault must hold for MARGIN times as long as those steps take from its start,
or the drill ends before the health checks have seen anything.

drtiers-dr runs it as the rule DR-DrillsRehearse (drtiers/checks/dr.py), so it fails a synth and
shows in ``make check``; ``claim_problems`` is the pure function underneath, for tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from drtiers.assembly.queries import experiments
from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.assembly.world import read_world
from drtiers.core.durations import fault_seconds
from drtiers.core.facts import with_overrides
from drtiers.recovery.steps import Step, failover_steps, schedule

# Twice the time its steps take: a Route 53 health check is judged by checkers around the world,
# each on its own 30 s schedule, so the record turns unhealthy up to an interval after the
# window the template gives; a fault behind the load balancer reaches the entry point's check
# only once the target group has marked the targets unhealthy (10 s x 3 here); and the state
# must then hold long enough for someone to see the step happen. Doubling covers all three
# for every tier here (90 s -> 180 s, 30 s -> 60 s) without a fault longer than it needs to be.
MARGIN = 2.0


@dataclass(frozen=True)
class Claim:
    """What one experiment claims, and how long its fault holds (None: it acts once)."""

    drill: str
    exercises: tuple[str, ...]
    seconds: float | None


def claims(tier: TierAssembly) -> list[tuple[Resource, Claim]]:
    """Every experiment template of a synthesized tier with its claim."""
    found = []
    for experiment in experiments(tier):
        seconds = [fault_seconds(d) for d in experiment.durations]
        held = [s for s in seconds if s is not None]
        claim = Claim(
            drill=experiment.name,
            exercises=experiment.exercises,
            seconds=max(held) if held else None,
        )
        found.append((experiment.template, claim))
    return found


def claim_problems(claim: Claim, steps: Sequence[Step], margin: float = MARGIN) -> list[str]:
    """Why ``claim`` does not rehearse what it names, against a tier's failover ``steps``
    (empty: it does)."""
    by_name = {s.name: s for s in steps}
    problems = [
        f"{claim.drill} names the step {name!r}, which the tier's failover step list does not "
        f"have (it has {', '.join(by_name)})"
        for name in claim.exercises
        if name not in by_name
    ]
    known = [by_name[n] for n in claim.exercises if n in by_name]
    for step in known:
        if step.name != "detect" and not step.automatic:
            problems.append(
                f"{claim.drill} claims {step.name!r}, which people carry out; a fault does not"
            )
        for before in step.after:
            if before not in claim.exercises:
                problems.append(
                    f"{claim.drill} claims {step.name!r}, which waits for {before!r}: the "
                    "drill does not bring that about, so it never rehearses the step"
                )
    if known:
        ends = {t.step.name: t.end for t in schedule(list(steps))}
        takes = max(ends[s.name] for s in known)
        needed = margin * takes
        named = ", ".join(s.name for s in known)
        if claim.seconds is None:
            problems.append(
                f"{claim.drill} acts once and holds nothing: {named} take {takes:g} s from the "
                f"fault (detection: interval x failure threshold, from the template), so the "
                f"fault must hold {needed:g} s ({margin:g} x)"
            )
        elif claim.seconds < needed:
            problems.append(
                f"{claim.drill} lasts {claim.seconds:g} s; {named} take {takes:g} s from the "
                f"fault (detection: interval x failure threshold, from the template), so it "
                f"must last at least {needed:g} s ({margin:g} x) to rehearse them"
            )
    return problems


def tier_steps(tier: TierAssembly) -> list[Step]:
    """The tier's failover steps, derived from the synthesized tier with the default figures
    (detection comes from the template, not from a figure, wherever a health check does it)."""
    figures, workload = with_overrides({})
    return failover_steps(read_world(tier), figures, workload)


def drill_findings(tier: TierAssembly) -> list[tuple[Resource, str]]:
    """(experiment template, problem) for every claim a tier's drills cannot keep."""
    found = claims(tier)
    if not found:
        return []
    steps = tier_steps(tier)
    return [(template, p) for template, claim in found for p in claim_problems(claim, steps)]
