"""`drtiers recommend`: the cheapest configuration (a tier and the settings that change its RTO
or RPO) that meets the targets at the high end of its range, within a budget if one is given.

Every candidate is synthesized and assessed as it would be deployed: the settings are real
context keys (each one a field of the workload file too), so synthesizing the answer gives the
estimate printed. The defaults of every tier come from one synthesis; a setting is tried only
where the tier's defaults miss a target it can move:
- the Route 53 health checks' interval and failure threshold (pilot-light, warm-standby: the
  detection that starts their failover; 10 s costs extra);
- backup-restore's backup frequency (its RPO is the interval plus the copy to R).
Settings that change cost but not the modelled RTO or RPO (the reduced task count, the Aurora
secondary's class) stay as the workload file has them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drtiers.assess.model import Estimate
from drtiers.build import synthesize_and_assess
from drtiers.config.context import BACKUP_INTERVALS_HOURS, WORKLOAD_KEYS, ConfigError, from_context
from drtiers.core.tiers import TIERS, EntryPoint

# Faster detection for the DNS tiers, tried after the workload's own, in this order: each costs
# the same (the 10 s interval), so the most tolerant of a passing blip first.
# (interval s, failure threshold)
FASTER_HEALTH_CHECKS = ((10, 3), (10, 2), (10, 1))


@dataclass(frozen=True)
class Setting:
    key: str  # the context key
    value: str

    @property
    def workload_path(self) -> str:
        """Where the workload file holds it (every setting here is one of its fields)."""
        if self.key == "backup_frequency":  # a context key of its own, and backups.frequency
            return "backups.frequency"
        return ".".join(WORKLOAD_KEYS[self.key])


@dataclass(frozen=True)
class Candidate:
    estimate: Estimate
    settings: tuple[Setting, ...] = ()

    @property
    def tier(self) -> str:
        return self.estimate.tier

    @property
    def cost(self) -> float:
        return self.estimate.monthly_cost_usd

    def meets(self, rto: float | None, rpo: float | None) -> bool:
        e = self.estimate
        return (rto is None or e.rto_high_seconds <= rto) and (
            rpo is None or e.rpo_high_seconds <= rpo
        )

    def context(self) -> dict[str, str]:
        return {"tier": self.tier, **{s.key: s.value for s in self.settings}}


@dataclass(frozen=True)
class Recommendation:
    best: Candidate | None  # None: nothing meets the targets (within the budget)
    alternatives: list[Candidate]  # the next cheapest that meet them, best first
    closest: Candidate  # when nothing meets them: the one that misses by the least
    over_budget: Candidate | None  # the cheapest that meets the targets, above the budget


def _one(context: Mapping[str, Any], tier: str, settings: tuple[Setting, ...]) -> Candidate:
    options = {**context, "tier": tier, **{s.key: s.value for s in settings}}
    (estimate,) = synthesize_and_assess(options)
    return Candidate(estimate, settings)


def _faster_health_checks(context: Mapping[str, Any], tier: str) -> list[tuple[Setting, ...]]:
    """The health-check settings that detect sooner than the workload's own, in order."""
    own = from_context({**context, "tier": tier}.get).workload.entry_point.health_check
    return [
        (
            Setting("health_check_interval", str(interval)),
            Setting("health_check_failure_threshold", str(threshold)),
        )
        for interval, threshold in FASTER_HEALTH_CHECKS
        if interval * threshold < own.interval_seconds * own.failure_threshold
    ]


def _health_check_variants(
    context: Mapping[str, Any], candidate: Candidate, rto: float | None
) -> list[Candidate]:
    """Faster detection for a DNS tier whose defaults miss the RTO, until one meets it."""
    found = []
    for settings in _faster_health_checks(context, candidate.tier):
        variant = _one(context, candidate.tier, settings)
        found.append(variant)
        if rto is None or variant.estimate.rto_high_seconds <= rto:
            break
    return found


def _backup_variant(
    context: Mapping[str, Any], candidate: Candidate, rpo: float
) -> Candidate | None:
    """backup-restore with the least frequent backups whose RPO meets the target (the rule
    config applies to rpo_target), or None when even hourly backups miss it."""
    try:
        config = from_context({**context, "tier": candidate.tier, "rpo_target": f"{int(rpo)}s"}.get)
    except ConfigError:
        return None
    hours = config.backup_interval_hours
    if hours is None:
        return None
    return _one(context, candidate.tier, (Setting("backup_frequency", f"{hours}h"),))


def _dns_tier(estimate: Estimate) -> bool:
    return TIERS[estimate.tier].entry_point is EntryPoint.DNS_FAILOVER


def _backed_up_only(estimate: Estimate) -> bool:
    return not TIERS[estimate.tier].has_recovery_stack


def recommend(
    context: Mapping[str, Any],
    rto: float | None,
    rpo: float | None,
    budget: float | None = None,
    defaults: list[Estimate] | None = None,
) -> Recommendation:
    """``context`` as for every command (cdk.json's, the user's); targets in seconds.
    ``defaults``: the four tiers already assessed with ``context``, if at hand."""
    if defaults is None:
        defaults = synthesize_and_assess({**context, "tier": ""})
    candidates = [Candidate(e) for e in defaults]
    for default in list(candidates):
        if default.meets(rto, rpo):
            continue
        e = default.estimate
        if rto is not None and e.rto_high_seconds > rto and _dns_tier(e):
            candidates += _health_check_variants(context, default, rto)
        if rpo is not None and e.rpo_high_seconds > rpo and _backed_up_only(e):
            variant = _backup_variant(context, default, rpo)
            if variant is not None:
                candidates.append(variant)
    meeting = sorted((c for c in candidates if c.meets(rto, rpo)), key=lambda c: c.cost)
    affordable = [c for c in meeting if budget is None or c.cost <= budget]
    over = meeting[0] if meeting and not affordable else None

    def miss(c: Candidate) -> float:
        e = c.estimate
        return max(e.rto_high_seconds / rto if rto else 0, e.rpo_high_seconds / rpo if rpo else 0)

    return Recommendation(
        best=affordable[0] if affordable else None,
        alternatives=_distinct_tiers(affordable[1:]),
        closest=min(candidates, key=miss),
        over_budget=over,
    )


def _distinct_tiers(candidates: list[Candidate]) -> list[Candidate]:
    """The cheapest way each other tier meets the targets."""
    seen: set[str] = set()
    kept = []
    for c in candidates:
        if c.tier not in seen:
            seen.add(c.tier)
            kept.append(c)
    return kept


def per_minute_saved(best: Candidate, other: Candidate) -> float | None:
    """What ``other`` costs a month more per minute of RTO it saves (high end); None if it
    saves none."""
    saved = (best.estimate.rto_high_seconds - other.estimate.rto_high_seconds) / 60
    return (other.cost - best.cost) / saved if saved > 0 else None


def next_setting(context: Mapping[str, Any], estimate: Estimate) -> Candidate | None:
    """The tier with the next setting that moves its RTO or RPO (a faster health check; more
    frequent backups), synthesized: what it would buy, for the sensitivity view. None: the tier
    has no such setting left."""
    if _dns_tier(estimate):
        faster = _faster_health_checks(context, estimate.tier)
        return _one(context, estimate.tier, faster[0]) if faster else None
    if _backed_up_only(estimate):
        config = from_context({**context, "tier": estimate.tier}.get)
        hours = config.backup_interval(TIERS[estimate.tier])
        more_often = [h for h in BACKUP_INTERVALS_HOURS if h < hours]
        if more_often:
            setting = Setting("backup_frequency", f"{more_often[-1]}h")
            return _one(context, estimate.tier, (setting,))
    return None
