"""What a figure was measured on: the CPU model and the load average, printed beside it."""

from __future__ import annotations

import os

from glassnet.utils import cpu_model


def load_average() -> str:
    """The 1, 5 and 15-minute load averages ("n/a" where the OS has none)."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "n/a"


def describe() -> str:
    return f"CPU: {cpu_model()} ({os.cpu_count()} logical cores); load average {load_average()}"
