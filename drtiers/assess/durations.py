"""Durations as people write them: ``90s``, ``15m``, ``4h``, ``1d``."""

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
