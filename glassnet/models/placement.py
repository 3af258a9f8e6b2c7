"""Moving a model's arrays to the current device (glassnet/backend.py) and back, once.

Weights are created on the host by the initializers; ``place`` moves every layer's ``params``,
``grads`` and ``state`` (and the optimizer's slots) when a model is fitted, evaluated or asked to
predict on another device than the one it is on. Arrays that are views of one buffer (a
model packs its weights into one, see glassnet/models/flat_weights.py) stay views of one moved
buffer, and an array shared by two tables (a wrapper and the layer it wraps) stays shared.
"""

from __future__ import annotations

import types

import numpy as np

from glassnet import backend
from glassnet.layers.base import Layer


def place(model, device: str | None = None) -> None:
    """Move ``model``'s arrays (and its optimizer's) to ``device`` (default: the current one).

    Costs one walk over the layers when everything is there already; nothing is copied then.
    """
    device = device or backend.get_device()
    if device == "cpu" and backend.only_host_so_far():
        return  # the common case: a CPU-only process has nothing on a device (train_on_batch calls this per step)
    tables = list(_array_tables(model))
    optimizer = getattr(model, "optimizer", None)
    slots = optimizer.slot_arrays() if hasattr(optimizer, "slot_arrays") else []
    on_device = device != "cpu"
    if all(backend.is_device_array(a) == on_device for a in (*slots, *(a for t in tables for a in t.values()))):
        return
    moved: dict[int, tuple] = {}  # id(array) -> (array, moved array): what two tables share stays shared
    for table in tables:
        for key, array in table.items():
            table[key] = _move(array, device, moved)
    if slots:
        # set_variables drops the flat groups, which the next step rebuilds from these
        slots = {name: _move(array, device, moved) for name, array in optimizer.variables().items()}
        optimizer.set_variables(slots, optimizer.iterations)


def call_layer(layer, x, training: bool, **arrays):
    """A layer called on arrays outside a model (``layer(x)``), computed where ``x`` lives.

    A layer of its own moves its arrays (and a wrapper's or nested model's) to ``x``'s device
    and keeps them there, as a model does at ``fit``. A layer whose weights are part of a
    model's packed buffer (glassnet/models/flat_weights.py) with other layers' weights cannot
    move alone: its views would leave the buffer (the model half moved, the optimizer stepping
    a copy). It computes where its model put it instead: ``x`` (and ``arrays``, e.g. a
    recurrent layer's ``mask`` and ``initial_state``) go there and the answer comes back where
    ``x`` lives, as ``model(x)`` answers.
    """
    given = x if isinstance(x, list) else [x]
    target = next((backend.device_of(a) for a in given if backend.is_device_array(a)), "cpu")
    holder = types.SimpleNamespace(layers=[layer])
    held = [a for table in _array_tables(holder) for a in table.values()]
    if all(backend.device_of(a) == target for a in held):
        return layer.forward(x, training=training, **arrays)
    if _whole_buffers(held):
        place(holder, target)
        return layer.forward(x, training=training, **arrays)
    there = backend.device_of(held[0])
    move = backend.to_host if there == "cpu" else (lambda a: backend.to_device(a, there))
    x = [move(a) for a in x] if isinstance(x, list) else move(x)
    arrays = {k: [move(a) for a in v] if isinstance(v, (list, tuple)) else move(v) for k, v in arrays.items()}
    return answer_like(layer.forward(x, training=training, **arrays), given)


def _whole_buffers(arrays) -> bool:
    """Whether ``arrays`` hold every part of each packed buffer that one of them is a view of
    (a lone layer, or a nested model with all its layers), so moving them moves whole buffers."""
    covered: dict[int, list] = {}  # id(buffer) -> [buffer, elements held, ids counted]
    for a in arrays:
        if _is_flat_view(a):
            entry = covered.setdefault(id(a.base), [a.base, 0, set()])
            if id(a) not in entry[2]:
                entry[2].add(id(a))
                entry[1] += a.size
    return all(size == root.size for root, size, _ in covered.values())


def _move(array, device: str, moved: dict):
    """``array`` on ``device``; ``moved`` maps id(array) -> (array, result), holding the array so
    that its id cannot be reused by another while the move lasts."""
    if id(array) in moved:
        return moved[id(array)][1]
    there = backend.to_host if device == "cpu" else (lambda a: backend.to_device(a, device))
    if backend.is_device_array(array) == (device != "cpu"):
        result = array  # already there
    elif _is_flat_view(array):  # a part of a packed buffer: move the buffer once, keep the view
        root = array.base
        if id(root) not in moved:
            moved[id(root)] = (root, there(root))
        start = backend.data_address(array) - backend.data_address(root)
        result = moved[id(root)][1][start // array.itemsize:][:array.size].reshape(array.shape)
    else:
        result = there(array)
    moved[id(array)] = (array, result)
    return result


def _is_flat_view(array) -> bool:
    """A contiguous view of a 1-D buffer (a model's packed weights), movable as a view."""
    root = getattr(array, "base", None)
    return (root is not None and type(root) is type(array) and root.ndim == 1 and root.flags.c_contiguous
            and array.flags.c_contiguous and root.dtype == array.dtype)


def _array_tables(model):
    """Every dict of arrays the model and its layers hold (``params``, ``grads``, ``state``, a
    shared layer's replicas' ``grads``), each once, reaching into nested models and wrappers."""
    seen, stack = set(), [model]
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        for name, value in vars(obj).items():
            if _holds_layers(value):
                stack.append(value)
            elif isinstance(value, (list, tuple)) and name != "nodes":
                stack.extend(v for v in value if _holds_layers(v))
            elif isinstance(value, dict) and id(value) not in seen and value and all(
                    isinstance(v, np.ndarray) or backend.is_device_array(v) for v in value.values()):
                seen.add(id(value))
                yield value


def _holds_layers(value) -> bool:
    """A layer (any subclass, a user's or the NNFS book's too), a model, or a model's helper
    object (a nested chain): what holds array tables that move with the model."""
    return isinstance(value, Layer) or (hasattr(value, "__dict__")
                                        and type(value).__module__.startswith("glassnet.models"))
def batch(*arrays):
    """One batch's arrays on the current device (None stays None; an ``outputs.Arrays`` or a
    list moves each of its arrays; text, an object array, stays on the host where
    TextVectorization reads it). On the CPU they come back as they are."""
    if backend.get_device() == "cpu":  # the common case first: one test per batch
        return arrays
    return tuple(_batch_part(a) for a in arrays)


def _batch_part(a):
    if a is None or (type(a) is np.ndarray and a.dtype.kind == "O"):
        return a
    if hasattr(a, "arrays") and not isinstance(a, np.ndarray):  # outputs.Arrays: one per model input
        return type(a)([_batch_part(e) for e in a.arrays])
    if isinstance(a, (list, tuple)):
        return type(a)(_batch_part(e) for e in a)
    if isinstance(a, dict):
        return {k: _batch_part(v) for k, v in a.items()}
    return backend.to_device(a)


def call_inputs(arrays: list) -> list:
    """A direct call's input arrays (``model(x)``) on the current device. Unlike ``batch``, a
    device array given while the device is "cpu" comes to the host: a call may be handed
    anything the caller holds."""
    if backend.get_device() == "cpu":
        return [backend.to_host(a) for a in arrays]
    return list(batch(*arrays))


def answer_like(result, given: list):
    """A direct call's ``result`` (an array, or a list, tuple or dict of them) where the caller's
    inputs ``given`` live: NumPy arrays for host inputs, as ``predict`` returns; device arrays,
    left on the device (no copy to the host), when any input is one, as a NumPy function
    answers a CuPy array with a CuPy array."""
    on_device = next((a for a in given if backend.is_device_array(a)), None)
    if on_device is None:
        return to_host(result)
    if isinstance(result, (list, tuple)):
        return type(result)(answer_like(e, given) for e in result)
    if isinstance(result, dict):
        return {k: answer_like(v, given) for k, v in result.items()}
    return backend.placed_like(result, on_device)


def to_host(result):
    """``result`` (an array, or a list, tuple or dict of them) as NumPy arrays: what predict returns."""
    if isinstance(result, (list, tuple)):
        return type(result)(to_host(e) for e in result)
    if isinstance(result, dict):
        return {k: to_host(v) for k, v in result.items()}
    return backend.to_host(result)
