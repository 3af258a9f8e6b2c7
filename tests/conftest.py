"""Suite-wide strictness: NumPy floating-point errors raise (warnings are errors via pyproject)."""

from pathlib import Path

import numpy as np
import pytest

#: ../shared/data beside the checkout: real datasets that tests use when present, skip when not.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _numpy_errors_raise():
    with np.errstate(all="raise", under="ignore"):
        yield
