"""drtiers recommend: for each target, the cheapest configuration, and synthesizing its
settings gives the estimate (high end) and a simulation that meet the targets, at its cost."""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import pytest

from drtiers.advice.recommend import recommend
from drtiers.assess import assess_assembly
from drtiers.assess.model import Estimate
from drtiers.build import build_app, synthesize
from drtiers.cli import main as drtiers
from drtiers.recovery import Simulation, simulate_assembly
from tests.conftest import DEFAULT_CONTEXT, Synthesized

M, H = 60, 3600

# RTO, RPO, budget (seconds, seconds, USD a month) -> the tier and settings that answer.
CASES = [
    (50 * M, 10 * M, None, "warm-standby", {}),
    (
        52 * M,
        10 * M,
        None,
        "pilot-light",
        {"health_check_interval": "10", "health_check_failure_threshold": "3"},
    ),
    (
        27 * M,
        None,
        None,
        "warm-standby",
        {"health_check_interval": "10", "health_check_failure_threshold": "3"},
    ),
    (6 * H, 6 * H, None, "backup-restore", {"backup_frequency": "3h"}),
    (6 * H, 24 * H, None, "backup-restore", {}),
    (H, H, None, "pilot-light", {}),
    (10 * M, None, None, "multi-site", {}),
    (None, 30, None, "warm-standby", {}),
    (30 * M, 5 * M, 3000, "warm-standby", {}),
]


@pytest.fixture(scope="module")
def defaults(synthesized: Synthesized) -> list[Estimate]:
    return assess_assembly(Path(synthesized.assembly.directory))


@functools.cache
def as_applied(settings: tuple[tuple[str, str], ...]) -> tuple[Estimate, Simulation, Simulation]:
    """An answer's settings synthesized anew as a user applies them (not the synthesis recommend
    kept and weighed: the check must not read back recommend's own result): the estimate it
    promised, and the recovery. Once for the cases that share an answer."""
    context = {**DEFAULT_CONTEXT, **dict(settings)}
    with tempfile.TemporaryDirectory() as out:
        build_app(Path(out), context).synth()
        (estimate,) = assess_assembly(Path(out))
        ((loss, back),) = simulate_assembly(Path(out), context, synthesize)
    return estimate, loss, back


@pytest.mark.parametrize(("rto", "rpo", "budget", "tier", "settings"), CASES)
def test_recommend_answers_and_its_settings_deliver(
    defaults: list[Estimate],
    rto: float | None,
    rpo: float | None,
    budget: float | None,
    tier: str,
    settings: dict[str, str],
) -> None:
    answer = recommend(DEFAULT_CONTEXT, rto, rpo, budget, defaults).best
    assert answer is not None
    assert answer.context() == {"tier": tier, **settings}
    estimate, loss, back = as_applied(tuple(sorted(answer.context().items())))
    assert estimate.monthly_cost_usd == answer.cost
    assert (estimate.rto_range, estimate.rpo_range) == (
        answer.estimate.rto_range,
        answer.estimate.rpo_range,
    )
    assert rto is None or estimate.rto_high_seconds <= rto
    assert rpo is None or estimate.rpo_high_seconds <= rpo
    assert budget is None or estimate.monthly_cost_usd <= budget
    assert loss.passed and back.passed
    assert rto is None or loss.recovered_at <= rto


def test_no_cheaper_configuration_meets_the_targets(defaults: list[Estimate]) -> None:
    result = recommend(DEFAULT_CONTEXT, 52 * M, 10 * M, None, defaults)
    assert result.best is not None
    assert all(a.cost >= result.best.cost for a in result.alternatives)
    cheaper = [e for e in defaults if e.monthly_cost_usd < result.best.cost]
    assert all(e.rto_high_seconds > 52 * M or e.rpo_high_seconds > 10 * M for e in cheaper)


def test_over_budget_names_what_would_meet_and_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert drtiers(["recommend", "--rto", "1h", "--rpo", "1h", "--budget", "1000"]) == 1
    out = capsys.readouterr().out
    assert "Nothing meets RTO 1h and RPO 1h within $1,000 a month" in out
    assert "pilot-light" in out


def test_a_bad_budget_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert drtiers(["recommend", "--rto", "1h", "--budget", "-5"]) == 2
    assert capsys.readouterr().err.strip() == (
        "drtiers: error: recommend: --budget -5 is not valid; allowed: USD > 0"
    )


def test_explain_says_what_the_next_setting_would_buy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert drtiers(["explain", "--tier", "pilot-light"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (
        "Next setting: entry_point.health_check.interval_seconds: 10, "
        "entry_point.health_check.failure_threshold: 3 would give RTO 17.5 min" in out
    )
    assert "(now 18.5 min" in out and "+1 USD a month" in out
