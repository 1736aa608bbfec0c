"""Where a benchmark run's figures go: one JSON file per run under bench/results/
(ignored by git), stamped with the time and the machine it ran on."""

from __future__ import annotations

import json
import os
import platform
import socket
import time
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "host": socket.gethostname(),
    }


def write_result_file(kind: str, document: dict[str, Any]) -> Path:
    """``bench/results/<kind>-<stamp>.json`` holding ``document``, the stamp and the machine."""
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = RESULTS_DIR / f"{kind}-{stamp}.json"
    full = {"timestamp": stamp, "machine": machine(), **document}
    path.write_text(json.dumps(full, indent=2) + "\n")
    return path
