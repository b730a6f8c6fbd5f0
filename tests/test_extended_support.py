"""RDS Extended Support (issue 18, "priced as AWS bills it"): an instance whose major engine
version is past its end of standard support on the price file's day costs its vCPUs x hours x the
band's rate more, in each region it runs in (a Multi-AZ standby too); within standard support,
nothing more. Template-level: the reference assembly, its engine rewritten, priced twice."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest

from drtiers.assembly.queries import db_instances
from drtiers.assembly.reader import Resource, TierAssembly
from drtiers.assess.model import Estimate, estimate
from drtiers.assess.support import billed_band, standard_support
from drtiers.core.facts import (
    PriceFileError,
    check_prices,
    instance_vcpus,
    price,
    price_data,
    use_price_file,
    with_overrides,
)
from drtiers.core.facts import (
    priced_on as priced_on_day,
)
from tests.conftest import Synthesized

HOURS = 730
ITEM = "RDS Extended Support"
# (Engine, a version of a major drtiers pins): one per engine
ENGINES = (
    ("postgres", "16.13"),
    ("mysql", "8.0.46"),
    ("aurora-postgresql", "16.13"),
    ("aurora-mysql", "8.0.mysql_aurora.3.12.0"),
)


@pytest.fixture
def priced_on(tmp_path: Path) -> Iterator[Callable[[date], None]]:
    """Price with the bundled prices as of another day: ``priced_on(day)``."""

    def use(day: date) -> None:
        path = tmp_path / f"prices-{day}.json"
        use_price_file(None)
        path.write_text(json.dumps({**price_data(), "priced_on": day.isoformat()}))
        use_price_file(str(path))

    yield use
    use_price_file(None)


def running(tier: TierAssembly, engine: str, version: str) -> TierAssembly:
    """``tier`` with its database on ``engine`` at ``version`` (RDS instances for an RDS engine,
    Aurora clusters and their members for an Aurora one)."""
    aurora = engine.startswith("aurora")

    def rewrite(r: Resource) -> Resource:
        ours = r.type == "AWS::RDS::DBCluster" or (
            r.type == "AWS::RDS::DBInstance" and bool(r.prop("DBClusterIdentifier")) == aurora
        )
        if not ours or not r.prop("Engine"):
            return r
        properties = {**r.properties, "Engine": engine}
        if r.prop("EngineVersion"):
            properties["EngineVersion"] = version
        return replace(r, properties=properties)

    return replace(tier, resources=[rewrite(r) for r in tier.resources])


def _priced(tier: TierAssembly) -> Estimate:
    return estimate(tier, *with_overrides({}))


def _extra(e: Estimate) -> float:
    return sum(line.monthly_usd for line in e.cost if line.item.startswith(ITEM))


@pytest.mark.parametrize(("engine", "version"), ENGINES, ids=[e for e, _ in ENGINES])
def test_a_version_past_standard_support_costs_its_vcpu_hours_at_the_bands_rate(
    synthesized: Synthesized, priced_on: Callable[[date], None], engine: str, version: str
) -> None:
    support = standard_support(engine, version)
    assert support is not None
    use = priced_on
    checked = 0
    for name in ("backup-restore", "pilot-light", "warm-standby", "multi-site"):
        tier = running(synthesized.read(name), engine, version)
        ours = [db for db in db_instances(tier) if db.engine == engine]
        if not ours:
            continue
        use(support.ends)  # the last day of standard support: nothing more
        within = _priced(tier)
        assert _extra(within) == 0
        for day, band in ((1, "year1-2"), (2 * 366 + 1, "year3")):
            use(support.ends + timedelta(days=day))
            past = _priced(tier)
            if engine == "aurora-mysql":
                band = "year1-2"  # AWS bills Aurora MySQL the first years' rate throughout
            want = sum(
                instance_vcpus(db.instance_class)
                * HOURS
                * (2 if db.multi_az else 1)
                * price("extended_support_vcpu_hour", db.region, band).value
                for db in ours
            )
            assert _extra(past) == pytest.approx(want, abs=0.01 * len(ours))
            assert past.monthly_cost_usd == pytest.approx(within.monthly_cost_usd + want, abs=0.1)
            assert {line.region for line in past.cost if line.item.startswith(ITEM)} == {
                db.region for db in ours
            }
        checked += 1
    assert checked


def test_the_reference_workload_is_within_standard_support(synthesized: Synthesized) -> None:
    """PostgreSQL 17 on the bundled prices' day: no Extended Support line in any tier."""
    for name in ("backup-restore", "pilot-light", "warm-standby", "multi-site"):
        assert _extra(_priced(synthesized.read(name))) == 0


def test_a_price_file_with_a_bad_day_is_refused_with_one_line() -> None:
    with pytest.raises(PriceFileError) as error:
        check_prices({**price_data(), "priced_on": "2026-13-01"}, "mine.json")
    assert str(error.value) == (
        "mine.json: priced_on: expected the day the prices are for (YYYY-MM-DD)"
    )


def test_on_the_bundled_day_only_rds_mysql_8_0_is_past_standard_support() -> None:
    """The engine data decides, not the code: RDS MySQL 8.0's standard support ended on
    2026-07-31, so it is billed the first years' rate; every other pinned version is within."""
    past = {
        (engine, version): billed_band(support, priced_on_day())
        for engine, version in (
            *ENGINES,
            ("postgres", "17.9"),
            ("mysql", "8.4.10"),
            ("aurora-postgresql", "17.9"),
            ("aurora-mysql", "8.4.mysql_aurora.8.4.8"),
        )
        if (support := standard_support(engine, version)) is not None
    }
    assert len(past) == 8
    assert {key: band for key, band in past.items() if band} == {("mysql", "8.0.46"): "year1-2"}
