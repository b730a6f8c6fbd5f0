"""The synthesis cache: its key follows every input of a synthesis, what it keeps comes back
byte for byte, and `cdk synth` and `make check` use it (drtiers/assembly/cache.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from drtiers import entry
from drtiers.assembly import cache
from drtiers.assembly.reader import template_files
from drtiers.checks import gates
from drtiers.core import facts
from tests.conftest import CDK, DEFAULT_CONTEXT, ROOT, main_as_the_cli, run_cdk_cli


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own, syntheses kept (a test that patches keeps none)."""
    monkeypatch.setenv(cache.SETTING, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.SYNTHESES_SETTING, raising=False)
    return tmp_path / "cache"


def _assembly(directory: Path, text: str) -> Path:
    """A small assembly as the CDK writes one: a stack, its asset manifest and one asset."""
    (directory / "asset.abc").mkdir(parents=True)
    (directory / "asset.abc" / "index.py").write_text("def handler(e, c): pass\n")
    stack = {"type": "aws:cloudformation:stack", "properties": {"templateFile": "x.template.json"}}
    assets = {"type": "cdk:asset-manifest", "properties": {"file": "x.assets.json"}}
    artifacts = {"x": {**stack, "additionalMetadataFile": "x.metadata.json"}, "x.assets": assets}
    (directory / "manifest.json").write_text(json.dumps({"version": "1", "artifacts": artifacts}))
    (directory / "x.template.json").write_text(text)
    (directory / "x.metadata.json").write_text("{}")
    files = {"h": {"source": {"path": "asset.abc", "packaging": "zip"}}}
    (directory / "x.assets.json").write_text(json.dumps({"files": files}))
    return directory


def _files(directory: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(directory)): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file() and ".cache" not in p.parts
    }


def _drtiers_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("drtiers: ")]


def test_the_key_follows_every_input(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = tmp_path / "drtiers.yaml"
    workload.write_text("service: {name: shop}\n")
    package = tmp_path / "package"
    package.mkdir()
    (package / "module.py").write_text("A = 1\n")
    monkeypatch.setattr(cache, "_PACKAGE", package)
    installed = tmp_path / "site"
    (installed / "aws_cdk_lib-2.0.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(installed))
    overflow, prices = tmp_path / "overflow.json", tmp_path / "prices.json"
    monkeypatch.setattr(facts, "_price_file", {})  # the bundled file, and back after the test
    given = {**DEFAULT_CONTEXT, "workload": str(workload)}
    first = cache.key(given)
    assert first is not None and cache.key(dict(given)) == first
    changes = {
        "context": lambda: cache.key({**given, "tier": "pilot-light"}),
        "workload file": lambda: workload.write_text("service: {name: shop2}\n"),
        "code": lambda: (package / "module.py").write_text("A = 2\n"),
        "a package version": lambda: (installed / "aws_cdk_lib-2.0.0.dist-info").rename(
            installed / "aws_cdk_lib-2.1.0.dist-info"
        ),
        "the price file": lambda: (
            prices.write_text((ROOT / "drtiers" / "core" / "prices.json").read_text()),
            facts.use_price_file(str(prices)),
        ),
        "the CLI's environment": lambda: monkeypatch.setenv("CDK_DEFAULT_REGION", "eu-west-9"),
        "the CLI's context": lambda: monkeypatch.setenv(
            "CDK_CONTEXT_JSON", '{"@aws-cdk/x:flag": true}'
        ),
        "the CLI's overflow file": lambda: (
            overflow.write_text('{"@aws-cdk/y:flag": true}'),
            monkeypatch.setenv("CONTEXT_OVERFLOW_LOCATION_ENV", str(overflow)),
        ),
        "the CLI's context beside an overflow file": lambda: monkeypatch.setenv(
            "CDK_CONTEXT_JSON", '{"@aws-cdk/x:flag": false}'
        ),
    }
    seen = {first}
    for name, change in changes.items():
        changed = change() if name == "context" else (change(), cache.key(given))[1]
        assert changed not in seen, f"the key ignores {name}"
        seen.add(changed)
    now = cache.key(given)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "elsewhere"))  # where, not what
    assert cache.key(given) == now
    assert cache.key({**given, "workload": str(tmp_path / "missing.yaml")}) is None


def test_a_kept_synthesis_comes_back_byte_for_byte(folder: Path, tmp_path: Path) -> None:
    """What the manifest names comes back; what an earlier synthesis or the CDK CLI left in
    the same folder (an old template, its lock file) is not kept."""
    source = _assembly(tmp_path / "first", '{"Resources": {}}')
    expected = _files(source)
    (source / "drtiers-old.template.json").write_text("{}")
    (source / "synth.lock").write_text("1234")
    cache.store("k1", source, "drtiers: notice: something\n")
    target = tmp_path / "second"
    assert cache.restore("k1", target) == "drtiers: notice: something\n"
    assert _files(target) == expected
    assert cache.restore("k2", tmp_path / "third") is None
    assert not (tmp_path / "third").exists()
    assert cache.extra("k1", "checks") is None
    cache.keep_extra("k1", "checks", {"guard": ["finding"]})
    assert cache.extra("k1", "checks") == {"guard": ["finding"]}
    cache.keep_extra("k2", "checks", {"guard": []})  # nothing kept under k2: nothing to add to
    assert cache.extra("k2", "checks") is None


def test_the_oldest_entries_go_and_off_means_off(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "KEEP", 2)
    source = _assembly(tmp_path / "a", "{}")
    for age, name in enumerate(("old", "mid", "new")):
        cache.store(name, source)
        os.utime(folder / name, (1_000_000 + age, 1_000_000 + age))
    cache.store("newest", source)
    assert sorted(p.name for p in folder.iterdir()) == ["new", "newest"]
    monkeypatch.setenv(cache.SETTING, "off")
    cache.store("unkept", source)
    assert cache.restore("new", tmp_path / "b") is None
    assert not (folder / "unkept").exists()


def test_eviction_skips_what_another_process_evicted_meanwhile(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes keeping syntheses at once (found by two fuzzing runs on one cache): an
    entry the other process renames away between the listing and the look at its age is
    skipped, not a crash of the synthesis that was being kept."""
    monkeypatch.setattr(cache, "KEEP", 1)
    source = _assembly(tmp_path / "a", "{}")
    cache.store("old", source)
    is_dir = Path.is_dir

    def evicted_by_the_other(path: Path) -> bool:
        listed = is_dir(path)
        if listed and path == folder / "old" / "assembly":
            (folder / "old").rename(folder / ".old-old-elsewhere")  # the other process's move
        return listed

    monkeypatch.setattr(Path, "is_dir", evicted_by_the_other)
    cache.store("new", source)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["new"]


@pytest.mark.skipif(not CDK.exists(), reason="run `make setup` for the pinned CDK CLI")
def test_cdk_synth_copies_a_kept_synthesis(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second identical `cdk synth` copies the first (a mark planted in the kept copy
    shows up) and prints what the first printed: sandbox mode's warning among it."""
    args = ["synth", "--quiet", "--context", "tier=backup-restore", "--context", "sandbox=true"]
    first = run_cdk_cli(*args, "--output", str(tmp_path / "one"))
    assert first.returncode == 0, first.stderr
    assert "drtiers: WARNING: sandbox=true" in first.stderr
    (kept,) = [p for p in folder.iterdir() if not p.name.startswith(".")]
    mark = kept / "assembly" / "drtiers-backup-restore-edge.template.json"
    mark.write_text(mark.read_text().replace("{", '{"Marked": 1, ', 1))
    second = run_cdk_cli(*args, "--output", str(tmp_path / "two"))
    assert second.returncode == 0, second.stderr
    assert "drtiers: WARNING: sandbox=true" in second.stderr
    assert _drtiers_lines(second.stderr) == _drtiers_lines(first.stderr)
    copied = (tmp_path / "two" / "drtiers-backup-restore-edge.template.json").read_text()
    assert copied.startswith('{"Marked": 1, ')
    assert len(template_files(tmp_path / "two")) == len(template_files(tmp_path / "one"))


def test_a_rejected_synth_keeps_nothing(
    folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What `cdk synth` runs, as the CLI starts it (context and output folder in the
    environment), with a problem found after synthesis: exit 2, an empty output folder, and
    nothing kept."""
    given = {**DEFAULT_CONTEXT, "tier": "backup-restore"}
    monkeypatch.setattr(entry, "_problems", lambda app, directory: ["drtiers: error: planted"])
    assert main_as_the_cli(monkeypatch, given, tmp_path / "out") == 2
    assert capsys.readouterr().err.endswith("drtiers: error: planted\n")
    assert list((tmp_path / "out").iterdir()) == []
    assert not folder.exists() or not any(folder.iterdir())


def test_make_check_reads_the_findings_kept_with_a_synthesis(
    folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cfn-lint's, cdk-nag's and Guard's findings are kept with the synthesis they judged and
    read back (a finding planted in the kept copy comes back) while nothing changed: the
    checkers run once. (What they find on a tier is tests/test_policy.py's: here each finds
    one line of its own.)"""
    runs: list[str] = []

    def checker(name: str) -> Any:
        def run(*_: Any) -> list[str]:
            runs.append(name)
            return [f"{name}: found"]

        return run

    for name in ("cfn_lint", "guard", "cdk_nag"):
        monkeypatch.setattr(gates, name, checker(name))
    given = {**DEFAULT_CONTEXT, "tier": "backup-restore", "drills": True}
    found, simulated = gates._policy_checks(tmp_path / "one", given)
    assert found == {
        "cfn-lint": ["cfn_lint: found"],
        "cdk-nag": ["cdk_nag: found"],
        "guard": ["guard: found"],
    }
    assert sorted(runs) == ["cdk_nag", "cfn_lint", "guard"]
    assert [loss.tier for loss, _ in simulated] == ["backup-restore"]
    name = cache.key(given)
    cache.keep_extra(
        name, gates._kept_label(), {**found, "guard": ["drtiers-backup-restore-edge/X"]}
    )
    again, simulated_again = gates._policy_checks(tmp_path / "two", given)
    assert again["guard"] == ["drtiers-backup-restore-edge/X"]
    assert len(runs) == 3  # read back, not run again
    assert [loss.tier for loss, _ in simulated_again] == ["backup-restore"]  # run again
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


def test_the_kept_findings_name_the_cfn_lint_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .cfnlintrc beside cdk.json changes what cfn-lint finds: findings kept without it are
    not read back with it."""
    monkeypatch.chdir(tmp_path)
    before = gates._kept_label()
    (tmp_path / ".cfnlintrc").write_text("ignore_checks: [W3005]\n")
    assert gates._kept_label() != before


def test_cfn_lint_and_guard_check_a_template_once(folder: Path, tmp_path: Path) -> None:
    """A template of the same bytes is not checked again: a finding planted in what was kept
    for it comes back; changed by one byte, it is checked again."""
    from drtiers.checks.guard import checked

    queue = {"Q": {"Type": "AWS::SQS::Queue", "Properties": {}}}
    template = tmp_path / "t" / "drtiers-x.template.json"
    template.parent.mkdir()
    template.write_text(json.dumps({"Resources": queue}))
    assert gates.cfn_lint(template.parent) == []
    assert any("sqs_dlq_check" in line for line, _ in checked(template.parent))
    kept = sorted((folder / "findings").glob("*/*.json"))
    assert len(kept) == 2
    for path in kept:
        planted = (
            [["drtiers-x/Q: planted", False]]
            if path.parent.name.startswith("guard-")
            else ["1:1:planted"]
        )
        path.write_text(json.dumps(planted))
    assert gates.cfn_lint(template.parent) == ["drtiers-x: 1:1:planted"]
    assert checked(template.parent) == [("drtiers-x/Q: planted", False)]
    template.write_text(json.dumps({"Resources": queue}, indent=1))
    assert gates.cfn_lint(template.parent) == []
    assert any("sqs_dlq_check" in line for line, _ in checked(template.parent))
