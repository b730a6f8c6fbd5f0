"""KMS as the model reads it: a key policy decides first and hands over to IAM only where it
names the account; which key encrypts each store in each region; and the defects of key policies
and task roles' KMS grants that break a recovery, each caught on a copy of the synthesized tier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drtiers.assembly.reader import copy_assembly, read_assembly
from drtiers.assembly.world import read_world
from drtiers.checks.mutants import MUTANTS, plant
from drtiers.core import rules
from drtiers.core.permissions import Caller, condition_holds, key_allows
from tests.conftest import Synthesized

ACCOUNT = "123456789012"
KEY = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/k"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/task"
ENABLE_IAM = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}
IAM_ON_KEY = {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": KEY}
CONTEXT = {
    "kms:ViaService": ("dynamodb.us-west-2.amazonaws.com",),
    "kms:CallerAccount": (ACCOUNT,),
    "kms:ResourceAliases": ("alias/replicas",),
}


def decide(policy: list[dict[str, Any]], identity: list[dict[str, Any]] | None) -> bool:
    caller = Caller(ROLE, ACCOUNT, tuple(identity or ()), unread=identity is None)
    return key_allows(policy, caller, "kms:Decrypt", KEY, CONTEXT)[0]


def test_iam_policies_count_only_where_the_key_policy_lets_the_account_use_them() -> None:
    assert decide([ENABLE_IAM], [IAM_ON_KEY])
    assert not decide([ENABLE_IAM], [])  # the account may, this role's policies do not
    assert not decide([], [IAM_ON_KEY])  # "IAM policies that allow permissions have no effect"
    named = {**ENABLE_IAM, "Principal": {"AWS": ROLE}, "Action": "kms:Decrypt"}
    assert decide([named], [])  # a key policy naming the role needs no IAM policy
    assert decide([ENABLE_IAM], None)  # policies the model cannot read are taken to allow


def test_an_explicit_deny_in_either_policy_wins() -> None:
    deny = {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}
    assert not decide([ENABLE_IAM, deny], [IAM_ON_KEY])
    iam_deny = {**IAM_ON_KEY, "Effect": "Deny"}
    assert not decide([ENABLE_IAM], [IAM_ON_KEY, iam_deny])


def test_conditions_are_judged_where_known_and_err_towards_allowed_elsewhere() -> None:
    by_alias = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/replicas"}},
    }
    assert decide([ENABLE_IAM], [by_alias])
    other_alias = {
        **by_alias,
        "Condition": {"ForAnyValue:StringEquals": {"kms:ResourceAliases": "alias/x"}},
    }
    assert not decide([ENABLE_IAM], [other_alias])
    through_sqs = {"StringEquals": {"kms:ViaService": "sqs.us-west-2.amazonaws.com"}}
    assert condition_holds(through_sqs, CONTEXT) is False
    unknown = {"Bool": {"aws:SecureTransport": "true"}}
    assert condition_holds(unknown, CONTEXT) is None
    # A Deny the model cannot judge does not apply; an Allow it cannot judge does.
    unsure_deny = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "kms:*",
        "Resource": "*",
        "Condition": unknown,
    }
    assert decide([ENABLE_IAM, unsure_deny], [IAM_ON_KEY])
    assert decide([{**ENABLE_IAM, "Condition": unknown}], [IAM_ON_KEY])


def test_what_the_model_cannot_read_counts_towards_allowed() -> None:
    unresolved = {"Fn::ImportValue": "key-arn"}
    assert decide([ENABLE_IAM], [{**IAM_ON_KEY, "Resource": unresolved}])
    deny = {**IAM_ON_KEY, "Effect": "Deny", "Resource": unresolved}
    assert decide([ENABLE_IAM], [IAM_ON_KEY, deny])
    named = {**ENABLE_IAM, "Principal": {"AWS": {"Fn::GetAtt": ["Role", "Arn"]}}}
    assert decide([named], [])
    assert decide([ENABLE_IAM, {**named, "Effect": "Deny"}], [IAM_ON_KEY])


def test_every_store_in_r_names_a_key_its_users_may_use(synthesized: Synthesized) -> None:
    for name in ("pilot-light", "warm-standby", "multi-site", "backup-restore"):
        world = read_world(synthesized.read(name))
        uses = [u for u in world.key_uses if u.region == world.recovery]
        assert uses, name
        assert not [u.problem for u in uses if u.problem], name
    stores = {u.store for u in read_world(synthesized.read("warm-standby")).key_uses}
    assert any(s.startswith("the replica of table") for s in stores)
    assert any(s.startswith("the replica of secret") for s in stores)
    assert any(s.startswith("queue ") for s in stores)
    assert any(s.startswith("the recovery points in vault") for s in stores)


@pytest.mark.parametrize(
    ("mutant_id", "who", "action"),
    [
        ("iam-no-replica-key-ws", "the task role", "kms:Decrypt"),
        ("key-replica-deny-pl", "the task role", "kms:Decrypt"),
        ("key-data-no-account-ms", "the task role", "kms:Decrypt"),
        ("key-secret-replica-ws", "the hosted rotation function", "kms:Encrypt"),
        ("key-vault-deny-br", "AWS Backup's role", "kms:Decrypt"),
    ],
)
def test_a_key_its_user_may_not_use_is_seen(
    synthesized: Synthesized, tmp_path: Path, mutant_id: str, who: str, action: str
) -> None:
    mutant = next(m for m in MUTANTS if m.id == mutant_id)
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")
    plant(mutant, directory)
    world = read_world(read_assembly(directory)[mutant.tier])
    problems = [u.problem for u in world.key_uses if u.region == world.recovery and u.problem]
    assert problems, mutant_id
    assert all(p.startswith(who) and f" {action} with KMS key " in p for p in problems), problems


def test_what_each_user_needs_of_a_key_is_aws_s_list() -> None:
    assert rules.store_key_actions() == ("kms:Decrypt", "kms:GenerateDataKey")
    assert set(rules.secret_replica_key_actions()) == {"kms:Encrypt", "kms:GenerateDataKey"}
    assert rules.backup_restore_key_actions() == ("kms:Decrypt",)
    statement = rules.rotation_role_key_statement(KEY)
    assert statement["Resource"] == KEY
    assert "kms:GenerateDataKey" in str(statement["Action"])
