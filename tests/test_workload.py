"""The workload file: its schema, `drtiers init`, invalid files, and every tier built around
workloads other than drtiers' reference one: what it holds, what it costs, and that it recovers.
cfn-lint, cdk-nag and Guard over these files run in the long profile (`make fuzz` takes them
first); in `make test` they check the reference workload (test_policy), one generated workload
with every block (test_generated) and each engine on its own (test_engines)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from drtiers.assembly.reader import read_assembly
from drtiers.assess import assess_assembly
from drtiers.assess.model import estimate
from drtiers.build import synthesize
from drtiers.checks.gates import drtiers_dr, simulate
from drtiers.cli import main as drtiers
from drtiers.config.workload import REFERENCE, SCHEMA_PATH, Workload, json_schema
from drtiers.core.facts import default_workload, with_overrides
from drtiers.recovery import simulate_assembly
from drtiers.report.build import write_reports
from tests.agreement import disagreements
from tests.conftest import DEFAULT_CONTEXT, ROOT, Synthesized
from tests.test_app import run_app

WORKLOADS = ROOT / "tests" / "fixtures" / "workloads"
MYSQL = WORKLOADS / "mysql-two-tables.yaml"
NO_DATABASE = WORKLOADS / "no-database.yaml"
TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")


def test_the_published_schema_is_the_one_that_validates() -> None:
    assert (ROOT / SCHEMA_PATH).read_text() == json_schema(), (
        f"regenerate it: .venv/bin/drtiers schema > {SCHEMA_PATH}"
    )


def test_drtiers_schema_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert drtiers(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "drtiers workload"


def test_init_writes_the_reference_workload_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "drtiers.yaml"
    assert drtiers(["init", "--out", str(path)]) == 0
    written = Workload.model_validate(yaml.safe_load(path.read_text()))
    assert written.model_copy(update={"figures": {}}) == REFERENCE
    assert written.figures == default_workload()
    assert "# a container image reference" in path.read_text()  # every key explained
    # the editor's schema, wherever the file is written: a path from the file's own folder
    first = path.read_text().splitlines()[0]
    assert first.startswith("# yaml-language-server: $schema=")
    schema = path.parent / first.split("$schema=", 1)[1]
    assert schema.resolve() == (ROOT / "schema" / "workload.schema.json").resolve()
    path.write_text("service: {image: mine}\n")
    assert drtiers(["init", "--out", str(path)]) == 2
    assert "never overwrites" in capsys.readouterr().err
    assert path.read_text() == "service: {image: mine}\n"


def test_the_init_file_synthesizes_the_default_templates(tmp_path: Path) -> None:
    """The starter file is the reference: the same templates as no file at all, which the
    policy tests and make check hold to every gate."""
    path = tmp_path / "drtiers.yaml"
    assert drtiers(["init", "--out", str(path)]) == 0
    with_file = Synthesized(tier="warm-standby", workload=str(path))
    default = Synthesized(tier="warm-standby")
    for stack in ("primary", "recovery", "recovery-base", "edge"):
        name = f"drtiers-warm-standby-{stack}"
        assert with_file.json(name) == default.json(name), name


# Each case: the file's text, and the error after "workload file <path>: ".
INVALID: list[tuple[str, str, str]] = [
    (
        "wrong type",
        "service: {image: web, port: eighty}",
        "service.port: 'eighty' is not valid; allowed: a port number from 1 to 65535",
    ),
    (
        "unknown key",
        "service: {image: web, imagee: web2}",
        "service.imagee: unknown key; allowed: image, port, cpu, memory, user, "
        "health_check_path, tasks, environment",
    ),
    ("missing image", "service: {port: 8080}", "service.image: missing; allowed: a container"),
    (
        "unsupported engine",
        "service: {image: web}\ndatabase: {engine: oracle}",
        "database.engine: 'oracle' is not valid; allowed: postgresql or mysql",
    ),
    (
        "engine version",
        "service: {image: web}\ndatabase: {engine: mysql, version: '5.7'}",
        "database: version '5.7' is not offered for mysql; allowed: 8.0, 8.4",
    ),
    (
        "a class Aurora global databases refuse (warm-standby, multi-site)",
        "service: {image: web}\ndatabase: {aurora_class: db.t4g.medium}",
        "database: aurora_class 'db.t4g.medium' is not memory-optimized; allowed: a db.r* class",
    ),
    (
        "reduced count above full",
        "service: {image: web, tasks: {full: 2, reduced: 3}}",
        "service.tasks: reduced 3 is not below full 2; allowed: a whole number from 1 to 1",
    ),
    (
        "bad domain",
        "service: {image: web}\nentry_point: {domain_name: shop.example.com}",
        "entry_point.domain_name: 'shop.example.com' is not valid; allowed: a lowercase DNS name",
    ),
    (
        "CPU and memory Fargate does not offer together",
        "service: {image: web, cpu: 256, memory: 4096}",
        "service: memory 4096 does not go with cpu 256; allowed: 512 to 2048 MiB",
    ),
    (
        "two tables of one name",
        "service: {image: web}\ntables: [{name: orders, partition_key: {name: id}}, "
        "{name: orders, partition_key: {name: id}}]",
        "(top level): tables: name 'orders' is used twice; allowed: distinct names",
    ),
    (
        "provisioned table without capacity",
        "service: {image: web}\ntables: [{name: orders, partition_key: {name: id}, "
        "billing: provisioned}]",
        "tables[0]: billing 'provisioned' without capacity; allowed: capacity exactly when",
    ),
    (
        "dead letters kept no longer than the queue",
        "service: {image: web}\nqueues: [{name: jobs, retention_days: 10, "
        "dead_letter_retention_days: 7}]",
        "queues[0]: dead_letter_retention_days 7 is not above retention_days 10; allowed: 11 to 14",
    ),
    (
        "unknown figure",
        "service: {image: web}\nfigures: {requests_per_day: 5}",
        "figures: assumption 'requests_per_day' is not known; allowed: ",
    ),
    (
        "a certificate of another region",
        "service: {image: web}\nentry_point: {certificate_arns: {us-east-1: "
        "'arn:aws:acm:us-west-2:123456789012:certificate/abc', us-west-2: "
        "'arn:aws:acm:us-west-2:123456789012:certificate/abc'}}",
        "entry_point.certificate_arns.us-east-1: 'arn:aws:acm:us-west-2:123456789012:certificate"
        "/abc' is not valid; allowed: an ACM certificate ARN in us-east-1",
    ),
    ("not YAML", "service: [image", "not valid YAML at line 2: expected ',' or ']'"),
    ("not a mapping", "- web\n- db", '["web", "db"] is not valid; allowed: a mapping with service'),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_an_invalid_workload_file_is_one_line_exit_2_and_writes_nothing(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "drtiers.yaml"
    path.write_text(text + "\n")
    result = run_app(tmp_path, workload=str(path))
    lines = [line for line in result.stderr.splitlines() if line.strip() and "!!" not in line]
    assert result.returncode == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"drtiers: error: workload file {path}: {message}"), lines[0]
    assert list((tmp_path / "out").iterdir()) == []


def test_a_missing_workload_file_names_the_context_key(tmp_path: Path) -> None:
    result = run_app(tmp_path, workload=str(tmp_path / "nowhere.yaml"))
    assert result.returncode == 2
    assert "drtiers: error: context key 'workload': " in result.stderr
    assert list((tmp_path / "out").iterdir()) == []


_GATED: dict[Path, tuple[Workload, Path, Any]] = {}


@pytest.fixture(scope="module", params=[MYSQL, NO_DATABASE], ids=lambda p: p.stem)
def gated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Workload, Path, Any]:
    """Every tier (drill stacks included) around the workload, with drtiers-dr's findings
    and the simulator's region loss and failback: the workload, the assembly, and the
    findings with the simulations and the context. Once per workload in a test session
    (pytest sets a parametrized module fixture up again each time the parameter changes)."""
    if request.param not in _GATED:
        out = tmp_path_factory.mktemp(request.param.stem)
        context = {**DEFAULT_CONTEXT, "workload": str(request.param), "tier": "", "drills": True}
        synthesize(context, out)
        simulations = simulate_assembly(out, context, synthesize)
        findings = {"drtiers-dr": drtiers_dr(out), "simulate": simulate(simulations)}
        workload = Workload.model_validate(yaml.safe_load(request.param.read_text()))
        _GATED[request.param] = workload, out, (findings, simulations, context)
    return _GATED[request.param]


def test_every_tier_around_another_workload_recovers_and_meets_the_dr_rules(
    gated: tuple[Workload, Path, Any],
) -> None:
    _, out, (findings, simulations, _) = gated
    assert sorted(read_assembly(out)) == sorted(TIERS)
    assert sorted(loss.tier for loss, _ in simulations) == sorted(TIERS)
    assert findings == {"drtiers-dr": [], "simulate": []}


@pytest.mark.parametrize("tier", TIERS)
def test_each_tier_holds_exactly_the_workloads_blocks(
    gated: tuple[Workload, Path, Any], tier: str
) -> None:
    workload, out, _ = gated
    of = read_assembly(out)[tier].of_type  # every stack of the tier, its drill stacks too
    databases = of("AWS::RDS::DBInstance") + of("AWS::RDS::DBCluster")
    assert bool(databases) == (workload.database is not None)
    assert bool(of("AWS::RDS::DBProxy")) == (workload.database is not None)
    if workload.database is not None:  # a cross-region replica takes its source's engine
        engines = {
            d.prop("Engine").removeprefix("aurora-")
            for d in databases
            if d.prop("Engine") is not None
        }
        assert engines == {"postgres" if workload.database.engine == "postgresql" else "mysql"}
    tables = {
        t.prop("TableName") for t in of("AWS::DynamoDB::GlobalTable") + of("AWS::DynamoDB::Table")
    }
    own = {f"drtiers-{tier}-{t.name}" for t in workload.tables}
    assert tables == own | {f"drtiers-{tier}-control"}  # and drtiers' writer-region table
    dax = of("AWS::DAX::Cluster")
    assert bool(dax) == any(t.dax for t in workload.tables)
    queues = [q for q in of("AWS::SQS::Queue") if q.prop("RedrivePolicy")]
    assert bool(queues) == bool(workload.queues)
    for task in of("AWS::ECS::TaskDefinition"):
        assert (task.prop("Cpu"), task.prop("Memory")) == (
            str(workload.service.cpu),
            str(workload.service.memory),
        )
        given = {
            v["Name"]: v["Value"]
            for c in task.prop("ContainerDefinitions")
            for v in c.get("Environment", [])
        }
        assert workload.service.environment.items() <= given.items()  # the file's own variables
        variables = set(given)
        assert ("DATABASE_ENDPOINT" in variables) == (workload.database is not None)
        assert "CONTROL_TABLE_NAME" in variables
        for table in workload.tables:
            suffix = "_" + table.name.upper()
            assert "TABLE_NAME" + suffix in variables
    services = of("AWS::ECS::Service")
    assert max(s.prop("DesiredCount") for s in services) == workload.service.tasks.full


def test_the_estimate_takes_sizes_from_the_templates_and_figures_from_the_file(
    gated: tuple[Workload, Path, Any], synthesized: Synthesized
) -> None:
    workload, out, _ = gated
    mine = {e.tier: e for e in assess_assembly(out, workload.figures)}
    reference = {e.tier: e for e in assess_assembly(Path(synthesized.assembly.directory))}
    hours = 730
    for tier in TIERS:
        fargate = next(
            line
            for line in mine[tier].cost
            if line.item == "Fargate vCPU-hours" and line.region == "us-east-1"
        )
        assert fargate.quantity == workload.service.tasks.full * workload.service.cpu / 1024 * hours
        assert mine[tier].monthly_cost_usd != reference[tier].monthly_cost_usd
        storage = [line for line in mine[tier].cost if line.item == "RDS gp3 storage (GB-month)"]
        if workload.database is not None and storage:
            assert storage[0].quantity == workload.database.storage_gb * 2  # Multi-AZ
        if workload.database is None:
            assert not any("RDS" in line.item or "Aurora" in line.item for line in mine[tier].cost)


def test_explain_simulate_and_the_synths_targets_read_the_same_figures(
    gated: tuple[Workload, Path, Any],
) -> None:
    """The file's figures travel in the assembly (the primary stack's metadata, which
    aws-cdk-lib writes to <stack>.metadata.json): what explain and simulate read back is what
    cdk synth judged its targets with, and it is not the defaults."""
    workload, out, _ = gated
    tiers = read_assembly(out)
    read_back = {e.tier: e for e in assess_assembly(out)}  # explain, list, diff, report
    at_synth = {e.tier: e for e in assess_assembly(out, workload.figures)}  # rto_target's
    for tier in TIERS:
        assert tiers[tier].figures == workload.figures  # simulate's figures too
        assert read_back[tier] == at_synth[tier]
    if workload.figures:  # a 400 GB database restores for longer than the default one
        defaults = estimate(tiers["backup-restore"], *with_overrides({}))
        assert read_back["backup-restore"].rto_seconds > defaults.rto_seconds
    _, _, (_, simulations, context) = gated  # list, explain, the report, simulate, the plan
    assert disagreements(out, context, simulations) == []


def test_a_provisioned_table_is_billed_by_the_capacity_hour(
    gated: tuple[Workload, Path, Any],
) -> None:
    """AWS bills provisioned capacity per hour, whatever the requests: a provisioned table's
    replicas cost their read capacity and the write capacity auto scaling keeps, and only the
    on-demand tables are billed per request."""
    workload, out, _ = gated
    provisioned = [t for t in workload.tables if t.billing == "provisioned"]
    on_demand = len(workload.tables) - len(provisioned)
    hours = 730
    for tier in TIERS:
        lines = next(e for e in assess_assembly(out, workload.figures) if e.tier == tier).cost
        table = read_assembly(out)[tier].of_type("AWS::DynamoDB::GlobalTable")
        regions = sorted(
            r["Region"]
            for t in table
            if t.prop("BillingMode") == "PROVISIONED"
            for r in t.prop("Replicas")
        )
        reads = [line for line in lines if line.item == "DynamoDB read capacity (RCU-hours)"]
        writes = [line for line in lines if line.item.startswith("DynamoDB write capacity")]
        assert sorted(line.region for line in reads) == regions
        assert sorted(line.region for line in writes) == regions
        for table_spec in provisioned:
            capacity = table_spec.capacity
            assert capacity is not None
            assert {line.quantity for line in reads} <= {capacity.read * hours}
            # 10 million writes a month is a few a second: auto scaling stays at its minimum
            assert {line.quantity for line in writes} <= {capacity.write_min * hours}
        per_request = [line for line in lines if line.item == "DynamoDB reads (million)"]
        assert len(per_request) == on_demand


def test_the_review_report_follows_the_workload(
    gated: tuple[Workload, Path, Any], tmp_path: Path
) -> None:
    """Inventory and runbooks are read from what was synthesized: a block the workload lacks
    is in neither."""
    workload, out, _ = gated
    source = next(p for p in (MYSQL, NO_DATABASE) if out.name.startswith(p.stem))
    context = {**DEFAULT_CONTEXT, "workload": str(source)}
    write_reports(out, tmp_path, context, only="pilot-light")
    text = (tmp_path / "pilot-light.md").read_text()
    assert ("promote-database" in text) == (workload.database is not None)
    assert ("AWS::RDS::DBInstance" in text) == (workload.database is not None)
    assert ("AWS::DAX::Cluster" in text) == any(t.dax for t in workload.tables)
    for table in workload.tables:  # the inventory lists each by its logical id
        assert "Table" + table.name.title() in text
