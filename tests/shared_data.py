"""Where the real datasets beside the checkout live (../shared/data); tests skip when absent."""

from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
