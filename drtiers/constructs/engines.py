"""The relational engines drtiers builds (PostgreSQL and MySQL, on RDS and on Aurora) and the
versions it pins, from drtiers/data/engines.json (each pin with its source and the date it was
read).

Plain data, no CDK: the checks, the recovery model and the report read an engine back from a
synthesized template (the ``Engine`` property) with :func:`by_name`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

FAMILIES = ("postgresql", "mysql")


@dataclass(frozen=True)
class Engine:
    """One engine family at one major version, as drtiers deploys it.

    ``port`` is the database's own port (never the engine default, see ``default_port``);
    ``proxy_port`` is where RDS Proxy listens for the family, whatever its targets' port.
    ``rds_tls``/``aurora_tls`` are the parameters that refuse unencrypted connections, for the
    RDS DB parameter group and the Aurora DB cluster parameter group.
    """

    family: str  # postgresql | mysql (drtiers.config.workload Database.engine)
    major: str  # "17", "8.4"
    rds_version: str
    aurora_version: str
    aurora_global_database: bool
    aurora_write_forwarding: bool
    label: str  # PostgreSQL | MySQL
    rds_engine: str  # the Engine property of an RDS instance: postgres | mysql
    aurora_engine: str  # the Engine of an Aurora cluster: aurora-postgresql | aurora-mysql
    rds_parameter_family: str  # postgres17, mysql8.4
    aurora_parameter_family: str  # aurora-postgresql17, aurora-mysql8.4
    port: int
    default_port: int
    proxy_port: int
    proxy_engine_family: str  # RDS Proxy EngineFamily: POSTGRESQL | MYSQL
    rds_tls: tuple[tuple[str, str], ...]
    aurora_tls: tuple[tuple[str, str], ...]
    # Cluster parameters every Aurora cluster of the engine sets beyond TLS (write forwarding).
    aurora_cluster_parameters: tuple[tuple[str, str], ...]
    rds_logs: tuple[str, ...]  # EnableCloudwatchLogsExports of an RDS instance
    aurora_logs: tuple[str, ...]  # ... of an Aurora cluster

    @property
    def name(self) -> str:
        return f"{self.label} {self.major}"

    @property
    def is_postgresql(self) -> bool:
        return self.family == "postgresql"


def _data() -> dict[str, Any]:
    text = resources.files("drtiers.data").joinpath("engines.json").read_text()
    return json.loads(text)  # type: ignore[no-any-return]


@cache
def engine(family: str, major: str) -> Engine:
    """The engine drtiers deploys for ``family`` ("postgresql" or "mysql") at ``major``."""
    data = _data()
    if family not in data["families"]:
        raise ValueError(f"engine '{family}' is not one of {', '.join(FAMILIES)}")
    versions = data["versions"][family]
    if major not in versions:
        raise ValueError(
            f"{data['families'][family]['label']} {major} is not pinned; pinned: "
            f"{', '.join(sorted(versions))} (drtiers/data/engines.json)"
        )
    f, v = data["families"][family], versions[major]
    return Engine(
        family=family,
        major=major,
        rds_version=v["rds"]["version"],
        aurora_version=v["aurora"]["version"],
        aurora_global_database=bool(v["aurora_global_database"]["supported"]),
        aurora_write_forwarding=bool(v["aurora_write_forwarding"]["supported"]),
        label=f["label"],
        rds_engine=f["rds_engine"],
        aurora_engine=f["aurora_engine"],
        rds_parameter_family=f["rds_parameter_family"].format(major=major),
        aurora_parameter_family=f["aurora_parameter_family"].format(major=major),
        port=int(f["port"]),
        default_port=int(f["default_port"]),
        proxy_port=int(f["proxy_port"]),
        proxy_engine_family=f["proxy_engine_family"],
        rds_tls=tuple(f["rds_tls"].items()),
        aurora_tls=tuple(f["aurora_tls"].items()),
        aurora_cluster_parameters=tuple(f["aurora_cluster_parameters"].items()),
        rds_logs=tuple(f["rds_logs"]),
        aurora_logs=tuple(f["aurora_logs"]),
    )


def pinned() -> list[Engine]:
    """Every engine drtiers pins, PostgreSQL first."""
    data = _data()
    return [engine(family, major) for family in FAMILIES for major in data["versions"][family]]


def family_of(engine_name: str) -> str | None:
    """The family of a template's ``Engine`` property (postgres, aurora-mysql, ...), or None
    for an engine drtiers does not build."""
    data = _data()
    for family, f in data["families"].items():
        if engine_name in (f["rds_engine"], f["aurora_engine"]):
            return str(family)
    return None


def label_of(engine_name: str) -> str:
    """PostgreSQL or MySQL for a template's ``Engine`` property; the name itself otherwise."""
    family = family_of(engine_name)
    return str(_data()["families"][family]["label"]) if family else engine_name


POSTGRESQL_17 = engine("postgresql", "17")
DEFAULT_ENGINE = POSTGRESQL_17  # what every template was built with before MySQL
