"""CPU time from /proc, for the benchmarks: a server's process tree, this process, the machine.

psutil rounds and caches; /proc/<pid>/stat is what the kernel counts (utime + stime, in
clock ticks). The benchmarks divide a server's CPU seconds by the frames it delivered
(CPU per frame: what the server spends, independent of how fast the generator reads),
and check the generator's own share of its core: above 90 % the generator, not the
server, sets the pace, so each figure says so beside it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
SATURATED_PCT = 90.0  # generator CPU share (of one core) above which it set the pace


def _pid_times(pid: int) -> tuple[float, int]:
    """(utime + stime in seconds, parent pid) of one process; (0, 0) once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0, 0
    fields = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces and ')'
    # fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S, int(fields[1])


def _children(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parents[int(entry.name)] = _pid_times(int(entry.name))[1]
    tree, grew = {root}, True
    while grew:
        added = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        tree |= added
        grew = bool(added)
    return tree


def tree_cpu_s(root: int) -> float:
    """CPU seconds (user + system, every thread) used by ``root`` and its descendants."""
    return sum(_pid_times(pid)[0] for pid in _children(root))


def machine_busy_s() -> float:
    """CPU seconds the whole machine was busy (all cores; idle and iowait excluded)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    # guest time is already counted in user
    return (sum(values[:8]) - idle) / TICKS_PER_S


@dataclass(frozen=True)
class CpuSnapshot:
    server_s: float
    generator_s: float
    machine_s: float

    @classmethod
    def take(cls, server_pids: list[int]) -> CpuSnapshot:
        server = sum(tree_cpu_s(pid) for pid in server_pids)
        # this process alone: the servers it started are its children
        return cls(server, _pid_times(os.getpid())[0], machine_busy_s())


@dataclass(frozen=True)
class CpuUse:
    """CPU used between two snapshots over ``wall_s``; shares in % of one core."""

    server_s: float
    generator_pct: float
    server_pct: float
    background_pct: float

    @classmethod
    def between(cls, before: CpuSnapshot, after: CpuSnapshot, wall_s: float) -> CpuUse:
        wall_s = max(wall_s, 1e-9)
        server = after.server_s - before.server_s
        generator = after.generator_s - before.generator_s
        others = (after.machine_s - before.machine_s) - server - generator
        return cls(server, 100 * generator / wall_s, 100 * server / wall_s,
                   max(0.0, 100 * others / wall_s))  # fmt: skip

    @property
    def generator_saturated(self) -> bool:
        return self.generator_pct > SATURATED_PCT
