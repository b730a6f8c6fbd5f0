"""The image survives the region (issue 18): an image in the primary region's private ECR
registry is replicated to the recovery region by the tier, R's tasks pull the replica, every
execution role that pulls a private image may, and the simulator's I1 sees each of those
missing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from drtiers.assembly.reader import edit_template
from drtiers.build import synthesize
from drtiers.config.context import ConfigError
from drtiers.core.images import private_image, pulled_in
from drtiers.recovery import simulate_assembly
from tests.conftest import ROOT, Synthesized, config, context

P, R, ACCOUNT = "us-east-1", "us-west-2", "123456789012"
WORKLOAD = str(ROOT / "tests/fixtures/workloads/private-image.yaml")
IMAGE = f"{ACCOUNT}.dkr.ecr.{P}.amazonaws.com/shop/api:1.4.2"
REPLICA = f"{ACCOUNT}.dkr.ecr.{R}.amazonaws.com/shop/api:1.4.2"
Resources = dict[str, dict[str, Any]]


@pytest.mark.parametrize(
    ("reference", "repository", "suffix"),
    [
        (IMAGE, "shop/api", ":1.4.2"),
        (f"{ACCOUNT}.dkr.ecr.{P}.amazonaws.com/api", "api", ""),
        (
            f"{ACCOUNT}.dkr.ecr.{P}.amazonaws.com/a/b@sha256:{'ab' * 32}",
            "a/b",
            "@sha256:" + "ab" * 32,
        ),
        (
            f"{ACCOUNT}.dkr.ecr.{P}.amazonaws.com/a:v1@sha256:{'cd' * 32}",
            "a",
            ":v1@sha256:" + "cd" * 32,
        ),
    ],
)
def test_a_private_ecr_reference_is_read_into_its_repository_and_tag(
    reference: str, repository: str, suffix: str
) -> None:
    image = private_image(reference)
    assert image is not None
    assert (image.account, image.region, image.repository, image.suffix) == (
        ACCOUNT,
        P,
        repository,
        suffix,
    )
    assert image.reference_in(P) == reference
    assert image.repository_arn(R) == f"arn:aws:ecr:{R}:{ACCOUNT}:repository/{repository}"


@pytest.mark.parametrize(
    "reference",
    [
        "public.ecr.aws/nginx/nginx-unprivileged:alpine",
        "ghcr.io/acme/shop:1.4.2",
        f"{ACCOUNT}.dkr.ecr.{P}.amazonaws.com.evil.io/shop:1",
    ],
)
def test_other_registries_are_not_private_ecr(reference: str) -> None:
    assert private_image(reference) is None
    assert pulled_in(reference, R, P, ACCOUNT) == reference


def test_tasks_pull_the_replica_in_their_own_region_of_an_image_in_the_home_registry() -> None:
    assert pulled_in(IMAGE, R, P, ACCOUNT) == REPLICA
    assert pulled_in(IMAGE, P, P, ACCOUNT) == IMAGE
    elsewhere = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/shop/api:1.4.2"
    assert pulled_in(elsewhere, R, P, ACCOUNT) == elsewhere  # outside P: survives it as is


def test_an_image_of_another_accounts_registry_in_the_primary_region_is_refused() -> None:
    image = f"210987654321.dkr.ecr.{P}.amazonaws.com/shop/api:1"
    with pytest.raises(ConfigError) as error:
        config(container_image=image)
    assert str(error.value).startswith(f"context key 'container_image': '{image}' is not valid")
    assert "lost with us-east-1" in str(error.value)
    # outside P, another account's image survives P's loss
    config(container_image=f"210987654321.dkr.ecr.{R}.amazonaws.com/shop/api:1")


@pytest.fixture(scope="module")
def pilot_light() -> Synthesized:
    return Synthesized(tier="pilot-light", workload=WORKLOAD)


def test_the_primary_replicates_the_repository_and_r_pulls_the_replica(
    pilot_light: Synthesized,
) -> None:
    primary = pilot_light.json("drtiers-pilot-light-primary")["Resources"]
    (replication,) = [
        r for r in primary.values() if r["Type"] == "AWS::ECR::ReplicationConfiguration"
    ]
    assert replication["Properties"]["ReplicationConfiguration"]["Rules"] == [
        {
            "Destinations": [{"Region": R, "RegistryId": ACCOUNT}],
            "RepositoryFilters": [{"Filter": "shop/api", "FilterType": "PREFIX_MATCH"}],
        }
    ]
    for stack, image in (("primary", IMAGE), ("recovery", REPLICA)):
        resources = pilot_light.json(f"drtiers-pilot-light-{stack}")["Resources"]
        (task,) = [r for r in resources.values() if r["Type"] == "AWS::ECS::TaskDefinition"]
        assert task["Properties"]["ContainerDefinitions"][0]["Image"] == image
    recovery = pilot_light.json("drtiers-pilot-light-recovery")["Resources"]
    pulls = [
        s
        for r in recovery.values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
        if "ecr:BatchGetImage" in json.dumps(s)
    ]
    assert [s["Resource"] for s in pulls] == [f"arn:aws:ecr:{R}:{ACCOUNT}:repository/shop/api"]


def _simulated(source: Synthesized, tier: str, tmp: Path, edits: dict[str, Any]) -> list[str]:
    """The I1 details of region loss, with ``edits`` (stack -> edit) planted in a copy."""
    directory = tmp / "assembly"
    shutil.copytree(source.directory, directory)
    for stack, edit in edits.items():
        edit_template(directory, stack, edit)
    ((loss, back),) = simulate_assembly(
        directory, context(tier=tier, workload=WORKLOAD), synthesize, tier=tier
    )
    assert back.verdicts()["I1"] == "pass"
    return [v.detail for v in loss.violations if v.invariant == "I1"]


def _no_replication(resources: Resources) -> None:
    for logical_id in [i for i, r in resources.items() if "ECR::Replication" in r["Type"]]:
        del resources[logical_id]


def _image(reference: str) -> Any:
    def edit(resources: Resources) -> None:
        for resource in resources.values():
            if resource["Type"] == "AWS::ECS::TaskDefinition":
                resource["Properties"]["ContainerDefinitions"][0]["Image"] = reference

    return edit


def _no_pull(resources: Resources) -> None:
    for resource in resources.values():
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::Role"):
            documents = [resource["Properties"].get("PolicyDocument")] + [
                p["PolicyDocument"] for p in resource["Properties"].get("Policies", [])
            ]
            for document in filter(None, documents):
                document["Statement"] = [
                    s for s in document["Statement"] if "ecr:" not in json.dumps(s["Action"])
                ]


@pytest.mark.parametrize(
    ("edits", "found"),
    [
        ({}, []),
        (
            {"drtiers-pilot-light-primary": _no_replication},
            [f"its image {REPLICA} is in no registry: nothing pushes or replicates it"],
        ),
        (
            {"drtiers-pilot-light-recovery": _image(IMAGE)},
            [f"its image {IMAGE} is in {P}'s registry, which is down"],
        ),
        (
            {"drtiers-pilot-light-recovery": _no_pull},
            [f"its execution role may not pull arn:aws:ecr:{R}:{ACCOUNT}:repository/shop/api"],
        ),
    ],
    ids=["as-synthesized", "no-replication", "r-pulls-from-p", "no-pull-grant"],
)
def test_i1_sees_r_unable_to_pull_its_image(
    pilot_light: Synthesized, tmp_path: Path, edits: dict[str, Any], found: list[str]
) -> None:
    assert _simulated(pilot_light, "pilot-light", tmp_path, edits) == found


def test_the_rebuilt_tasks_pull_with_the_role_made_beforehand(tmp_path: Path) -> None:
    """backup-restore's rebuild imports its execution role by name from R's recovery-base
    stack: that role must be granted the pull when it is made, before the event."""
    tier = "backup-restore"
    synthesized = Synthesized(tier=tier, workload=WORKLOAD)
    assert _simulated(synthesized, tier, tmp_path / "kept", {}) == []
    found = _simulated(
        synthesized, tier, tmp_path / "planted", {f"drtiers-{tier}-recovery-base": _no_pull}
    )
    assert found == [
        f"its execution role may not pull arn:aws:ecr:{R}:{ACCOUNT}:repository/shop/api"
    ]
