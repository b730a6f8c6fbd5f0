"""Buckets drtiers writes to: private, TLS-only, owner-enforced, versioned, and expiring."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct


def private_bucket(
    scope: Construct,
    id_: str,
    *,
    keep_days: int,
    removal_policy: RemovalPolicy,
    key: kms.IKey | None = None,
) -> s3.Bucket:
    """Objects expire after ``keep_days`` (old versions 30 days later); encrypted with ``key``
    (a bucket key) or, without one, S3-managed keys. Sandbox mode (DESTROY) empties it on
    delete, or CloudFormation cannot delete it."""
    encryption = (
        {"encryption": s3.BucketEncryption.KMS, "encryption_key": key, "bucket_key_enabled": True}
        if key is not None
        else {"encryption": s3.BucketEncryption.S3_MANAGED}
    )
    return s3.Bucket(
        scope,
        id_,
        **encryption,
        enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        versioned=True,
        lifecycle_rules=[
            s3.LifecycleRule(
                expiration=Duration.days(keep_days),
                noncurrent_version_expiration=Duration.days(30),
            )
        ],
        removal_policy=removal_policy,
        auto_delete_objects=removal_policy == RemovalPolicy.DESTROY,
    )
