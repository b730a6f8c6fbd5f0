"""RDS Extended Support: what AWS bills for a database whose major engine version is past its end
of standard support, from the dates in drtiers/data/engines.json (each with its source).

AWS: "You will incur charges for all engines enrolled in RDS Extended Support beginning the day
after the RDS end of standard support date ... RDS Extended Support charges apply to standby
instances in Multi-AZ deployments"
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/extended-support-charges.html, read
2026-12-04 in its copy on docs.amazonaws.cn); "RDS Extended Support is available for up to 3
years past the Aurora end of standard support date"
(https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/extended-support.html, read
2026-12-04 in the same way). The charge is per vCPU-hour, higher in the third year than in the
first two; Aurora MySQL is "charged at Year 1 prices for the entire duration of Extended Support"
(https://github.com/aws-samples/rds-extended-support-cost-estimator, AWS's own sample, quoting
the Aurora pricing page; read 2026-12-04).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

FIRST_YEARS, THIRD_YEAR = "year1-2", "year3"  # the bands of prices.json extended_support_vcpu_hour
ONE_BAND = ("aurora-mysql",)  # billed at the first years' rate throughout


@dataclass(frozen=True)
class StandardSupport:
    engine: str  # the template's Engine: postgres, mysql, aurora-postgresql, aurora-mysql
    major: str  # "17", "8.0"
    ends: date  # the last day of standard support
    source: str
    status: str


@cache
def _versions() -> dict[str, Any]:
    text = resources.files("drtiers.data").joinpath("engines.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


def major_version(engine: str, version: str) -> str:
    """The major version of a template's EngineVersion: ``8.0`` of ``8.0.46`` and of
    ``8.0.mysql_aurora.3.12.0``, ``17`` of ``17.9``."""
    parts = version.split(".")
    return ".".join(parts[:2]) if "mysql" in engine else parts[0]


def standard_support(engine: str, version: str) -> StandardSupport | None:
    """When standard support of ``version`` on ``engine`` ends; None for a version or engine
    drtiers does not build (and so has no date for)."""
    data = _versions()
    major = major_version(engine, version)
    for family, f in data["families"].items():
        for kind in ("rds", "aurora"):
            entry = data["versions"][family].get(major, {}).get(kind, {})
            if f[f"{kind}_engine"] == engine and "standard_support_ends" in entry:
                ends = entry["standard_support_ends"]
                return StandardSupport(
                    engine,
                    major,
                    date.fromisoformat(ends["date"]),
                    f"{ends['source']} (read {ends['read']}; {ends['status']})",
                    ends["status"],
                )
    return None


def billed_band(support: StandardSupport, on: date) -> str | None:
    """The band of RDS Extended Support billed on ``on``: None within standard support, else the
    first two years or the third (Aurora MySQL: the first years' rate throughout)."""
    if on <= support.ends:
        return None
    ends = support.ends
    whole_years = on.year - ends.year - ((on.month, on.day) <= (ends.month, ends.day))
    if whole_years < 2 or support.engine in ONE_BAND:
        return FIRST_YEARS
    return THIRD_YEAR
