"""The app as a user runs it: through the pinned CDK CLI, and app.py on its own."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from aws_cdk.assertions import Capture

from drtiers.assembly.reader import read_assembly, template_files
from tests.conftest import CDK, DEFAULT_CONTEXT, REBUILD, ROOT, Synthesized, run_cdk_cli
from tests.test_config import RESERVED_DOMAINS
from tests.test_tiers import stack_resources


def run_app(tmp_path: Path, **context: object) -> subprocess.CompletedProcess[str]:
    """Run app.py the way the CDK CLI does: context in CDK_CONTEXT_JSON, output in CDK_OUTDIR."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({**DEFAULT_CONTEXT, **context}),
        "CDK_OUTDIR": str(tmp_path / "out"),
    }
    (tmp_path / "out").mkdir()
    return subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def test_bad_input_exits_non_zero_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    result = run_app(tmp_path, tier="hot-standby")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip() and "!!" not in line]
    assert lines == [
        "drtiers: error: context key 'tier': 'hot-standby' is not valid; allowed: "
        "backup-restore, pilot-light, warm-standby, multi-site (or none for all four)"
    ]
    assert list((tmp_path / "out").iterdir()) == []


def test_bad_input_is_refused_before_the_cdk_starts_node(tmp_path: Path) -> None:
    """Importing aws_cdk starts Node.js (seconds): a bad value is refused before it."""
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps({**DEFAULT_CONTEXT, "tier": "hot-standby"}),
        "CDK_OUTDIR": str(tmp_path),
    }
    code = (
        "import sys; from drtiers.entry import main; code = main(); "
        "print('aws_cdk' in sys.modules); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert (result.returncode, result.stdout) == (2, "False\n"), result.stderr
    assert "context key 'tier': 'hot-standby' is not valid" in result.stderr


@pytest.mark.parametrize("domain", RESERVED_DOMAINS)
def test_a_reserved_domain_exits_2_with_one_line_and_writes_nothing(
    tmp_path: Path, domain: str
) -> None:
    result = run_app(tmp_path, domain_name=domain)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip() and "!!" not in line]
    assert len(lines) == 1
    assert lines[0].startswith(
        f"drtiers: error: context key 'domain_name': '{domain}' is not valid; allowed: "
    )
    assert list((tmp_path / "out").iterdir()) == []


@pytest.mark.skipif(not CDK.exists(), reason="run `make setup` for the pinned CDK CLI")
def test_cdk_cli_synthesizes_one_tier_and_rejects_a_bad_one(tmp_path: Path) -> None:
    out = tmp_path / "cdk.out"
    good = run_cdk_cli("synth", "--quiet", "--context", "tier=pilot-light", "--output", str(out))
    assert good.returncode == 0, good.stderr
    assert [p.name for p in template_files(out)] == [
        "drtiers-pilot-light-edge.template.json",
        "drtiers-pilot-light-plan.template.json",
        "drtiers-pilot-light-primary.template.json",
        "drtiers-pilot-light-recovery-base.template.json",
        "drtiers-pilot-light-recovery.template.json",
        "drtiers-zone.template.json",
    ]
    assert "Node 20 is end-of-life" not in good.stderr + good.stdout
    zones = read_assembly(out)["pilot-light"].of_type("AWS::Route53::HostedZone")
    app_zones = [z.prop("Name") for z in zones if z.stack == "drtiers-zone"]
    assert app_zones == ["drtiers-123456789012.com."]  # the default: deployable
    shutil.rmtree(out)
    bad = run_cdk_cli("synth", "--context", "recovery_region=us-east-1", "--output", str(out))
    assert bad.returncode == 1  # the CLI's own status, whatever the app's (README says so)
    assert _lines(bad.stderr)[0].startswith(
        "drtiers: error: context key 'recovery_region': 'us-east-1' is the primary region too"
    )
    assert list(out.glob("*")) == []
    workload = tmp_path / "drtiers.yaml"
    workload.write_text("service: {image: web}\ndatabase: {engine: oracle}\n")
    file = run_cdk_cli("synth", "--context", f"workload={workload}", "--output", str(out))
    assert file.returncode == 1
    assert _lines(file.stderr) == [  # drtiers' one line, then the CDK CLI's own
        f"drtiers: error: workload file {workload}: database.engine: 'oracle' is not valid; "
        "allowed: postgresql or mysql (RDS and Aurora both offer them)",
        ".venv/bin/python app.py: Subprocess exited with error 2",
    ]
    assert list(out.glob("*")) == []


def _lines(stderr: str) -> list[str]:
    """What a user reads on stderr, without Node.js's own warnings (``!!`` boxes)."""
    return [line for line in stderr.splitlines() if line.strip() and "!!" not in line]


def test_sandbox_makes_everything_destroyable_and_small(validated_sandbox: Synthesized) -> None:
    sandbox = validated_sandbox  # the same configuration as the session's, validated too
    for stacks in sandbox.tiers.values():
        for stack in stacks.all:
            assert stack.termination_protection is False
            for resource in stack_resources(sandbox, stack.stack_name):
                assert resource.deletion_policy in (None, "Delete"), resource.logical_id
                assert resource.prop("DeletionProtection") in (None, False)
    primary = sandbox.template("drtiers-pilot-light-primary")
    primary.resource_count_is("AWS::EC2::NatGateway", 1)
    replicas = Capture()
    primary.has_resource_properties("AWS::DynamoDB::GlobalTable", {"Replicas": replicas})
    assert all(r["DeletionProtectionEnabled"] is False for r in replicas.as_array())
    primary.all_resources_properties("AWS::RDS::DBInstance", {"DBInstanceClass": "db.t4g.medium"})


# What a user of the repository does not have: the team's folder beside it and the notes kept
# there (matched case-sensitively: docs/design.md is the repository's own), and the absolute
# paths of one machine.
OUTSIDE = re.compile(
    r"\.\./shared\b"
    r"|\b(?:DESIGN|FACTS|STYLE)\.md\b"
    r"|(?<![\w.~-])/(?:work|root|home|Users)/"
)


def outside_citations(name: str, text: str) -> list[str]:
    """Where ``text`` (of file ``name``) cites a path outside the repository."""
    return [
        f"{name}:{text.count(chr(10), 0, m.start()) + 1}: {m.group()}"
        for m in OUTSIDE.finditer(text)
    ]


def test_no_tracked_file_cites_a_path_outside_the_repository() -> None:
    """The repository stands on its own: users do not have the team's folder beside it, nor
    this machine's paths."""
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split("\0")
    citing = []
    for name in files:
        if not name or name == "tests/test_app.py" or not (ROOT / name).is_file():
            continue
        citing += outside_citations(name, (ROOT / name).read_text(errors="ignore"))
    assert not citing, "\n".join(citing)


def test_drtiers_runs_on_the_pinned_node_from_inside_the_repository() -> None:
    """As the README runs it, from a subfolder, with the machine's PATH: the CDK's jsii runtime
    uses node_modules' Node.js (no end-of-life banner) and cdk.json is found upwards. One tier,
    synthesized (a kept synthesis would start no Node.js at all)."""
    env = {k: v for k, v in os.environ.items() if k != "JSII_NODE"}
    env["DRTIERS_CACHE"] = "off"
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if "node_modules" not in p
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("drtiers")),
            "simulate",
            "--tier",
            "pilot-light",
            "--json",
        ],
        cwd=ROOT / "docs",
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stdout + result.stderr
    assert [(row["tier"], row["violations"]) for row in json.loads(result.stdout)] == [
        ("pilot-light", [])
    ]


@pytest.fixture(scope="module")
def validated_sandbox() -> Synthesized:
    """Sandbox mode synthesized once for this file, with the CDK's built-in validation."""
    return Synthesized(sandbox="true", builtin_validation=True)


@pytest.fixture(params=["sandbox", "rebuild"])
def validated(request: pytest.FixtureRequest) -> Synthesized:
    if request.param == "sandbox":
        return request.getfixturevalue("validated_sandbox")  # type: ignore[no-any-return]
    return Synthesized(builtin_validation=True, **REBUILD)


def test_every_configuration_passes_the_cdks_built_in_validation(validated: Synthesized) -> None:
    """The CDK's built-in CloudFormation validation of every template of the configurations
    the pinned cfn-lint does not check (sandbox mode, backup-restore's rebuild; `make check`
    lints the default one with the pinned cfn-lint, of which the CDK's is an older copy), not
    at every synthesis (~1.3 s each). It only warns (the synthesis succeeds whatever it finds),
    so its report is read: no violation but those acknowledged."""
    report = json.loads((validated.directory / "validation-report.json").read_text())
    (validation,) = report["pluginReports"]
    assert validation["pluginName"] == "CloudFormation Validate"
    assert validation["violations"] == [], [v["description"] for v in validation["violations"]]
    assert validated.assembly.stacks


def test_the_built_in_validation_report_lists_what_it_finds(tmp_path: Path) -> None:
    """What the test above reads: the report holds a finding even though the synthesis went
    through (a queue with a property its schema does not have)."""
    import aws_cdk as cdk

    app = cdk.App(builtin_cloud_formation_validation=True, outdir=str(tmp_path))
    stack = cdk.Stack(app, "Bad")
    cdk.CfnResource(stack, "Queue", type="AWS::SQS::Queue", properties={"NotAProperty": 1})
    app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (validation,) = report["pluginReports"]
    assert [v["ruleName"] for v in validation["violations"]] == ["F3002"]


def test_app_py_alone_says_to_run_it_through_the_cdk_cli(tmp_path: Path) -> None:
    """Without the CLI there is no context (cdk.json is the CLI's to read): one line saying so,
    not a complaint about the first key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    result = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stderr == (
        "drtiers: error: no CDK context: run the app through the CDK CLI (npx cdk synth, which "
        "reads cdk.json), not python app.py alone\n"
    )
