"""Median and spread of several bench/fanout.py or bench/spike.py result files.

The benchmarks want three runs per figure; this folds them into one table:
``median [min-max]`` per figure.

    python bench/medians.py bench/results/fanout-*.json
    python bench/medians.py bench/results/spike-*.json
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

FANOUT = ["frames_per_s", "cpu_per_frame_us", "p99_ms", "rss_per_socket", "generator_cpu_pct",
          "background_cpu_pct"]  # fmt: skip
PACED = ["p50_ms", "p99_ms", "p999_ms", "cpu_per_frame_us", "generator_cpu_pct",
         "background_cpu_pct"]  # fmt: skip
SPIKE = ["join_p50_ms", "join_p99_ms", "join_http_p99_ms", "message_p99_ms",
         "attendance_per_join", "server_cpu_s", "refused_429", "background_cpu_pct"]  # fmt: skip


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):,.2f} [{min(values):,.2f}-{max(values):,.2f}]"


def fold(documents: list[dict[str, Any]]) -> list[str]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for document in documents:
        if "result" in document:  # spike
            groups["spike"].append(document["result"])
        for run in document.get("runs", []):
            if run.get("error"):
                continue
            groups[f"{run['target']} N={run['sockets']} burst"].append(run)
            for phase in run["paced"]:
                groups[f"{run['target']} N={run['sockets']} {phase['rate']:g}/s"].append(phase)
    lines = []
    for name, runs in sorted(groups.items()):
        keys = SPIKE if name == "spike" else PACED if name.endswith("/s") else FANOUT
        lines.append(f"{name} ({len(runs)} runs)")
        lines.extend(f"    {key:<20} {spread([float(r[key]) for r in runs])}" for key in keys)
    return lines


def main(paths: list[str]) -> int:
    documents = [json.loads(Path(p).read_text()) for p in paths]
    print("\n".join(fold(documents)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
