"""benchmarks/gpu_check.py, the GPU device check, runs here on the strict fake device (tiny data)."""

import importlib.util
from pathlib import Path

from glassnet import backend


def _gpu_check():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"
    spec = importlib.util.spec_from_file_location("gpu_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gpu_check_runs_on_the_fake_device(capsys):
    assert _gpu_check().main(["--fake-device", "--samples", "256", "--no-torch"]) == 0
    out = capsys.readouterr().out
    assert "layers: all match the CPU" in out and "MISMATCH" not in out
    assert "glassnet CPU" in out and "glassnet fake" in out and "speedup of glassnet on fake" in out
    assert backend.get_device() == "cpu"  # the check leaves the process on the CPU
