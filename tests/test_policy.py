"""Policy gates, in-process: cdk-nag AwsSolutions and CloudFormation Guard's Control Tower rules
report nothing unacknowledged for any tier, and do report a resource that breaks them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from drtiers.assembly.reader import (
    acknowledgments,
    copy_assembly,
    edit_template,
    stack_tiers,
    template_files,
)
from drtiers.checks import guard as cfn_guard
from drtiers.checks.gates import (
    GateResults,
    _shares,
    _tier_of,
    cdk_nag,
    cfn_lint,
    drtiers_dr,
    run_gates,
)
from drtiers.config.context import cdk_json_context
from tests.conftest import ROOT, Synthesized

TIERS = ("backup-restore", "pilot-light", "warm-standby", "multi-site")


def plant_bogus_queue(resources: dict[str, dict[str, Any]]) -> None:
    """Adds a queue with a property no queue has: a defect cfn-lint reports."""
    resources["Bogus"] = {"Type": "AWS::SQS::Queue", "Properties": {"NoSuch": 1}}


def test_cdk_nag_is_not_vacuous() -> None:
    """make check's cdk-nag (below: every tier with its drill stacks) reports a bucket
    without its settings, filed under the bucket's stack."""
    app = cdk.App()
    stack = cdk.Stack(app, "Bad")
    s3.Bucket(stack, "Plain")
    app.synth()
    assert any(line.startswith("Bad/Plain/") for line in cdk_nag(app))


@pytest.fixture(scope="session")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GateResults]:
    """`make check` as it runs (cdk.json's context, every tier with its drill stacks), with
    the working tree's synthesis cache: what it finds is kept with the synthesis, so the
    `make check` that `make test` runs after pytest reads it back instead of doing it again."""
    out = tmp_path_factory.mktemp("checked")
    results, _ = run_gates(out, cdk_json_context(ROOT))
    return out, results


def test_make_check_finds_nothing_in_any_tier(checked: tuple[Path, GateResults]) -> None:
    _, results = checked
    assert sorted(results) == sorted(TIERS)
    found = {f"{t}/{c}": lines for t, row in results.items() for c, lines in row.items() if lines}
    assert found == {}


@pytest.fixture(scope="session")
def guarded(checked: tuple[Path, GateResults]) -> tuple[Path, list[tuple[str, bool]]]:
    """Every tier with its drill stacks, and each of Guard's findings with whether it is
    acknowledged."""
    out, _ = checked
    return out, cfn_guard.checked(out)


def test_guard_control_tower_rules_pass_every_tier(
    guarded: tuple[Path, list[tuple[str, bool]]],
) -> None:
    out, found = guarded
    assert [line for line, acknowledged in found if not acknowledged] == []
    stacks = {p.name.removesuffix(".template.json") for p in template_files(out)}
    assert len(stacks) == 22  # all four tiers, their three drill stacks, three plans, the zone


def test_guard_finds_exactly_what_is_acknowledged(
    guarded: tuple[Path, list[tuple[str, bool]]],
) -> None:
    """Guard really ran and its results are read right: every Guard acknowledgment in the
    templates meets a finding on its resource, and every finding is acknowledged."""
    out, found = guarded
    acknowledged = {
        (stack, logical_id, rule)
        for stack, logical_id, checker, rule, _ in acknowledgments(out)
        if checker == "guard"
    }
    reported = set()
    for line, _ in found:
        resource, rule, _ = line.split(": ", 2)
        reported.add((*resource.split("/"), rule))
    assert len(acknowledged) > 40
    assert reported == acknowledged


def _guarded_template(tmp_path: Path, resources: dict[str, Any]) -> Path:
    (tmp_path / "Bad.template.json").write_text(json.dumps({"Resources": resources}))
    return tmp_path


def test_guard_is_not_vacuous(tmp_path: Path) -> None:
    """A queue without a dead-letter queue breaks CT.SQS.PR.3; acknowledged, it is not
    reported; the rules for types the template lacks are not run."""
    queue = {"Type": "AWS::SQS::Queue", "Properties": {}}
    directory = _guarded_template(tmp_path, {"NoDeadLetters": queue})
    findings = cfn_guard.guard(directory)
    assert any(f.startswith("Bad/NoDeadLetters: sqs_dlq_check: [CT.SQS.PR.") for f in findings)
    queue["Metadata"] = {"drtiers:acknowledged": {"guard": {"sqs_dlq_check": "test"}}}
    _guarded_template(tmp_path, {"NoDeadLetters": queue})
    assert not any("sqs_dlq_check" in f for f in cfn_guard.guard(directory))
    rules = cfn_guard.rules_for({"AWS::SQS::Queue"})
    assert rules and all("sqs" in rule.parent.name for rule in rules)
    assert cfn_guard.rules_for({"AWS::Nothing::Here"}) == []


def _top_level(text: str) -> list[str]:
    """A Guard rule file's top-level items, each a ``let`` statement or a rule's header up to
    its ``{`` (what is in braces, messages, strings, regular expressions and comments left
    out); anything else at the top level stays in the item before it."""
    text = re.sub(r"<<.*?>>", " ", text, flags=re.S)
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'[^\'\n]*\'', '""', text)
    text = re.sub(r"/(?:[^/\\\n]|\\.)*/", "//", text)
    text = re.sub(r"#[^\n]*", "", text)
    outside, depth = [], 0
    for char in text:
        outside += char if depth == 0 else ""
        depth += (char == "{") - (char == "}")
        assert depth >= 0
    items = re.split(r"\n(?=\s*(?:let|rule)\b)", "".join(outside))
    return [item.strip() for item in items if item.strip()]


def _one_statement(item: str) -> bool:
    """Whether a top-level item is one ``let`` (lines broken only inside brackets) or one
    rule's header."""
    if item.startswith("rule "):
        return item.count("{") == 1 and item.endswith("{")
    depth = 0
    for char in item:
        depth += (char in "[(") - (char in "])")
        if (char == "\n" and depth == 0) or char == "{":
            return False
    return item.startswith("let ")


# A rule's header, its whitespace made single spaces.
_PARAMETERIZED = r"rule \w+ ?\([^)]*\) ?\{"
_TEMPLATE = r"rule \w+ when is_cfn_template\((?:%INPUT_DOCUMENT|this)\) %(\w+) not empty ?\{"
_HOOK = r"rule \w+ when is_cfn_hook\(%INPUT_DOCUMENT, ?%(\w+)\) ?\{"


def _shape_broken(text: str) -> str | None:
    """What in a Control Tower rule file could report on a template that has none of the
    types the file selects, or None: the top level holds only assignments and rules; each
    rule for a template runs only while one of the file's selections is not empty; each other
    rule without parameters runs only on a hook's input (a resource type as a top-level key,
    which a template does not have); the rest take parameters and run only when called."""
    selections = cfn_guard.selections(text)
    constants = dict(re.findall(r"^let\s+(\w+)\s*=\s*[\"'](AWS::[^\"']+)[\"']", text, re.M))
    hook = r"rule is_cfn_hook\((\w+), (\w+)\) \{\s*%\1\.%\2\.resourceProperties exists\s*\}"
    if not selections or not re.search(hook, text):
        return "no selection, or another is_cfn_hook"
    if not re.search(r"^let INPUT_DOCUMENT = this$", text, re.M):
        return "another INPUT_DOCUMENT"
    for item in _top_level(text):
        header = " ".join(item.split())
        if not _one_statement(item):
            return f"not one statement: {header}"
        for_template, for_hook = re.fullmatch(_TEMPLATE, header), re.fullmatch(_HOOK, header)
        if item.startswith("let ") or re.fullmatch(_PARAMETERIZED, header):
            continue
        if not (for_template and for_template[1] in selections) and not (
            for_hook and for_hook[1] in constants
        ):
            return f"runs otherwise: {header}"
    return None


def test_a_rule_file_skips_a_template_without_the_types_it_selects() -> None:
    """Why a template is given only the rule files that select one of its types."""
    files = sorted((cfn_guard.installed() / cfn_guard._RULES).rglob("*.guard"))
    assert len(files) > 200
    assert {f.name: _shape_broken(f.read_text()) for f in files} == {f.name: None for f in files}


def test_the_shape_check_sees_a_rule_file_that_could_report_otherwise() -> None:
    text = next((cfn_guard.installed() / cfn_guard._RULES).rglob("ct-sqs-pr-2.guard")).read_text()
    guarded = "%sqs_queues not empty"
    assert guarded in text and _shape_broken(text) is None
    first_let = "let INPUT_DOCUMENT = this"
    hook_check = "%doc.%RESOURCE_TYPE.resourceProperties exists"
    assert first_let in text and hook_check in text
    broken = [
        text.replace(guarded, ""),
        text.replace(guarded, f"{guarded} or %INPUT_DOCUMENT not empty"),
        text.replace(guarded, "%INPUT_DOCUMENT not empty"),
        text.replace(first_let, f"{first_let}\nResources exists"),
        text.replace(hook_check, "this exists"),
        text.replace("%SQS_QUEUE_TYPE) {", "%SQS_QUEUE_TYPE)\n    Resources exists {", 1),
        text + "\nResources.*.Properties exists\n",
        text + "\n  rule extra {\n    Resources exists\n  }\n",
        text + "\nrule extra{\n    Resources exists\n}\n",
    ]
    assert [_shape_broken(b) is not None for b in broken] == [True] * len(broken)


def test_a_rule_file_that_selects_otherwise_applies_to_every_template() -> None:
    selecting = 'let Q = "AWS::SQS::Queue"\nlet queues = Resources.*[ Type == %Q ]\n'
    looking_up = selecting + 'rule r when %queues not empty { check(%queues, "AWS::KMS::Key") }'
    assert cfn_guard.selected_types(looking_up) == {"AWS::SQS::Queue"}
    either = 'let x = Resources.*[ Type == "AWS::SNS::Topic" or Type == "AWS::SQS::Queue" ]'
    assert cfn_guard.selected_types(either) == {"AWS::SNS::Topic", "AWS::SQS::Queue"}
    otherwise = [
        'let x = Resources.*[ Properties.KmsKeyId exists ]\n"AWS::KMS::Key"',
        selecting.replace("%Q ]", "%Q or Properties.KmsKeyId exists ]"),
        selecting.replace("%Q ]", "%R ]"),
        'rule r { Resources.*[ Type == "AWS::SQS::Queue" ] not empty }',
    ]
    for text in otherwise:
        assert cfn_guard.selected_types(text) == frozenset(), text
        assert cfn_guard.selections(text) in (None, {})


def test_every_acknowledgment_is_per_resource_with_a_reason(
    guarded: tuple[Path, list[tuple[str, bool]]],
) -> None:
    out, _ = guarded
    found = list(acknowledgments(out))
    assert found
    for stack, logical_id, checker, rule, reason in found:
        assert checker in ("cfn-lint", "cdk-builtin", "cdk-nag", "guard")
        assert logical_id and stack.startswith("drtiers-")
        assert len(reason) > 30, (rule, reason)
    # No acknowledgment names a whole rule family (cdk-nag v3 has no prefix matching anyway).
    assert not any(rule in ("AwsSolutions-IAM4", "AwsSolutions-IAM5") for *_, rule, _ in found)


def test_a_cfn_lint_finding_is_filed_under_its_stack(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """cfn-lint names the template by its absolute path; the table must still find the tier."""
    directory = copy_assembly(synthesized.directory, tmp_path / "asm")
    edit_template(directory, "drtiers-pilot-light-edge", plant_bogus_queue)
    linted = tmp_path / "linted"  # the edited template alone: cfn-lint takes ~1 s a template
    linted.mkdir()
    shutil.copy(directory / "drtiers-pilot-light-edge.template.json", linted)
    findings = cfn_lint(linted)
    assert findings
    assert {stack_tiers(directory).get(_tier_of(line)) for line in findings} == {"pilot-light"}


def recorded_lint_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str]]]:
    """Each cfn-lint run from now on, as it still runs: which way (``_lint_here``, in this
    process, or ``_lint_apart``, a command) and the templates it was given."""
    from drtiers.checks import gates

    runs: list[tuple[str, list[str]]] = []
    for way in ("_lint_apart", "_lint_here"):
        run = getattr(gates, way)
        monkeypatch.setattr(
            gates,
            way,
            lambda group, region, way=way, run=run: (
                runs.append((way, sorted(t.stem for t in group))) or run(group, region)
            ),
        )
    return runs


def test_cfn_lint_runs_share_the_templates_and_find_what_one_run_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """make check and the report give cfn-lint a command per core: two runs, each given one
    of the two bad templates, find what one run over all three, in this process (as the
    tests' single worker per core runs it), finds, in the same order."""
    monkeypatch.setenv("DRTIERS_CACHE", str(tmp_path / "shared"))  # lint; read nothing kept
    resources = {
        "drtiers-a": {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"BogusA": 1}}},
        "drtiers-b": {"T": {"Type": "AWS::SNS::Topic"}},
        "drtiers-c": {"B": {"Type": "AWS::S3::Bucket", "Properties": {"BogusC": 1}}},
    }
    folder = tmp_path / "templates"
    folder.mkdir()
    for stack, body in resources.items():
        (folder / f"{stack}.template.json").write_text(json.dumps({"Resources": body}))
    runs = recorded_lint_runs(monkeypatch)
    shared = cfn_lint(folder, processes=2)
    assert sorted(runs) == [
        ("_lint_apart", ["drtiers-a.template", "drtiers-b.template"]),
        ("_lint_apart", ["drtiers-c.template"]),
    ]
    monkeypatch.setenv("DRTIERS_CACHE", str(tmp_path / "alone"))
    assert cfn_lint(folder, processes=1) == shared
    assert runs[2:] == [
        ("_lint_here", ["drtiers-a.template", "drtiers-b.template", "drtiers-c.template"])
    ]
    assert [_tier_of(line) for line in shared] == ["drtiers-a", "drtiers-c"]
    assert "BogusA" in shared[0] and "BogusC" in shared[1]


def test_a_cfn_lint_that_fails_is_never_read_as_no_findings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cfn-lint that cannot read its settings says why and exits 1: that is a failure of the
    check, not a clean template, and nothing is kept as the template's findings. With settings
    of the user's it runs as its command even where one process is asked for (they patch
    cfn-lint's state for the rest of a process)."""
    from drtiers.checks import gates

    monkeypatch.setenv("DRTIERS_CACHE", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(gates, "_lint_here", lambda *_: pytest.fail("run in this process"))
    (tmp_path / ".cfnlintrc").write_text("ignore_checks: [W3005\nnot: valid: yaml:\n")
    folder = tmp_path / "templates"
    folder.mkdir()
    bogus = {"Q": {"Type": "AWS::SQS::Queue", "Properties": {"Bogus": 1}}}
    (folder / "drtiers-a.template.json").write_text(json.dumps({"Resources": bogus}))
    with pytest.raises(RuntimeError, match=r"cfn-lint failed \(exit 1\): while parsing"):
        cfn_lint(folder, 1)
    assert not list((tmp_path / "cache").glob("findings/*/*.json"))


@pytest.mark.parametrize("failure", ["unsupported region", "exit"])
def test_a_cfn_lint_run_in_this_process_that_fails_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """In this process, what would make cfn-lint's command exit non-zero (an exception, or
    its own sys.exit) is a failure of the check too, never the end of the process."""
    import cfnlint.runner.template

    from drtiers.checks import gates

    template = tmp_path / "drtiers-a.template.json"
    template.write_text(json.dumps({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}}))
    region = "us-east-1"
    if failure == "exit":
        monkeypatch.setattr(
            cfnlint.runner.template, "run_template_by_file_paths", lambda *_: sys.exit(1)
        )
    else:
        region = "xx-nowhere-1"
    with pytest.raises(RuntimeError, match=r"^cfn-lint failed: "):
        gates._lint_here([template], region)


def test_the_cfn_lint_runs_get_about_equal_bytes() -> None:
    sizes = {Path(f"t{n}.template.json"): size for n, size in enumerate([90, 10, 40, 50, 30])}
    groups = _shares(sizes, 2)
    assert sorted(t for group in groups for t in group) == sorted(sizes)
    loads = {sum(sizes[t] for t in group): group for group in groups}
    assert len(groups) == 2
    # The heaviest run was the lightest when it took its last (smallest) template.
    assert max(loads) - min(sizes[t] for t in loads[max(loads)]) <= min(loads)
    assert len(_shares(sizes, 8)) == 5  # never a run without a template
    assert _shares({}, 2) == []


def test_a_missing_resource_finding_is_filed_under_its_tier(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    """drtiers-dr findings about something absent name no stack, only the tier."""

    def without_backup_plans(resources: dict[str, dict[str, Any]]) -> None:
        for logical_id, resource in list(resources.items()):
            if resource["Type"] == "AWS::Backup::BackupPlan":
                del resources[logical_id]

    directory = copy_assembly(synthesized.directory, tmp_path / "asm")
    edit_template(directory, "drtiers-warm-standby-primary", without_backup_plans)
    findings = drtiers_dr(directory)
    assert findings == [
        "warm-standby: drtiers-dr: DR-BackupCopiedOut on tier warm-standby: no "
        "AWS Backup plan. Fix: add a copy action to the recovery region's vault "
        "to every backup plan rule"
    ]
    assert _tier_of(findings[0]) in stack_tiers(directory).values()


def test_guard_unpacks_once_while_another_process_reads(tmp_path: Path) -> None:
    """Two processes (the test workers, or make check beside a test) unpacking the rules into
    a fresh temporary folder at once: neither may remove the folder the other already reads."""
    script = (
        "from drtiers.checks import guard\n"
        "for _ in range(40):\n"
        "    assert guard._rule_types(); guard._rule_types.cache_clear()\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    runs = [
        subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    errors = [run.communicate()[1].decode()[-300:] for run in runs if run.wait() != 0]
    assert errors == []
    # Unpacked once: the folder and its lock, no staging folder left behind.
    folder = cfn_guard.installed().name  # this process's, in its own temporary folder
    assert sorted(p.name for p in tmp_path.iterdir()) == [folder, f"{folder}.lock"]


def test_guard_reads_a_template_with_characters_outside_the_basic_plane(tmp_path: Path) -> None:
    """Found by make fuzz: a workload's text with a character outside Unicode's basic plane
    reaches a template (a tag, a description); written back as an escaped surrogate pair,
    Guard's parser refused the whole template. It must be checked as written."""
    template = {
        "Resources": {
            "Bucket": {
                "Type": "AWS::S3::Bucket",
                "Properties": {"Tags": [{"Key": "team", "Value": "paiements \U0001d49c"}]},
                "Metadata": {"aws:cdk:path": "stack/Bucket/Resource"},
            }
        }
    }
    path = tmp_path / "stack.template.json"
    path.write_text(json.dumps(template, ensure_ascii=False), encoding="utf-8")
    found = [line for line, _ in cfn_guard._run(path)]
    assert found and all(line.startswith("stack/Bucket: ") for line in found)


def test_cfn_lint_checks_each_template_in_its_stacks_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cfn-lint checks a template against one region's resource schemas (us-east-1 unless told):
    R's stacks must be checked in R. An ECR Public repository (ECR Public is in us-east-1 only)
    is reported in the stack that deploys to eu-central-1, and only there."""
    resource = {"Type": "AWS::ECR::PublicRepository", "Properties": {}}
    artifacts = {}
    for stack, region in (("drtiers-east", "us-east-1"), ("drtiers-frankfurt", "eu-central-1")):
        template = {"Resources": {"Repository": resource}}
        (tmp_path / f"{stack}.template.json").write_text(json.dumps(template))
        artifacts[stack] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://123456789012/{region}",
            "properties": {"templateFile": f"{stack}.template.json"},
        }
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": artifacts}))
    runs = recorded_lint_runs(monkeypatch)
    for processes in (1, 2):  # in this process, then as commands; nothing read back
        monkeypatch.setenv("DRTIERS_CACHE", str(tmp_path / f"cache-{processes}"))
        findings = cfn_lint(tmp_path, processes)
        assert [line.split(":")[0] for line in findings] == ["drtiers-frankfurt"], findings
        assert "E3006" in findings[0] and "eu-central-1" in findings[0]
    assert [way for way, _ in runs] == ["_lint_here", "_lint_here", "_lint_apart", "_lint_apart"]
