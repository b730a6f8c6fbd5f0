"""The published figures, assumptions and prices the model uses, from the data files beside this
module. Each carries its source and the date it was read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any


class ParameterError(ValueError):
    """An override names an unknown parameter or gives a bad value. One line, for the user."""


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    kind: str  # published, derived or assumption
    what: str
    source: str
    as_of: str
    low: float | None = None  # the range: None where none is given (then low = high = value)
    high: float | None = None
    higher_is_faster: bool = False  # a rate: the slow end (more time) is the low value
    status: str = "unverified"  # verified, not-published or unverified (figures.json _about)
    reason: str = ""
    range_note: str = ""

    @property
    def label(self) -> str:
        flags = [self.kind, self.status]
        return f"{self.source} (read {self.as_of}; {', '.join(flags)})"

    def at(self, end: str) -> Figure:
        """This figure at one end of its range: ``low`` or ``high`` means the end that makes a
        step take less or more time (for a rate, the high rate or the low one); ``typical``
        is the figure itself."""
        if end == "typical":
            return self
        low = self.value if self.low is None else self.low
        high = self.value if self.high is None else self.high
        fast, slow = (high, low) if self.higher_is_faster else (low, high)
        return replace(self, value=fast if end == "low" else slow)


def at_end(figures: Mapping[str, Figure], end: str) -> dict[str, Figure]:
    """Every figure at one end of its range (``low``: everything goes as fast as published or
    assumed, ``high``: as slow)."""
    return {name: figure.at(end) for name, figure in figures.items()}


@dataclass(frozen=True)
class Price:
    name: str
    value: float
    unit: str
    status: str  # secondary or unverified
    source: str
    as_of: str
    region: str


def _load(name: str) -> dict[str, Any]:
    return json.loads(resources.files("drtiers.assess").joinpath(name).read_text())  # type: ignore[no-any-return]


@cache
def default_figures() -> dict[str, Figure]:
    data = _load("figures.json")
    return {
        name: Figure(
            name=name,
            value=float(f["value"]),
            kind=f["kind"],
            what=f["what"],
            source=f["source"],
            as_of=f.get("read", data["as_of"]),
            low=float(f.get("low", f["value"])),
            high=float(f.get("high", f["value"])),
            higher_is_faster=bool(f.get("higher_is_faster", False)),
            status=f.get("status", "unverified"),
            reason=f.get("reason", ""),
            range_note=f.get("range", ""),
        )
        for name, f in data["figures"].items()
    }


@cache
def price_data() -> dict[str, Any]:
    return _load("prices.json")


def price(name: str, variant: str | None = None) -> Price:
    """One price; ``variant`` picks an instance class or node type where the price has several."""
    data = price_data()
    entry = data["prices"][name]
    if variant is None:
        value, status = entry["value"], entry["status"]
    else:
        if variant not in entry["values"]:
            raise ParameterError(
                f"no price for {variant} in prices.json '{name}'; add it with its source"
            )
        value = entry["values"][variant]
        status = entry["status"] if isinstance(entry["status"], str) else entry["status"][variant]
    return Price(
        name=f"{name}[{variant}]" if variant else name,
        value=float(value),
        unit=entry["unit"],
        status=status,
        source=entry["source"],
        as_of=data["as_of"],
        region=data["region"],
    )


def default_workload() -> dict[str, float]:
    return {k: float(v) for k, v in price_data()["workload"].items() if not k.startswith("_")}


def with_overrides(
    overrides: Mapping[str, Any],
) -> tuple[dict[str, Figure], dict[str, float]]:
    """Figures and workload with the user's values (``NAME=VALUE``) replacing the defaults.
    Only assumptions and workload parameters may be overridden; published figures may not."""
    figures = dict(default_figures())
    workload = default_workload()
    assumptions = sorted(n for n, f in figures.items() if f.kind == "assumption")
    allowed = ", ".join([*assumptions, *sorted(workload)])
    for name, raw in overrides.items():
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise ParameterError(
                f"assumption '{name}': '{raw}' is not a number; allowed: a number >= 0"
            ) from None
        if value < 0:
            raise ParameterError(f"assumption '{name}': {raw} is negative; allowed: a number >= 0")
        if name in workload:
            workload[name] = value
        elif name in figures and figures[name].kind == "assumption":
            figures[name] = replace(
                figures[name],
                value=value,
                low=value,
                high=value,
                source="set by the user",
                range_note="set by the user: low = typical = high",
            )
        else:
            raise ParameterError(f"assumption '{name}' is not known; allowed: {allowed}")
    return figures, workload
