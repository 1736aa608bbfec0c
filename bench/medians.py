"""Median and spread of several result files of bench/fanout.py, spike.py, crowd.py or cluster.py.

The benchmarks want three runs per figure; this folds them into one table:
``median [min-max]`` per figure.

    python bench/medians.py bench/results/fanout-*.json
    python bench/medians.py bench/results/spike-*.json
    python bench/medians.py bench/results/crowd-*.json
    python bench/medians.py bench/results/cluster-*.json
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

FANOUT = ["frames_per_s", "cpu_per_frame_us", "p99_ms", "rss_per_socket", "generator_cpu_pct",
          "background_cpu_pct"]  # fmt: skip
PACED = ["p50_ms", "p99_ms", "p999_ms", "cpu_per_frame_us", "generator_cpu_pct",
         "background_cpu_pct"]  # fmt: skip
SPIKE = ["join_p50_ms", "join_p99_ms", "join_http_p99_ms", "message_p99_ms",
         "attendance_per_join", "server_cpu_s", "refused_429", "background_cpu_pct"]  # fmt: skip
CROWD = ["sockets", "rss_per_open_socket", "rss_per_socket", "single_p50_ms", "single_p99_ms",
         "single_p999_ms",
         "burst_frames_per_s", "burst_cpu_per_frame_us", "burst_generator_cpu_pct",
         "closed_sockets"]  # fmt: skip
CLUSTER = ["frames_per_s", "p99_ms", "member_cpu_pct", "bystander_frames", "bystander_cpu_ms",
           "generator_cpu_pct"]  # fmt: skip


def spread(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values):,.2f} [{min(values):,.2f}-{max(values):,.2f}]"


def fold(documents: list[dict[str, Any]]) -> list[str]:
    groups: dict[str, tuple[list[str], list[dict[str, Any]]]] = {}

    def add(name: str, keys: list[str], run: dict[str, Any]) -> None:
        groups.setdefault(name, (keys, []))[1].append(run)

    for document in documents:
        if "result" in document:  # spike
            add("spike", SPIKE, document["result"])
        for crowd in document.get("results", []):
            if not crowd.get("error"):
                add(f"crowd {crowd['target']} N={crowd['sockets']}", CROWD, crowd)
        for run in document.get("runs", []):
            if run.get("error"):
                continue
            if "nodes" in run:  # cluster
                add(f"cluster {run['nodes']} nodes", CLUSTER + per_node(run), flat(run))
                continue
            add(f"{run['target']} N={run['sockets']} burst", FANOUT, run)
            for phase in run["paced"]:
                add(f"{run['target']} N={run['sockets']} {phase['rate']:g}/s", PACED, phase)
    lines = []
    for name, (keys, runs) in sorted(groups.items()):
        lines.append(f"{name} ({len(runs)} runs)")
        lines.extend(f"    {key:<24} {spread([float(r[key]) for r in runs])}" for key in keys)
    return lines


def per_node(run: dict[str, Any]) -> list[str]:
    return [f"node{i}_cpu_us_per_frame" for i in range(len(run["node_cpu_per_frame_us"]))]


def flat(run: dict[str, Any]) -> dict[str, Any]:
    """A cluster run with its per-node CPU figures as keys of their own."""
    nodes = dict(zip(per_node(run), run["node_cpu_per_frame_us"], strict=True))
    return {**run, **nodes}


def main(paths: list[str]) -> int:
    documents = [json.loads(Path(p).read_text()) for p in paths]
    print("\n".join(fold(documents)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
