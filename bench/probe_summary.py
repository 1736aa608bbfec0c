"""What the probes of ``bench/probe_serve.py`` saw, in a few figures per probe.

Per probe: how many intervals, their p50/p99/max and total duration. For the slowest
1 % of ``send`` handlers: how many overlapped a garbage-collector pass or a loop-lag
spike, so a tail can be put down to (or cleared of) either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

Span = tuple[float, float]


def _pct(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, round(fraction * (len(values) - 1)))]


def _overlaps(span: Span, others: list[Span]) -> bool:
    start, end = span[0], span[0] + span[1]
    return any(o[0] < end and o[0] + o[1] > start for o in others)


def summarize(path: Path) -> dict[str, Any]:
    document = json.loads(path.read_text())
    raw = document["spans"]
    spans: dict[str, list[Span]] = {
        k: [(float(i[0]), float(i[1])) for i in v] for k, v in raw.items()
    }
    figures: dict[str, Any] = {}
    for name, items in sorted(raw.items()):
        durations = sorted(float(i[1]) for i in items)
        cpu = sorted(float(i[2]) for i in items)
        figures[name] = {
            "count": len(durations),
            "p50_ms": 1e3 * _pct(durations, 0.5),
            "p99_ms": 1e3 * _pct(durations, 0.99),
            "max_ms": 1e3 * _pct(durations, 1.0),
            "total_ms": 1e3 * sum(durations),
            "cpu_p50_ms": 1e3 * _pct(cpu, 0.5),
            "cpu_max_ms": 1e3 * _pct(cpu, 1.0),
        }
    sends = sorted(spans.get("send", []), key=lambda s: s[1])
    slow = sends[len(sends) - max(1, len(sends) // 100) :] if sends else []
    collections = [s for k, v in spans.items() if k.startswith("gc") for s in v]
    big_collections = spans.get("gc2", []) + spans.get("gc1", [])
    figures["slowest_1pct_sends"] = {
        "count": len(slow),
        "min_ms": 1e3 * slow[0][1] if slow else 0.0,
        "with_any_gc": sum(_overlaps(s, collections) for s in slow),
        "with_gc1_or_gc2": sum(_overlaps(s, big_collections) for s in slow),
        "with_loop_lag": sum(_overlaps(s, spans.get("loop_lag", [])) for s in slow),
    }
    figures["heap"] = document.get("heap", {})
    sends_n = max(1, len(sends))
    figures["statements_per_send"] = {
        k: round(v / sends_n, 2) for k, v in sorted(document["statements"].items())
    }
    return figures


def lines(figures: dict[str, Any]) -> list[str]:
    out = []
    for name, f in figures.items():
        if name == "heap":
            out.append(f"    heap: {f}")
        elif name == "statements_per_send":
            out.extend(f"    SQL per send {v:5.2f}  {k}" for k, v in f.items())
        elif name == "slowest_1pct_sends":
            out.append(
                f"    slowest 1% of sends ({f['count']}, >= {f['min_ms']:.1f} ms): "
                f"{f['with_any_gc']} overlap a GC pass ({f['with_gc1_or_gc2']} gen1/2), "
                f"{f['with_loop_lag']} a loop-lag spike"
            )
        else:
            out.append(
                f"    {name:<14} n={f['count']:<6} p50 {f['p50_ms']:7.2f}  p99 {f['p99_ms']:7.2f}"
                f"  max {f['max_ms']:7.2f}  total {f['total_ms']:8.1f} ms"
                f"  (main-thread CPU p50 {f['cpu_p50_ms']:.2f} max {f['cpu_max_ms']:.2f})"
            )
    return out
