"""The backup-restore rebuild and its KMS key (review finding A2): the rebuilt primary stack
imports its task role by name, so a grant on its own data key must live in the key policy; and
the simulator judges the keys of whatever a step deploys, not only the tier as first deployed."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from drtiers.assembly.keys import KeyUse
from drtiers.assembly.world import read_world
from drtiers.build import synthesize
from drtiers.recovery import simulate_assembly
from drtiers.recovery.live import deployed
from drtiers.recovery.simulate import merge, retire
from tests.conftest import Synthesized, context, simulate_rebuild

P, R = "us-east-1", "us-west-2"
TIER = "backup-restore"
PRIMARY = f"drtiers-{TIER}-primary"
TASK_ROLE = f"drtiers-{TIER}-rebuild-task"


def _use(stacks: set[str], problem: str = "") -> KeyUse:
    return KeyUse("queue q", "us-west-2", "arn:key", "the task role", problem, frozenset(stacks))


def test_a_deployment_judges_the_key_uses_of_its_stacks_anew(synthesized: Synthesized) -> None:
    world = read_world(synthesized.read(TIER))
    w = deployed(world)
    stale, kept = _use({"r:deployed", "r:base"}, "old"), _use({"r:base"})
    w.key_uses = [stale, kept]
    fresh, elsewhere = _use({"r:deployed"}, "new"), _use({"r:other"}, "not deployed")
    merge(w, replace(world, key_uses=[fresh, elsewhere]), {"r:deployed"})
    assert w.key_uses == [kept, fresh]
    retire(w, "r:deployed")
    assert w.key_uses == [kept]


def _without_task_role_on_keys(resources: dict[str, dict[str, Any]]) -> None:
    """The rebuilt primary as CDK made it before the key policy named the imported role: the
    grant on the data key dropped (an immutable imported role keeps no statement)."""
    for resource in resources.values():
        if resource["Type"] == "AWS::KMS::Key":
            statements = resource["Properties"]["KeyPolicy"]["Statement"]
            statements[:] = [s for s in statements if TASK_ROLE not in json.dumps(s)]


def test_i1_sees_a_rebuilt_queue_whose_key_the_imported_task_role_may_not_use(
    synthesized: Synthesized,
) -> None:
    loss, _ = simulate_rebuild(synthesized, TIER, PRIMARY, _without_task_role_on_keys)
    (i1,) = [v for v in loss.violations if v.invariant == "I1"]
    assert i1.step == "rebuild" and i1.resource == f"queue {PRIMARY}/WorkQueue1CAC4D2F"
    assert "may not call kms:Decrypt with KMS key" in i1.detail
    assert f"{PRIMARY}.DataKey" in i1.detail
    # the key policy names the role
    assert simulate_rebuild(synthesized, TIER, PRIMARY, None)[0].passed


def test_the_rebuilt_data_key_names_the_task_role_made_beforehand(rebuilt: Synthesized) -> None:
    """A role imported by name keeps no statement of this stack, so the key policy grants it,
    only what SQS needs of the queues' key, only through SQS in the key's region."""
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


def test_a_sandbox_rebuild_makes_no_iam_entity_and_keeps_its_vault(
    sandbox: Synthesized,
) -> None:
    """Sandbox mode empties the access-log bucket on delete with a function and a role of its
    own; the rebuild (IAM's control plane may be the lost region's) keeps that bucket instead.
    Its vault holds the event's backups when retire-rebuild deletes the stack, and a vault is
    deleted only empty: kept too. So the sandbox tier recovers and fails back."""
    ((loss, back),) = simulate_assembly(
        sandbox.directory, context(sandbox="true"), synthesize, tier=TIER
    )
    assert loss.passed and back.passed, [str(v) for v in loss.violations + back.violations]
