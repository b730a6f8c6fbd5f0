"""Events: what AWS says about a tier's resources, routed to the topic its people read.

One EventBridge rule per source, on the region's default bus, each turning the event into one
readable line on the tier's topic (alarms reach that topic by their own actions already):

- the tier's database in this region: every event RDS sends of it or its instances, by ARN;
- AWS Health: issues and investigations delivered to this region;
- Region switch: plan executions run from this region (the one they activate).

AWS's words and the choices they lead to are decision 44 in docs/decisions.md. The rules are
L1 resources with no role: EventBridge publishes through the topic's policy, as AWS asks
("For targets that use resource-based policies (Lambda, Amazon SNS, Amazon SQS, and Amazon
CloudWatch Logs), do not specify a RoleArn ... event delivery may fail, particularly for ...
Amazon SNS targets with AWS KMS encryption enabled",
https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html, read
2026-12-05).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from drtiers.assembly.notices import EVENTS_PRINCIPAL

# detail-type values AWS documents: https://docs.aws.amazon.com/eventbridge/latest/ref/
# events-ref-rds.html, events-ref-arc-region-switch.html and https://docs.aws.amazon.com/
# health/latest/ug/aws-health-events-eventbridge-schema.html (read 2026-12-05).
RDS_EVENTS = ("RDS DB Instance Event", "RDS DB Cluster Event")
HEALTH_EVENT = "AWS Health Event"
PLAN_EXECUTION = "ARC Region Switch Plan Execution"
# Health's event type categories that say something is wrong now (the others announce
# maintenance and account notices): https://docs.aws.amazon.com/health/latest/ug/
# aws-health-events-eventbridge-schema.html (read 2026-12-05).
HEALTH_NOW = ("issue", "investigation")
_FIELD = re.compile(r"<([$][^>]+)>")


def one_line(text: str) -> dict[str, Any]:
    """An InputTransformer that writes ``text`` with each ``<$.path>`` replaced by that field of
    the event: SNS delivers it as one line (a JSON string)."""
    paths: dict[str, str] = {}

    def name(match: re.Match[str]) -> str:
        path = match.group(1)
        key = re.sub(r"[^A-Za-z0-9_-]", "-", path.removeprefix("$.")).strip("-")
        paths[key] = path
        return f"<{key}>"

    return {"InputPathsMap": paths, "InputTemplate": json.dumps(_FIELD.sub(name, text))}


class EventRoutes(Construct):
    """The rules that send what AWS says about the tier in this region to ``topic``, which
    ``key`` encrypts; it lets EventBridge publish there (topic policy and key policy).

    :param label: how each line starts (``<app>-<tier> <region>``).
    """

    def __init__(
        self, scope: Construct, id_: str, *, topic: sns.Topic, key: kms.IKey, label: str
    ) -> None:
        super().__init__(scope, id_)
        self._topic = topic
        self._label = label
        events_principal = iam.ServicePrincipal(EVENTS_PRINCIPAL)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgePublishes",
                principals=[events_principal],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
            )
        )
        # What an AWS service needs of the key of an encrypted topic it publishes to:
        # https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html (read 2026-12-05).
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeToEncryptedTopics",
                principals=[events_principal],
                actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                resources=["*"],
            )
        )
        self._rule(
            "Health",
            "AWS Health issues delivered to this region",
            {
                "source": ["aws.health"],
                "detail-type": [HEALTH_EVENT],
                "detail": {"eventTypeCategory": list(HEALTH_NOW)},
            },
            "AWS Health <$.detail.eventTypeCategory> <$.detail.statusCode>: "
            "<$.detail.service> <$.detail.eventTypeCode> in <$.detail.eventRegion> "
            "(<$.detail.eventArn>)",
        )

    def database(self, arns: Sequence[str]) -> None:
        """Every event RDS sends of the database: its cluster and each of its instances (an
        Aurora member's events name the instance, not the cluster), failovers and the global
        database's among them."""
        self._rule(
            "Database",
            "What RDS says of the tier's database in this region",
            {
                "source": ["aws.rds"],
                "detail-type": list(RDS_EVENTS),
                "detail": {"SourceArn": list(arns)},
            },
            "RDS <$.detail.SourceIdentifier>: <$.detail.Message> (<$.detail.EventID>)",
        )

    def plan_executions(self, name: str) -> str:
        """The account's Region switch plan executions seen in this region: a plan runs from
        the region it activates ("In the AWS Management Console, navigate to the AWS Region
        that you want to activate", https://docs.aws.amazon.com/r53recovery/latest/dg/
        plan-execution-rs.html, read 2026-12-05), so failover is seen in R and failback in P.
        AWS documents none of the event's own fields, so the rule takes every plan of the
        account and names none. Named ``name`` (returned), so that the dashboard can graph how
        often it matched (AWS/Events by RuleName) without a reference into this region."""
        self._rule(
            "PlanExecutions",
            "Region switch plan executions run from this region",
            {"source": ["aws.arc-region-switch"], "detail-type": [PLAN_EXECUTION]},
            "<$.detail-type> at <$.time>: open the plan's executions in the ARC console",
            name=name,
        )
        return name

    def _rule(
        self,
        id_: str,
        description: str,
        pattern: dict[str, object],
        text: str,
        name: str | None = None,
    ) -> None:
        transformer = one_line(f"{self._label}: {text}")
        events.CfnRule(
            self,
            id_,
            name=name,
            description=description,
            event_pattern=pattern,
            state="ENABLED",
            targets=[
                events.CfnRule.TargetProperty(
                    arn=self._topic.topic_arn,
                    id="Topic",
                    input_transformer=events.CfnRule.InputTransformerProperty(
                        input_paths_map=transformer["InputPathsMap"],
                        input_template=transformer["InputTemplate"],
                    ),
                )
            ],
        )
