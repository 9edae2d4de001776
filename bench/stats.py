"""Latency samples and their summaries: percentiles, throughput, medians of repetitions.

Pure. Percentiles are nearest-rank over every sample of one run (no histogram buckets);
a figure reported for several repetitions is the median of the runs' figures.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list (fraction 0.5 is the median)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Timings:
    """Seconds per request of one run, and the failures."""

    samples: list[float] = field(default_factory=list)
    errors: int = 0

    def add(self, seconds: float) -> None:
        self.samples.append(seconds)

    def summary(self, window_seconds: float | None) -> dict[str, Any]:
        """Milliseconds p50 / p99 / mean; requests per second when a window is given."""
        ordered = sorted(self.samples)
        result: dict[str, Any] = {
            "requests": len(ordered),
            "errors": self.errors,
            "p50_ms": percentile(ordered, 0.50) * 1000,
            "p99_ms": percentile(ordered, 0.99) * 1000,
            "mean_ms": statistics.fmean(ordered) * 1000 if ordered else math.nan,
        }
        if window_seconds:
            result["throughput_rps"] = len(ordered) / window_seconds
        return result


def median_of_runs(runs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Per figure, the median over the runs; counts (requests, errors) are summed."""
    runs = list(runs)
    merged: dict[str, Any] = {"runs": len(runs)}
    for key in runs[0]:
        values = [run[key] for run in runs]
        if key in ("requests", "errors"):
            merged[key] = sum(values)
        elif all(isinstance(v, int | float) for v in values):
            merged[key] = statistics.median(values)
            merged[f"{key}_runs"] = values
    return merged
