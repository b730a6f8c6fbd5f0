"""The published figures, assumptions and prices the model uses, from the data files beside this
module. Each carries its source and the date it was read."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
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
    status: str  # verified, secondary or unverified (prices.json "_about")
    source: str
    as_of: str  # the date the source was read
    region: str  # the region whose price this is
    note: str = ""  # why it is not verified, and what it rests on
    wanted_region: str = ""  # the region asked for, where it had no price (nearest used)


STATUSES = ("verified", "secondary", "unverified")
BUNDLED = "drtiers/core/prices.json"


class PriceFileError(ValueError):
    """The price file is not one drtiers can read. One line, for the user."""


def _load(name: str) -> dict[str, Any]:
    return json.loads(resources.files("drtiers.core").joinpath(name).read_text())  # type: ignore[no-any-return]


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


_price_file: dict[str, Any] = {}  # "name" and "data" of the file in use, once read


def use_price_file(path: str | None) -> None:
    """Price estimates from ``path`` (``--prices FILE``) instead of the bundled file; None: the
    bundled file again. The file is checked at once: a bad one raises PriceFileError."""
    _price_file.clear()
    if path is None:
        return
    try:
        data = json.loads(Path(path).read_text())
    except OSError as error:
        raise PriceFileError(f"{path}: cannot be read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise PriceFileError(f"{path}: not JSON ({error.msg} at line {error.lineno})") from None
    check_prices(data, path)
    _price_file.update(name=path, data=data)


def price_file_name() -> str:
    return str(_price_file.get("name", BUNDLED))


def price_data() -> dict[str, Any]:
    if "data" not in _price_file:
        data = _load("prices.json")
        check_prices(data, BUNDLED)
        _price_file.update(name=BUNDLED, data=data)
    return _price_file["data"]  # type: ignore[no-any-return]


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _check_leaf(leaf: object, where: str, defaults: Mapping[str, Any]) -> None:
    if isinstance(leaf, dict):
        if "value" in leaf:
            _check_leaf(leaf["value"], f"{where}.value", defaults)
            _check_source({**defaults, **leaf}, where)
            return
        if not leaf:
            raise PriceFileError(f"{where}: empty")
        for key, value in leaf.items():
            _check_leaf(value, f"{where}.{key}", defaults)
        return
    if not _is_number(leaf):
        raise PriceFileError(f"{where}: expected a number >= 0, got {json.dumps(leaf)}")


def _check_source(entry: Mapping[str, Any], where: str) -> None:
    if entry.get("status") not in STATUSES:
        raise PriceFileError(
            f"{where}.status: expected one of {', '.join(STATUSES)}, "
            f"got {json.dumps(entry.get('status'))}"
        )
    if not str(entry.get("source", "")).startswith("https://"):
        raise PriceFileError(f"{where}.source: expected an https:// address of the source")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(entry.get("read", ""))):
        raise PriceFileError(f"{where}.read: expected the date the source was read (YYYY-MM-DD)")


def check_prices(data: object, name: str) -> None:
    """Raise PriceFileError naming the first thing wrong in a price file, if any."""
    if not isinstance(data, dict):
        raise PriceFileError(f"{name}: expected a JSON object")
    for key in ("hours_per_month", "prices", "workload", "nearest_priced_region"):
        if key not in data:
            raise PriceFileError(f"{name}: no '{key}'")
    for prefix, choices in data["nearest_priced_region"].items():
        if not prefix.startswith("_") and not (
            isinstance(choices, list) and all(isinstance(c, str) for c in choices)
        ):
            raise PriceFileError(
                f"{name}: nearest_priced_region.{prefix}: expected a list of regions"
            )
    if not _is_number(data["hours_per_month"]) or not data["hours_per_month"]:
        raise PriceFileError(f"{name}: hours_per_month: expected a number > 0")
    vcpus = data.get("instance_vcpus", {}).get("values")
    if not isinstance(vcpus, dict) or not all(_is_number(v) for v in vcpus.values()):
        raise PriceFileError(f"{name}: instance_vcpus.values: expected class -> vCPUs")
    if not isinstance(data["prices"], dict) or not data["prices"]:
        raise PriceFileError(f"{name}: prices: expected an object of price names")
    for item, entry in data["prices"].items():
        where = f"{name}: prices.{item}"
        regions = entry.get("regions") if isinstance(entry, dict) else None
        if not isinstance(regions, dict) or not regions or not isinstance(entry.get("unit"), str):
            raise PriceFileError(f"{where}: expected 'unit' and 'regions' (region -> price)")
        for region, priced in regions.items():
            at = f"{where}.regions.{region}"
            if not isinstance(priced, dict) or ("value" in priced) == ("values" in priced):
                raise PriceFileError(f"{at}: expected either 'value' or 'values'")
            _check_source(priced, at)
            if "value" in priced:
                _check_leaf(priced["value"], f"{at}.value", priced)
            else:
                _check_leaf(priced["values"], f"{at}.values", priced)
    for key, value in data["workload"].items():
        if not key.startswith("_") and not _is_number(value):
            raise PriceFileError(f"{name}: workload.{key}: expected a number >= 0")
    if "priced_on" in data and not _is_date(data["priced_on"]):
        raise PriceFileError(f"{name}: priced_on: expected the day the prices are for (YYYY-MM-DD)")


def _is_date(value: object) -> bool:
    try:
        date.fromisoformat(str(value))
    except ValueError:
        return False
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value)))


def priced_on() -> date:
    """The day the estimate prices (which engine versions are past standard support): the
    price file's ``priced_on``, or the bundled file's where it names none."""
    data = price_data()
    return date.fromisoformat(str(data.get("priced_on") or _load("prices.json")["priced_on"]))


def nearest_priced_region(region: str, priced: Iterable[str]) -> str | None:
    """The region priced in ``region``'s stead: the first priced one of the list
    ``nearest_priced_region`` gives for the longest prefix of ``region`` (prices.json says
    why); None when none of them is priced."""
    table = price_data()["nearest_priced_region"]
    prefixes = [p for p in table if not p.startswith("_") and region.startswith(p)]
    if not prefixes:
        return None
    priced = set(priced)
    return next((r for r in table[max(prefixes, key=len)] if r in priced), None)


def price(name: str, region: str, *variant: str) -> Price:
    """One price in ``region`` (or, where it has none, the nearest priced region: the Price
    says which). ``variant`` picks the engine and class, or the node type, where the price has
    several."""
    data = price_data()
    if name not in data["prices"]:
        raise ParameterError(f"{price_file_name()} has no price '{name}'")
    entry = data["prices"][name]
    regions = entry["regions"]
    priced_region = region if region in regions else nearest_priced_region(region, regions)
    if priced_region is None:
        raise ParameterError(
            f"no price for {name} in {region} or a region near it in {price_file_name()}; "
            f"priced: {', '.join(sorted(regions))}"
        )
    priced = regions[priced_region]
    leaf: Any = priced["value"] if "value" in priced else priced["values"]
    for depth, key in enumerate(variant):
        if not isinstance(leaf, dict) or "value" in leaf or key not in leaf:
            known = sorted(k for k in leaf) if isinstance(leaf, dict) else []
            what = ("engine", "instance class")[depth] if len(variant) == 2 else "node type"
            of = f" ({variant[0]})" if depth == 1 else ""
            raise ParameterError(
                f"no {name} price for {what} '{key}'{of} in {priced_region} in "
                f"{price_file_name()}; priced: {', '.join(known)}"
            )
        leaf = leaf[key]
    details = {**priced, **leaf} if isinstance(leaf, dict) else priced
    value = leaf["value"] if isinstance(leaf, dict) else leaf
    return Price(
        name=f"{name}[{' '.join(variant)}]" if variant else name,
        value=float(value),
        unit=entry["unit"],
        status=details["status"],
        source=details["source"],
        as_of=details["read"],
        region=priced_region,
        note=details.get("note", ""),
        wanted_region="" if priced_region == region else region,
    )


def instance_vcpus(instance_class: str) -> float:
    vcpus = price_data()["instance_vcpus"]["values"]
    if instance_class not in vcpus:
        raise ParameterError(
            f"no vCPU count for instance class '{instance_class}' in {price_file_name()} "
            f"(instance_vcpus); known: {', '.join(sorted(vcpus))}"
        )
    return float(vcpus[instance_class])


def default_workload() -> dict[str, float]:
    return {k: float(v) for k, v in price_data()["workload"].items() if not k.startswith("_")}


# Assumptions the estimate divides by (a restore's hours are size / rate): zero is refused.
DIVISORS = ("restore_rate_gb_per_hour",)


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
        if value == 0 and name in DIVISORS:
            raise ParameterError(
                f"assumption '{name}': {raw} is zero, and the estimate divides by it; "
                "allowed: a number above 0"
            )
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
