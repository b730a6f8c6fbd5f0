"""The backup-restore rebuild and its KMS key (review finding A2): the rebuilt primary stack
imports its task role by name, so a grant on its own data key must live in the key policy."""

from __future__ import annotations

import json

from tests.conftest import Synthesized

P, R = "us-east-1", "us-west-2"
TIER = "backup-restore"
PRIMARY = f"drtiers-{TIER}-primary"
TASK_ROLE = f"drtiers-{TIER}-rebuild-task"


def test_the_rebuilt_data_key_names_the_task_role_made_beforehand() -> None:
    """A role imported by name keeps no statement of this stack, so the key policy grants it,
    only what SQS needs of the queues' key, only through SQS in the key's region."""
    rebuilt = Synthesized(
        tier=TIER,
        primary_region=R,
        recovery_region=P,
        restore_from=json.dumps(
            {
                "database_snapshot": f"arn:aws:rds:{R}:123456789012:snapshot:awsbackup:copy-1",
                "listener_arn": "arn:aws:globalaccelerator::123456789012:accelerator/a/listener/b",
            }
        ),
    )
    keys = rebuilt.template(PRIMARY).find_resources("AWS::KMS::Key")
    (key,) = [k for logical_id, k in keys.items() if logical_id.startswith("DataKey")]
    named = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if TASK_ROLE in json.dumps(s)]
    assert [(s["Action"], s["Condition"]) for s in named] == [
        (
            ["kms:Decrypt", "kms:GenerateDataKey"],
            {"StringEquals": {"kms:ViaService": f"sqs.{R}.amazonaws.com"}},
        )
    ]
    assert f":role/{TASK_ROLE}" in json.dumps(named[0]["Principal"])
