"""Queues: an SQS work queue with its dead-letter queue, encrypted and TLS-only."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from drtiers.constructs.lint import acknowledge

MAX_RETENTION_DAYS = 14  # SQS maximum


# What a worker does with its queue: the task role's grant, and a rebuild role's.
QUEUE_WORKER_ACTIONS = (
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:DeleteMessage",
    "sqs:ChangeMessageVisibility",
    "sqs:GetQueueAttributes",
    "sqs:GetQueueUrl",
)


class WorkQueue(Construct):
    """A work queue that moves a message to its dead-letter queue after ``max_receive_count``
    failed receives. The DLQ keeps messages longer than the source (SQS counts retention from
    the original enqueue time, so a shorter DLQ would drop them early).

    :param retention_days: source queue retention, 1..13. Default 4 (the SQS default).
    :param dlq_retention_days: DLQ retention, above ``retention_days`` and at most 14. Default 14.
    :param max_receive_count: default 5.
    :param visibility_timeout_seconds: default 60.
    :param queue_name: a fixed name (and ``<name>-dlq``), for a role made before the queue.
        Default: generated.
    :param removal_policy: default RETAIN: messages in flight are data.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        key: kms.IKey,
        retention_days: int = 4,
        dlq_retention_days: int = MAX_RETENTION_DAYS,
        max_receive_count: int = 5,
        visibility_timeout_seconds: int = 60,
        queue_name: str | None = None,
        removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    ) -> None:
        super().__init__(scope, id_)
        if not 1 <= retention_days < dlq_retention_days <= MAX_RETENTION_DAYS:
            raise ValueError(
                f"WorkQueue: retention_days {retention_days} and dlq_retention_days "
                f"{dlq_retention_days} must satisfy 1 <= retention < dlq <= {MAX_RETENTION_DAYS}"
            )
        if not 1 <= max_receive_count <= 1000:
            raise ValueError(f"WorkQueue: max_receive_count {max_receive_count} is outside 1..1000")
        self.dead_letter_queue = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=f"{queue_name}-dlq" if queue_name else None,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(dlq_retention_days),
            removal_policy=removal_policy,
        )
        acknowledge(
            self.dead_letter_queue.node.default_child,
            "sqs_dlq_check",
            "This is the dead-letter queue; a DLQ of its own would only move the problem.",
            checker="guard",
        )
        self.queue = sqs.Queue(
            self,
            "Queue",
            queue_name=queue_name,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            retention_period=Duration.days(retention_days),
            visibility_timeout=Duration.seconds(visibility_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letter_queue, max_receive_count=max_receive_count
            ),
            removal_policy=removal_policy,
        )
