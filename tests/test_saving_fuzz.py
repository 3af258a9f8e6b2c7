"""Loader fuzzing: thousands of damaged and hostile files, and only ModelFileError ever comes out.

Every case is loaded with ``load_model`` and ``inspect`` (and weights files with ``load_weights``)
under a deadline. Damaged bytes must raise ModelFileError or load to bitwise the original numbers
(the checksums see to it); hostile files whose checksums were recomputed must raise
ModelFileError or load harmlessly; a pickle payload placed everywhere never runs. Seeded, so a
failing case can be replayed from its printed id.
"""

import contextlib
import hashlib
import json
import os
import pickle
import signal
import time
import tracemalloc

import numpy as np
import pandas as pd
import pytest

import glassnet as gn
from glassnet import layers
from glassnet.saving import ModelFileError

RAW_CASES = 2400  # byte-level damage
HOSTILE_CASES = 1200  # semantic attacks with valid checksums
DEADLINE_S = 5.0  # per load; a small file loads in milliseconds

DANGEROUS_NAMES = ["os.system", "builtins.eval", "builtins.exec", "subprocess.Popen", "posix.system",
                   "__import__", "eval", "exec", "open", "object", "type", "__class__", "__init__",
                   "Lambda", "keras.layers.Lambda", "__main__.Evil", "my_package>MyLayer", "custom>Dense",
                   "glassnet.saving.container.ModelFileError", "Sequential", "get", "register", "", "Dense ",
                   "numpy.load", "pickle.loads", "importlib.import_module", "functools.partial"]


class _Canary:
    """Unpickling this creates a folder: the side effect that must never happen."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.mkdir, (self.path,)


@contextlib.contextmanager
def _deadline(seconds, case):
    def expire(signum, frame):
        raise TimeoutError(f"case {case}: loading took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _split(blob: bytes):
    n = int.from_bytes(blob[:8], "little")
    return json.loads(blob[8:8 + n]), blob[8 + n:]


def _join(header: dict, data: bytes, header_len=None) -> bytes:
    text = json.dumps(header).encode()
    return (len(text) if header_len is None else header_len).to_bytes(8, "little") + text + data


def _doc(header):
    return json.loads(header["__metadata__"]["glassnet"])


def _reseal(header: dict, data: bytes, doc=None, doc_text=None) -> bytes:
    """Recompute every checksum, as an attacker editing the file would."""
    doc = _doc(header) if doc is None and doc_text is None else doc
    if doc is not None and isinstance(doc.get("tensors"), dict):
        for name, entry in header.items():
            if name != "__metadata__" and name in doc["tensors"] and isinstance(doc["tensors"][name], dict):
                try:
                    begin, end = entry["data_offsets"]
                    doc["tensors"][name]["sha256"] = hashlib.sha256(data[begin:end]).hexdigest()
                    doc["tensors"][name]["shape"] = entry["shape"]
                    doc["tensors"][name]["dtype"] = entry["dtype"]
                except (TypeError, ValueError, KeyError):
                    pass
    text = doc_text if doc_text is not None else json.dumps(doc)
    header["__metadata__"] = {"glassnet": text, "glassnet_sha256": hashlib.sha256(text.encode()).hexdigest()}
    return _join(header, data)


def _paths(obj, prefix=()):
    """Every (path, value) in a JSON tree."""
    yield prefix, obj
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, (*prefix, i))


def _set(obj, path, value):
    for key in path[:-1]:
        obj = obj[key]
    obj[path[-1]] = value


# -- the originals --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def originals(tmp_path_factory):
    folder = tmp_path_factory.mktemp("originals")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    dense = gn.Sequential([layers.Dense(6, activation="relu", input_shape=(4,)), layers.Dropout(0.2),
                           layers.BatchNormalization(), layers.Dense(2, activation="softmax")], seed=3)
    dense.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    dense.fit(x, y, epochs=2, batch_size=8, verbose=0)
    xi = rng.normal(size=(4, 5, 5, 1)).astype("float32")
    conv = gn.Sequential([layers.Input((5, 5, 1)), layers.Conv2D(2, 3), layers.Flatten(), layers.Dense(1)], seed=4)
    conv.compile(optimizer=gn.optimizers.SGD(0.01, momentum=0.9), loss="mse")
    conv.fit(xi, rng.normal(size=(4, 1)).astype("float32"), epochs=1, verbose=0)
    files = []
    for name, model, xs in (("dense", dense, x), ("conv", conv, xi)):
        model.save(folder / f"{name}.glassnet")
        files.append(dict(kind="model", blob=(folder / f"{name}.glassnet").read_bytes(), model=model, x=xs,
                          predictions=model.predict(xs), weights=model.get_weights(),
                          config=json.dumps(model.get_config(), sort_keys=True)))
    frame = pd.DataFrame({"size": [1.0, 2.5, None, 4.0], "color": ["red", "blue", "red", None]})
    prep = gn.preprocessing.TabularPreprocessor().fit(frame)
    tabular = gn.Sequential([layers.Dense(2, input_shape=(prep.n_features_out,))], seed=5)
    tabular.attach_preprocessor(prep)
    tabular.save(folder / "tabular.glassnet")
    files.append(dict(kind="model", blob=(folder / "tabular.glassnet").read_bytes(), model=tabular, x=frame,
                      predictions=tabular.predict(frame), weights=tabular.get_weights(),
                      config=json.dumps(tabular.get_config(), sort_keys=True)))
    dense.save_weights(folder / "dense.safetensors")
    files.append(dict(kind="weights", blob=(folder / "dense.safetensors").read_bytes(), model=dense, x=x,
                      predictions=dense.predict(x), weights=dense.get_weights(), config=None))
    return files


def _check(original, blob, path, case, damaged_only: bool, timings):
    """Load ``blob`` every way; only ModelFileError may escape; damage never changes numbers."""
    path.write_bytes(blob)
    start = time.perf_counter()
    try:
        with _deadline(DEADLINE_S, case):
            try:
                gn.saving.inspect(path)
            except ModelFileError:
                pass
            if original["kind"] == "weights":
                target = original["model"]
                try:
                    target.load_weights(path)
                except ModelFileError:
                    return
                finally:
                    loaded_weights = target.get_weights()
                    target.set_weights(original["weights"])
                if damaged_only:
                    assert all(np.array_equal(a, b) for a, b in zip(loaded_weights, original["weights"])), case
                return
            try:
                model = gn.load_model(path)
            except ModelFileError as err:
                assert str(path) in str(err), f"case {case}: the message does not name the file: {err}"
                return
    except ModelFileError:
        raise
    except Exception as err:
        raise AssertionError(f"case {case}: {type(err).__name__} escaped instead of ModelFileError: {err}") from err
    finally:
        timings.append(time.perf_counter() - start)
    if damaged_only:  # a file that still loads after damage must hold exactly the saved numbers
        assert all(np.array_equal(a, b) for a, b in zip(model.get_weights(), original["weights"])), case
        assert np.array_equal(model.predict(original["x"]), original["predictions"]), case
        assert json.dumps(model.get_config(), sort_keys=True) == original["config"], case


# -- byte-level damage ------------------------------------------------------------------------------
def _damage(blob: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    b = bytearray(blob)
    n = len(b)
    kind = rng.integers(9)
    if kind == 0:
        cut = int(rng.integers(0, n))
        return f"truncate@{cut}", bytes(b[:cut])
    if kind == 1:
        flips = int(rng.integers(1, 9))
        for pos in rng.integers(0, n, size=flips):
            b[pos] ^= 1 << int(rng.integers(8))
        return f"bitflip x{flips}", bytes(b)
    if kind == 2:
        start = int(rng.integers(0, n))
        length = int(rng.integers(1, 64))
        b[start:start + length] = bytes(len(b[start:start + length]))
        return f"zero {start}+{length}", bytes(b)
    if kind == 3:
        start = int(rng.integers(0, n))
        junk = rng.integers(0, 256, size=int(rng.integers(1, 32)), dtype=np.uint8).tobytes()
        b[start:start + len(junk)] = junk
        return f"junk@{start}", bytes(b[:n])
    if kind == 4:  # the header length field lies
        claimed = int(rng.choice([0, 1, 7, n, n - 8, 2**31, 2**63, 2**64 - 1,
                                  int.from_bytes(b[:8], "little") + int(rng.integers(-40, 40))]))
        claimed = max(0, min(claimed, 2**64 - 1))
        return f"header_len={claimed}", claimed.to_bytes(8, "little") + bytes(b[8:])
    if kind == 5:
        pos = int(rng.integers(0, n))
        return f"insert@{pos}", bytes(b[:pos]) + bytes(rng.integers(0, 256, size=3, dtype=np.uint8)) + bytes(b[pos:])
    if kind == 6:
        pos = int(rng.integers(0, n))
        return f"delete@{pos}", bytes(b[:pos]) + bytes(b[pos + int(rng.integers(1, 16)):])
    if kind == 7:
        return "append", bytes(b) + b"\x00" * int(rng.integers(1, 100))
    header_len = int.from_bytes(b[:8], "little")  # damage inside the tensor data only
    pos = int(rng.integers(8 + header_len, n))
    b[pos] ^= 0xFF
    return f"tensor-byte@{pos}", bytes(b)


def test_damaged_files_raise_model_file_error_or_load_unchanged(originals, tmp_path):
    rng = np.random.default_rng(20240601)
    timings = []
    for i in range(RAW_CASES):
        original = originals[i % len(originals)]
        label, blob = _damage(original["blob"], rng)
        _check(original, blob, tmp_path / "case.glassnet", f"raw#{i} {original['kind']} {label}", True, timings)
    assert len(timings) == RAW_CASES
    assert max(timings) < DEADLINE_S


# -- hostile files (checksums recomputed) ------------------------------------------------------------
def _hostile_values(canary_text):
    return [10**12, 2**63, -1, 0, 1.5, 1e308, -0.0, "x", "", None, True, [], {}, [10**9] * 3, [2**40, 2**40],
            {"class_name": "os.system", "config": {"command": "mkdir canary"}}, "os.system", canary_text,
            {"class_name": "Dense", "config": {"units": 10**12}}, [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]


def _hostile(blob: bytes, rng, canary_text: str, payload: bytes) -> tuple[str, bytes]:
    header, data = _split(blob)
    doc = _doc(header)
    tensor_names = sorted(k for k in header if k != "__metadata__")
    kind = rng.integers(9)
    if kind == 0:  # a dangerous or unknown class name wherever a class is named
        spots = [p for p, v in _paths(doc) if isinstance(v, dict) and "class_name" in v]
        path = spots[int(rng.integers(len(spots)))]
        name = DANGEROUS_NAMES[int(rng.integers(len(DANGEROUS_NAMES)))]
        _set(doc, (*path, "class_name"), name)
        return f"class_name {name!r} at {path}", _reseal(header, data, doc)
    if kind == 1:  # any value replaced by a hostile one
        spots = [p for p, _ in _paths(doc) if p and p[0] != "tensors"]
        path = spots[int(rng.integers(len(spots)))]
        values = _hostile_values(canary_text)
        value = values[int(rng.integers(len(values)))]
        _set(doc, path, value)
        return f"value {str(value)[:40]!r} at {path}", _reseal(header, data, doc)
    if kind == 2:  # a key removed
        spots = [p for p, _ in _paths(doc) if p]
        path = spots[int(rng.integers(len(spots)))]
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
        return f"delete {path}", _reseal(header, data, doc)
    if kind == 3:  # huge claimed shapes and offsets, in the header and the table alike
        name = tensor_names[int(rng.integers(len(tensor_names)))]
        lie = [{"shape": [2**40, 2**40]}, {"shape": [2**62]}, {"data_offsets": [0, 2**62]},
               {"data_offsets": [len(data), len(data) + 4]}, {"dtype": "I64"}, {"dtype": "F16"},
               {"dtype": "BOOL"}, {"dtype": "O"}, {"shape": [-1]}, {"shape": "1,2"}][int(rng.integers(10))]
        header[name].update(lie)
        return f"tensor {name} {lie}", _reseal(header, data, doc)
    if kind == 4:  # a tensor of another shape with a correct checksum (transposed, resized)
        name = tensor_names[int(rng.integers(len(tensor_names)))]
        entry = header[name]
        shape = list(reversed(entry["shape"])) if rng.integers(2) else [*entry["shape"], 1]
        entry["shape"] = shape
        return f"reshape {name} -> {shape}", _reseal(header, data, doc)
    if kind == 5:  # the pickle payload as every tensor's bytes (same length, so offsets still fit)
        b = bytearray(data)
        for name in tensor_names:
            begin, end = header[name]["data_offsets"]
            b[begin:end] = (payload * (1 + (end - begin) // len(payload)))[:end - begin]
        return "pickle in every tensor", _reseal(header, bytes(b), doc)
    if kind == 6:  # the pickle payload as every string of the document
        text = payload.decode("latin-1")
        for path, value in list(_paths(doc)):
            if isinstance(value, str) and path[0] != "tensors" and rng.integers(2):
                _set(doc, path, text)
        return "pickle in strings", _reseal(header, data, doc)
    if kind == 7:  # the pickle payload as the whole document, or as extra metadata
        if rng.integers(2):
            return "pickle as document", _reseal(header, data, doc_text=payload.decode("latin-1"))
        blob = _reseal(header, data, doc)
        header, data = _split(blob)
        header["__metadata__"]["extra"] = payload.decode("latin-1")
        header["extra_tensor"] = {"dtype": "U8", "shape": [len(payload)],
                                  "data_offsets": [len(data), len(data) + len(payload)]}
        return "pickle as extra member", _join(header, data + payload)
    nested = "[" * 100_000 + "]" * 100_000
    return "deeply nested document", _reseal(header, data, doc_text=nested)


def test_hostile_files_raise_model_file_error_and_never_run_code(originals, tmp_path):
    canary = tmp_path / "canary"
    payload = pickle.dumps(_Canary(str(canary)))
    # The payload is live: unpickling it (here, deliberately, with another path) has the effect.
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(_Canary(str(proof))))
    assert proof.exists()
    rng = np.random.default_rng(7)
    timings = []
    for i in range(HOSTILE_CASES):
        original = originals[i % len(originals)]
        label, blob = _hostile(original["blob"], rng, payload.decode("latin-1"), payload)
        _check(original, blob, tmp_path / "case.glassnet", f"hostile#{i} {original['kind']} {label}", False, timings)
        assert not canary.exists(), f"hostile#{i} {label}: the pickle payload ran"
    assert max(timings) < DEADLINE_S
    assert not canary.exists()


# -- claimed sizes are never allocated --------------------------------------------------------------
@pytest.mark.parametrize("attack", ["units", "input_shape", "header_len", "tensor_shape"])
def test_sizes_the_file_merely_claims_are_never_allocated(originals, tmp_path, attack):
    header, data = _split(originals[0]["blob"])
    doc = _doc(header)
    if attack == "units":
        doc["model"]["config"]["layers"][0]["config"]["units"] = 10**9
        blob = _reseal(header, data, doc)
    elif attack == "input_shape":
        doc["model"]["config"]["layers"][0]["config"]["input_shape"] = [10**6]
        blob = _reseal(header, data, doc)
    elif attack == "header_len":
        blob = _join(header, data, header_len=2**40)
    else:
        name = next(k for k in header if k != "__metadata__")
        header[name]["shape"] = [2**20, 2**20]
        blob = _reseal(header, data, doc)
    path = tmp_path / "big.glassnet"
    path.write_bytes(blob)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError):
            gn.load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"loading a hostile file allocated {peak} bytes"
