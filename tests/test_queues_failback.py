"""I9: every message sent during the event is processed. R's work queues fill while R's tasks
serve; failback must not stop their consumers (or delete their stack) with messages left, nor
wait on queues nobody consumes (review finding N3)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from drtiers.assembly.world import read_world
from drtiers.build import synthesize
from drtiers.recovery import Simulation, messages, simulate_assembly
from drtiers.recovery import simulate as simulation
from drtiers.recovery import steps as s
from drtiers.recovery.live import deployed
from drtiers.recovery.steps import Effect
from tests.conftest import Synthesized, context


def _failback(synthesized: Synthesized, tier: str) -> Simulation:
    ((_, back),) = simulate_assembly(synthesized.directory, context(), synthesize, tier=tier)
    return back


def _without(monkeypatch: pytest.MonkeyPatch, effect: Effect) -> None:
    """Failback as if no step (or plan block) did ``effect``."""
    executed = simulation.plan.executed

    def dropped(world: Any, steps: list[s.Step], event: str) -> list[s.Step]:
        ran = executed(world, steps, event)
        # What waited for a dropped step waits for what it waited for.
        gone = {x.name: x.after for x in ran if x.effect == effect}
        return [
            replace(x, after=tuple(b for a in x.after for b in gone.get(a, (a,))))
            for x in ran
            if x.name not in gone
        ]

    monkeypatch.setattr(simulation.plan, "executed", dropped)


def _i9(back: Simulation) -> list[simulation.Violation]:
    return [v for v in back.violations if v.invariant == "I9"]


@pytest.mark.parametrize("tier", ["pilot-light", "backup-restore"])
def test_i9_consumers_stopped_with_r_messages_left(
    synthesized: Synthesized, monkeypatch: pytest.MonkeyPatch, tier: str
) -> None:
    """Without a step that moves R's messages, quiescing R's tasks (its only consumers)
    leaves what R's queues hold to expire, and the drain after it never ends."""
    _without(monkeypatch, Effect.FORWARD)
    back = _failback(synthesized, tier)
    assert back.verdicts()["I9"] == "fail"
    stopped = next(v for v in _i9(back) if v.step == "quiesce-recovery")
    assert stopped.resource.startswith(f"{back.recovery}:")
    assert "no step moves them" in stopped.detail and "Fix:" in str(stopped)


def test_i9_a_drain_ends_only_while_consumers_run_and_nothing_arrives(
    synthesized: Synthesized,
) -> None:
    """The drain's model: R's queues empty only while its consumers run and can write the
    stores, and no new message arrives; otherwise the wait never ends."""
    w = deployed(read_world(synthesized.read("pilot-light")))
    r = w.recovery
    w.messages = {r}
    assert messages.drain(w, r, set(), lambda *_: False) == f"the queues in {r} still hold messages"
    service = w.service_in(r)
    assert service is not None
    service.desired = 2  # R's tasks run and take traffic: new messages keep arriving
    assert messages.drain(w, r, {r}, lambda *_: True) == f"the queues in {r} still hold messages"
    assert w.messages == {r}
    assert (
        messages.drain(w, r, set(), lambda *_: True) == f"{r}'s consumers have emptied its queues"
    )
    assert w.messages == set()


def _function_statements(synthesized: Synthesized, tier: str, role: str) -> list[dict[str, Any]]:
    """The statements of the plan-actions function's role in one regional stack."""
    stack = synthesized.json(f"drtiers-{tier}-{role}")
    return [
        statement
        for logical_id, resource in stack["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy" and logical_id.startswith("PlanActionsRole")
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return set(action if isinstance(action, list) else [action])


@pytest.mark.parametrize("role", ["primary", "recovery"])
def test_the_plan_function_may_forward_exactly_rs_queues_to_ps(
    synthesized: Synthesized, role: str
) -> None:
    """Least privilege: the forward's calls on the two stacks' queues and lookups, their keys
    only through SQS in their region; and nothing of it where the plan never forwards."""
    statements = _function_statements(synthesized, "pilot-light", role)
    by_action = {a: s["Resource"] for s in statements for a in _actions(s) if a.startswith("sqs:")}
    account = synthesized.config.account
    r_queues = f"arn:aws:sqs:us-west-2:{account}:drtiers-pilot-light-recovery-*"
    p_queues = f"arn:aws:sqs:us-east-1:{account}:drtiers-pilot-light-primary-*"
    assert by_action == {
        "sqs:ReceiveMessage": r_queues,
        "sqs:DeleteMessage": r_queues,
        "sqs:GetQueueAttributes": r_queues,
        "sqs:SendMessage": p_queues,
    }
    keys = {
        statement["Condition"]["StringEquals"]["kms:ViaService"]: _actions(statement)
        for statement in statements
        if "kms:ViaService" in statement.get("Condition", {}).get("StringEquals", {})
    }
    assert keys == {
        "sqs.us-west-2.amazonaws.com": {"kms:Decrypt"},
        "sqs.us-east-1.amazonaws.com": {"kms:Decrypt", "kms:GenerateDataKey"},
    }
    lookups = [s for s in statements if "cloudformation:DescribeStackResource" in _actions(s)]
    assert [sorted(s["Resource"]) for s in lookups] == [
        [
            f"arn:aws:cloudformation:us-east-1:{account}:stack/drtiers-pilot-light-primary/*",
            f"arn:aws:cloudformation:us-west-2:{account}:stack/drtiers-pilot-light-recovery/*",
        ]
    ]
    for tier in ("warm-standby", "multi-site"):
        others = _function_statements(synthesized, tier, role)
        assert not any(a.startswith("sqs:") for s in others for a in _actions(s)), tier


def test_i9_a_forward_empties_r_only_once_rs_tasks_stop_sending(
    synthesized: Synthesized,
) -> None:
    """The forward's model: what R holds moves to P's queues; while R's tasks still take
    traffic, what they send later stays behind in R."""
    w = deployed(read_world(synthesized.read("pilot-light")))
    p, r = w.primary, w.recovery
    w.messages = {r}
    service = w.service_in(r)
    assert service is not None
    service.desired = 2
    assert messages.forward(w, r, p, {r}).endswith("its tasks still send more")
    assert w.messages == {p, r}
    service.desired = 0
    assert messages.forward(w, r, p, set()) == f"{r}'s messages moved to {p}'s queues"
    assert w.messages == {p}
