"""Reading a synthesized cloud assembly: a tier's stacks, their regions and their resources.

The model looks only at what was synthesized. The ``drtiers:tier`` stack tag groups stacks and
labels the result; no decision is taken on its value.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drtiers.core.tiers import (
    APP_TAG,
    FAILED_OVER_TAG,
    FIGURES_METADATA,
    ROLE_TAG,
    TIER_TAG,
    StackRole,
)


class AssemblyError(ValueError):
    """The directory is not a drtiers cloud assembly."""


def tag_map(tags: Any) -> dict[str, str]:
    """A CloudFormation ``Tags`` list (``[{"Key": .., "Value": ..}]``) as key -> value."""
    return {t["Key"]: t["Value"] for t in tags or []}


@dataclass(frozen=True)
class Resource:
    stack: str
    region: str
    role: str
    logical_id: str
    type: str
    properties: dict[str, Any]
    deletion_policy: str | None = None
    update_replace_policy: str | None = None

    def prop(self, *path: str, default: Any = None) -> Any:
        value: Any = self.properties
        for key in path:
            if not isinstance(value, dict) or key not in value:
                return default
            value = value[key]
        return value


@dataclass
class TierAssembly:
    """All stacks of one tier, as synthesized."""

    name: str
    stacks: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (role, region)
    dependencies: dict[str, list[str]] = field(default_factory=dict)  # stack -> stacks first
    resources: list[Resource] = field(default_factory=list)
    # Sandbox mode leaves termination protection off: the one thing every stack shows.
    termination_protected: bool = True
    failed_over: bool = False  # the recovery stack was synthesized for an event in progress
    account: str = ""
    app: str = ""  # the app_name its stacks are tagged with (APP_TAG)
    # The workload file's figures the tier was synthesized with (manifest metadata, not the
    # templates): what the estimate and the simulator assume unless told otherwise.
    figures: dict[str, float] = field(default_factory=dict)

    @property
    def sandbox(self) -> bool:
        return not self.termination_protected

    def region_of(self, role: StackRole) -> str | None:
        return next((region for r, region in self.stacks.values() if r == role), None)

    @property
    def primary_region(self) -> str:
        region = self.region_of(StackRole.PRIMARY)
        if region is None:
            raise AssemblyError(f"tier {self.name}: no primary stack in the assembly")
        return region

    @property
    def recovery_region(self) -> str:
        """The other region of the tier: where its recovery-base stack lives."""
        region = self.region_of(StackRole.RECOVERY_BASE) or self.region_of(StackRole.RECOVERY)
        if region is None:
            raise AssemblyError(f"tier {self.name}: no recovery-region stack in the assembly")
        return region

    def of_type(self, type_: str, role: str | None = None) -> list[Resource]:
        return [r for r in self.resources if r.type == type_ and (role is None or r.role == role)]

    def by_id(self, stack: str, logical_id: str) -> Resource | None:
        return next(
            (r for r in self.resources if r.stack == stack and r.logical_id == logical_id), None
        )

    def referenced(self, stack: str, value: Any) -> Resource | None:
        """The resource of ``stack`` a value refers to (its first Ref or Fn::GetAtt), if one."""
        found = re.search(r'"(?:Ref|Fn::GetAtt)": \[?"([A-Za-z0-9]+)"', json.dumps(value))
        return self.by_id(stack, found[1]) if found else None

    def resource_keys(self) -> set[tuple[str, str, str]]:
        """(region, type, logical id) of every resource: what ``diff`` compares."""
        return {(r.region, r.type, r.logical_id) for r in self.resources}


def _region(artifact: dict[str, Any]) -> str:
    """The region of a stack's environment (``aws://<account>/<region>``)."""
    return str(artifact["environment"]).rsplit("/", 1)[-1]


def _stacks(manifest: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, artifact in manifest.get("artifacts", {}).items():
        if artifact.get("type") == "aws:cloudformation:stack":
            yield name, artifact


def _stack_metadata(directory: Path, name: str, artifact: dict[str, Any], wanted: str) -> list[Any]:
    """The stack's own metadata entries of type ``wanted``: in the manifest, or (as aws-cdk-lib
    now writes them) in the file ``additionalMetadataFile`` names beside it
    (``<stack>.metadata.json``). That file, an entry or more for every construct (logical ids,
    acknowledgments), is parsed only when it names the type: parsing every one was a fifth of
    reading an assembly."""
    entries = list(artifact.get("metadata", {}).get(f"/{name}", []))
    extra = artifact.get("additionalMetadataFile")
    if extra:
        text = (directory / extra).read_text()
        if wanted in text:
            entries += json.loads(text).get(f"/{name}", [])
    return [entry for entry in entries if entry.get("type") == wanted]


def read_assembly(directory: Path) -> dict[str, TierAssembly]:
    """Every drtiers tier in a cloud assembly directory (``cdk.out``), by tier label. The app's
    zone stack (role ``zone``, no tier) is in every tier: each tier's edge stack needs it."""
    manifest_file = directory / "manifest.json"
    if not manifest_file.is_file():
        raise AssemblyError(f"{directory}: no manifest.json; run `cdk synth` first")
    manifest = json.loads(manifest_file.read_text())
    tiers: dict[str, TierAssembly] = {}
    shared = []
    for name, artifact in _stacks(manifest):
        tags = artifact.get("properties", {}).get("tags", {})
        if TIER_TAG in tags:
            tier = tiers.setdefault(tags[TIER_TAG], TierAssembly(name=tags[TIER_TAG]))
            _add_stack(directory, manifest, tier, name, artifact)
        elif tags.get(ROLE_TAG) == StackRole.ZONE:
            shared.append((name, artifact))
    if not tiers:
        raise AssemblyError(f"{directory}: no drtiers stacks (none tagged {TIER_TAG})")
    for tier in tiers.values():
        for name, artifact in shared:
            _add_stack(directory, manifest, tier, name, artifact)
    return tiers


def _add_stack(
    directory: Path, manifest: dict[str, Any], tier: TierAssembly, name: str, artifact: Any
) -> None:
    props = artifact.get("properties", {})
    tags = props.get("tags", {})
    region = _region(artifact)
    role = tags.get(ROLE_TAG, "")
    tier.stacks[name] = (role, region)
    tier.account = artifact["environment"].split("/")[-2]
    if role != StackRole.ZONE:  # the app's zone stack is every tier's
        tier.app = tags.get(APP_TAG, tier.app)
    tier.dependencies[name] = [
        d
        for d in artifact.get("dependencies", [])
        if d in manifest["artifacts"]
        and manifest["artifacts"][d].get("type") == "aws:cloudformation:stack"
    ]
    tier.termination_protected &= bool(props.get("terminationProtection", False))
    tier.failed_over |= tags.get(FAILED_OVER_TAG) == "true"
    for entry in _stack_metadata(directory, name, artifact, FIGURES_METADATA):
        tier.figures = {k: float(v) for k, v in entry["data"].items()}
    template = json.loads((directory / props["templateFile"]).read_text())
    for logical_id, resource in template.get("Resources", {}).items():
        tier.resources.append(
            Resource(
                stack=name,
                region=region,
                role=role,
                logical_id=logical_id,
                type=resource["Type"],
                properties=resource.get("Properties", {}),
                deletion_policy=resource.get("DeletionPolicy"),
                update_replace_policy=resource.get("UpdateReplacePolicy"),
            )
        )


def stack_tiers(directory: Path) -> dict[str, str]:
    """Stack name -> tier label, from the manifest's stack tags (not the app's zone stack)."""
    return {name: tier for name, (tier, _) in stack_roles(directory).items()}


def stack_roles(directory: Path) -> dict[str, tuple[str, str]]:
    """Stack name -> (tier label, role), from the manifest's stack tags (not the app's zone
    stack): without reading a template."""
    manifest = json.loads((directory / "manifest.json").read_text())
    return {
        name: (tags[TIER_TAG], tags.get(ROLE_TAG, ""))
        for name, artifact in _stacks(manifest)
        if TIER_TAG in (tags := artifact["properties"]["tags"])
    }


def template_regions(directory: Path) -> dict[str, str]:
    """Template file name -> the region its stack deploys to (the manifest's environment);
    empty for a folder of templates without a manifest."""
    manifest_file = directory / "manifest.json"
    if not manifest_file.is_file():
        return {}
    return {
        artifact["properties"]["templateFile"]: _region(artifact)
        for _, artifact in _stacks(json.loads(manifest_file.read_text()))
    }


def missing_lookups(directory: Path) -> list[dict[str, Any]]:
    """Context lookups the synthesis could not answer (they would need an AWS account)."""
    return list(json.loads((directory / "manifest.json").read_text()).get("missing", []))


def template_files(directory: Path) -> list[Path]:
    """Every template of the assembly, in name order: what cfn-lint and Guard are handed."""
    return sorted(directory.glob("*.template.json"))


def copy_assembly(source: Path, target: Path) -> Path:
    """A copy of an assembly without its assets, to edit without touching the original."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("asset.*"))
    return target


def edit_template(
    directory: Path, stack: str, edit: Callable[[dict[str, dict[str, Any]]], None]
) -> None:
    """Rewrite one stack's template in place: ``edit`` changes its Resources (by logical id).
    How tests and the mutation harness plant a defect in a synthesized tier."""
    path = directory / f"{stack}.template.json"
    if not path.is_file():
        raise AssemblyError(f"{directory}: no template for stack {stack}")
    template = json.loads(path.read_text())
    edit(template["Resources"])
    path.write_text(json.dumps(template))


def acknowledgments(directory: Path) -> Iterator[tuple[str, str, str, str, str]]:
    """(stack, logical id, checker, rule, reason) of every acknowledgment in the templates."""
    for template in template_files(directory):
        resources = json.loads(template.read_text()).get("Resources", {})
        for logical_id, resource in resources.items():
            recorded = resource.get("Metadata", {}).get("drtiers:acknowledged", {})
            for checker, rules in recorded.items():
                for rule, reason in rules.items():
                    yield (
                        template.name.removesuffix(".template.json"),
                        logical_id,
                        checker,
                        rule,
                        reason,
                    )
