"""The one seam between glassnet and the array library: NumPy on the CPU, CuPy on a GPU.

Layer code reads as NumPy. NumPy's functions and ufuncs already dispatch to CuPy arrays
(NEP 13 ``__array_ufunc__``, NEP 18 ``__array_function__``), so ``np.exp(x)`` stays on the
device; what does not dispatch is *creating* an array (``np.zeros``, ``np.empty``, ...), which
takes its module from here: ``xp = backend.array_module(x); xp.zeros(...)``, as in Chainer's
``cupy.get_array_module``. Nothing here imports CuPy unless the device "gpu" is chosen.

Devices: "cpu" (the default), "gpu" (CuPy), and "fake", a strict stand-in for a GPU made of
NumPy (``FakeDeviceArray``) with which the test suite proves that no layer escapes this seam:
it refuses to mix with host arrays, as CuPy does, and counts every conversion to the host.
"""

from __future__ import annotations

import collections
import contextlib
import importlib
import os

import numpy as np

DEVICES = ("cpu", "gpu", "fake")

#: the device of new arrays and of models placed from now on (``set_device``)
_device: str | None = None

#: every device chosen in this process so far: while it holds only "cpu", no array can be on a
#: device, and placing a model on the host has nothing to check (``only_host_so_far``)
_chosen: set = set()

#: host <-> device conversions on the fake device, by kind: "to_device", "to_host" (whole
#: arrays), "random" (draws made on the host, ``drawn_on_host``) and "scalar" (float(), int(),
#: bool(), .item() of a device array).
transfers: collections.Counter = collections.Counter()

GPU_INSTALL = ("pip install glassnet[gpu] (the extra names cupy-cuda12x, for CUDA 12; with CUDA 13 "
               "install cupy-cuda13x instead)")


def set_device(device: str) -> None:
    """Choose where models compute from now on: "cpu" (default), "gpu" (CuPy) or "fake" (tests).

    Models move their weights at their next ``fit``/``evaluate``/``predict``; data moves one batch
    at a time. Asking for "gpu" checks at once that CuPy and a CUDA device are there.
    """
    device = _check_name(device, "set_device")
    if device == "gpu":
        _cupy()  # fail now, naming what is missing, not in the middle of a fit
    global _device
    _device = device
    _chosen.add(device)


def get_device() -> str:
    """The current device: ``set_device``'s choice, else $GLASSNET_DEVICE, else "cpu"."""
    global _device
    if _device is None:
        _device = _check_name(os.environ.get("GLASSNET_DEVICE", "cpu") or "cpu", "GLASSNET_DEVICE")
        if _device == "gpu":
            _cupy()
        _chosen.add(_device)
    return _device


def only_host_so_far() -> bool:
    """Whether this process has only ever chosen the CPU: then every array glassnet made is a
    host array, and a model's placement on the host costs no walk over its weights."""
    get_device()  # reads $GLASSNET_DEVICE the first time
    return _chosen <= {"cpu"}


def _check_name(device, where: str) -> str:
    name = str(device).lower()
    if name not in DEVICES:
        raise ValueError(f"{where}: unknown device {device!r}; use 'cpu' (the default) or 'gpu' (CuPy).")
    return name


_checked_cupy = None  # CuPy once it has been seen to have a device: every batch asks for it


def _cupy():
    """CuPy, checked to have a CUDA device, or an error that says which of the two is missing."""
    global _checked_cupy
    if _checked_cupy is not None:
        return _checked_cupy
    try:
        cupy = importlib.import_module("cupy")
    except ImportError as err:
        raise RuntimeError(f"The GPU device needs CuPy, which is not installed ({err}); {GPU_INSTALL}.") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as err:  # CUDARuntimeError without a driver or device
        raise RuntimeError(f"CuPy is installed but finds no CUDA GPU ({err}); check the NVIDIA driver "
                           f"(nvidia-smi), or use gn.config.set_device('cpu').") from None
    if count == 0:
        raise RuntimeError("CuPy is installed but finds no CUDA GPU; check the NVIDIA driver (nvidia-smi), "
                           "or use gn.config.set_device('cpu').")
    _checked_cupy = cupy
    return cupy


# -- the array module -----------------------------------------------------------------------------
def xp():
    """The array module of the current device (``numpy``, ``cupy`` or the fake device's)."""
    device = get_device()
    if device == "cpu":
        return np
    return _cupy() if device == "gpu" else fake_module


def array_module(*arrays):
    """The module the arrays live in: CuPy's or the fake device's if any does, else NumPy
    (``cupy.get_array_module``)."""
    for a in arrays:
        if type(a) is np.ndarray:
            continue
        if isinstance(a, FakeDeviceArray):
            return fake_module
        module = type(a).__module__
        if module.startswith("cupy"):
            return importlib.import_module("cupy")
    return np


def is_device_array(a) -> bool:
    """Whether ``a`` lives on a device (CuPy's or the fake one), not in host memory."""
    return type(a) is not np.ndarray and (isinstance(a, FakeDeviceArray) or type(a).__module__.startswith("cupy"))


def device_of(a) -> str:
    """The device ``a`` lives on: "cpu" for a host array (or a non-array), else "fake" or "gpu"."""
    if not is_device_array(a):
        return "cpu"
    return "fake" if isinstance(a, FakeDeviceArray) else "gpu"


def to_device(a, device: str | None = None):
    """``a`` on ``device`` (default: the current one); a host array on the CPU is returned as is,
    and so is an array already there. None passes through (an absent sample weight)."""
    device = device or get_device()
    if a is None:
        return None
    if device == "cpu":
        return to_host(a)
    if is_device_array(a):
        return a
    if device == "gpu":
        return _cupy().asarray(a)
    transfers["to_device"] += 1
    return np.array(a).view(FakeDeviceArray)  # a copy, as a real transfer makes


def drawn_on_host(values, like):
    """Random ``values`` drawn on the host, moved to where ``like`` lives (counted as "random"
    on the fake device). Draws come from the model's NumPy generators on every device, so one
    seed gives the same dropout masks on a GPU as on the CPU, at one copy per draw."""
    if type(like) is np.ndarray:
        return values
    if isinstance(like, FakeDeviceArray):
        transfers["random"] += 1
        return np.array(values).view(FakeDeviceArray)
    return array_module(like).asarray(values)


def asarray(a, dtype=None):
    """``a`` as an array where it lives: a device array stays on its device (``np.asarray`` would
    copy it to the host, which CuPy refuses); lists and host arrays become NumPy arrays."""
    return array_module(a).asarray(a, dtype=dtype)


def placed_like(value, target):
    """``value`` moved to where ``target`` lives (the host or a device), to be written into it."""
    if type(target) is np.ndarray or not is_device_array(target):
        return to_host(value)
    return array_module(target).asarray(value)


def data_address(a) -> int:
    """Where ``a``'s data starts in memory, host or device (to tell whether two views of one
    buffer sit side by side). CuPy arrays have no ``__array_interface__``; their pointer is
    ``a.data.ptr``, and the fake device refuses the host's interface as CuPy lacks it."""
    if type(a) is np.ndarray or not is_device_array(a):
        return a.__array_interface__["data"][0]
    if isinstance(a, FakeDeviceArray):
        return a.view(np.ndarray).__array_interface__["data"][0]
    return a.data.ptr


def to_host(a):
    """``a`` as a NumPy array (host arrays and non-arrays pass through)."""
    if type(a) is np.ndarray or not is_device_array(a):
        return a
    if isinstance(a, FakeDeviceArray):
        transfers["to_host"] += 1
        return np.array(a.view(np.ndarray))
    return a.get()


# -- the fake device: NumPy dressed as a GPU ----------------------------------------------------
class HostDeviceMixError(TypeError):
    """A host (NumPy) array met a device array in one operation: an array escaped the seam."""


def _host_arrays(values, found: list) -> list:
    for v in values:
        if type(v) is np.ndarray and v.size > 1:
            found.append(v)
        elif isinstance(v, (list, tuple)):
            _host_arrays(v, found)
    return found


def _refuse_host(name: str, *groups) -> None:
    for group in groups:
        host = _host_arrays(group, [])
        if host:
            raise HostDeviceMixError(
                f"{name}: a host array of shape {host[0].shape} met a device array. On a GPU this is an "
                f"error (CuPy refuses NumPy operands) or a hidden copy; create the array with "
                f"glassnet.backend.array_module(x) or move it with to_device().")


def _unwrap(v):
    if isinstance(v, FakeDeviceArray):
        return v.view(np.ndarray)
    if isinstance(v, (list, tuple)):
        return type(v)(_unwrap(e) for e in v)
    return v


def _wrap(v):
    if type(v) is np.ndarray:
        return v.view(FakeDeviceArray)
    if isinstance(v, np.generic):  # a reduction's scalar stays on the device, as CuPy's 0-d arrays do
        return np.asarray(v).view(FakeDeviceArray)
    if isinstance(v, tuple):
        return tuple(_wrap(e) for e in v)
    if isinstance(v, list):
        return [_wrap(e) for e in v]
    return v


class FakeDeviceArray(np.ndarray):
    """A NumPy array that behaves as if it lived on a GPU, for tests on machines without one.

    Arithmetic with another device array, a Python number or a one-element host array works and
    gives a device array (reductions too: a 0-d array, as in CuPy); any other host array in the
    same operation raises ``HostDeviceMixError``, as CuPy raises on NumPy operands. Conversions to
    Python numbers are counted in ``transfers["scalar"]`` (each is a device-to-host copy on a GPU).
    The values are NumPy's own, so a run on it matches the CPU bit for bit.
    """

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        out = kwargs.get("out", ())
        _refuse_host(f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}"), inputs, out)
        if out:
            kwargs["out"] = _unwrap(out)
        result = getattr(ufunc, method)(*_unwrap(inputs), **kwargs)
        if method == "at":
            return None
        if out:
            return out[0] if len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        _refuse_host(f"np.{func.__name__}", args, tuple(kwargs.values()))
        return _wrap(func(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))

    def __setitem__(self, index, value):
        _refuse_host("writing into a device array", (value, index))
        super().__setitem__(_unwrap(index), _unwrap(value))

    def __getitem__(self, index):
        _refuse_host("indexing a device array", (index,))  # a host index array is a hidden copy
        return _wrap(super().__getitem__(_unwrap(index)))

    def _to_python(self, kind):
        transfers["scalar"] += 1
        return kind(self.view(np.ndarray))

    def __float__(self):
        return self._to_python(float)

    def __int__(self):
        return self._to_python(int)

    def __index__(self):
        return self._to_python(lambda a: a.__index__())

    def __bool__(self):
        return self._to_python(bool)

    def item(self, *args):
        transfers["scalar"] += 1
        return self.view(np.ndarray).item(*args)

    def tolist(self):
        transfers["to_host"] += 1
        return self.view(np.ndarray).tolist()

    @property
    def __array_interface__(self):
        # CuPy arrays have none (their pointer is a.data.ptr): code that reads it would fail on a
        # GPU, so it fails here too; data_address() reads either.
        raise AttributeError("a device array has no __array_interface__ (CuPy's has __cuda_array_interface__); "
                             "use glassnet.backend.data_address(a) for where its data starts.")

    def __reduce__(self):
        # pickled (a tuner worker, a deep copy) as a host array plus the mark that it is a device one
        return (_rebuild_fake, (np.array(self.view(np.ndarray)),))


def _rebuild_fake(host: np.ndarray) -> FakeDeviceArray:
    return host.view(FakeDeviceArray)


class _FakeModule:
    """The fake device's array module: NumPy whose array-returning functions return
    ``FakeDeviceArray`` (``fake_module.zeros(3)``), as ``cupy.zeros`` returns a device array."""

    def __getattr__(self, name):
        attr = getattr(np, name)
        if isinstance(attr, np.ufunc) or not callable(attr) or isinstance(attr, type):
            return attr

        def on_device(*args, **kwargs):
            _refuse_host(f"fake_module.{name}", args, tuple(kwargs.values()))
            return _wrap(attr(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))

        on_device.__name__ = name
        return on_device

    @staticmethod
    def asarray(a, dtype=None):
        """Like ``cupy.asarray``: a host array is copied to the device (counted)."""
        if isinstance(a, FakeDeviceArray):
            return a if dtype is None else a.astype(dtype, copy=False)
        return to_device(np.asarray(a, dtype=dtype), "fake")

    @staticmethod
    def array(a, dtype=None, copy=True):
        """Like ``cupy.array``: a copy on the device (a host array's copy is a counted transfer)."""
        if isinstance(a, FakeDeviceArray):
            return a.astype(dtype or a.dtype, copy=copy)
        return to_device(np.asarray(a, dtype=dtype), "fake")


fake_module = _FakeModule()


_HOST_CONVERTERS = ("asarray", "array", "ascontiguousarray", "asanyarray", "asfortranarray")


@contextlib.contextmanager
def refusing_implicit_copies():
    """While inside, ``np.asarray(a)`` and friends raise ``HostDeviceMixError`` on a fake device
    array, as they raise ``TypeError`` on a CuPy one. (They take a NumPy subclass without asking
    it, so only swapping them out can catch a silent copy to the host.) A test instrument: it
    swaps NumPy's module attributes for the duration, so use it in tests and checks only."""
    originals = {name: getattr(np, name) for name in _HOST_CONVERTERS}

    def refusing(name, convert):
        def convert_checked(a, *args, **kwargs):
            if isinstance(a, FakeDeviceArray) and kwargs.get("like") is None:
                raise HostDeviceMixError(f"np.{name} of a device array: an implicit copy to the host (CuPy "
                                         f"raises TypeError); use glassnet.backend.to_host, or "
                                         f"array_module(x).{name} to stay on the device.")
            return convert(a, *args, **kwargs)
        return convert_checked

    for name, convert in originals.items():
        setattr(np, name, refusing(name, convert))
    try:
        yield
    finally:
        for name, convert in originals.items():
            setattr(np, name, convert)
