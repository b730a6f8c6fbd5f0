"""Restore jobs read back: how long AWS Backup took to restore each store (a restore test's, a
drill's or an event's), beside the time the estimate's restore rate gives the same size.

The estimate has no published figure to lean on ("AWS publishes no restore durations",
figures.json ``restore_rate_gb_per_hour``): these jobs are the measurement that replaces the
assumption. A job is read as ``aws backup describe-restore-job`` or ``aws backup
list-restore-jobs`` saves it (botocore's output shapes, checked in drtiers.recovery.results).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from drtiers.core.facts import Figure
from drtiers.core.tiers import TIER_NAMES
from drtiers.recovery.measured import slower, timestamp

RATE = "restore_rate_gb_per_hour"
GB = 1e9  # AWS Backup reports BackupSizeInBytes; the figure is in GB per hour
# Restore tests put a validation status on the job: these say the restored data is not good.
BAD_VALIDATION = ("FAILED", "TIMED_OUT")


@dataclass(frozen=True)
class RestoreResult:
    file: str
    tier: str
    job_id: str
    resource: str  # the source resource's ARN
    resource_type: str
    status: str  # PENDING, RUNNING, COMPLETED, ABORTED, FAILED
    validation: str | None  # a restore test's validation status, if any
    size_gb: float | None
    size_assumed: bool  # AWS gave no size (an RDS instance's is 0): the workload's database size
    measured_seconds: float | None  # creation to completion
    estimated_seconds: float | None  # the size at the estimate's restore rate
    measured_rate: float | None  # GB per hour
    verdict: str  # ok, slower (+N s), faster than the fast end, failed (...), unfinished (...)

    @property
    def store(self) -> str:
        """The restored store's name (its ARN's last part)."""
        return self.resource.rsplit(":", 1)[-1].rsplit("/", 1)[-1]

    @property
    def findings(self) -> list[str]:
        found = []
        if self.verdict.startswith(("slower", "failed", "unfinished")):
            found.append(f"restore of {self.resource}: {self.verdict}")
        if self.validation in BAD_VALIDATION:
            found.append(f"restore of {self.resource}: validation {self.validation}")
        return found


def restore_jobs(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The jobs in one saved output: one (describe) or a list (list-restore-jobs), without a
    composite job's parent (its children are the restores; counting both counts twice)."""
    jobs = list(data["RestoreJobs"]) if "RestoreJobs" in data else [data]
    return [job for job in jobs if not job.get("IsParent")]


def tier_of_resource(arn: str) -> str | None:
    """The tier a store belongs to, from its name (``<app>-<tier>-<what>``)."""
    name = f"-{arn.rsplit(':', 1)[-1].rsplit('/', 1)[-1]}-"
    return next((t for t in TIER_NAMES if f"-{t}-" in name), None)


def _seconds(job: Mapping[str, Any]) -> float | None:
    start, end = timestamp(job.get("CreationDate")), timestamp(job.get("CompletionDate"))
    if not isinstance(start, datetime) or not isinstance(end, datetime):
        return None
    return (end - start).total_seconds()


def _verdict(
    job: Mapping[str, Any],
    measured: float | None,
    estimated: float | None,
    rate: float | None,
    figure: Figure,
    assumed: bool,
) -> str:
    status = str(job.get("Status", ""))
    if status in ("FAILED", "ABORTED"):
        return f"failed ({status}: {job.get('StatusMessage', '')})".replace(": )", ")")
    if status != "COMPLETED" or measured is None:
        return f"unfinished ({status or 'no status'})"
    if estimated is None or rate is None:
        return "no size: not compared"
    if slower(measured, estimated):
        return f"slower (+{measured - estimated:g} s; {rate:.0f} GB/h against {figure.value:g})"
    fast = figure.value if figure.high is None else figure.high
    if rate > fast and not assumed:  # an assumed size says nothing of the rate
        return f"faster than the fast end ({rate:.0f} GB/h against {fast:g}: raise {RATE})"
    return "ok"


def _size_gb(job: Mapping[str, Any], database_gb: float) -> tuple[float | None, bool]:
    """The restored size, and whether it is assumed. For backup jobs AWS says "An Amazon RDS
    instance will show as 0" and that Aurora does "not have this value populate"
    (BackupJob.BackupSizeInBytes, https://docs.aws.amazon.com/aws-backup/latest/devguide/
    API_BackupJob.html, read 2026-12-05); a restore job of a database without one is held to
    the workload's ``database_size_gb``, as the estimate sizes it."""
    size = job.get("BackupSizeInBytes")
    if isinstance(size, int) and size > 0:
        return size / GB, False
    if job.get("ResourceType") in ("RDS", "Aurora") and database_gb > 0:
        return database_gb, True
    return None, False


def compare_restore(
    path: str, tier: str, job: Mapping[str, Any], figure: Figure, database_gb: float
) -> RestoreResult:
    """One job against the estimate's restore rate (``figure``, the tier's as synthesized)."""
    size_gb, assumed = _size_gb(job, database_gb)
    measured = _seconds(job)
    estimated = None if size_gb is None else size_gb / figure.value * 3600
    rate = None if size_gb is None or not measured else size_gb / (measured / 3600)
    return RestoreResult(
        file=path,
        tier=tier,
        job_id=str(job.get("RestoreJobId", "")),
        resource=str(job.get("SourceResourceArn", "")),
        resource_type=str(job.get("ResourceType", "")),
        status=str(job.get("Status", "")),
        validation=job.get("ValidationStatus"),
        size_gb=size_gb,
        size_assumed=assumed,
        measured_seconds=measured,
        estimated_seconds=estimated,
        measured_rate=rate,
        verdict=_verdict(job, measured, estimated, rate, figure, assumed),
    )
