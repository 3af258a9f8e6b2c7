"""What a figure was measured on: the CPU model and the load average, printed beside it."""

from __future__ import annotations

import os
import platform


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def load_average() -> str:
    """The 1, 5 and 15-minute load averages ("n/a" where the OS has none)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "n/a"


def describe() -> str:
    return f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); load average {load_average()}"
