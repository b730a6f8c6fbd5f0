"""Container images as synthesized: what each task definition pulls, whether its execution role
may pull it, and in which regions' registries the image exists (pushed by the user to the
registry the primary's tasks name, or copied from there by an ECR replication rule of the tier)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.core.images import PULL_ACTIONS, RULE_TYPE, TOKEN_ACTION, private_image
from drtiers.core.permissions import allowed


def image_of(task: Resource) -> str:
    """The image of a task definition's first container ("" if not a literal)."""
    containers = task.prop("ContainerDefinitions", default=[])
    image = containers[0].get("Image", "") if containers else ""
    return image if isinstance(image, str) else ""


def may_pull(statements: list[dict[str, Any]], image: str) -> bool:
    """Whether an execution role with ``statements`` may pull ``image``: any image outside a
    private ECR registry (pulled without credentials); a private one with ECR's pull actions on
    its repository and an authorization token."""
    private = private_image(image)
    if private is None:
        return True
    arn = private.repository_arn()
    return allowed(statements, TOKEN_ACTION, "*") and all(
        allowed(statements, action, arn) for action in PULL_ACTIONS
    )


def image_copies(tier: TierAssembly, pushed: Iterable[str]) -> set[str]:
    """The images that exist: those ``pushed`` (the primary's tasks name them), and their
    copies in the destination regions of the tier's replication rules in their registry's
    region: "The repository name will remain the same across Regions" (core.images)."""
    found = set(pushed)
    for reference in list(found):
        image = private_image(reference)
        if image is None or tier.account != image.account:
            continue
        found |= {
            image.reference_in(str(rule.prop("Region")))
            for rule in tier.of_type(RULE_TYPE)
            if rule.region == image.region
            and rule.prop("RegistryId") == image.account
            and image.repository.startswith(str(rule.prop("Repository")))
        }
    return found
