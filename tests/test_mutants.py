"""The mutation harness (drtiers.checks.mutants): every mutant plants a real change, and a fast
subset, one per category where today's checks catch one, is killed by what should catch it.
`make mutate` runs them all and prints the kill rate (a measurement, not a gate)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from drtiers.assembly.reader import copy_assembly, template_files
from drtiers.build import synthesize
from drtiers.checks.mutants import (
    CATEGORIES,
    GAPS,
    MUTANTS,
    Mutant,
    MutantError,
    plant,
    prefix,
    run,
    set_path,
)
from tests.conftest import Synthesized, context

# mutant id -> what must be among the invariants and rules that catch it
FAST = {
    "env-no-queue-ms": {"I1"},
    "iam-no-connect-ws": {"I1", "I4"},
    "proxy-role-no-connect-ws": {"I1"},
    "scale-floor-zero-ms": {"I3"},
    "check-threshold-ws": {"I5"},
    "plan-no-approval-pl": {"I7"},
    "repl-not-joined-ws": {"DR-AuroraSecondary"},
    "backup-no-copy-ws": {"DR-BackupCopiedOut"},
    "xr-task-reads-p-ws": {"I2"},
}

# Defects the checks were taught to see after the first measurement, each by AWS's model of it:
# the scaling maximum, the declared metric's name, the Aurora block's global cluster, a copy
# job's vault, the scaling floor as the idle steady state, and the approval role.
GROUNDED = {
    "scale-floor-zero-ws": {"I3"},
    "plan-approver-typo-ws": {"I7"},
    "scale-max-below-full-pl": {"I3"},
    "alarm-metric-typo-pl": {"I6"},
    "plan-global-id-ms": {"I1"},
    "backup-copy-vault-removed-pl": {"DR-BackupCopiedOut"},
    "backup-vault-renamed-br": {"DR-BackupCopiedOut"},
    # security groups and ports, read as AWS evaluates them (drtiers.assembly.network)
    "sg-proxy-port-ws": {"I1"},
    "sg-lb-to-app-ms": {"I1"},
    # A store's KMS key, judged as KMS does: the key policy, then the caller's IAM policies.
    "key-replica-deny-pl": {"I1"},
    "iam-no-replica-key-ws": {"I1"},
    # IAM evaluated on the ARNs the templates render, and the calls the function's code makes
    "iam-connect-wrong-region-pl": {"I1"},
    "iam-actions-no-declare-ws": {"I8"},
}


def test_enough_mutants_across_categories_and_tiers() -> None:
    ids = [m.id for m in MUTANTS]
    assert len(ids) == len(set(ids)), "mutant ids are unique"
    assert len(MUTANTS) >= 40
    categories = Counter(m.category for m in MUTANTS)
    assert set(categories) <= set(CATEGORIES)
    assert len(categories) >= 10
    tiers = Counter(m.tier for m in MUTANTS)
    assert set(tiers) == {"backup-restore", "pilot-light", "warm-standby", "multi-site"}
    assert all(m.description and m.why for m in MUTANTS)
    assert set(GAPS) <= set(ids), "every recorded gap is a mutant's"
    assert not set(GAPS) & set(FAST), "the fast subset is killed"


def test_every_mutant_changes_its_template(synthesized: Synthesized, tmp_path: Path) -> None:
    """Each edit finds what it changes (by type and a stable name, never a hash) and changes it:
    no mutant is a silent no-op."""
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")
    templates = {path: path.read_bytes() for path in template_files(directory)}
    for mutant in MUTANTS:  # each on the templates as synthesized: the one edited is put back
        stack = plant(mutant, directory)
        assert stack.endswith(f"-{mutant.tier}-{mutant.stack}"), mutant.id
        edited = directory / f"{stack}.template.json"
        edited.write_bytes(templates[edited])


def test_an_edit_that_matches_nothing_or_changes_nothing_raises(
    synthesized: Synthesized, tmp_path: Path
) -> None:
    directory = copy_assembly(synthesized.directory, tmp_path / "assembly")
    missing = Mutant(
        "missing",
        "scaling",
        "pilot-light",
        "recovery",
        "a resource that is not there",
        "-",
        set_path("AWS::ECS::Service", prefix("NoSuchService"), ("DesiredCount",), 9),
    )
    with pytest.raises(MutantError, match="0 resources"):
        plant(missing, directory)
    unchanged = Mutant(
        "unchanged",
        "scaling",
        "pilot-light",
        "recovery",
        "R's count set to what it is",
        "-",
        set_path("AWS::ECS::Service", prefix("AppService"), ("DesiredCount",), 0),
    )
    with pytest.raises(MutantError, match="changed nothing"):
        plant(unchanged, directory)


def test_fast_subset_is_killed_by_what_should_catch_it(synthesized: Synthesized) -> None:
    chosen = [m for m in MUTANTS if m.id in FAST]
    assert len(chosen) == len(FAST)
    results = run(chosen, synthesized.directory, context(), synthesize)
    for result in results:
        expected = FAST[result.mutant.id]
        assert result.killed, f"{result.mutant.id} survived"
        assert not result.error, result.error
        assert expected <= set(result.caught_by), (result.mutant.id, result.caught_by)
    assert len({r.mutant.category for r in results}) == len(results)  # one per category


def test_the_defects_modelled_since_are_killed(synthesized: Synthesized) -> None:
    chosen = [m for m in MUTANTS if m.id in GROUNDED]
    assert len(chosen) == len(GROUNDED)
    assert not set(GAPS) & set(GROUNDED)
    for result in run(chosen, synthesized.directory, context(), synthesize):
        assert result.killed and not result.error, result.mutant.id
        assert GROUNDED[result.mutant.id] <= set(result.caught_by), (
            result.mutant.id,
            result.caught_by,
        )
