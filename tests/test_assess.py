"""Estimated RTO, RPO and cost, derived from the synthesized templates."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from drtiers.assembly.reader import copy_assembly, edit_template, read_assembly
from drtiers.assess import assess_assembly, cheapest_meeting
from drtiers.assess.model import Estimate
from drtiers.cli import main as cli
from drtiers.core.durations import parse_duration
from drtiers.core.facts import default_figures, default_workload
from tests.conftest import DEFAULT_CONTEXT, ROOT, Synthesized, main_as_the_cli

MINUTE, HOUR = 60, 3600


@pytest.fixture(scope="session")
def assembly(synthesized: Synthesized) -> Path:
    return Path(synthesized.assembly.directory)


@pytest.fixture(scope="session")
def estimates(assembly: Path) -> dict[str, Estimate]:
    return {e.tier: e for e in assess_assembly(assembly)}


@pytest.mark.parametrize(
    ("tier", "rpo_band", "rto_band"),
    [
        # REL13-BP02: RPO hours / RTO 24 h or less
        ("backup-restore", (1 * HOUR, 23 * HOUR), (1 * HOUR, 24 * HOUR)),
        # RPO minutes or less / RTO tens of minutes
        ("pilot-light", (1, 15 * MINUTE), (10 * MINUTE, 60 * MINUTE)),
        # RPO seconds / RTO minutes
        ("warm-standby", (0.1, 59), (1 * MINUTE, 10 * MINUTE)),
        # RPO near zero (a few seconds) / RTO near zero (about a minute: detection + promotion)
        ("multi-site", (0, 5), (0, 90)),
    ],
)
def test_default_estimates_fall_in_aws_bands(
    estimates: dict[str, Estimate],
    tier: str,
    rpo_band: tuple[float, float],
    rto_band: tuple[float, float],
) -> None:
    e = estimates[tier]
    assert rpo_band[0] <= e.rpo_seconds <= rpo_band[1]
    assert rto_band[0] <= e.rto_seconds <= rto_band[1]
    if tier == "backup-restore":  # "hours" at its slow end too: a backup every 4 h, then copied
        assert e.rpo_range == (4 * HOUR + 15 * MINUTE, 7 * HOUR)


def test_cost_rises_strictly_from_backup_restore_to_multi_site(
    estimates: dict[str, Estimate],
) -> None:
    costs = [
        estimates[t].monthly_cost_usd
        for t in ("backup-restore", "pilot-light", "warm-standby", "multi-site")
    ]
    assert costs == sorted(costs) and len(set(costs)) == 4
    assert costs[0] > 100  # NAT gateways, RDS, DAX and ALB alone are hundreds a month


def test_raising_the_failure_threshold_lengthens_the_rto(assembly: Path, tmp_path: Path) -> None:
    directory = copy_assembly(assembly, tmp_path / "asm")

    def slower(resources: dict[str, dict[str, Any]]) -> None:
        for resource in resources.values():
            if resource["Type"] == "AWS::Route53::HealthCheck":
                resource["Properties"]["HealthCheckConfig"]["FailureThreshold"] = 6

    before = {e.tier: e for e in assess_assembly(directory)}["pilot-light"].rto_seconds
    edit_template(directory, "drtiers-pilot-light-edge", slower)
    after = {e.tier: e for e in assess_assembly(directory)}["pilot-light"].rto_seconds
    assert after - before == 30 * 3  # 30 s interval x 3 more failures


def test_removing_the_table_replica_raises_the_rpo(assembly: Path, tmp_path: Path) -> None:
    directory = copy_assembly(assembly, tmp_path / "asm")

    def unreplicated(resources: dict[str, dict[str, Any]]) -> None:
        for resource in resources.values():
            if resource["Type"] == "AWS::DynamoDB::GlobalTable":
                replicas = resource["Properties"]["Replicas"]
                resource["Properties"]["Replicas"] = [
                    r for r in replicas if r["Region"] == "us-east-1"
                ]

    before = {e.tier: e for e in assess_assembly(directory)}["warm-standby"]
    edit_template(directory, "drtiers-warm-standby-primary", unreplicated)
    after = {e.tier: e for e in assess_assembly(directory)}["warm-standby"]
    assert before.rpo_seconds == 1
    assert after.rpo_seconds == 24 * HOUR + 1 * HOUR  # daily backup + copy time
    table = next(s for s in after.rpo if s.store == "DynamoDB table")
    assert table.how == "last backup copied to the recovery region"


def test_assumptions_move_the_estimate(assembly: Path) -> None:
    slow = {e.tier: e for e in assess_assembly(assembly, {"restore_rate_gb_per_hour": 10})}
    fast = {e.tier: e for e in assess_assembly(assembly, {"restore_rate_gb_per_hour": 1000})}
    assert slow["backup-restore"].rto_seconds > fast["backup-restore"].rto_seconds
    assert slow["pilot-light"].rto_seconds == fast["pilot-light"].rto_seconds


@pytest.mark.parametrize(
    ("rto", "rpo", "tier"),
    [
        # Judged at the high end of each range (every figure at its slow end).
        ("1h", "5m", "pilot-light"),  # high end 52.5 min, RPO 5 min
        ("1h", "1m", "warm-standby"),  # pilot-light's replica lag may reach 5 min
        ("20m", "5m", "multi-site"),  # pilot-light's 18.5 min is typical: up to 52.5 min
        ("20m", "1m", "multi-site"),  # warm-standby waits for a person: up to 27.5 min
        ("6m", "5s", "multi-site"),
        ("30m", "5s", "warm-standby"),
        ("1d", "2d", "backup-restore"),
        ("1d", "8h", "backup-restore"),  # every 4 h + up to 3 h to copy
        ("5m", None, None),  # multi-site's typical 90 s, but up to 5.5 min
        ("1d", "1h", "pilot-light"),
    ],
)
def test_recommend_picks_the_cheapest_tier_that_meets_both(
    estimates: dict[str, Estimate], rto: str, rpo: str | None, tier: str | None
) -> None:
    best = cheapest_meeting(
        list(estimates.values()),
        parse_duration(rto, "rto"),
        parse_duration(rpo, "rpo") if rpo else None,
    )
    assert (best.tier if best else None) == tier


def test_every_figure_carries_its_source(estimates: dict[str, Estimate]) -> None:
    for e in estimates.values():
        for store in e.rpo:
            assert store.sources and all(store.sources)
        for step in e.rto_steps:
            if step.seconds:  # a zero-length step (an approval, an API call) has no figure
                assert step.sources and all(step.sources), step.name
        for line in e.cost:
            assert line.unit_price.source.startswith("https://")
            assert date.fromisoformat(line.unit_price.as_of) <= date.today()
            assert line.unit_price.status in ("verified", "secondary", "unverified")
            if line.unit_price.status != "verified":  # why not, and what it rests on instead
                assert len(line.unit_price.note) > 40, line.unit_price
    for figure in default_figures().values():
        assert (
            figure.source and figure.as_of and figure.kind in ("published", "derived", "assumption")
        )


def test_cli_list_json(assembly: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["list", "--json", "--assembly", str(assembly)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["tier"] for r in rows] == [
        "backup-restore",
        "pilot-light",
        "warm-standby",
        "multi-site",
    ]
    for row in rows:
        assert {"tier", "rpo_seconds", "rto_seconds", "monthly_cost_usd"} <= set(row)


def test_cli_explain_and_diff(
    assembly: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # rich wraps long source URLs at 80 columns
    assert cli(["explain", "--tier", "pilot-light", "--json", "--assembly", str(assembly)]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["rto_steps"][0]["step"] == "detect" and detail["rto_steps"][0]["start"] == 0
    assert all(line["source"] for line in detail["cost"])
    assert cli(["diff", "pilot-light", "warm-standby", "--json", "--assembly", str(assembly)]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert ["us-west-2", "AWS::DAX::Cluster", "DaxClusterBF482228"] in diff["added"]
    assert diff["rto_seconds"] < 0 and diff["monthly_cost_usd"] > 0
    assert cli(["explain", "--tier", "multi-site", "--assembly", str(assembly)]) == 0
    text = capsys.readouterr().out
    assert "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/" in text.replace("\n", "")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["recommend", "--rto", "15x"],
            "drtiers: error: --rto: '15x' is not a duration; allowed: a number with s, m, h or d, "
            "such as 90s, 15m, 4h, 1d",
        ),
        (
            ["explain", "--tier", "hot"],
            "drtiers: error: tier 'hot' is not known; allowed: backup-restore, pilot-light, "
            "warm-standby, multi-site",
        ),
        (
            ["list", "--set", "restore_rate_gb_per_hour=fast"],
            "drtiers: error: assumption 'restore_rate_gb_per_hour': 'fast' is not a number; "
            "allowed: a number >= 0",
        ),
    ],
)
def test_cli_bad_input_is_one_line(
    assembly: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert cli([*argv, "--assembly", str(assembly)]) == 2
    err = capsys.readouterr().err
    assert err.strip() == message


def test_recommend_exits_1_when_no_tier_fits(
    assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["recommend", "--rto", "30s", "--assembly", str(assembly)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "at the high end of its range. Closest: multi-site (RPO 1 s (1-5 s), RTO 90 s" in out


def test_synth_fails_when_the_tier_misses_its_targets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """20 min: pilot-light's typical 18.5 min would meet it, its high end does not. What
    `cdk synth` runs (app.py's entry.main, context and output folder in the environment), in
    this process: app.py's own route is run by tests/test_app.py."""
    out = tmp_path / "out"
    out.mkdir()
    given = {**DEFAULT_CONTEXT, "tier": "pilot-light", "rto_target": "20m"}
    assert main_as_the_cli(monkeypatch, given, out) == 2
    assert (
        "drtiers: error: targets rto_target 20.0 min not met at the high end of the "
        "estimate's range: pilot-light is estimated at RTO 18.5 min (7.5-52.5 min), RPO 60 s "
        "(1 s-5.0 min); the cheapest tier that meets them is multi-site"
    ) in capsys.readouterr().err
    assert list(out.iterdir()) == []


def test_every_figure_is_verified_or_says_why() -> None:
    """Each timing names its source and the date read, and is verified or says why it cannot
    be and what it rests on instead; its range is ordered."""
    data = json.loads((ROOT / "drtiers" / "core" / "figures.json").read_text())
    for name, figure in data["figures"].items():
        assert figure["status"] in ("verified", "not-published", "unverified"), name
        assert figure["read"] == "2026-11-29" and figure["reason"] and figure["range"], name
        assert figure["low"] <= figure["value"] <= figure["high"], name
        if figure["status"] == "verified":
            assert figure["source"].startswith("https://"), name
    for figure in default_figures().values():
        assert figure.status in figure.label and figure.as_of in figure.label


def test_the_rto_range_schedules_the_steps_with_every_figure_at_each_end(
    assembly: Path, estimates: dict[str, Estimate]
) -> None:
    for e in estimates.values():
        assert e.rto_range[0] <= e.rto_seconds <= e.rto_range[1], e.tier
        assert e.rpo_range[0] <= e.rpo_seconds <= e.rpo_range[1], e.tier
    pilot = estimates["pilot-light"]
    assert pilot.rto_range == (7.5 * MINUTE, 52.5 * MINUTE)
    # Fixing an assumption (here the replica's promotion at its typical 10 min) collapses its
    # range: the high end loses the 20 min its slow end added, the low end the 7 min saved.
    fixed = {e.tier: e for e in assess_assembly(assembly, {"rds_replica_promotion_seconds": 600})}[
        "pilot-light"
    ]
    assert fixed.rto_seconds == pilot.rto_seconds
    assert fixed.rto_range == (pilot.rto_range[0] + 7 * MINUTE, pilot.rto_range[1] - 20 * MINUTE)


def test_list_and_explain_show_the_rto_with_its_range_and_the_dominant_step(
    assembly: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    assert cli(["list", "--assembly", str(assembly)]) == 0
    listed = capsys.readouterr().out
    assert "18.5 min (7.5-52.5 min)" in listed and "9.5 min (5.5-27.5 min)" in listed
    assert cli(["explain", "--tier", "pilot-light", "--assembly", str(assembly)]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "RTO 18.5 min (7.5-52.5 min)" in text
    assert (
        "Dominant step: promote-database, 10.0 min of the typical RTO 18.5 min (54%); critical "
        "path: detect -> approve-failover -> promote-database -> declare-writer -> "
        "writable-alarm -> dns-ttl"
    ) in text
    assert cli(["explain", "--tier", "pilot-light", "--json", "--assembly", str(assembly)]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["dominant_step"]["step"] == "promote-database"
    assert detail["dominant_step"]["share_of_rto"] == round(600 / 1110, 3)
    assert (detail["rto_low_seconds"], detail["rto_high_seconds"]) == (450, 3150)


def test_rpo_target_sets_backup_restores_schedule_and_synth_meets_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """rpo_target 6h on backup-restore: backups every 3 h (3 h + up to 3 h to copy), in the
    template the estimate reads; the synth passes because the high end meets the target."""
    out = tmp_path / "out"
    out.mkdir()
    given = {**DEFAULT_CONTEXT, "tier": "backup-restore", "rpo_target": "6h"}
    assert main_as_the_cli(monkeypatch, given, out) == 0
    plans = read_assembly(out)["backup-restore"].of_type("AWS::Backup::BackupPlan")
    (plan,) = [p for p in plans if p.stack == "drtiers-backup-restore-primary"]
    (rule,) = plan.prop("BackupPlan", "BackupPlanRule")
    assert rule["ScheduleExpression"] == "cron(0 0/3 * * ? *)"
    (estimate,) = assess_assembly(out)
    assert (estimate.rpo_seconds, estimate.rpo_range) == (4 * HOUR, (3.25 * HOUR, 6 * HOUR))


def test_explain_gives_each_data_stores_rpo_with_its_range(
    assembly: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli(["explain", "--tier", "backup-restore", "--json", "--assembly", str(assembly)]) == 0
    stores = {s["store"]: s for s in json.loads(capsys.readouterr().out)["rpo"]}
    table = stores["DynamoDB table"]  # 4 h between backups + 15 min, 1 h or 3 h to copy
    assert (table["low_seconds"], table["seconds"], table["high_seconds"]) == (
        4.25 * HOUR,
        5 * HOUR,
        7 * HOUR,
    )
    assert stores["SQS messages in flight in P"]["seconds"] is None


@pytest.mark.parametrize(
    ("tier", "shares"),
    [
        ("backup-restore", {"us-east-1": 1.0}),
        ("pilot-light", {"us-east-1": 1.0}),  # R's queue waits for the event, unused
        ("warm-standby", {"us-east-1": 1.0}),  # R's tasks run, but DNS sends them nothing
        ("multi-site", {"us-east-1": 0.5, "us-west-2": 0.5}),  # both endpoint groups dial 100
    ],
)
def test_queue_requests_are_billed_where_traffic_lands(
    estimates: dict[str, Estimate], tier: str, shares: dict[str, float]
) -> None:
    """The workload's queue requests are one total (its figures), sent where the requests it
    serves land in standby: not once more in a recovery region that takes none."""
    total = default_workload()["queue_requests_million_per_month"]
    lines = [line for line in estimates[tier].cost if line.item == "SQS requests (million)"]
    billed: dict[str, float] = {}
    for line in lines:
        billed[line.region] = billed.get(line.region, 0) + line.quantity
    assert billed == {region: share * total for region, share in shares.items()}


def _column(text: str, heading: str) -> list[str]:
    """Each row's cell under ``heading`` in a rich table, its folded lines joined."""
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if f" {heading} " in line and "┃" in line)
    index = [part.strip() for part in lines[head].split("┃")].index(heading)
    cells: list[str] = []
    for line in lines[head + 2 :]:
        if not line.startswith("│"):
            break
        parts = line.split("│")
        if parts[1].strip() or not cells:  # a row's first line has its first column
            cells.append("")
        cells[-1] += parts[index].strip()
    return cells


def test_explain_in_80_columns_cuts_no_source_short(
    assembly: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a log or a pipe (80 columns), each step's source URL is all there, folded, and each
    figure whole on one line."""
    monkeypatch.setenv("COLUMNS", "80")
    assert cli(["explain", "--tier", "warm-standby", "--json", "--assembly", str(assembly)]) == 0
    detail = json.loads(capsys.readouterr().out)
    steps = detail["rto_steps"]
    assert cli(["explain", "--tier", "warm-standby", "--assembly", str(assembly)]) == 0
    text = capsys.readouterr().out
    assert "…" not in text
    sources = _column(text.split("RTO: the failover steps", 1)[1], "source")
    assert len(sources) == len(steps)
    for cell, step in zip(sources, steps, strict=True):
        assert step["sources"] and all(s.split(" ")[0] in cell for s in step["sources"]), cell
    for line in detail["cost"]:
        assert f"│ {line['region']} " in text and f"│ {line['monthly_usd']:,.2f} " in text, line
