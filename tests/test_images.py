"""The image survives the region (issue 18): an image in the primary region's private ECR
registry is replicated to the recovery region by the tier, R's tasks pull the replica, every
execution role that pulls a private image may, and the simulator's I1 sees each of those
missing."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from drtiers.assembly.reader import edit_template
from drtiers.assembly.world import read_world
from drtiers.build import synthesize
from drtiers.config.context import ConfigError
from drtiers.core.images import COPY_TYPE, RULE_TYPE, private_image, pulled_in
from drtiers.lambdas import ecr_replication
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


def test_a_private_repository_name_ecr_would_refuse_is_refused_at_the_file() -> None:
    image = f"{ACCOUNT}.dkr.ecr.{R}.amazonaws.com/Shop/API:1"
    with pytest.raises(ConfigError, match="lowercase letters and digits"):
        config(container_image=image)


def test_a_dual_stack_registry_is_private_ecr_too() -> None:
    image = private_image(f"{ACCOUNT}.dkr-ecr.{P}.on.aws/shop/api:1")
    assert image is not None
    assert image.reference_in(R) == f"{ACCOUNT}.dkr-ecr.{R}.on.aws/shop/api:1"


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
    (rule,) = [r for r in primary.values() if r["Type"] == RULE_TYPE]
    assert {k: v for k, v in rule["Properties"].items() if k != "ServiceToken"} == {
        "Repository": "shop/api",
        "Region": R,
        "RegistryId": ACCOUNT,
        "ServiceTimeout": "120",  # not CloudFormation's hour, if the function never answers
    }
    assert rule["DeletionPolicy"] == "Retain"  # other tiers may pull what it copies
    for stack in ("primary", "recovery"):  # its function's logs are kept, like the stack's own
        resources = pilot_light.json(f"drtiers-pilot-light-{stack}")["Resources"]
        logs = [
            r for i, r in resources.items() if i.startswith("Image") and "LogGroup" in r["Type"]
        ]
        assert [r["DeletionPolicy"] for r in logs] == ["RetainExceptOnCreate"], stack
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
    for logical_id in [i for i, r in resources.items() if r["Type"] == RULE_TYPE]:
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


# --- the rule's custom resource, against the emulator --------------------------------------------

OURS = {
    "destinations": [{"region": R, "registryId": ACCOUNT}],
    "repositoryFilters": [{"filter": "shop/api", "filterType": "PREFIX_MATCH"}],
}
THEIRS = {
    "destinations": [{"region": "eu-west-1", "registryId": ACCOUNT}],
    "repositoryFilters": [{"filter": "team", "filterType": "PREFIX_MATCH"}],
}


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", P)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("ecr", region_name=P)


def _rules(ecr: Any) -> list[dict[str, Any]]:
    return ecr.describe_registry()["replicationConfiguration"]["rules"]  # type: ignore[no-any-return]


def test_the_rule_is_added_beside_the_registrys_own_and_only_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """AWS::ECR::ReplicationConfiguration would fail on a registry with rules, and empty it on
    delete: the custom resource keeps what is there and adds its rule once. (The emulator
    refuses a second rule, which ECR allows: botocore's Stubber checks the calls against
    ECR's service model instead.)"""
    ecr = boto3.client("ecr", region_name=P)
    stubber = Stubber(ecr)
    monkeypatch.setattr(ecr_replication, "_client", lambda: ecr)
    registry = {"registryId": ACCOUNT}
    stubber.add_response(
        "describe_registry", {**registry, "replicationConfiguration": {"rules": [THEIRS]}}
    )
    stubber.add_response(
        "put_replication_configuration",
        {"replicationConfiguration": {"rules": [THEIRS, OURS]}},
        {"replicationConfiguration": {"rules": [THEIRS, OURS]}},
    )
    stubber.add_response(  # read again: another writer in between would have dropped it
        "describe_registry", {**registry, "replicationConfiguration": {"rules": [THEIRS, OURS]}}
    )
    stubber.add_response(  # a second tier of the app finds it there
        "describe_registry", {**registry, "replicationConfiguration": {"rules": [THEIRS, OURS]}}
    )
    with stubber:
        assert ecr_replication.add_rule("shop/api", R, ACCOUNT) is True
        assert ecr_replication.add_rule("shop/api", R, ACCOUNT) is False
    stubber.assert_no_pending_responses()


def test_a_rule_that_copies_the_repository_already_is_enough(registry: Any) -> None:
    everything = {"destinations": [{"region": R, "registryId": ACCOUNT}]}
    registry.put_replication_configuration(replicationConfiguration={"rules": [everything]})
    assert ecr_replication.add_rule("shop/api", R, ACCOUNT) is False
    assert len(_rules(registry)) == 1


@pytest.mark.parametrize(
    ("request_type", "status", "rules"),
    [("Create", "SUCCESS", [OURS]), ("Delete", "SUCCESS", []), ("Update", "SUCCESS", [OURS])],
)
def test_the_handler_answers_cloudformation_and_keeps_the_rule_on_delete(
    registry: Any,
    monkeypatch: pytest.MonkeyPatch,
    request_type: str,
    status: str,
    rules: list[dict[str, Any]],
) -> None:
    answered: list[tuple[str, str]] = []
    monkeypatch.setattr(
        ecr_replication, "respond", lambda _, status, reason, __: answered.append((status, reason))
    )
    event = {
        "RequestType": request_type,
        "ResourceProperties": {"Repository": "shop/api", "Region": R, "RegistryId": ACCOUNT},
    }
    ecr_replication.handler(event, None)
    assert [s for s, _ in answered] == [status]
    assert _rules(registry) == rules


def test_a_failing_call_fails_the_resource_with_its_message(
    registry: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    answered: list[tuple[str, str]] = []
    monkeypatch.setattr(
        ecr_replication, "respond", lambda _, status, reason, __: answered.append((status, reason))
    )
    monkeypatch.setenv("AWS_DEFAULT_REGION", "not-a-region-1")
    event = {
        "RequestType": "Create",
        "ResourceProperties": {"Repository": "shop/api", "Region": R, "RegistryId": ACCOUNT},
    }
    ecr_replication.handler(event, None)
    ((status, reason),) = answered
    assert status == "FAILED" and reason


def test_rs_service_waits_for_the_images_copy(pilot_light: Synthesized) -> None:
    """ECR copies only what is pushed after the rule exists: R's service starts only once the
    copy is there, and a pilot-light R learns at deploy, not during the event, that it is not."""
    recovery = pilot_light.json("drtiers-pilot-light-recovery")["Resources"]
    ((copy_id, copy),) = [(i, r) for i, r in recovery.items() if r["Type"] == COPY_TYPE]
    assert {k: v for k, v in copy["Properties"].items() if k != "ServiceToken"} == {
        "Repository": "shop/api",
        "Reference": ":1.4.2",
        "ServiceTimeout": "960",  # the function's 15 minutes, and a margin
    }
    (service,) = [r for r in recovery.values() if r["Type"] == "AWS::ECS::Service"]
    assert copy_id in service["DependsOn"]
    assert ecr_replication.COPY_TYPE == COPY_TYPE  # the function's code cannot import it


def _handled(monkeypatch: pytest.MonkeyPatch, event: dict[str, Any]) -> tuple[str, str]:
    answered: list[tuple[str, str]] = []
    monkeypatch.setattr(
        ecr_replication, "respond", lambda _, status, reason, __: answered.append((status, reason))
    )
    monkeypatch.setattr(ecr_replication.time, "sleep", lambda _: None)

    class Context:
        @staticmethod
        def get_remaining_time_in_millis() -> int:
            return 31_000  # a second to wait beyond the margin: one more look

    ecr_replication.handler(event, Context())
    ((status, reason),) = answered
    return status, reason


@pytest.mark.parametrize("pushed", [True, False])
def test_the_copy_check_passes_once_the_image_is_here_and_says_what_to_do_if_not(
    monkeypatch: pytest.MonkeyPatch, pushed: bool
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", R)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "layers": [],
        }
    )
    with mock_aws():
        ecr = boto3.client("ecr", region_name=R)
        ecr.create_repository(repositoryName="shop/api")
        if pushed:
            ecr.put_image(repositoryName="shop/api", imageManifest=manifest, imageTag="1.4.2")
        event = {
            "RequestType": "Create",
            "ResourceType": COPY_TYPE,
            "ResourceProperties": {"Repository": "shop/api", "Reference": ":1.4.2"},
        }
        status, reason = _handled(monkeypatch, event)
    if pushed:
        assert (status, reason) == ("SUCCESS", "copied")
    else:
        assert status == "FAILED"
        assert reason.startswith("shop/api:1.4.2 is not in this region's registry")
        assert "Push it under a new tag" in reason and len(reason) <= 256  # Reason's limit


def test_the_copy_check_looks_a_digest_up_by_its_digest() -> None:
    image = private_image(f"{ACCOUNT}.dkr.ecr.{P}.amazonaws.com/a:v1@sha256:{'cd' * 32}")
    assert image is not None and image.pinned_by == "@sha256:" + "cd" * 32
    untagged = private_image(f"{ACCOUNT}.dkr.ecr.{P}.amazonaws.com/a")
    assert untagged is not None and untagged.pinned_by == ":latest"


def test_the_filter_joins_a_rule_to_the_same_destination_to_spare_ecrs_ten_rules() -> None:
    """ECR allows 10 rules, each with up to 100 filters: a rule to R alone takes the filter."""
    to_r = {
        "destinations": [{"region": R, "registryId": ACCOUNT}],
        "repositoryFilters": [{"filter": "team", "filterType": "PREFIX_MATCH"}],
    }
    merged = ecr_replication._with_rule([THEIRS, to_r], "shop/api", R, ACCOUNT)
    assert merged == [
        THEIRS,
        {**to_r, "repositoryFilters": [*to_r["repositoryFilters"], OURS["repositoryFilters"][0]]},
    ]
    assert ecr_replication._with_rule([THEIRS], "shop/api", R, ACCOUNT) == [THEIRS, OURS]


def test_a_rule_dropped_by_another_writer_fails_the_resource(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ecr = boto3.client("ecr", region_name=P)
    stubber = Stubber(ecr)
    monkeypatch.setattr(ecr_replication, "_client", lambda: ecr)
    registry = {"registryId": ACCOUNT, "replicationConfiguration": {"rules": [THEIRS]}}
    stubber.add_response("describe_registry", registry)
    stubber.add_response(
        "put_replication_configuration",
        {"replicationConfiguration": {"rules": [THEIRS, OURS]}},
        {"replicationConfiguration": {"rules": [THEIRS, OURS]}},
    )
    stubber.add_response("describe_registry", registry)  # another writer put its own back
    with stubber, pytest.raises(RuntimeError, match="changed while it was set"):
        ecr_replication.add_rule("shop/api", R, ACCOUNT)


def test_a_recovery_stack_whose_first_create_rolls_back_leaves_no_fixed_name_behind(
    pilot_light: Synthesized,
) -> None:
    """The image's copy check may fail a recovery stack's first create (10th review A1): what
    the rollback keeps under a fixed name would meet the retry's create."""
    world = read_world(pilot_light.read("pilot-light"))
    (recovery,) = [s for key, s in world.stacks.items() if key.endswith("-recovery")]
    assert recovery.kept_on_rollback == []
