"""Removal policies: what happens to data when a stack or resource is deleted."""

from __future__ import annotations

from aws_cdk import RemovalPolicy


def kept(policy: RemovalPolicy) -> RemovalPolicy:
    """RETAIN unless the caller asked for DESTROY (sandbox mode).

    For resources that cannot take a snapshot on delete (secrets, keys, global clusters,
    cluster instances) but hold or guard data.
    """
    return RemovalPolicy.DESTROY if policy == RemovalPolicy.DESTROY else RemovalPolicy.RETAIN
