"""Where a Region switch plan writes its execution reports: a bucket in the plan's region,
encrypted with a key of its own, kept, and written only by the plan's execution role.

AWS: "Region switch creates a PDF report after each plan execution completes and delivers it to
an Amazon S3 bucket that you specify"; "your plan's execution IAM role has the necessary
permissions to write reports to your Amazon S3 bucket"; with a customer managed key "you must
also add kms:GenerateDataKey and kms:Encrypt permissions for the key"
(https://docs.aws.amazon.com/r53recovery/latest/dg/region-switch-plans.html and
security_iam_region_switch_reports.html, read 2026-12-05).
"""

from __future__ import annotations

from aws_cdk import CfnElement, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from drtiers.constructs.buckets import private_bucket
from drtiers.constructs.keys import DataKey
from drtiers.constructs.lint import Checker, acknowledge

PREFIX = "plan-executions"
KEEP_DAYS = 3 * 365  # evidence of recovery tests and events, kept three years
_EVIDENCE = (
    "Execution reports are written by the plan's execution role only and read by people; the "
    "plan's own execution history and CloudTrail record who ran what."
)
_FINDINGS: tuple[tuple[Checker, str, str], ...] = (
    ("cdk-nag", "AwsSolutions-S1", _EVIDENCE),
    ("guard", "s3_bucket_logging_enabled_check", _EVIDENCE),
    (
        "guard",
        "s3_bucket_object_lock_enabled_check",
        "Reports are kept three years and versioned; write-once retention is a compliance "
        "choice for the adopting team, and would keep sandbox stacks from being destroyed.",
    ),
    (
        "guard",
        "s3_event_notifications_enabled_check",
        "Nothing consumes a new report: EventBridge tells of each execution (decision 44).",
    ),
)


class ReportBucket(Construct):
    """The bucket, its key, and what the plan's ``ReportConfiguration`` names."""

    def __init__(
        self, scope: Construct, id_: str, *, account: str, removal_policy: RemovalPolicy
    ) -> None:
        super().__init__(scope, id_)
        self.key = DataKey(
            self,
            "Key",
            description="Region switch execution reports",
            removal_policy=removal_policy,
        ).key
        self.bucket = private_bucket(
            self, "Bucket", keep_days=KEEP_DAYS, removal_policy=removal_policy, key=self.key
        )
        for checker, rule, reason in _FINDINGS:
            acknowledge(self.bucket.node.default_child, rule, reason, checker=checker)
        self.configuration = {
            "ReportOutput": [
                {
                    "S3Configuration": {
                        "BucketPath": f"{self.bucket.bucket_name}/{PREFIX}",
                        "BucketOwner": account,
                    }
                }
            ]
        }

    def wildcards(self) -> list[tuple[str, str]]:
        """The writer's one wildcard resource, as cdk-nag names it, and why."""
        resource = self.bucket.node.default_child
        assert isinstance(resource, CfnElement), "an s3.Bucket has a CfnBucket"
        bucket = Stack.of(self).get_logical_id(resource)
        return [
            (
                f"Resource::<{bucket}.Arn>/{PREFIX}/*",
                "A report's object key names the execution, which Region switch assigns: "
                "only this bucket's report prefix.",
            )
        ]

    def writer_statements(self) -> list[iam.PolicyStatement]:
        """What the execution role needs to write a report: the objects under the prefix, and
        the key to encrypt them."""
        return [
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{PREFIX}/*")],
            ),
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Encrypt"], resources=[self.key.key_arn]
            ),
        ]
