"""Suite-wide strictness: NumPy floating-point errors raise (warnings are errors via pyproject)."""

import numpy as np
import pytest


@pytest.fixture(autouse=True)
def _numpy_errors_raise():
    with np.errstate(all="raise", under="ignore"):
        yield
