"""Where a container image is pulled from, and where its tasks pull it after the primary region
is lost: an image in the primary region's private ECR registry is lost with it, unless ECR
replicates it to the recovery region, where tasks pull the replica by the same repository name.

Amazon ECR, read 2026-12-05 (https://docs.aws.amazon.com/AmazonECR/latest/userguide/
replication.html): "Only repository content pushed to a repository after replication is
configured is replicated. Any preexisting content in a repository isn't replicated." and "The
repository name will remain the same across Regions and accounts when replication has
occurred."
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A private ECR registry's host: <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html, read 2026-12-05).
_PRIVATE_ECR = re.compile(
    r"^(?P<account>[0-9]{12})\.dkr\.ecr(?P<fips>-fips)?\.(?P<region>[a-z0-9-]+)"
    r"\.amazonaws\.com(?P<china>\.cn)?/(?P<path>.+)$"
)
# What the execution role needs to pull from a private repository: AWS's managed policy for
# it (AmazonECSTaskExecutionRolePolicy) grants these; GetAuthorizationToken takes no resource
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html,
# read 2026-12-05).
PULL_ACTIONS = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
TOKEN_ACTION = "ecr:GetAuthorizationToken"


@dataclass(frozen=True)
class PrivateImage:
    """An image in a private ECR registry."""

    account: str
    region: str
    repository: str
    suffix: str  # ":<tag>", "@sha256:<digest>" or "" (latest)
    host_tail: str  # what follows the region in the host: ".amazonaws.com[.cn]"
    fips: str

    def reference_in(self, region: str) -> str:
        """The same image in ``region``'s registry of the same account (a replica)."""
        return (
            f"{self.account}.dkr.ecr{self.fips}.{region}{self.host_tail}/"
            f"{self.repository}{self.suffix}"
        )

    def repository_arn(self, region: str | None = None) -> str:
        partition = "aws-cn" if self.host_tail.endswith(".cn") else "aws"
        return (
            f"arn:{partition}:ecr:{region or self.region}:{self.account}:"
            f"repository/{self.repository}"
        )


def private_image(reference: str) -> PrivateImage | None:
    """The private ECR image ``reference`` names; None for any other registry."""
    match = _PRIVATE_ECR.match(reference)
    if match is None:
        return None
    path, at, digest = match["path"].partition("@")
    name, colon, tag = path.rpartition(":") if ":" in path.rsplit("/", 1)[-1] else (path, "", "")
    return PrivateImage(
        account=match["account"],
        region=match["region"],
        repository=name,
        suffix=(f":{tag}" if colon else "") + (f"@{digest}" if at else ""),
        host_tail=".amazonaws.com" + (match["china"] or ""),
        fips=match["fips"] or "",
    )


def replicated(reference: str, primary: str, account: str) -> PrivateImage | None:
    """The image the tier replicates out of the primary region: a private ECR image of the
    deployment's own account in the primary region's registry."""
    image = private_image(reference)
    if image is None or image.region != primary or image.account != account:
        return None
    return image


def pulled_in(reference: str, region: str, primary: str, account: str) -> str:
    """The reference tasks in ``region`` pull: the replica in their own region of an image the
    tier replicates out of the primary region; else the image as the file names it."""
    image = replicated(reference, primary, account)
    return image.reference_in(region) if image is not None else reference
