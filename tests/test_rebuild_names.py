"""backup-restore's second event (decision 33, A5): the rebuilt primary stack keeps its logs,
queues and vault when failback deletes it (DeletionPolicy Retain), so the next event's rebuild
in the same region must not create them under the same names; it names them for its event."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

import botocore.session
import pytest

from drtiers.assembly.arns import resolved_statements
from drtiers.config.context import per_event
from drtiers.core.permissions import allowed
from drtiers.recovery import simulate as simulation
from drtiers.recovery import steps as s
from drtiers.recovery.steps import SAMPLE_EVENT
from tests.conftest import REBUILD_EVENT, Synthesized, simulate_rebuild

P, R = "us-east-1", "us-west-2"
TIER = "backup-restore"
PRIMARY = f"drtiers-{TIER}-primary"
EVENT = REBUILD_EVENT
NAMES = {
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Backup::BackupVault": "BackupVaultName",
}
# What the rebuild left in R before its names carried the event.
FIXED = {
    "AWS::Logs::LogGroup drtiers-backup-restore-app",
    "AWS::Logs::LogGroup drtiers-backup-restore-flow-logs",
    "AWS::SQS::Queue drtiers-backup-restore-work",
    "AWS::SQS::Queue drtiers-backup-restore-work-dlq",
    "AWS::Backup::BackupVault drtiers-backup-restore-backups",
}


def _unstamped(resources: dict[str, dict[str, Any]]) -> None:
    """The rebuilt primary as it was before: its retained names without the event's stamp."""
    for resource in resources.values():
        prop = NAMES.get(resource["Type"])
        properties = resource.get("Properties", {})
        if prop and isinstance(properties.get(prop), str):
            properties[prop] = properties[prop].replace(f"-{SAMPLE_EVENT}", "")


def test_i8_sees_what_the_last_rebuild_left_under_the_names_the_next_creates(
    synthesized: Synthesized,
) -> None:
    _, back = simulate_rebuild(synthesized, TIER, PRIMARY, _unstamped)
    i8 = [v for v in back.violations if v.invariant == "I8"]
    assert {v.resource for v in i8} == FIXED
    assert all(v.step == "end" for v in i8)
    (app,) = [v for v in i8 if v.resource.endswith("-app")]
    assert app.detail.startswith(f"AppLogs2EC8A6C6 stays in {R} when retire-rebuild deletes")
    assert "DeletionPolicy Retain" in app.detail and "AlreadyExists" in app.detail
    assert "<name>-<restore_from event>" in app.detail  # the fix
    # named for the event: nothing to meet
    assert simulate_rebuild(synthesized, TIER, PRIMARY, None)[1].passed


def _retained_names(template: dict[str, Any]) -> dict[str, str]:
    return {
        resource["Properties"][NAMES[resource["Type"]]]: resource["Type"]
        for resource in template["Resources"].values()
        # kept when the stack is deleted, not when its create rolls back (a retry)
        if resource.get("DeletionPolicy") == "RetainExceptOnCreate" and resource["Type"] in NAMES
    }


def test_a_rebuild_names_what_it_retains_for_its_event(rebuilt: Synthesized) -> None:
    assert _retained_names(rebuilt.json(PRIMARY)) == {
        f"drtiers-backup-restore-app-{EVENT}": "AWS::Logs::LogGroup",
        f"drtiers-backup-restore-flow-logs-{EVENT}": "AWS::Logs::LogGroup",
        f"drtiers-backup-restore-work-{EVENT}": "AWS::SQS::Queue",
        f"drtiers-backup-restore-work-{EVENT}-dlq": "AWS::SQS::Queue",
        f"drtiers-backup-restore-backups-{EVENT}": "AWS::Backup::BackupVault",
    }
    # The backups still copy to the old primary's vault, under its own name.
    assert 'backup-vault:drtiers-backup-restore-backups"' in json.dumps(rebuilt.json(PRIMARY))


def _role(synthesized: Synthesized, what: str) -> list[dict[str, Any]]:
    """The statements of the rebuild role ``what``, as IAM reads them (ARNs rendered)."""
    tier = synthesized.read(TIER)
    (role,) = [
        r for r in tier.of_type("AWS::IAM::Role") if r.prop("RoleName") == f"drtiers-{TIER}-{what}"
    ]
    statements = [s for p in role.prop("Policies") for s in p["PolicyDocument"]["Statement"]]
    return resolved_statements(tier, role.stack, statements)


def test_the_rebuild_roles_grant_any_event_of_the_tiers_own_names_only(
    synthesized: Synthesized,
) -> None:
    queue = f"arn:aws:sqs:{R}:123456789012:drtiers-backup-restore-work"
    task = _role(synthesized, "rebuild-task")
    assert allowed(task, "sqs:SendMessage", f"{queue}-{EVENT}")
    for other in (queue, f"{queue}-{EVENT}-dlq", f"{queue}-x-{EVENT}", f"{queue}-{EVENT}9"):
        assert not allowed(task, "sqs:SendMessage", other), other
    for what, group in (("execution", "app"), ("flow-logs", "flow-logs")):
        statements = _role(synthesized, f"rebuild-{what}")
        arn = f"arn:aws:logs:{R}:123456789012:log-group:drtiers-backup-restore-{group}"
        assert allowed(statements, "logs:PutLogEvents", f"{arn}-{EVENT}:log-stream:s")
        assert not allowed(statements, "logs:PutLogEvents", f"{arn}:log-stream:s")
        assert not allowed(
            statements,
            "logs:PutLogEvents",
            f"arn:aws:logs:{R}:123456789012:log-group:drtiers-pilot-light-{group}-{EVENT}:"
            "log-stream:s",
        )


def test_the_longest_names_still_fit() -> None:
    """The longest app name (16) and queue name (24): a queue name takes up to 80 characters
    (CreateQueue), a vault's name what AWS Backup's model allows; a FIFO queue's name still
    ends .fifo."""
    app, queue = "a" * 16, "q" * 24
    assert len(per_event(f"{app}-{TIER}-{queue}", EVENT) + "-dlq") <= 80
    backup = botocore.session.get_session().get_service_model("backup")
    pattern = backup.shape_for("BackupVaultName").metadata["pattern"]
    assert re.match(pattern, per_event(f"{app}-{TIER}-backups", EVENT))
    assert per_event("orders.fifo", EVENT) == f"orders-{EVENT}.fifo"


def _edited(monkeypatch: pytest.MonkeyPatch, name: str, old: str, new: str) -> None:
    """The steps as planned, with ``old`` replaced by ``new`` in the command of step ``name``."""
    executed = simulation.plan.executed

    def edited(world: Any, steps: list[s.Step], event: str) -> list[s.Step]:
        ran = executed(world, steps, event)
        return [
            replace(x, command=x.command.replace(old, new)) if x.name == name else x for x in ran
        ]

    monkeypatch.setattr(simulation.plan, "executed", edited)


def test_i8_sees_a_rebuild_that_cannot_be_run_again_after_a_failed_create(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The step says to run the rebuild again when it fails. Without --no-rollback the create
    rolls back, and the CLI deletes the rolled-back stack before creating it again, which
    termination protection refuses (seventh review)."""
    _edited(monkeypatch, "rebuild", " --no-rollback", "")
    loss, _ = simulate_rebuild(synthesized, TIER, PRIMARY, None)
    (i8,) = [v for v in loss.violations if v.invariant == "I8"]
    assert i8.step == "rebuild" and "termination protection refuses" in i8.detail
    assert "--no-rollback" in i8.detail


def test_i8_sees_a_retire_that_leaves_the_load_balancer_protected(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    """retire-rebuild's delete-stack fails on a load balancer with deletion protection on
    (seventh review): the command turns it off first."""
    _edited(monkeypatch, "retire-rebuild", "deletion_protection.enabled,Value=false", "x")
    _, back = simulate_rebuild(synthesized, TIER, PRIMARY, None)
    (i8,) = [v for v in back.violations if v.step == "retire-rebuild"]
    assert i8.invariant == "I8" and "AppLoadBalancer" in i8.detail
    assert "deletion protection" in i8.detail
