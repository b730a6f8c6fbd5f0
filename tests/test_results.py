"""drtiers results: saved plan executions and experiments, checked against botocore's output
shapes and compared with the tier's step list.

The fixtures in tests/fixtures/results are built to botocore's response shapes as the AWS CLI
prints them (ISO 8601 timestamps). Their step names are the step list's (the Region switch plan
names every plan step after its ``Step``); the FIS stop-condition reason text is made up (FIS
documents none), so only the words "stop condition" are relied on.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest

from drtiers.build import compose, synthesize
from drtiers.cli import main as cli
from drtiers.config.context import from_context
from drtiers.core.durations import iso_duration_seconds
from drtiers.core.tiers import TIERS
from drtiers.recovery import simulate_assembly
from drtiers.recovery import steps as s
from drtiers.recovery.restores import tier_of_resource
from drtiers.recovery.results import (
    EXPERIMENT,
    OPERATIONS,
    PLAN_EXECUTION,
    RESTORE_JOB,
    RESTORE_JOBS,
    Operation,
    drill_templates,
    execution_report,
    output_shape,
    read_file,
    shape_error,
    slower,
)
from drtiers.stacks.drills import tier_drills
from tests.conftest import ROOT, context

FIXTURES = ROOT / "tests" / "fixtures" / "results"
FAILOVER = FIXTURES / "warm-standby-failover.json"
FAILBACK = FIXTURES / "warm-standby-failback.json"
UNKNOWN_STEP = FIXTURES / "pilot-light-unknown-step.json"
STOP_TASKS = FIXTURES / "drill-stop-primary-tasks.json"
DISRUPT = FIXTURES / "drill-disrupt-subnets-stopped.json"
RESTORE_TEST = FIXTURES / "restore-table-test.json"
RESTORES_LISTED = FIXTURES / "restore-jobs-listed.json"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All four tiers with the drill stack, synthesized once for this module (cfn-lint checks
    the templates elsewhere)."""
    outdir = tmp_path_factory.mktemp("results-assembly")
    app = cdk.App(
        outdir=str(outdir),
        context=context(drills="true"),
        builtin_cloud_formation_validation=False,
    )
    compose(app, from_context(app.node.try_get_context))
    app.synth()
    return outdir


@pytest.fixture(scope="module")
def step_lists(assembly: Path) -> dict[str, dict[str, list[s.Step]]]:
    """The failover and failback steps of the tiers the fixtures name, as drtiers simulate
    runs them."""
    lists = {}
    for tier in ("pilot-light", "warm-standby"):
        ((loss, back),) = simulate_assembly(assembly, context(), synthesize, tier=tier)
        lists[tier] = {"failover": loss.steps, "failback": back.steps}
    return lists


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli(["results", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def results_json(
    capsys: pytest.CaptureFixture[str], assembly: Path, *files: Path
) -> tuple[int, dict[str, Any]]:
    code, out, err = run(capsys, *map(str, files), "--json", "--assembly", str(assembly))
    assert not err, err
    return code, json.loads(out)


def by_step(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["step"]: row for row in plan["steps"]}


def _operation(fixture: Path) -> Operation:
    if fixture.name.startswith("drill-"):
        return EXPERIMENT
    if fixture.name.startswith("restore-"):
        return RESTORE_JOBS if "RestoreJobs" in fixture.read_text() else RESTORE_JOB
    return PLAN_EXECUTION


@pytest.mark.parametrize("fixture", sorted(FIXTURES.glob("*.json")), ids=lambda p: p.name)
def test_every_fixture_fits_botocores_output_shape(fixture: Path) -> None:
    """The same validator the command uses, so no fixture can drift from the AWS shapes."""
    data = json.loads(fixture.read_text())
    operation = _operation(fixture)
    assert shape_error(data, output_shape(operation)) is None
    assert read_file(str(fixture)).operation is operation


def test_the_output_shapes_come_from_botocores_models() -> None:
    plan = output_shape(PLAN_EXECUTION)
    assert plan.name == "GetPlanExecutionResponse"
    assert {"planArn", "executionId", "startTime", "executionAction"} <= set(plan.required_members)
    assert plan.members["stepStates"].member.members["startTime"].type_name == "timestamp"
    assert output_shape(EXPERIMENT).name == "GetExperimentResponse"
    assert [o.command for o in OPERATIONS] == [
        "aws arc-region-switch get-plan-execution",
        "aws fis get-experiment",
        "aws backup describe-restore-job",
        "aws backup list-restore-jobs",
    ]
    job = output_shape(RESTORE_JOB)
    assert job.name == "DescribeRestoreJobOutput"
    assert job.members["CompletionDate"].type_name == "timestamp"
    assert (
        output_shape(RESTORE_JOBS)
        .members["RestoreJobs"]
        .member.members["BackupSizeInBytes"]
        .type_name
        == "long"
    )


def test_warm_standby_failover_step_by_step(
    assembly: Path,
    step_lists: dict[str, dict[str, list[s.Step]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, content = results_json(capsys, assembly, FAILOVER)
    (plan,) = content["plans"]
    assert (plan["tier"], plan["direction"], plan["region"]) == (
        "warm-standby",
        "failover",
        "us-west-2",
    )
    steps = step_lists["warm-standby"]["failover"]
    timed = {t.step.name: t for t in s.schedule(steps)}
    plan_steps = s.plan_names(steps)
    plan_start = min(timed[n].start for n in plan_steps)  # once detection ends
    assert plan_start == timed["detect"].end
    rows = by_step(plan)
    # every step of the list is reported, in the schedule's order, then the file's others
    assert [r["step"] for r in plan["steps"]] == [*timed, "stage-1", "stage-2"]
    for name, (measured, start, end) in {
        "approve-failover": (290, 0, 290),
        "scale-out": (244, 1, 245),
        "promote-database": (64, 291, 355),
        "hold-capacity": (2, 291, 293),
        "declare-writer": (1, 356, 357),
    }.items():
        row = rows[name]
        assert row["estimated_seconds"] == timed[name].step.seconds
        assert row["planned_start"] == timed[name].start - plan_start
        assert row["planned_end"] == timed[name].end - plan_start
        assert (row["measured_seconds"], row["measured_start"], row["measured_end"]) == (
            measured,
            start,
            end,
        )
    assert rows["promote-database"]["verdict"] == "ok"  # 64 s against 60 s: within the grace
    assert rows["scale-out"]["verdict"] == "slower (+64 s)"
    assert rows["detect"]["verdict"] == "automatic"
    assert {rows[n]["verdict"] for n in timed if n not in plan_steps} <= {"automatic", "runbook"}
    assert rows["stage-1"]["verdict"] == "parallel block"
    # total: the execution's start to end against the plan steps' span in the schedule
    span = max(timed[n].end for n in plan_steps) - plan_start
    assert (plan["estimated_seconds"], plan["measured_seconds"]) == (span, 358)
    assert plan["verdict"] == "ok"
    assert plan["before_plan_seconds"] == plan_start
    assert plan["estimated_rto_seconds"] == s.recovery_seconds(steps)
    # detection as estimated, the plan as it ran (declare-writer ended 357 s in), then Route 53
    # reads the declaration and DNS follows, as estimated
    tail = timed["writable-alarm"].step.seconds + timed["dns-ttl"].step.seconds
    assert plan["rto_with_measured_seconds"] == plan_start + 357 + tail
    assert plan["actual_recovery_time"] == "PT9M36S"
    assert content["findings"] == ["scale-out: slower (+64 s)"]
    assert code == 1


def test_a_step_slower_than_its_figure_is_flagged(
    assembly: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = run(capsys, str(FAILOVER), "--assembly", str(assembly))
    assert code == 1
    lines = out.splitlines()
    assert "slower (+64 s)" in next(line for line in lines if "│ scale-out " in line)
    assert "ok" in next(line for line in lines if "│ plan " in line)
    assert "runbook: not in the plan" in next(line for line in lines if "│ add-reader " in line)
    assert "of which 90 s of detection before the plan starts (not measured)" in out
    assert "Region switch reports 9.6 min" in out
    assert err.splitlines() == ["drtiers: results: scale-out: slower (+64 s)"]


def test_a_plan_slower_than_its_steps_span_is_flagged(
    tmp_path: Path, assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    late = _write(
        tmp_path, "late.json", _edited(FAILOVER, _set(["endTime"], "2026-11-28T10:07:00+00:00"))
    )
    code, content = results_json(capsys, assembly, late)
    (plan,) = content["plans"]
    assert plan["measured_seconds"] == 420
    assert plan["verdict"] == f"slower (+{420 - plan['estimated_seconds']:g} s)"
    assert "plan: " + plan["verdict"] in content["findings"] and code == 1


def test_warm_standby_failback_step_by_step(
    assembly: Path,
    step_lists: dict[str, dict[str, list[s.Step]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, content = results_json(capsys, assembly, FAILBACK)
    (plan,) = content["plans"]
    assert (plan["direction"], plan["region"]) == ("failback", "us-east-1")
    steps = step_lists["warm-standby"]["failback"]
    timed = {t.step.name: t for t in s.schedule(steps)}
    plan_steps = s.plan_names(steps)
    rows = by_step(plan)
    assert set(rows) == set(timed)
    for name, measured in {"approve-failback": 3, "switchover": 55, "declare-primary": 1}.items():
        assert rows[name]["estimated_seconds"] == timed[name].step.seconds
        assert (rows[name]["measured_seconds"], rows[name]["verdict"]) == (measured, "ok")
    assert rows["writable-alarm-clears"]["verdict"] == "automatic"
    plan_start = min(timed[n].start for n in plan_steps)
    assert plan["estimated_seconds"] == max(timed[n].end for n in plan_steps) - plan_start
    assert plan["measured_seconds"] == 61 and plan["verdict"] == "ok"
    assert plan["estimated_rto_seconds"] is None  # failback has no RTO
    assert content["findings"] == [] and code == 0


def test_unknown_and_missing_steps_are_reported(
    assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, content = results_json(capsys, assembly, UNKNOWN_STEP)
    (plan,) = content["plans"]
    assert plan["tier"] == "pilot-light"  # from the plan's name
    rows = by_step(plan)
    assert rows["notify-oncall"]["verdict"] == "not in the step list"
    assert rows["notify-oncall"]["measured_seconds"] == 2
    assert rows["declare-writer"]["verdict"] == "missing"
    assert rows["stage-1"]["verdict"] == "parallel block"  # by its name: the file has no plan
    assert plan["rto_with_measured_seconds"] is None  # declare-writer never ran
    assert content["findings"] == [
        "declare-writer: missing",
        "notify-oncall: not in the step list",
        "plan: not completed (pausedByFailedStep)",
    ]
    assert code == 1


def test_the_failback_preparation_workflow(
    tmp_path: Path,
    assembly: Path,
    step_lists: dict[str, dict[str, list[s.Step]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """pilot-light prepares its failback in the postRecovery workflow (the plan steps before
    the approval); the approval and what follows are the primary's activate workflow. AWS runs
    the post-recovery of the region opposite the recovery execution's: after R was activated,
    the primary's."""

    def prepare(data: Any) -> None:
        data.update(
            executionAction="postRecovery", executionRegion="us-east-1", executionState="completed"
        )
        data["endTime"] = "2026-11-29T12:53:21+00:00"
        data["stepStates"] = [
            {
                "name": "fence-primary",
                "status": "completed",
                "startTime": "2026-11-29T09:00:00Z",
                "endTime": "2026-11-29T09:00:04Z",
            },
            {
                "name": "replicate-back",
                "status": "completed",
                "startTime": "2026-11-29T09:00:05Z",
                "endTime": "2026-11-29T12:53:20Z",
            },
            {
                "name": "adopt-replica-primary",
                "status": "completed",
                "startTime": "2026-11-29T12:53:20Z",
                "endTime": "2026-11-29T12:53:20Z",
            },
        ]

    file = _write(tmp_path, "prepare.json", _edited(UNKNOWN_STEP, prepare))
    code, content = results_json(capsys, assembly, file)
    (plan,) = content["plans"]
    assert plan["direction"] == "failback preparation"
    rows = by_step(plan)
    steps = step_lists["pilot-light"]["failback"]
    assert rows["replicate-back"]["estimated_seconds"] == next(
        x.seconds for x in steps if x.name == "replicate-back"
    )
    assert rows["replicate-back"]["verdict"] == "ok"
    assert rows["approve-failback"]["verdict"] == "other workflow"
    assert content["findings"] == [] and code == 0


def _drill_tags(tier: str, drill: str) -> tuple[str, ...] | None:
    found = [d for d in tier_drills(TIERS[tier], app="drtiers") if d.name == drill]
    return found[0].exercises if found else None


def test_experiments_report_the_drill_and_the_steps_it_rehearses(
    assembly: Path,
    step_lists: dict[str, dict[str, list[s.Step]]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, content = results_json(capsys, assembly, STOP_TASKS, DISRUPT)
    stop, disrupt = content["drills"]
    names = {step.name for steps in step_lists["warm-standby"].values() for step in steps}
    # The experiment carries its exercises tag: the step names in it are matched to the list.
    assert (stop["drill"], stop["tier"], stop["status"]) == (
        "StopPrimaryTasks",
        "warm-standby",
        "completed",
    )
    assert stop["exercises_from"] == "experiment tag"
    assert stop["rehearses"] == [n for n in ("detect", "scale-out") if n in names]
    assert "rebalance-cache" in stop["not_steps"]
    assert stop["stopped_by_alarm"] is False
    assert stop["ran_seconds"] == 3 and stop["ran_long_enough"] is None  # no duration to check
    assert stop["known"] is (_drill_tags("warm-standby", "StopPrimaryTasks") is not None)
    # No tag on the experiment: the synthesized drill template says what it exercises.
    assert disrupt["stopped_by_alarm"] is True
    assert (disrupt["ran_seconds"], disrupt["required_seconds"]) == (120, 300)
    assert disrupt["ran_long_enough"] is False
    template = _drill_tags("warm-standby", "DisruptPrimarySubnets")
    if template is not None:
        assert disrupt["exercises_from"] == "drill template"
        assert disrupt["rehearses"] + disrupt["not_steps"] == list(template)
    assert content["findings"] == ["DisruptPrimarySubnets: stopped before its duration"]
    assert code == 1


def test_the_table_names_what_a_drill_did(
    assembly: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, _ = run(capsys, str(DISRUPT), "--assembly", str(assembly))
    assert code == 1
    assert "Drills: fault-injection experiments" in out
    row = next(line for line in out.splitlines() if "DisruptPrimarySubnets" in line)
    assert "stopped, by an alarm" in row and "2.0 min of 5.0 min: stopped short" in row


def test_results_synthesizes_the_tier_in_process(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --assembly the tier named by the plan is synthesized, as drtiers simulate does."""
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, str(FAILBACK), "--json")
    assert code == 0 and not err
    (plan,) = json.loads(out)["plans"]
    assert (plan["tier"], plan["direction"], plan["verdict"]) == ("warm-standby", "failback", "ok")


def _write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _edited(source: Path, edit: Any) -> str:
    data = json.loads(source.read_text())
    edit(data)
    return json.dumps(data)


def _set(path: list[Any], value: Any) -> Any:
    def edit(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        data[path[-1]] = value

    return edit


def _drop(path: list[Any]) -> Any:
    def edit(data: Any) -> None:
        for key in path[:-1]:
            data = data[key]
        del data[path[-1]]

    return edit


MALFORMED = [
    ("empty.json", "", "{f}: not JSON: the file is empty"),
    ("text.json", "failover went fine\n", "{f}: not JSON: Expecting value at line 1 column 1"),
    ("binary.json", b"\xff\xfe\x00", "{f}: not JSON: not UTF-8 text"),
    (
        "list.json",
        "[]",
        "{f}: expected a JSON object, the output of `aws arc-region-switch "
        "get-plan-execution` or `aws fis get-experiment`",
    ),
    (
        "other-operation.json",
        json.dumps({"plans": [], "nextToken": "x"}),
        "{f}: matches no operation drtiers reads (top-level keys: nextToken, plans); expected "
        "the output of `aws arc-region-switch get-plan-execution` or `aws fis get-experiment`",
    ),
    (
        "wrong-type.json",
        _edited(FAILOVER, _set(["stepStates", 1, "startTime"], "yesterday")),
        "{f}: not the output of arc-region-switch GetPlanExecution: stepStates[1].startTime: "
        'expected a timestamp (ISO 8601, or epoch seconds), got the string "yesterday"',
    ),
    (
        "wrong-type-nested.json",
        _edited(DISRUPT, _set(["experiment", "state"], "stopped")),
        "{f}: not the output of fis GetExperiment: experiment.state: expected an object, got "
        'the string "stopped"',
    ),
    (
        "missing-member.json",
        _edited(FAILBACK, _drop(["executionRegion"])),
        "{f}: not the output of arc-region-switch GetPlanExecution: executionRegion: missing "
        "(required in GetPlanExecutionResponse)",
    ),
    (
        "unknown-member.json",
        _edited(FAILBACK, _set(["stepStates", 0, "duration"], 3)),
        "{f}: not the output of arc-region-switch GetPlanExecution: stepStates[0].duration: "
        "not a member of StepState",
    ),
    (
        "no-actions.json",
        _edited(STOP_TASKS, _drop(["experiment", "actions"])),
        "{f}: experiment.actions: missing; it names the drill",
    ),
]


@pytest.mark.parametrize(("name", "content", "message"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_a_malformed_file_is_one_line_and_exit_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    content: str | bytes,
    message: str,
) -> None:
    monkeypatch.chdir(ROOT)
    bad = _write(tmp_path, name, content)
    # A good file beside it changes nothing: every file is read before anything is synthesized.
    code, out, err = run(capsys, str(FAILOVER), str(bad))
    assert code == 2
    assert out == ""
    botocore_note = " (botocore " if "not the output of" in message else ""
    line = f"drtiers: error: {message.format(f=bad)}"
    assert err.startswith(line + botocore_note) and err.endswith("\n")
    assert err.count("\n") == 1


def test_an_unreadable_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    missing = tmp_path / "nowhere.json"
    code, out, err = run(capsys, str(missing))
    assert (code, out) == (2, "")
    assert err == f"drtiers: error: {missing}: cannot read it: No such file or directory\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            [str(FAILOVER), "--tier", "pilot-light"],
            f"{FAILOVER}: the plan drtiers-warm-standby is of warm-standby, not pilot-light "
            "(--tier)",
        ),
        (
            [str(FAILOVER), "--tier", "hot"],
            "tier 'hot' is not known; allowed: backup-restore, pilot-light, warm-standby, "
            "multi-site",
        ),
    ],
)
def test_a_tier_that_does_not_fit_is_one_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    message: str,
) -> None:
    monkeypatch.chdir(ROOT)
    code, out, err = run(capsys, *argv)
    assert (code, out, err) == (2, "", f"drtiers: error: {message}\n")


def test_an_experiment_that_names_no_tier_needs_tier(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)

    def untag(data: Any) -> None:
        for target in data["experiment"]["targets"].values():
            del target["resourceTags"]["drtiers:tier"]

    bare = _write(tmp_path, "bare.json", _edited(STOP_TASKS, untag))
    code, out, err = run(capsys, str(bare))
    assert (code, out) == (2, "")
    assert err == (
        f"drtiers: error: {bare}: the experiment names no tier (drtiers:tier tag); give --tier\n"
    )


def test_an_execution_in_another_region_is_one_line(
    tmp_path: Path,
    assembly: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = _write(
        tmp_path,
        "eu.json",
        _edited(FAILBACK, _set(["executionRegion"], "eu-west-1")),
    )
    code, out, err = run(capsys, str(other), "--assembly", str(assembly))
    assert (code, out) == (2, "")
    assert err == (
        f"drtiers: error: {other}: executionRegion eu-west-1 is neither the tier's primary "
        "region (us-east-1) nor its recovery region (us-west-2); give --context "
        "primary_region=... --context recovery_region=... as deployed\n"
    )


def test_durations_and_the_grace() -> None:
    assert iso_duration_seconds("PT5M") == 300
    assert iso_duration_seconds("PT6M36S") == 396
    assert iso_duration_seconds("P1DT1H") == 90000
    assert iso_duration_seconds("PT") is None and iso_duration_seconds("5 minutes") is None
    assert not slower(4, 0) and slower(6, 0)  # an API call: 5 s of grace
    assert not slower(660, 600) and slower(661, 600)  # a long step: 10 %


def test_drill_templates_name_each_step_their_tag_names(assembly: Path) -> None:
    """The exercises tag is space-separated (AWS tag values allow no comma), as the drill stack
    writes it: multi-site's subnet drill rehearses detection and the accelerator's shift."""
    templates = drill_templates(assembly, "multi-site")
    assert templates["DisruptPrimarySubnets"].exercises == ("detect", "accelerator-shift")
    assert templates["StopPrimaryTasks"].exercises == ()  # it claims no step


def test_restore_jobs_against_the_estimates_restore_rate(
    capsys: pytest.CaptureFixture[str], assembly: Path
) -> None:
    """50 GB in 36 min against 100 GB/h (30 min); a database restored in 10 min, its size the
    workload's 100 GB (AWS gives 0 for an RDS instance), whose restore test failed validation;
    a job AWS Backup failed; and a composite job's parent, not counted."""
    code, out = results_json(capsys, assembly, RESTORE_TEST, RESTORES_LISTED)
    assert code == 1
    rows = {(r["tier"], r["resource_type"], r["status"]): r for r in out["restores"]}
    table = rows[("backup-restore", "DynamoDB", "COMPLETED")]
    assert (table["estimated_seconds"], table["measured_seconds"]) == (1800.0, 2160.0)
    assert table["verdict"] == "slower (+360 s; 83 GB/h against 100)"
    database = rows[("backup-restore", "RDS", "COMPLETED")]
    assert (database["verdict"], database["validation"]) == ("ok", "FAILED")
    assert (database["size_gb"], database["size_assumed"]) == (100.0, True)
    assert database["estimated_seconds"] == 3600.0
    assert len(out["restores"]) == 3  # the parent job is not a restore of its own
    failed = rows[("pilot-light", "DynamoDB", "FAILED")]
    assert failed["verdict"] == "failed (FAILED: Access denied to KMS key)"
    assert failed["measured_seconds"] is None
    assert sorted(out["findings"]) == [
        "restore of arn:aws:dynamodb:us-east-1:123456789012:table/drtiers-backup-restore-table: "
        "slower (+360 s; 83 GB/h against 100)",
        "restore of arn:aws:dynamodb:us-east-1:123456789012:table/drtiers-pilot-light-table: "
        "failed (FAILED: Access denied to KMS key)",
        "restore of arn:aws:rds:us-east-1:123456789012:db:drtiers-backup-restore-db: "
        "validation FAILED",
    ]


def test_a_restore_is_held_to_the_tiers_own_restore_rate(
    capsys: pytest.CaptureFixture[str], assembly: Path
) -> None:
    """The figure is the tier's, overrides included (a value given is a point, its own fast
    end): at 90 GB/h the same 36 minutes are within the grace of 33.3 estimated; at 80 GB/h
    the 83 GB/h measured beat the figure, which should be raised."""
    argv = [str(RESTORE_TEST), "--json", "--assembly", str(assembly), "--set"]
    assert cli(["results", *argv, "restore_rate_gb_per_hour=90"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["restores"]
    assert (row["estimated_seconds"], row["verdict"]) == (2000.0, "ok")
    assert cli(["results", *argv, "restore_rate_gb_per_hour=80"]) == 0
    (row,) = json.loads(capsys.readouterr().out)["restores"]
    assert row["verdict"] == (
        "faster than the fast end (83 GB/h against 80: raise restore_rate_gb_per_hour)"
    )


def test_a_restore_names_its_tier_by_its_store() -> None:
    assert tier_of_resource("arn:aws:rds:us-east-1:1:db:drtiers-pilot-light-db") == "pilot-light"
    assert tier_of_resource("arn:aws:dynamodb:us-east-1:1:table/shop-multi-site-orders") == (
        "multi-site"
    )
    assert tier_of_resource("arn:aws:dynamodb:us-east-1:1:table/orders") is None


def test_a_restore_of_no_tier_needs_tier(
    capsys: pytest.CaptureFixture[str], assembly: Path, tmp_path: Path
) -> None:
    job = json.loads(RESTORE_TEST.read_text())
    job["SourceResourceArn"] = "arn:aws:dynamodb:us-east-1:123456789012:table/orders"
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    code, _, err = run(capsys, str(path), "--assembly", str(assembly))
    assert code == 2
    assert err.strip() == (
        f"drtiers: error: {path}: arn:aws:dynamodb:us-east-1:123456789012:table/orders names no "
        "tier; give --tier"
    )


def test_the_execution_report_is_named_or_its_failure_is_a_finding(
    capsys: pytest.CaptureFixture[str], assembly: Path
) -> None:
    _, out = results_json(capsys, assembly, FAILOVER)
    (plan,) = out["plans"]
    assert plan["report"].startswith("plan-executions/ExecutionReport-123456789012-")
    assert not [f for f in out["findings"] if "report" in f]
    failed = {"failedReportOutput": {"errorCode": "insufficientPermissions", "errorMessage": "x"}}
    assert execution_report({"generatedReportDetails": [{"reportOutput": failed}]}) == (
        "not written: insufficientPermissions: x"
    )
    assert execution_report({}) is None


def test_a_restore_without_a_size_is_shown_not_judged(
    capsys: pytest.CaptureFixture[str], assembly: Path, tmp_path: Path
) -> None:
    """A table's job with no size cannot be held to a rate: shown, and no finding."""
    job = json.loads(RESTORE_TEST.read_text())
    del job["BackupSizeInBytes"]
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))
    code, out = results_json(capsys, assembly, path)
    (row,) = out["restores"]
    assert (code, row["verdict"], row["size_gb"]) == (0, "no size: not compared", None)
