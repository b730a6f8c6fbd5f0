"""Results that come back: a Region switch plan execution or a fault-injection experiment, as
the AWS CLI saves them, compared with the tier's step list.

Each file is checked against the output shape of the operation it is (botocore's service model,
no client and no credentials): ``aws arc-region-switch get-plan-execution`` or ``aws fis
get-experiment``. A plan execution is matched step by step to the tier's failover or failback
steps (every plan step is named after the ``Step`` it runs); an experiment is matched to its
drill by its action's key and to the steps it rehearses by the ``drtiers:exercises`` tag.
"""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import botocore
from botocore.loaders import Loader
from botocore.model import Shape

from drtiers.assembly.queries import experiments
from drtiers.assembly.reader import read_assembly
from drtiers.core import rules
from drtiers.core.durations import iso_duration_seconds
from drtiers.core.facts import Figure, with_overrides
from drtiers.core.tiers import EXERCISES_TAG, TIER_NAMES, TIER_TAG
from drtiers.recovery import simulate_assembly
from drtiers.recovery import steps as s
from drtiers.recovery.measured import slower, timestamp
from drtiers.recovery.plan import split_failback
from drtiers.recovery.restores import (
    RATE,
    RestoreResult,
    compare_restore,
    restore_jobs,
    tier_of_resource,
)
from drtiers.recovery.simulate import Simulation, Synthesize

NOT_RUN = ("notStarted", "skipped", "canceled")
# Execution states in which every step has run (the last still watches application health).
COMPLETED = ("completed", "completedWithExceptions", "completedMonitoringApplicationHealth")


class ResultsError(ValueError):
    """A results file drtiers cannot read: one line naming the file and what is wrong."""


@dataclass(frozen=True)
class Operation:
    service: str
    name: str
    command: str
    key: str  # the top-level member only its output has


OPERATIONS = (
    Operation(
        "arc-region-switch",
        "GetPlanExecution",
        "aws arc-region-switch get-plan-execution",
        "planArn",
    ),
    Operation("fis", "GetExperiment", "aws fis get-experiment", "experiment"),
    Operation("backup", "DescribeRestoreJob", "aws backup describe-restore-job", "RestoreJobId"),
    Operation("backup", "ListRestoreJobs", "aws backup list-restore-jobs", "RestoreJobs"),
)
PLAN_EXECUTION, EXPERIMENT, RESTORE_JOB, RESTORE_JOBS = OPERATIONS
RESTORES = (RESTORE_JOB, RESTORE_JOBS)


@functools.cache
def output_shape(operation: Operation) -> Shape:
    """The operation's output shape from the service model botocore ships (and only that one:
    no model from ~/.aws is read)."""
    from botocore.model import ServiceModel

    loader = Loader(
        extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False
    )
    model = ServiceModel(loader.load_service_model(operation.service, "service-2"))
    return model.operation_model(operation.name).output_shape


# --- validation against a botocore shape --------------------------------------------------------


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {json.dumps(value[:40])}"
    return "a list" if isinstance(value, list) else "an object"


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


_EXPECTED: dict[str, tuple[str, Callable[[Any], bool]]] = {
    "string": ("a string", lambda v: isinstance(v, str)),
    "blob": ("a string", lambda v: isinstance(v, str)),
    "boolean": ("true or false", lambda v: isinstance(v, bool)),
    "integer": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "long": ("a whole number", lambda v: isinstance(v, int) and not isinstance(v, bool)),
    "float": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "double": ("a number", lambda v: isinstance(v, int | float) and not isinstance(v, bool)),
    "timestamp": (
        "a timestamp (ISO 8601, or epoch seconds)",
        lambda v: timestamp(v) is not None,
    ),
}


def _present(value: Any) -> bool:
    return value is not None


def shape_error(value: Any, shape: Shape, path: str = "") -> str | None:
    """The first place where ``value`` does not fit ``shape`` (its JSON path and what was
    expected there), or None. Enum values are not checked: AWS adds them."""
    where = path or "the top level"
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return f"{where}: expected an object, got {_kind(value)}"
        for name in shape.required_members:
            if name not in value:
                return f"{_join(path, name)}: missing (required in {shape.name})"
        for name, member in value.items():
            if name not in shape.members:
                return f"{_join(path, name)}: not a member of {shape.name}"
            found = shape_error(member, shape.members[name], _join(path, name))
            if found:
                return found
        return None
    if kind == "list":
        if not isinstance(value, list):
            return f"{where}: expected a list, got {_kind(value)}"
        for index, item in enumerate(value):
            found = shape_error(item, shape.member, f"{path}[{index}]")
            if found:
                return found
        return None
    if kind == "map":
        if not isinstance(value, dict):
            return f"{where}: expected an object, got {_kind(value)}"
        for key, item in value.items():
            found = shape_error(item, shape.value, _join(path, key))
            if found:
                return found
        return None
    expected, fits = _EXPECTED.get(kind, ("a value", _present))
    if not fits(value):
        return f"{where}: expected {expected}, got {_kind(value)}"
    return None


@dataclass(frozen=True)
class ResultsFile:
    path: str
    operation: Operation
    data: dict[str, Any]


def read_file(path: str) -> ResultsFile:
    """Read one saved CLI output and check it against its operation's output shape."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise ResultsError(f"{path}: cannot read it: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not JSON: not UTF-8 text") from None
    if not text.strip():
        raise ResultsError(f"{path}: not JSON: the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ResultsError(
            f"{path}: not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    wanted = " or ".join(f"`{o.command}`" for o in OPERATIONS)
    if not isinstance(data, dict):
        raise ResultsError(f"{path}: expected a JSON object, the output of {wanted}")
    operation = next((o for o in OPERATIONS if o.key in data), None)
    if operation is None:
        keys = ", ".join(sorted(data)[:5]) or "none"
        raise ResultsError(
            f"{path}: matches no operation drtiers reads (top-level keys: {keys}); expected "
            f"the output of {wanted}"
        )
    found = shape_error(data, output_shape(operation))
    if found:
        raise ResultsError(
            f"{path}: not the output of {operation.service} {operation.name}: {found} "
            f"(botocore {botocore.__version__})"
        )
    if operation is EXPERIMENT and not data["experiment"].get("actions"):
        raise ResultsError(f"{path}: experiment.actions: missing; it names the drill")
    return ResultsFile(path, operation, data)


# --- what the results say -----------------------------------------------------------------------


@dataclass(frozen=True)
class StepResult:
    step: str
    # ok, slower (+N s), failed, not run (status), unfinished (status), missing (a plan step of
    # this workflow), not in the step list, parallel block; and, for steps of the list that no
    # plan step measures: automatic, runbook (done by hand), other workflow
    verdict: str
    status: str  # as the file says; "" when the step is not in it
    estimated_seconds: float | None  # the step's figure
    measured_seconds: float | None
    planned_start: float | None  # seconds from the plan's start, from the schedule
    planned_end: float | None
    measured_start: float | None  # seconds from the execution's start
    measured_end: float | None


@dataclass(frozen=True)
class PlanResult:
    file: str
    tier: str
    direction: str  # failover | failback preparation | failback
    plan: str
    execution_id: str
    state: str
    mode: str
    region: str  # the region the execution activated
    start: str
    end: str | None
    estimated_seconds: float  # the plan steps' span in the schedule: first start to last end
    measured_seconds: float | None  # the execution's start to its end
    verdict: str
    before_plan_seconds: float  # when the plan starts in the estimate (detection before it)
    estimated_rto_seconds: float | None  # failover: the estimate's RTO
    rto_with_measured_seconds: float | None  # the same schedule, the plan's steps as they ran
    actual_recovery_time: str | None  # Region switch's own figure, as it gives it
    report: str | None  # the execution report's S3 object key, or why it was not written
    steps: list[StepResult] = field(default_factory=list)

    @property
    def findings(self) -> list[str]:
        found = [f"{r.step}: {r.verdict}" for r in self.steps if r.verdict not in _FINE]
        if self.verdict != "ok":
            found.append(f"plan: {self.verdict}")
        if self.report is not None and self.report.startswith("not written"):
            found.append(f"plan: report {self.report}")
        return found


_FINE = ("ok", "automatic", "runbook", "other workflow", "parallel block")


@dataclass(frozen=True)
class DrillResult:
    file: str
    tier: str
    experiment_id: str
    drill: str  # the action's key: the drill's name
    action_id: str
    known: bool  # a drill of the tier's drill stack has this name
    status: str
    reason: str
    start: str | None
    end: str | None
    stopped_by_alarm: bool
    rehearses: list[str]  # steps of the tier's failover or failback named by the drill
    not_steps: list[str]  # names in its drtiers:exercises tag that are no step of the tier
    exercises_from: str  # where the names came from: the experiment's tag, or the template's
    required_seconds: float | None  # the action's duration parameter
    ran_seconds: float | None
    ran_long_enough: bool | None  # None where it cannot be told

    @property
    def findings(self) -> list[str]:
        found = []
        if self.ran_long_enough is False:
            found.append(f"{self.drill}: stopped before its duration")
        if self.status == "failed":
            found.append(f"{self.drill}: failed")
        return found


@dataclass
class Results:
    plans: list[PlanResult] = field(default_factory=list)
    drills: list[DrillResult] = field(default_factory=list)
    restores: list[RestoreResult] = field(default_factory=list)

    @property
    def findings(self) -> list[str]:
        return [
            *(f for p in self.plans for f in p.findings),
            *(f for d in self.drills for f in d.findings),
            *(f for r in self.restores for f in r.findings),
        ]


def _verdict(measured: float, estimated: float) -> str:
    if slower(measured, estimated):
        return f"slower (+{measured - estimated:g} s)"
    return "ok"


def plan_name(data: Mapping[str, Any]) -> str:
    plan = data.get("plan") or {}
    if plan.get("name"):
        return str(plan["name"])
    match = re.search(r":plan/([^:]+)", data["planArn"])
    return match.group(1) if match else data["planArn"]


def tier_of_plan(name: str) -> str | None:
    """``<app>-<tier>``: the tier its name ends with."""
    return next((t for t in TIER_NAMES if name == t or name.endswith(f"-{t}")), None)


FAILOVER, PREPARE, FAILBACK, REPROTECT = (
    "failover",
    "failback preparation",
    "failback",
    "re-protection",
)


def direction_of(file: ResultsFile, primary: str, recovery: str) -> str:
    """Which workflow of the tier's plan ran: ``activate`` of the recovery region (failover),
    ``postRecovery`` of the primary (preparing its return: AWS runs the post-recovery of the
    region opposite the recovery execution's), ``activate`` of the primary (failback, from the
    approval on) or ``postRecovery`` of the recovery region (re-protection)."""
    data = file.data
    action, region = data["executionAction"], data["executionRegion"]
    plan_primary = (data.get("plan") or {}).get("primaryRegion")
    hint = "give --context primary_region=... --context recovery_region=... as deployed"
    if plan_primary and plan_primary != primary:
        raise ResultsError(
            f"{file.path}: the plan's primary region is {plan_primary}, the tier's is {primary}; "
            + hint
        )
    if region not in (primary, recovery):
        raise ResultsError(
            f"{file.path}: executionRegion {region} is neither the tier's primary region "
            f"({primary}) nor its recovery region ({recovery}); {hint}"
        )
    if action == "activate":
        return FAILOVER if region == recovery else FAILBACK
    if action == "postRecovery":
        return (
            PREPARE
            if region == rules.post_recovery_region(recovery, (primary, recovery))
            else REPROTECT
        )
    raise ResultsError(
        f"{file.path}: executionAction {action} of {region} is no workflow of drtiers' plans "
        f"(activate {recovery} to fail over, postRecovery of {primary} to prepare the "
        f"failback, activate {primary} to fail back, postRecovery of {recovery} to re-protect)"
    )


def workflow_steps(
    direction: str, failover: list[s.Step], failback: list[s.Step]
) -> tuple[list[s.Step], list[str], list[str]]:
    """The step list a workflow belongs to, the plan steps it runs and the plan steps of the
    other failback workflows, split as the plan splits them (drtiers.recovery.plan)."""
    if direction == FAILOVER:
        return failover, s.plan_names(failover), []
    parts = dict(zip((PREPARE, FAILBACK, REPROTECT), split_failback(failback), strict=True))
    others = [n for part, names in parts.items() if part != direction for n in names]
    return failback, parts[direction], others


def _parallel_blocks(data: Mapping[str, Any]) -> set[str]:
    """Names of the plan's Parallel blocks: they hold steps, and are no step themselves."""
    names: set[str] = set()

    def walk(steps: Sequence[Mapping[str, Any]]) -> None:
        for step in steps:
            if step.get("executionBlockType") == "Parallel":
                names.add(step["name"])
            inner = step.get("executionBlockConfiguration", {}).get("parallelConfig", {})
            walk(inner.get("steps", []))

    for workflow in (data.get("plan") or {}).get("workflows", []):
        walk(workflow.get("steps", []))
    return names


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# A step as the execution ran it: its status, and its start and end (seconds after the
# execution's start; None where it gives none).
_Measured = tuple[str, float | None, float | None]


def compare_plan(
    file: ResultsFile,
    tier: str,
    direction: str,
    steps: list[s.Step],
    plan_steps: Sequence[str],
    elsewhere: Sequence[str] = (),
) -> PlanResult:
    """A plan execution against the step list its workflow runs (``plan_steps`` of ``steps``;
    ``elsewhere``: plan steps of another workflow), per step and in total."""
    data = file.data
    start = timestamp(data["startTime"])
    assert start is not None  # validated
    end = timestamp(data.get("endTime"))
    timed = s.schedule(steps)
    in_plan = [t for t in timed if t.step.name in plan_steps]
    plan_start = min((t.start for t in in_plan), default=0.0)
    estimated_span = max((t.end for t in in_plan), default=plan_start) - plan_start
    measured, order = _measured(data, start)
    rows = [_step_row(t, measured, plan_steps, elsewhere, plan_start) for t in timed]
    rows += _unlisted_rows(data, order, measured, planned={t.step.name for t in timed})
    measured_span = (end - start).total_seconds() if end is not None else None
    rto = s.recovery_seconds(steps) if direction == FAILOVER else None
    return PlanResult(
        file=file.path,
        tier=tier,
        direction=direction,
        plan=plan_name(data),
        execution_id=data["executionId"],
        state=data["executionState"],
        mode=data["mode"],
        region=data["executionRegion"],
        start=_iso(start) or "",
        end=_iso(end),
        estimated_seconds=estimated_span,
        measured_seconds=measured_span,
        verdict=_execution_verdict(data["executionState"], measured_span, estimated_span),
        before_plan_seconds=plan_start,
        estimated_rto_seconds=rto,
        rto_with_measured_seconds=(
            _rto_as_run(steps, plan_steps, measured, plan_start) if rto else None
        ),
        actual_recovery_time=data.get("actualRecoveryTime"),
        report=execution_report(data),
        steps=rows,
    )


def execution_report(data: Mapping[str, Any]) -> str | None:
    """Where Region switch put the execution's report (its S3 object key), or why it could not;
    None before it has tried ("typically available within 30 minutes of execution completion",
    https://docs.aws.amazon.com/r53recovery/latest/dg/region-switch-plans.html)."""
    for detail in data.get("generatedReportDetails", []):
        output = detail.get("reportOutput", {})
        if "s3ReportOutput" in output:
            return str(output["s3ReportOutput"].get("s3ObjectKey", ""))
        if "failedReportOutput" in output:
            failed = output["failedReportOutput"]
            return f"not written: {failed.get('errorCode', '')}: {failed.get('errorMessage', '')}"
    return None


def _measured(data: Mapping[str, Any], start: datetime) -> tuple[dict[str, _Measured], list[str]]:
    """Each step the execution reports, by name (its last report), and the names in the order
    they first appear."""
    measured: dict[str, _Measured] = {}
    order: list[str] = []
    for state in data.get("stepStates", []):
        name = state.get("name", "(unnamed)")
        began, ended = timestamp(state.get("startTime")), timestamp(state.get("endTime"))
        if name not in measured:
            order.append(name)
        measured[name] = (
            state.get("status", ""),
            (began - start).total_seconds() if began else None,
            (ended - start).total_seconds() if ended else None,
        )
    return measured, order


def _took(m_start: float | None, m_end: float | None) -> float | None:
    return m_end - m_start if m_start is not None and m_end is not None else None


def _step_row(
    t: s.Timed,
    measured: Mapping[str, _Measured],
    plan_steps: Sequence[str],
    elsewhere: Sequence[str],
    plan_start: float,
) -> StepResult:
    """One listed step: as estimated (from the plan's start) and, where the execution ran it,
    as measured, with the verdict on it."""
    name = t.step.name
    p_start, p_end = t.start - plan_start, t.end - plan_start
    if name not in measured:
        if name in plan_steps:
            verdict = "missing"
        elif t.step.automatic:
            verdict = "automatic"
        elif name in elsewhere:
            verdict = "other workflow"
        else:
            verdict = "runbook"
        return StepResult(name, verdict, "", t.step.seconds, None, p_start, p_end, None, None)
    status, m_start, m_end = measured[name]
    took = _took(m_start, m_end)
    if status == "failed":
        verdict = "failed"
    elif took is not None:
        verdict = _verdict(took, t.step.seconds)
    elif status in NOT_RUN:
        verdict = f"not run ({status})"
    else:
        verdict = f"unfinished ({status or 'no end time'})"
    return StepResult(name, verdict, status, t.step.seconds, took, p_start, p_end, m_start, m_end)


def _unlisted_rows(
    data: Mapping[str, Any],
    order: list[str],
    measured: Mapping[str, _Measured],
    *,
    planned: set[str],
) -> list[StepResult]:
    """What the execution ran that the step list does not hold: a Parallel block (which holds
    steps), or a step the list does not know."""
    blocks = _parallel_blocks(data)
    rows = []
    for name in order:
        if name in planned:
            continue
        status, m_start, m_end = measured[name]
        parallel = name in blocks or (not blocks and re.fullmatch(r"stage-\d+", name))
        verdict = "parallel block" if parallel else "not in the step list"
        rows.append(
            StepResult(
                name, verdict, status, None, _took(m_start, m_end), None, None, m_start, m_end
            )
        )
    return rows


def _execution_verdict(state: str, measured_span: float | None, estimated_span: float) -> str:
    """The verdict on the whole execution: its span against the plan steps' estimated one."""
    if state not in COMPLETED:
        return f"not completed ({state})"
    if measured_span is None:
        return "no end time"
    return _verdict(measured_span, estimated_span)


def _rto_as_run(
    steps: list[s.Step],
    plan_steps: Sequence[str],
    measured: Mapping[str, tuple[str, float | None, float | None]],
    plan_start: float,
) -> float | None:
    """The estimate's RTO with the plan's steps as they ran: detection as estimated, each plan
    step where and as long as it ran (from the plan's start), the steps outside the plan (the
    automatic ones, the runbook's) as estimated. None unless every plan step recovery waits for
    ran to its end."""
    ends: dict[str, float] = {}
    for step in steps:
        _, m_start, m_end = measured.get(step.name, ("", None, None))
        if m_start is not None and m_end is not None:
            ends[step.name] = plan_start + m_end
        elif step.name not in plan_steps or not step.in_rto:
            ends[step.name] = max((ends[a] for a in step.after), default=0.0) + step.seconds
        else:
            return None
    return max((ends[step.name] for step in steps if step.in_rto), default=0.0)


def _experiment_tier(data: Mapping[str, Any]) -> str | None:
    experiment = data["experiment"]
    tags = experiment.get("tags", {})
    if tags.get(TIER_TAG) in TIER_NAMES:
        return str(tags[TIER_TAG])
    for target in experiment.get("targets", {}).values():
        tier = target.get("resourceTags", {}).get(TIER_TAG)
        if tier in TIER_NAMES:
            return str(tier)
    return None


@dataclass(frozen=True)
class DrillTemplate:
    exercises: tuple[str, ...]
    duration: str | None


def drill_templates(directory: Path, tier: str) -> dict[str, DrillTemplate]:
    """The tier's experiment templates as synthesized, by their action's key (the drill)."""
    assembly = read_assembly(directory).get(tier)
    return {
        key: DrillTemplate(experiment.exercises, duration or None)
        for experiment in (experiments(assembly) if assembly else [])
        for key, duration in experiment.actions.items()
    }


def compare_drill(
    file: ResultsFile,
    tier: str,
    step_names: Sequence[str],
    templates: Mapping[str, DrillTemplate],
) -> list[DrillResult]:
    """One result per action of the experiment (a drtiers drill has one)."""
    experiment = file.data["experiment"]
    state = experiment.get("state", {})
    status, reason = state.get("status", ""), state.get("reason", "")
    # FIS says why in the reason text; it documents no code for a stop condition.
    stopped_by_alarm = status == "stopped" and bool(
        re.search(r"stop condition|alarm", reason, re.IGNORECASE)
    )
    tag = experiment.get("tags", {}).get(EXERCISES_TAG)
    results = []
    for key, action in experiment["actions"].items():
        template = templates.get(key)
        if tag is not None:
            names, source = tuple(tag.split()), "experiment tag"
        elif template is not None:
            names, source = template.exercises, "drill template"
        else:
            names, source = (), ""
        began = timestamp(action.get("startTime", experiment.get("startTime")))
        ended = timestamp(action.get("endTime", experiment.get("endTime")))
        ran = (ended - began).total_seconds() if began and ended else None
        duration = (action.get("parameters") or {}).get("duration") or (
            template.duration if template else None
        )
        required = iso_duration_seconds(duration) if duration else None
        results.append(
            DrillResult(
                file=file.path,
                tier=tier,
                experiment_id=experiment.get("id", ""),
                drill=key,
                action_id=action.get("actionId", ""),
                known=template is not None,
                status=status,
                reason=reason,
                start=_iso(began),
                end=_iso(ended),
                stopped_by_alarm=stopped_by_alarm,
                rehearses=[n for n in names if n in step_names],
                not_steps=[n for n in names if n not in step_names],
                exercises_from=source,
                required_seconds=required,
                ran_seconds=ran,
                ran_long_enough=None if required is None or ran is None else ran >= required,
            )
        )
    return results


# --- reading results against the synthesized tiers ---------------------------------------------


def _tiers(files: Sequence[ResultsFile], tier: str | None) -> dict[str, str]:
    """The tier of each file: a plan's from its name, an experiment's from its tags; --tier
    where a file does not say (or the one tier of the plans given with it)."""
    found: dict[str, str] = {}
    for file in files:
        if file.operation is PLAN_EXECUTION:
            name = plan_name(file.data)
            own = tier_of_plan(name)
            if own is not None and tier is not None and own != tier:
                raise ResultsError(f"{file.path}: the plan {name} is of {own}, not {tier} (--tier)")
            chosen = own or tier
            if chosen is None:
                raise ResultsError(
                    f"{file.path}: the plan name {name} names no tier (<app>-<tier>); give --tier"
                )
            found[file.path] = chosen
    plan_tiers = set(found.values())
    for file in files:
        if file.operation is EXPERIMENT:
            own = _experiment_tier(file.data)
            if own is not None and tier is not None and own != tier:
                raise ResultsError(
                    f"{file.path}: the experiment targets {own}'s resources, not {tier} (--tier)"
                )
            own = own or tier or (next(iter(plan_tiers)) if len(plan_tiers) == 1 else None)
            if own is None:
                raise ResultsError(
                    f"{file.path}: the experiment names no tier ({TIER_TAG} tag); give --tier"
                )
            found[file.path] = own
    return found


@dataclass(frozen=True)
class _Tier:
    """What the results of one tier are held against: its simulations (region loss and
    failback; None where only restore jobs name the tier), drills and figures."""

    simulations: tuple[Simulation, Simulation] | None
    drills: dict[str, DrillTemplate]
    restore_rate: Figure
    database_gb: float  # the workload's database size: a database restore job gives none


def _restore_jobs(
    files: Sequence[ResultsFile], tier: str | None
) -> list[tuple[str, Mapping[str, Any], str]]:
    """(file, job, tier) of every restore job: the tier from the restored store's name."""
    found = []
    for file in (f for f in files if f.operation in RESTORES):
        for job in restore_jobs(file.data):
            source = str(job.get("SourceResourceArn", ""))
            own = tier_of_resource(source) or tier
            if own is None:
                raise ResultsError(f"{file.path}: {source or 'a job'} names no tier; give --tier")
            found.append((file.path, job, own))
    return found


def read_results(
    paths: Sequence[str],
    context: Mapping[str, Any],
    synthesize: Synthesize,
    *,
    tier: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    assembly: Path | None = None,
) -> Results:
    """Read every file (all are checked before anything is synthesized), synthesize each tier
    they name in-process with ``synthesize`` (or read ``assembly``) and compare."""
    files = [read_file(path) for path in paths]
    tiers = _tiers([f for f in files if f.operation not in RESTORES], tier)
    jobs = _restore_jobs(files, tier)
    drills = any(f.operation is EXPERIMENT for f in files)
    names = sorted({*tiers.values(), *(t for _, _, t in jobs)})
    loaded = _load(names, set(tiers.values()), context, synthesize, overrides, assembly, drills)
    results = Results()
    for file in (f for f in files if f.operation not in RESTORES):
        name = tiers[file.path]
        own = loaded[name]
        assert own.simulations is not None, "a tier a plan or drill names is simulated"
        loss, back = own.simulations
        if file.operation is PLAN_EXECUTION:
            direction = direction_of(file, loss.primary, loss.recovery)
            steps, plan_steps, elsewhere = workflow_steps(direction, loss.steps, back.steps)
            results.plans.append(compare_plan(file, name, direction, steps, plan_steps, elsewhere))
        else:
            step_names = [step.name for step in [*loss.steps, *back.steps]]
            results.drills.extend(compare_drill(file, name, step_names, own.drills))
    results.restores = [
        compare_restore(path, name, job, loaded[name].restore_rate, loaded[name].database_gb)
        for path, job, name in jobs
    ]
    return results


def _load(
    names: Sequence[str],
    simulated: set[str],
    context: Mapping[str, Any],
    synthesize: Synthesize,
    overrides: Mapping[str, Any] | None,
    assembly: Path | None,
    drills: bool,
) -> dict[str, _Tier]:
    """Each tier named, synthesized (or read from ``assembly``), and those in ``simulated``
    simulated (a restore job needs the tier's figures only)."""
    loaded: dict[str, _Tier] = {}

    def load(directory: Path, name: str) -> None:
        tier = read_assembly(directory).get(name)
        if tier is None:
            raise ResultsError(f"tier '{name}' is not in this assembly; synthesize it first")
        simulations = None
        if name in simulated:
            ((loss, back),) = simulate_assembly(
                directory, context, synthesize, overrides, tier=name
            )
            simulations = (loss, back)
        figures, workload = with_overrides({**tier.figures, **(overrides or {})})
        templates = drill_templates(directory, name) if drills else {}
        database_gb = workload["database_size_gb"]
        loaded[name] = _Tier(simulations, templates, figures[RATE], database_gb)

    for name in names:
        if assembly is not None:
            load(assembly, name)
            continue
        own = {**context, "tier": name}
        if drills:
            own["drills"] = "true"  # the drill stack holds what each drill exercises
        with tempfile.TemporaryDirectory(prefix="drtiers-results-") as directory:
            synthesize(own, Path(directory))
            load(Path(directory), name)
    return loaded
