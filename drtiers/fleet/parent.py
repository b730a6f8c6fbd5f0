"""A failover group's parent Region switch plan: its workflows (``render_workflows``, which the
template in drtiers.fleet.parent_stack holds), and those workflows run over the applications'
own simulations.

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

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from drtiers.assembly.switch_plan import APPROVAL, PARALLEL
from drtiers.config.fleet import (
    APPROVAL_BLOCK,
    STEP_BLOCK,
    Application,
    FailoverGroup,
    Fleet,
    Stage,
)
from drtiers.core import rules
from drtiers.core.facts import default_figures
from drtiers.fleet.runs import AppRun
from drtiers.recovery.plan import ACTIVATE, POST_RECOVERY, approval_config
from drtiers.recovery.simulate import Simulation, declared

PLAN_BLOCK = "ARCRegionSwitchPlan"  # a block that runs a child plan

FLEET_INVARIANTS = {
    "F1": "no application takes traffic before the applications it depends on are writable",
    "F2": "the group recovers within its rto_target, every figure at its slow end",
}


def approval_seconds() -> float:
    """The parent plan's approval: the figure a tier's approval step takes."""
    return float(default_figures()["failover_approval_seconds"].value)


@dataclass(frozen=True)
class ParentNames:
    """The fixed names of a group's parent plan in one stage: it lives in R of the account the
    group names for the stage, else of the group's first application there."""

    plan: str
    account: str
    external_id: str  # what each child's role asks for (not a secret: its trust names roles)

    @property
    def approval_role(self) -> str:
        return f"{self.plan}-plan-approver"

    @property
    def lookup_role(self) -> str:
        return f"{self.plan}-plan-lookup"


def parent_names(fleet: Fleet, group: FailoverGroup, stage: Stage) -> ParentNames:
    plan = f"{group.name}-{stage.name}"
    first = fleet.application(group.steps[0][0]).accounts[stage.name]
    return ParentNames(plan, group.accounts.get(stage.name, first), f"drtiers-{plan}")


def child_plan(app: Application) -> str:
    """The application's own plan's name (its tier's ``<app>-<tier>``)."""
    return f"{app.name}-{app.tier}"


def group_role(group: FailoverGroup) -> str:
    """The role an organization's StackSet puts in every account of a stage for ``group``'s
    parent plan (drtiers.fleet.stacksets)."""
    return f"drtiers-{group.name}-parent-access"


def child_role(fleet: Fleet, app: Application) -> str:
    """The role, in the application's account, its parent plan runs its plan through: the
    application's own, or its group's where an organization's StackSet deploys it."""
    if fleet.organization is None:
        return f"{app.name}-{app.tier}-parent-access"
    groups = [g for g in fleet.failover_groups if any(app.name in s for s in g.steps)]
    if not groups:
        raise ValueError(f"application {app.name}: in no failover group, so run by no parent")
    return group_role(groups[0])


def workflow_keys(fleet: Fleet) -> list[tuple[str, str]]:
    """(action, region) of a tier's workflows, in a plan's order: fail over to R, prepare P
    once it is back, fail back to P, re-protect (drtiers.recovery.plan)."""
    p, r = fleet.regions.primary, fleet.regions.recovery
    return [
        (ACTIVATE, r),
        (POST_RECOVERY, rules.post_recovery_region(r, (p, r))),
        (ACTIVATE, p),
        (POST_RECOVERY, rules.post_recovery_region(p, (p, r))),
    ]


def render_workflows(
    fleet: Fleet,
    group: FailoverGroup,
    *,
    approval_role_arn: str,
    block_config: Callable[[str], dict[str, Any]],
    has_workflow: Callable[[str, tuple[str, str]], bool] = lambda *_: True,
) -> list[dict[str, Any]]:
    """The parent plan's workflows, as CloudFormation properties: each runs the workflow of
    the same action and region of every child that has one, step by step (a Parallel block
    where a step holds more than one child); an activation starts with one approval.
    ``block_config``: an application's ``RegionSwitchPlanConfig``."""
    rendered = []
    for key in workflow_keys(fleet):
        action, region = key
        steps: list[dict[str, Any]] = []
        if action == ACTIVATE:
            steps.append(
                {
                    "Name": APPROVAL_BLOCK,
                    "Description": f"A person approves moving group {group.name} to {region}",
                    "ExecutionBlockType": APPROVAL,
                    "ExecutionBlockConfiguration": approval_config(approval_role_arn),
                }
            )
        for index, step in enumerate(group.steps):
            blocks = [_child_block(n, block_config(n)) for n in step if has_workflow(n, key)]
            steps += blocks if len(blocks) <= 1 else [_parallel(index, blocks)]
        if any(s["ExecutionBlockType"] != APPROVAL for s in steps):
            rendered.append(
                {
                    "WorkflowTargetAction": action,
                    "WorkflowTargetRegion": region,
                    "WorkflowDescription": f"Group {group.name}: {action} {region}",
                    "Steps": steps,
                }
            )
    return rendered


def _child_block(name: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "Name": name,
        "Description": f"Runs the plan of application {name}",
        "ExecutionBlockType": PLAN_BLOCK,
        "ExecutionBlockConfiguration": {"RegionSwitchPlanConfig": config},
    }


def _parallel(index: int, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Name": STEP_BLOCK.format(index + 1),
        "Description": "in parallel: " + ", ".join(b["Name"] for b in blocks),
        "ExecutionBlockType": PARALLEL,
        "ExecutionBlockConfiguration": {"ParallelConfig": {"Steps": blocks}},
    }


def group_steps(workflows: list[dict[str, Any]], target: str) -> tuple[int, list[tuple[str, ...]]]:
    """The activation of ``target``, as the simulator runs it: its approvals, and the child
    plans it runs, step by step."""
    (workflow,) = [
        w
        for w in workflows
        if w["WorkflowTargetAction"] == ACTIVATE and w["WorkflowTargetRegion"] == target
    ]
    approvals, steps = 0, list[tuple[str, ...]]()
    for block in workflow["Steps"]:
        kind, config = block["ExecutionBlockType"], block["ExecutionBlockConfiguration"]
        if kind == APPROVAL:
            approvals += 1
        elif kind == PLAN_BLOCK:
            steps.append((block["Name"],))
        elif kind == PARALLEL:
            steps.append(tuple(b["Name"] for b in config["ParallelConfig"]["Steps"]))
    return approvals, steps


def derived_objective(
    workflows: list[dict[str, Any]],
    target: str,
    approval_seconds: float,
    child_seconds: Mapping[str, float],
) -> float:
    """The parent's RTO, derived as a tier's is from its step list: its approvals, then each
    step as long as its slowest child's plan (from the end of detection)."""
    approvals, steps = group_steps(workflows, target)
    return approvals * approval_seconds + sum(max(child_seconds[n] for n in s) for s in steps)


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
    objective_seconds: float | None = None  # region loss: the parent plan's own objective

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
    loss.objective_seconds = derived_objective(
        _workflows(fleet, group),
        fleet.regions.recovery,
        approval_seconds,
        {name: run.plan_seconds for name, run in runs.items()},
    )
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
    approvals, steps = group_steps(_workflows(fleet, group), target)  # the template's order
    start = approvals * approval_seconds
    for step in steps:
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


def _workflows(fleet: Fleet, group: FailoverGroup) -> list[dict[str, Any]]:
    """The parent's workflows as its template holds them, but for the names only a deployment
    knows (the approval role, the children's ARNs)."""
    return render_workflows(fleet, group, approval_role_arn="", block_config=lambda _: {})


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
