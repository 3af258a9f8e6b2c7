"""The container: a safetensors file whose metadata holds a checksummed JSON document.

``encode`` turns (document, tensors) into bytes; ``decode`` checks every byte of a file before
trusting it and returns the same pair, migrated to the current format version. Nothing here
knows about layers or models (see ``model_io``).

Layout (format version 1)::

    8 bytes      N, the header length (unsigned little-endian), as in every safetensors file
    N bytes      header JSON: {"__metadata__": {"glassnet": DOC, "glassnet_sha256": sha256(DOC)},
                               "<tensor name>": {"dtype": "F32"|"F64", "shape": [...],
                                                 "data_offsets": [begin, end]}, ...}
    rest         the tensors' bytes, little-endian, C order

DOC is a JSON string: format ("glassnet.model" or "glassnet.weights"), format_version,
glassnet_version, created, dtype, layers (ordered name, class_name, weight keys) and a tensor
table {name: {dtype, shape, sha256}}; model files add model (Sequential config), compile,
optimizer (iterations, slot table), training (epochs_completed, seed) and preprocessor
(class_name, plain-data state, array names; or absent).
"""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import safetensors.numpy

from glassnet import backend

#: the version this glassnet writes; ``decode`` upgrades older documents step by step.
FORMAT_VERSION = 1

#: format name of a full model file and of a weights-only file.
MODEL_FORMAT = "glassnet.model"
WEIGHTS_FORMAT = "glassnet.weights"

#: the safetensors header (JSON) may not be longer than this; a model's header is kilobytes.
MAX_HEADER_BYTES = 16 * 2**20
#: at most this many tensors and dimensions per tensor.
MAX_TENSORS = 100_000
MAX_NDIM = 8

_DOC_KEY, _DOC_SHA_KEY = "glassnet", "glassnet_sha256"
_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_DTYPE_CODES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}

# Upgrades from an older document to the next version: MIGRATIONS[v](doc, tensors) returns the
# (doc, tensors) of version v + 1. When the format changes: bump FORMAT_VERSION, add the step
# from the previous version here, and keep the test that loads a hand-made file of every older
# version (tests/test_saving.py, ``_handmade_v1_file``).
MIGRATIONS: dict = {}


class ModelFileError(ValueError):
    """A model or weights file is damaged, truncated, from a newer glassnet, or not one at all.

    Every problem found in a file's bytes or contents raises this one type (a ``ValueError``),
    with a message that names the file and what is wrong. Loading never raises anything else
    for a bad file, never runs code named in it and never allocates what it merely claims.
    """


def sha256(data) -> str:
    return hashlib.sha256(data).hexdigest()


def dtype_code(dtype) -> str:
    """The safetensors code of a float dtype ("F32", "F64")."""
    if np.dtype(dtype) not in _DTYPE_CODES:
        raise TypeError(f"glassnet files hold float32 and float64 arrays only; got {np.dtype(dtype)}.")
    return _DTYPE_CODES[np.dtype(dtype)]


def dumps(obj) -> str:
    """Canonical JSON: sorted keys, no NaN/Infinity (strict JSON other tools can read)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _reject_constant(name):
    raise ValueError(f"non-standard JSON constant {name}")


def loads(text: str):
    """Strict JSON parsing (no NaN/Infinity)."""
    return json.loads(text, parse_constant=_reject_constant)


def encode(doc: dict, tensors: dict[str, np.ndarray]) -> bytes:
    """The bytes of a file holding ``doc`` (JSON-ready) and ``tensors`` (float32/float64).

    ``doc["tensors"]`` is filled in with each tensor's dtype, shape and sha256.
    """
    arrays = {}
    table = {}
    for name, array in tensors.items():
        # files hold host arrays (a model trained on a GPU loads on a CPU); np.require, as
        # ascontiguousarray would turn a 0-d weight into (1,)
        array = np.require(backend.to_host(array), requirements="C")
        code = dtype_code(array.dtype)
        arrays[name] = array
        table[name] = {"dtype": code, "shape": list(array.shape), "sha256": sha256(array.data)}
    doc = {**doc, "format_version": FORMAT_VERSION, "tensors": table}
    text = dumps(doc)
    metadata = {_DOC_KEY: text, _DOC_SHA_KEY: sha256(text.encode("utf-8"))}
    return safetensors.numpy.save(arrays, metadata=metadata)


def _foreign(data: bytes, source: str) -> str:
    """What another program's file that reached glassnet's loader is, and where it belongs ("" if unknown)."""
    if data.startswith(b"PK\x03\x04"):
        return ("; it is a zip archive, such as a Keras .keras file (glassnet cannot read Keras models: "
                "rebuild the model with gn.layers) or a Talos Deploy package (gn.tuning.Restore reads it)")
    if len(data) > 1 and data[0] == 0x80 and 2 <= data[1] <= 5:
        # pickle protocols 2-5 open with PROTO n; the NNFS book's Model.save writes one
        return ("; it is a Python pickle (such as the NNFS book's Model.save or save_parameters wrote), "
                "which glassnet never loads because unpickling runs code: unpickle it yourself if you "
                "trust it, put its arrays in with model.set_parameters(...) or set_weights, then save "
                "with glassnet")
    if data.startswith(b"\x89HDF\r\n\x1a\n"):
        return "; it is an HDF5 file, such as a Keras .h5 model, which glassnet cannot read: rebuild the model with gn.layers"
    if str(source).lower().endswith(".onnx"):
        return ("; it is an ONNX file, which model.export writes for other runtimes: run it with onnxruntime, "
                "and load the .glassnet file that model.save wrote")
    return ""


def decode(data: bytes, source: str, formats: tuple[str, ...]) -> tuple[dict, dict[str, np.ndarray]]:
    """Check a file's bytes and return its (document, tensors), migrated to FORMAT_VERSION.

    Order of checks: length fields against the real size, header JSON, the document's checksum,
    the document's format and version, each tensor's entry (dtype, shape, offsets inside the
    file) against the document's table, each tensor's sha256, and only then the arrays.

    Args:
        data: the whole file.
        source: how to name the file in messages (its path).
        formats: acceptable ``doc["format"]`` values.

    Raises:
        ModelFileError: anything wrong, with ``source`` and the reason in the message.
    """

    def fail(reason: str):
        raise ModelFileError(f"{source}: {reason}")

    size = len(data)
    if size < 8:
        fail(f"the file has {size} bytes, too short for a glassnet file (truncated or empty).")
    header_len = int.from_bytes(data[:8], "little")
    if header_len > size - 8:
        fail(f"the header claims {header_len} bytes but only {size - 8} follow "
             f"(truncated, or not a glassnet/safetensors file{_foreign(data, source)}).")
    if header_len > MAX_HEADER_BYTES:
        fail(f"the header claims {header_len} bytes, more than the {MAX_HEADER_BYTES} a glassnet file uses"
             f"{_foreign(data, source)}.")
    try:
        header = loads(bytes(data[8:8 + header_len]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        fail(f"the header is not valid JSON ({type(err).__name__}: {_short(err)}); the file is damaged"
             f"{_foreign(data, source)}.")
    if not isinstance(header, dict):
        fail("the header is not a JSON object; the file is damaged.")
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or not isinstance(metadata.get(_DOC_KEY), str):
        fail("the file has no glassnet document in its metadata: a plain safetensors file, or damaged.")
    text, claimed = metadata[_DOC_KEY], metadata.get(_DOC_SHA_KEY)
    if not isinstance(claimed, str) or sha256(text.encode("utf-8")) != claimed:
        fail("the checksum of the glassnet document does not match: the file is damaged or was edited.")
    try:
        doc = loads(text)
    except (ValueError, RecursionError) as err:
        fail(f"the glassnet document is not valid JSON ({_short(err)}).")
    if not isinstance(doc, dict):
        fail("the glassnet document is not a JSON object.")
    if doc.get("format") not in formats:
        fail(f"the file's format is {_short(doc.get('format'))!r}; expected {' or '.join(formats)}.")
    version = doc.get("format_version")
    if not _is_int(version) or version < 1:
        fail(f"invalid format_version {_short(version)!r}.")
    if version > FORMAT_VERSION:
        fail(f"the file has format version {version}, newer than this glassnet's {FORMAT_VERSION}; "
             f"upgrade glassnet to read it.")

    tensors_at = 8 + header_len
    entries = {k: v for k, v in header.items() if k != "__metadata__"}
    table = doc.get("tensors")
    if not isinstance(table, dict) or len(table) > MAX_TENSORS:
        fail("the glassnet document has no valid tensor table.")
    if set(entries) != set(table):
        missing, extra = sorted(set(table) - set(entries)), sorted(set(entries) - set(table))
        fail(f"the tensors in the file do not match its table (missing {_short(missing)}, "
             f"unlisted {_short(extra)}).")
    for name, entry in entries.items():
        _check_entry(name, entry, table[name], size - tensors_at, fail)
        begin, end = entry["data_offsets"]
        if sha256(memoryview(data)[tensors_at + begin:tensors_at + end]) != table[name]["sha256"]:
            fail(f"the checksum of tensor {name!r} does not match: its bytes are damaged.")
    try:
        arrays = safetensors.numpy.load(bytes(data))
    except Exception as err:  # the reference reader's own checks (overlaps, holes ...)
        fail(f"the safetensors container is invalid ({type(err).__name__}: {_short(err)}).")
    if set(arrays) != set(table):
        fail("the safetensors reader found other tensors than the table lists.")
    while version < FORMAT_VERSION:
        try:
            doc, arrays = MIGRATIONS[version](doc, arrays)
        except ModelFileError:
            raise
        except Exception as err:
            fail(f"cannot upgrade the file from format version {version}: {type(err).__name__}: {_short(err)}.")
        version += 1
        doc["format_version"] = version
    return doc, arrays


def _check_entry(name: str, entry, listed, data_bytes: int, fail) -> None:
    if not isinstance(entry, dict) or not isinstance(listed, dict):
        fail(f"the entry of tensor {_short(name)!r} is not an object.")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if dtype not in _DTYPES:
        fail(f"tensor {_short(name)!r} has dtype {_short(dtype)!r}; glassnet files hold only F32 and F64.")
    if (not isinstance(shape, list) or len(shape) > MAX_NDIM
            or not all(_is_int(d) and d >= 0 for d in shape)):
        fail(f"tensor {_short(name)!r} has an invalid shape {_short(shape)}.")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(o) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1] <= data_bytes):
        fail(f"tensor {_short(name)!r} has data offsets {_short(offsets)} outside the file's "
             f"{data_bytes} data bytes (truncated or damaged).")
    # Python integers: a huge claimed shape cannot overflow, and is compared, never allocated.
    if math.prod(shape) * _DTYPES[dtype].itemsize != offsets[1] - offsets[0]:
        fail(f"tensor {_short(name)!r} claims shape {_short(shape)} but holds "
             f"{offsets[1] - offsets[0]} bytes.")
    if listed.get("dtype") != dtype or listed.get("shape") != shape or not isinstance(listed.get("sha256"), str):
        fail(f"tensor {_short(name)!r}: its dtype or shape differs from the document's table.")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value, limit: int = 120) -> str:
    """``str(value)`` cut to ``limit`` characters, so a hostile file cannot flood a message."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."
