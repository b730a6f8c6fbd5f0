"""Durations as people write them (``90s``, ``15m``, ``4h``, ``1d``) and as AWS writes them
(ISO 8601: ``PT5M``)."""

from __future__ import annotations

import re

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, what: str) -> float:
    """Seconds in ``text``; a bad value raises one line naming ``what``, the value and the fix."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", str(text))
    if not match:
        raise ValueError(
            f"{what}: '{text}' is not a duration; allowed: a number with s, m, h or "
            "d, such as 90s, 15m, 4h, 1d"
        )
    return float(match[1]) * UNITS[match[2]]


def format_duration(seconds: float) -> str:
    """Short, human: 45 s, 4.5 min, 2.6 h, 1.0 d."""
    if seconds < 120:
        return f"{seconds:g} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def format_range(typical: float, low: float, high: float) -> str:
    """The typical duration with its range: ``9.5 min (7.0-14.0 min)``; only the typical one
    where the range is a point."""
    if low == typical == high:
        return format_duration(typical)
    low_text, high_text = format_duration(low), format_duration(high)
    low_number, _, low_unit = low_text.partition(" ")
    high_number, _, high_unit = high_text.partition(" ")
    span = (
        f"{low_number}-{high_number} {high_unit}"
        if low_unit == high_unit
        else f"{low_text}-{high_text}"
    )
    return f"{format_duration(typical)} ({span})"


_ISO_8601 = re.compile(
    r"P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)


def iso_duration_seconds(text: str) -> float | None:
    """An ISO 8601 duration of days, hours, minutes and seconds (PT5M, P1DT1H) in seconds;
    None when ``text`` is not one."""
    match = _ISO_8601.fullmatch(text)
    if match is None or text in ("P", "PT"):
        return None
    d, h, m, sec = (float(match.group(g) or 0) for g in "dhms")
    return d * 86400 + h * 3600 + m * 60 + sec


def fault_seconds(value: str | None) -> float | None:
    """An FIS action's ``duration`` parameter in seconds; None for an action without one (it
    acts once). ValueError for anything that is not an ISO 8601 duration."""
    if value is None:
        return None
    seconds = iso_duration_seconds(value)
    if seconds is None:
        raise ValueError(f"not an ISO 8601 duration such as PT5M: {value!r}")
    return seconds
