"""Prometheus metrics of ``folio serve``, in the text exposition format (no client library)."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Iterable

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels, extra: Iterable[tuple[str, str]] = ()) -> str:
    pairs = [*labels, *extra]
    if not pairs:
        return ""
    body = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), " ")}"'
        for k, v in pairs
    )
    return "{" + body + "}"


class Metrics:
    """Counters, gauges and histograms keyed by name and labels; :meth:`render` gives the text."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._help: dict[str, tuple[str, str]] = {}
        self._counters: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._gauges: dict[str, dict[Labels, float]] = defaultdict(dict)
        self._hist: dict[str, dict[Labels, list[float]]] = defaultdict(dict)
        self._hist_sum: dict[str, dict[Labels, float]] = defaultdict(dict)
        self.describe("folio_http_requests_total", "counter", "HTTP requests by method, route and status.")
        self.describe(
            "folio_http_request_seconds", "histogram", "HTTP request latency (until the last byte)."
        )
        self.describe("folio_tool_calls_total", "counter", "Tool calls by server and outcome.")
        self.describe("folio_tool_call_seconds", "histogram", "Tool call latency by server.")
        self.describe("folio_llm_tokens_total", "counter", "Language-model tokens by model and direction.")
        self.describe("folio_llm_cost_usd_total", "counter", "Estimated language-model cost in USD.")
        self.describe("folio_turns_total", "counter", "Chat turns by audience and how they stopped.")
        self.describe("folio_streams_open", "gauge", "SSE answer streams open now.")
        self.describe("folio_fleet_restarts_total", "gauge", "Restarts of each fleet server since start.")
        self.describe("folio_fleet_server_ready", "gauge", "1 when the fleet server is ready.")
        self.describe("folio_rate_limited_total", "counter", "Requests refused with 429, by reason.")

    def describe(self, name: str, kind: str, help_text: str) -> None:
        self._help[name] = (kind, help_text)

    def inc(self, name: str, amount: float = 1.0, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._counters[name]
            series[key] = series.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            self._gauges[name][tuple(sorted(labels.items()))] = value

    def add(self, name: str, amount: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            series = self._gauges[name]
            series[key] = series.get(key, 0.0) + amount

    def observe(self, name: str, seconds: float, **labels: str) -> None:
        key = tuple(sorted(labels.items()))
        with self._lock:
            counts = self._hist[name].setdefault(key, [0.0] * (len(BUCKETS) + 1))
            counts[bisect.bisect_left(BUCKETS, seconds)] += 1
            self._hist_sum[name][key] = self._hist_sum[name].get(key, 0.0) + seconds

    def value(self, name: str, **labels: str) -> float:
        key = tuple(sorted(labels.items()))
        with self._lock:
            return self._counters.get(name, {}).get(key, self._gauges.get(name, {}).get(key, 0.0))

    def render(self) -> str:
        lines: list[str] = []
        with self._lock:
            for name, (kind, help_text) in sorted(self._help.items()):
                lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
                if kind == "counter":
                    for key, value in sorted(self._counters.get(name, {}).items()):
                        lines.append(f"{name}{_labels(key)} {value:g}")
                elif kind == "gauge":
                    for key, value in sorted(self._gauges.get(name, {}).items()):
                        lines.append(f"{name}{_labels(key)} {value:g}")
                else:
                    for key, counts in sorted(self._hist.get(name, {}).items()):
                        total = 0.0
                        for bound, count in zip((*BUCKETS, float("inf")), counts, strict=True):
                            total += count
                            le = "+Inf" if bound == float("inf") else f"{bound:g}"
                            lines.append(f"{name}_bucket{_labels(key, [('le', le)])} {total:g}")
                        lines.append(f"{name}_sum{_labels(key)} {self._hist_sum[name][key]:g}")
                        lines.append(f"{name}_count{_labels(key)} {total:g}")
        return "\n".join(lines) + "\n"
