"""Shared fixtures: the default configuration, and every tier synthesized once per session."""

from __future__ import annotations

import gc
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # imported where used: pytest-xdist's controller never starts jsii's Node.js
    from aws_cdk.assertions import Template

    from drtiers.build import TierStacks

ROOT = Path(__file__).resolve().parent.parent
# Run jsii on the project's pinned Node.js 22 (node_modules), as the CDK CLI does.
_NODE = ROOT / "node_modules" / ".bin" / "node"
if _NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_NODE))
# The working tree's cache (as `make check` and `cdk synth` use it): cfn-lint's and Guard's
# findings per template (they depend on a template's bytes alone) and kept syntheses, but in a
# test that patches drtiers (``_patched_sees_its_patch``).
os.environ["DRTIERS_CACHE"] = str(ROOT / "cdk.out" / ".cache")


# The files that take one worker longest (a workload through every gate, CLI runs that start
# Node.js, make check's own run) go first: pytest-xdist hands out whole files in this order
# (`make pytest` keeps it: --no-loadscope-reorder), and one of them handed out last would keep
# a worker busy while the other waits.
FIRST = (
    "test_generated.py",
    "test_app.py",
    "test_policy.py",
    "test_recovery.py",  # the other region pair linted, and the invariants' planted defects
    "test_workload.py",
    "test_fleet.py",  # six applications-in-accounts synthesized, then the pipeline
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(FIRST)))


def pytest_collection_finish(session: pytest.Session) -> None:
    """A worker's heap holds aws-cdk-lib's modules, cfn-lint's rules and the session's
    syntheses, and every full garbage collection walked all of it: ~26 a worker, ~0.35 s
    each, a twentieth of the suite's CPU. What collection imported is kept out of
    collections (frozen), and a full collection waits for 100 of the middle generation's
    (CPython's default: 10), ~9 a worker; the short-lived objects are collected as before
    (decision 59)."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, 100)


@pytest.fixture(autouse=True)
def _patched_sees_its_patch(request: pytest.FixtureRequest) -> None:
    """A test that breaks a tier in code (monkeypatch) must see its break synthesized, never a
    synthesis kept from the unbroken code (no key can see a patch): kept syntheses are off for
    it, and it keeps none."""
    if "monkeypatch" in request.fixturenames:
        patch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
        patch.setenv("DRTIERS_CACHE_SYNTHESES", "off")


from drtiers.assembly.reader import TierAssembly, read_assembly  # noqa: E402
from drtiers.config.context import DrConfig, cdk_json_context, from_context  # noqa: E402

CDK = ROOT / "node_modules" / ".bin" / "cdk"


def run_cdk_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The pinned CDK CLI, from the repository root, on the pinned Node.js (as `npx cdk`)."""
    env = {**os.environ, "PATH": f"{CDK.parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        [str(CDK), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def main_as_the_cli(
    monkeypatch: pytest.MonkeyPatch,
    given: dict[str, Any],
    outdir: Path,
    customize: Callable[[Any], None] | None = None,
) -> int:
    """entry.main (what app.py runs) in this process, as `cdk synth` starts it: the context and
    the output folder in the environment, and given to the app too (jsii's Node.js process
    started before they were set). An app the run builds itself (build_app) is made as asked."""
    from drtiers import build, entry

    monkeypatch.setenv("CDK_OUTDIR", str(outdir))
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps(given))
    app = build.DrApp

    def as_the_cli_starts_it(**asked: Any) -> Any:
        return app(**asked) if asked else app(context=given, outdir=outdir)

    monkeypatch.setattr(build, "DrApp", as_the_cli_starts_it)
    return entry.main(customize)


# cdk.json's context as `cdk synth` hands it to the app, its feature flags included (without
# them the tests' templates were not the ones users get: other key policies, ECS deployment
# settings, ...).
DEFAULT_CONTEXT: dict[str, Any] = {
    **cdk_json_context(ROOT),
    # drtiers' own workload, whatever drtiers.yaml a user keeps beside cdk.json
    "workload": "reference",
}


def context(**overrides: Any) -> dict[str, Any]:
    return {**DEFAULT_CONTEXT, **overrides}


def config(**overrides: Any) -> DrConfig:
    merged = context(**overrides)
    return from_context(merged.get)


@pytest.fixture(scope="session")
def make_config() -> Callable[..., DrConfig]:
    return config


class Synthesized:
    """An app with its tiers composed and synthesized, and templates by stack name."""

    def __init__(self, *, builtin_validation: bool = False, **overrides: Any) -> None:
        # The CDK's built-in CloudFormation validation costs ~1.3 s a synthesis; test_app runs
        # it on the configurations the pinned cfn-lint does not check (sandbox, the rebuild),
        # not at every synthesis the tests make.
        from drtiers.build import DrApp

        self.app = DrApp(context=context(**overrides), builtin_validation=builtin_validation)
        self.config = self.app.config
        self.tiers: dict[str, TierStacks] = {s.primary.tier.name: s for s in self.app.tiers}
        self.assembly = self.app.synth()
        self._templates: dict[str, Template] = {}
        self._read: dict[str, TierAssembly] | None = None

    def template(self, stack_name: str) -> Template:
        from aws_cdk import Stack
        from aws_cdk.assertions import Template

        if stack_name not in self._templates:
            # Any stack of the app: the tiers', the plans' and the app's zone stack.
            stack = next(
                s
                for s in self.app.node.children
                if isinstance(s, Stack) and s.stack_name == stack_name
            )
            self._templates[stack_name] = Template.from_stack(stack)
        return self._templates[stack_name]

    def json(self, stack_name: str) -> dict[str, Any]:
        return self.template(stack_name).to_json()  # type: ignore[no-any-return]

    @property
    def directory(self) -> Path:
        return Path(self.assembly.directory)

    def read(self, tier: str) -> TierAssembly:
        """One tier as the assembly reader sees it (what every consumer in drtiers reads)."""
        if self._read is None:
            self._read = read_assembly(self.directory)
        return self._read[tier]


@pytest.fixture(scope="session")
def synthesized() -> Synthesized:
    """All four tiers with the defaults of cdk.json, synthesized once."""
    return Synthesized()


@pytest.fixture(scope="session")
def sandbox() -> Synthesized:
    return Synthesized(sandbox="true")


# What backup-restore's rebuild is given (restore_from): P us-east-1 lost, rebuilt in us-west-2.
REBUILD_SNAPSHOT = "arn:aws:rds:us-west-2:123456789012:snapshot:awsbackup:copyjob-1"
REBUILD_LISTENER = "arn:aws:globalaccelerator::123456789012:accelerator/a1/listener/b2"
REBUILD_EVENT = "2612042310"


# backup-restore's primary stack rebuilt in us-west-2 during an event.
REBUILD = {
    "tier": "backup-restore",
    "primary_region": "us-west-2",
    "recovery_region": "us-east-1",
    "restore_from": json.dumps(
        {
            "database_snapshot": REBUILD_SNAPSHOT,
            "listener_arn": REBUILD_LISTENER,
            "event": REBUILD_EVENT,
        }
    ),
}


@pytest.fixture(scope="session")
def rebuilt() -> Synthesized:
    """backup-restore's primary stack rebuilt in us-west-2 during an event, synthesized once."""
    return Synthesized(**REBUILD)


@pytest.fixture(scope="session")
def reports(synthesized: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The review reports of every tier (drtiers report), written once per session."""
    from drtiers.report.build import write_reports

    out = tmp_path_factory.mktemp("reports")
    write_reports(Path(synthesized.assembly.directory), out, context())
    return out


def simulate_rebuild(
    synthesized: Synthesized, tier: str, stack: str, edit: Callable[[dict[str, Any]], None] | None
) -> tuple[Any, Any]:
    """Region loss and failback of ``tier``, with ``edit`` applied to ``stack``'s resources
    each time a step synthesizes it for a rebuild (restore_from): a defect planted in what the
    rebuild deploys, not in the tier as first deployed."""
    from drtiers.assembly.reader import edit_template
    from drtiers.build import synthesize
    from drtiers.recovery import simulate_assembly

    def rebuild(overrides: Any, outdir: Path) -> None:
        synthesize(overrides, outdir)
        if edit is not None and overrides.get("restore_from"):
            edit_template(outdir, stack, edit)

    ((loss, back),) = simulate_assembly(synthesized.directory, context(), rebuild, tier=tier)
    return loss, back


def edit_adopt_payloads(value: Any, change: Callable[[dict[str, Any]], object]) -> None:
    """Every adopt payload in ``value`` (a JSON string in a plan's Lambda block configuration)
    changed in place by ``change``: a defect planted in what the plan asks its function."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Payload" and isinstance(inner, str) and '"adopt"' in inner:
                payload = json.loads(inner)
                change(payload)
                value[key] = json.dumps(payload)
            else:
                edit_adopt_payloads(inner, change)
    elif isinstance(value, list):
        for inner in value:
            edit_adopt_payloads(inner, change)
