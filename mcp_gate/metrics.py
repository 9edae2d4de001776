"""The gate's Prometheus metrics and their text exposition (format 0.0.4).

A handful of counters and gauges, kept in plain dicts: requests by route and status,
request duration as a histogram, backend failures by server. Live sessions are read from
the session registry when scraped, not counted twice. No labels ever carry a user, a token
or a query string.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable

# Seconds; tuned for a proxy whose own cost is sub-millisecond and whose calls may be long.
DURATION_BUCKETS_SECONDS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0)


def _labels(pairs: Iterable[tuple[str, str]]) -> str:
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in pairs
    )
    return "{" + inner + "}" if inner else ""


class Metrics:
    def __init__(self) -> None:
        # (The status stays an int until rendered: no str() per request.)
        self.requests: defaultdict[tuple[str, str, int], int] = defaultdict(int)
        self.backend_errors: defaultdict[tuple[str, str], int] = defaultdict(int)
        self._buckets = [0] * (len(DURATION_BUCKETS_SECONDS) + 1)
        self._duration_sum = 0.0
        self._duration_count = 0
        self.gauges: dict[str, Callable[[], float]] = {}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests[(route, method, status)] += 1
        self._buckets[bisect_left(DURATION_BUCKETS_SECONDS, seconds)] += 1
        self._duration_sum += seconds
        self._duration_count += 1

    def count_backend_error(self, server: str, status: int) -> None:
        self.backend_errors[(server, str(status))] += 1

    def render(self) -> str:
        lines = [
            "# HELP mcp_gate_requests_total HTTP requests handled, by route, method and status.",
            "# TYPE mcp_gate_requests_total counter",
        ]
        for (route, method, status), count in sorted(self.requests.items()):
            labels = _labels((("route", route), ("method", method), ("status", str(status))))
            lines.append(f"mcp_gate_requests_total{labels} {count}")
        lines += [
            "# HELP mcp_gate_request_duration_seconds Time to the end of each response.",
            "# TYPE mcp_gate_request_duration_seconds histogram",
        ]
        cumulative = 0
        for bound, count in zip(
            (*DURATION_BUCKETS_SECONDS, float("inf")), self._buckets, strict=True
        ):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'mcp_gate_request_duration_seconds_bucket{{le="{le}"}} {cumulative}')
        lines.append(f"mcp_gate_request_duration_seconds_sum {self._duration_sum}")
        lines.append(f"mcp_gate_request_duration_seconds_count {self._duration_count}")
        lines += [
            "# HELP mcp_gate_backend_errors_total Requests a backend failed (502/504), by server.",
            "# TYPE mcp_gate_backend_errors_total counter",
        ]
        for (server, failed), count in sorted(self.backend_errors.items()):
            labels = _labels((("server", server), ("status", failed)))
            lines.append(f"mcp_gate_backend_errors_total{labels} {count}")
        for name, read in sorted(self.gauges.items()):
            lines += [f"# TYPE {name} gauge", f"{name} {read()}"]
        return "\n".join(lines) + "\n"
