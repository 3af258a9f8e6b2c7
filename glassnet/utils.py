"""Small helpers: one-hot encoding, padding sequences to one length, the seed that drives
every random choice, and the CPU's name to print beside a timing."""

from __future__ import annotations

import contextlib
import platform
import secrets

import numpy as np

_DEFAULT_SEED: int | None = None
_SEEDED_MODELS = 0  # models given a default seed since set_random_seed

# Each random purpose gets its own stream, derived from (seed, purpose, epoch, layer) so a run
# resumed at epoch k draws exactly what the uninterrupted run drew there.
INIT, DROPOUT, SHUFFLE, SPLIT = 0, 1, 2, 3


def set_random_seed(seed: int) -> None:
    """Seed every model created afterwards (initialisation, dropout, shuffling, splits).

    The first model created afterwards gets ``seed`` itself; each later one a different seed
    derived from it, so a script builds the same models on every run, yet the members of an
    ensemble or the folds of a cross-validation differ from each other, as in Keras.
    glassnet never uses NumPy's global random state; this only sets the default model seeds.
    """
    global _DEFAULT_SEED, _SEEDED_MODELS
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer; got {seed!r}.")
    _DEFAULT_SEED, _SEEDED_MODELS = int(seed), 0


def default_seed() -> int:
    """The next seed after ``set_random_seed`` (see there), or a fresh random one; the model
    records it either way."""
    global _SEEDED_MODELS
    if _DEFAULT_SEED is None:
        return secrets.randbits(32)
    count, _SEEDED_MODELS = _SEEDED_MODELS, _SEEDED_MODELS + 1
    if count == 0:
        return _DEFAULT_SEED
    return int(np.random.default_rng([_DEFAULT_SEED, count]).integers(2**32))


def rng_for(seed: int, purpose: int, *keys: int) -> np.random.Generator:
    """An independent generator for one purpose (init, dropout ...) of one epoch or layer."""
    return np.random.default_rng([seed, purpose, *keys])


def to_categorical(y, num_classes: int | None = None, dtype: str = "float32") -> np.ndarray:
    """One-hot encode integer labels, as ``keras.utils.to_categorical``.

    Args:
        y: integer labels of any shape: (N,) or (N, 1) gives (N, C); per time step, (N, T) or
            (N, T, 1) gives (N, T, C). A trailing axis of 1 is dropped, as Keras does.
        num_classes: number of classes; defaults to max(y) + 1.

    Example:
        >>> import glassnet as gn
        >>> gn.utils.to_categorical([0, 2], 3)
        array([[1., 0., 0.],
               [0., 0., 1.]], dtype=float32)
        >>> gn.utils.to_categorical([[0, 2, 1]], 3).shape  # one label per time step
        (1, 3, 3)
    """
    y = np.asarray(y)
    if y.ndim == 0:
        raise ValueError(f"to_categorical needs an array of labels, one per sample; got the single value {y!r}.")
    if y.ndim >= 2 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size == 0:
        raise ValueError("to_categorical got no labels.")
    if y.dtype.kind not in "iub" and not (y.dtype.kind == "f" and np.all(y == np.round(y))):
        raise ValueError(f"to_categorical needs integer class labels; got dtype {y.dtype}.")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0; found {y.min()}.")
    n = int(y.max()) + 1 if num_classes is None else int(num_classes)
    if y.max() >= n:
        raise ValueError(f"to_categorical: label {y.max()} does not fit num_classes={n}.")
    flat = y.reshape(-1)
    out = np.zeros((flat.shape[0], n), dtype=dtype)
    out[np.arange(flat.shape[0]), flat] = 1
    return out.reshape((*y.shape, n))


def pad_sequences(sequences, maxlen: int | None = None, dtype: str = "int32", padding: str = "pre",
                  truncating: str = "pre", value=0.0) -> np.ndarray:
    """Sequences of different lengths as one array (N, maxlen), as ``keras.utils.pad_sequences``.

    Keras' defaults: the padding goes in front (``padding="pre"``), so a recurrent layer reads the
    tokens last, and a sequence longer than ``maxlen`` loses its first steps (``truncating="pre"``).
    With ``value=0`` and ``Embedding(mask_zero=True)`` the model skips the padding either way.

    Args:
        sequences: a list of sequences (lists or arrays of token ids, or of equal-length feature
            vectors for shape (N, maxlen, D)).
        maxlen: the length of every row; defaults to the longest sequence.
        dtype: the array's dtype.
        padding, truncating: "pre" or "post": pad or cut at the start or at the end.
        value: the padding value.

    Example:
        >>> import glassnet as gn
        >>> gn.utils.pad_sequences([[4, 7], [3, 9, 9, 2]], maxlen=3)
        array([[0, 4, 7],
               [9, 9, 2]], dtype=int32)
    """
    for name, side in (("padding", padding), ("truncating", truncating)):
        if side not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {name} must be 'pre' or 'post'; got {side!r}.")
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__"):
        raise ValueError("pad_sequences takes a list of sequences, e.g. [[4, 7], [3, 9, 9]].")
    rows = []
    for i, seq in enumerate(sequences):
        if isinstance(seq, (str, bytes)) or not hasattr(seq, "__len__"):
            raise ValueError(f"pad_sequences: sequences[{i}] is {type(seq).__name__} {seq!r}, not a sequence; "
                             f"turn text into token ids first (gn.layers.TextVectorization).")
        rows.append(np.asarray(seq))
    steps = [r.shape[1:] for r in rows if len(r)]
    if len(set(steps)) > 1:
        raise ValueError(f"pad_sequences: the steps of the sequences differ in shape ({sorted(set(steps))}); "
                         f"every step must have the same shape.")
    if maxlen is None:
        maxlen = max((len(r) for r in rows), default=0)
    elif int(maxlen) < 0:
        raise ValueError(f"pad_sequences: maxlen must be >= 0; got {maxlen}.")
    maxlen = int(maxlen)
    out = np.full((len(rows), maxlen, *(steps[0] if steps else ())), value, dtype=dtype)
    for i, r in enumerate(rows):
        kept = r[max(len(r) - maxlen, 0):] if truncating == "pre" else r[:maxlen]
        if padding == "pre":
            out[i, maxlen - len(kept):] = kept
        else:
            out[i, :len(kept)] = kept
    return out


@contextlib.contextmanager
def seed_scope(seed: int):
    """Models created inside the ``with`` block are seeded from ``seed`` as after
    ``set_random_seed(seed)``; the default seeding in force before comes back after it.

    Example:
        >>> import glassnet as gn
        >>> with gn.utils.seed_scope(7):
        ...     model = gn.Sequential([gn.layers.Dense(2, input_shape=(3,))])
        >>> model.seed
        7
    """
    global _DEFAULT_SEED, _SEEDED_MODELS
    previous = _DEFAULT_SEED, _SEEDED_MODELS
    set_random_seed(seed)
    try:
        yield
    finally:
        _DEFAULT_SEED, _SEEDED_MODELS = previous


def cpu_model() -> str:
    """The CPU's model name, from /proc/cpuinfo (Linux), else what ``platform`` knows: print it
    beside any timing, since figures differ between CPUs (an AMD EPYC and an Intel Xeon, say)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def check_positive_int(value, name: str, where: str = "", none_ok: bool = False) -> int | None:
    """``value`` as an int if it is a positive whole number (None passes when ``none_ok``), else a
    ValueError naming ``where`` (the function or layer) and ``name`` (its argument)."""
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        prefix = f"{where}: " if where else ""
        raise ValueError(f"{prefix}{name} must be a positive integer{' or None' if none_ok else ''}; got {value!r}.")
    return int(value)
