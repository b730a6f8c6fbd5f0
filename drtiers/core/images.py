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

# A private ECR registry's host: <account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn], or its
# dual-stack name <account>.dkr-ecr[-fips].<region>.on.aws
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/Registries.html and
# .../ecr-requests.html, read 2026-12-05).
_PRIVATE_ECR = re.compile(
    r"^(?P<account>[0-9]{12})\.(?P<service>dkr\.ecr|dkr-ecr)(?P<fips>-fips)?\."
    r"(?P<region>[a-z0-9-]+)\.(?P<domain>amazonaws\.com|amazonaws\.com\.cn|on\.aws)"
    r"/(?P<path>.+)$"
)
# A repository name as ECR takes it (CreateRepository's repositoryName pattern, read
# 2026-12-05: https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreateRepository.html).
REPOSITORY_NAME = re.compile(r"^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$")
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
# The custom resource that adds a tier's replication rule to the registry's configuration
# (drtiers.constructs.images): properties Repository, Region (destination), RegistryId.
RULE_TYPE = "Custom::EcrReplicationRule"
# The custom resource R's service waits on until the image's copy is there: Repository and
# Reference (":<tag>" or "@sha256:<digest>").
COPY_TYPE = "Custom::EcrImageCopy"


@dataclass(frozen=True)
class PrivateImage:
    """An image in a private ECR registry."""

    account: str
    region: str
    repository: str
    suffix: str  # ":<tag>", "@sha256:<digest>" or "" (latest)
    host: str  # the registry's host, with "{region}" for its region

    def reference_in(self, region: str) -> str:
        """The same image in ``region``'s registry of the same account (a replica)."""
        return f"{self.host.format(region=region)}/{self.repository}{self.suffix}"

    @property
    def pinned_by(self) -> str:
        """What names the image in its repository: "@sha256:<digest>" if the reference has
        one, else ":<tag>" (":latest" without either)."""
        if "@" in self.suffix:
            return "@" + self.suffix.split("@", 1)[1]
        return self.suffix or ":latest"

    def repository_arn(self, region: str | None = None) -> str:
        partition = "aws-cn" if self.host.endswith(".cn") else "aws"
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
        host=f"{match['account']}.{match['service']}{match['fips'] or ''}.{{region}}."
        f"{match['domain']}",
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
