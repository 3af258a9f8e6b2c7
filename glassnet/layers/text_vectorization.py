"""TextVectorization: raw strings in, token ids or bag-of-words vectors out (Keras' layer).

The vocabulary is learned by ``adapt`` and kept in the layer's config as plain strings (and
floats for the tf-idf weights), so a saved model takes raw text in ``predict``.
"""

from __future__ import annotations

import os
import re
from collections import Counter

import numpy as np

from glassnet import backend
from glassnet._registry import register
from glassnet.layers import symbolic
from glassnet.layers.base import Layer
from glassnet.utils import check_positive_int

#: Keras' punctuation set for "strip_punctuation" (``,-.`` is a range: it covers the hyphen).
STRIP_REGEX = re.compile(r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']')
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation", None)
SPLIT = ("whitespace", "character", None)
OUTPUT_MODES = ("int", "multi_hot", "count", "tf_idf")
MASK_TOKEN, OOV_TOKEN = "", "[UNK]"


@register("layer")
class TextVectorization(Layer):
    """Turns strings into token indices (``int``) or one vector per string over the vocabulary.

    Each string is standardized, split into tokens, extended with n-grams, and looked up in a
    vocabulary that ``adapt`` learns: the ``max_tokens`` most frequent tokens, ties broken by
    the token in reverse order, as Keras does. Reserved indices follow Keras:

    - ``int``: 0 is padding (``""``), 1 is out-of-vocabulary (``"[UNK]"``), tokens from 2;
    - ``multi_hot`` / ``count`` / ``tf_idf``: 0 counts the out-of-vocabulary tokens, tokens from 1.

    The layer computes nothing differentiable and holds no parameters: put it first, and the
    model's backward stops at the layer after it (``backward`` returns None: strings have no gradient).

    Args:
        max_tokens: largest vocabulary size, reserved indices included (None: no limit).
        standardize: "lower_and_strip_punctuation" (default), "lower", "strip_punctuation",
            None, or a function from one string to one string (such a layer works in memory but
            cannot be saved to a file: a model file never holds code).
        split: "whitespace" (default), "character", None (the whole string is one token), or a
            function from one string to a list of tokens (not saveable either).
        ngrams: None, an int n (every n-gram of 1..n tokens) or a tuple of sizes, e.g. (1, 2);
            an n-gram is its tokens joined by one space.
        output_mode: "int", "multi_hot", "count" or "tf_idf".
        output_sequence_length: int mode only: pad with 0 or cut every row to this many tokens;
            None pads to the longest string of the batch.
        pad_to_max_tokens: non-int modes: make the output ``max_tokens`` wide even when the
            vocabulary is smaller.
        vocabulary: a list of tokens or the path of a text file with one token per line, instead
            of ``adapt``; it may start with the reserved tokens (``"", "[UNK]"`` in int mode,
            ``"[UNK]"`` otherwise), as ``get_vocabulary()`` returns it.
        idf_weights: tf_idf with a given vocabulary: one weight per vocabulary entry (the
            out-of-vocabulary weight, when the list has no reserved tokens, is their mean).

    Shapes:
        x: (N,) or (N, 1) strings -> int: (N, L) int64; other modes: (N, V) floats, V the
        vocabulary size (or ``max_tokens`` with ``pad_to_max_tokens``).

    Math:
        forward y = token ids (int), count[v], min(count[v], 1) (multi_hot) or count[v]·idf[v]
        (tf_idf), count[v] being how often token v occurs in the string; backward none (strings);
        idf[v] = ln(1 + D / (1 + df[v])) over the D adapted strings, df[v] of which hold v
        (Keras' formula; scikit-learn's smooth idf is ln((1 + D) / (1 + df)) + 1, rows L2-normed).

    Example:
        >>> import glassnet as gn
        >>> layer = gn.layers.TextVectorization(output_mode="int", output_sequence_length=4)
        >>> layer.adapt(["the cat sat", "the dog sat down", "the end"])
        >>> layer.get_vocabulary()[:4]
        ['', '[UNK]', 'the', 'sat']
        >>> layer(["The cat ran!"]).tolist()
        [[2, 7, 1, 0]]
    """

    #: the model hands this layer its raw strings instead of converting them to floats.
    takes_text = True

    def __init__(self, max_tokens: int | None = None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode: str = "int", output_sequence_length: int | None = None,
                 pad_to_max_tokens: bool = False, vocabulary=None, idf_weights=None, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        name = f"TextVectorization {self.name!r}"
        if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer))
                                       or max_tokens <= 1):
            raise ValueError(f"{name}: max_tokens must be an integer greater than 1 (it counts the reserved "
                             f"indices) or None; got {max_tokens!r}.")
        if not (callable(standardize) or standardize in STANDARDIZE):
            raise ValueError(f"{name}: standardize must be one of {STANDARDIZE} or a function; got {standardize!r}.")
        if not (callable(split) or split in SPLIT):
            raise ValueError(f"{name}: split must be one of {SPLIT} or a function; got {split!r}.")
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"{name}: output_mode must be one of {OUTPUT_MODES}; got {output_mode!r}.")
        if output_sequence_length is not None:
            if output_mode != "int":
                raise ValueError(f"{name}: output_sequence_length is for output_mode='int' only; "
                                 f"got output_mode={output_mode!r}.")
            check_positive_int(output_sequence_length, "output_sequence_length", name, none_ok=True)
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{name}: pad_to_max_tokens=True needs max_tokens.")
        self.max_tokens = None if max_tokens is None else int(max_tokens)
        self.standardize = standardize
        self.split = split
        self.ngrams = _ngram_sizes(ngrams, name)
        if self.ngrams is not None and split is None:
            raise ValueError(f"{name}: ngrams needs a split (n-grams are runs of split tokens); "
                             f"pass split='whitespace'.")
        self.output_mode = output_mode
        self.output_sequence_length = None if output_sequence_length is None else int(output_sequence_length)
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self._vocabulary: list[str] | None = None  # learned or given tokens, reserved ones excluded
        self._index: dict[str, int] = {}
        self._idf: np.ndarray | None = None  # one weight per output column (tf_idf)
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif idf_weights is not None:
            raise ValueError(f"{name}: idf_weights needs a vocabulary to weigh.")

    # -- the vocabulary -----------------------------------------------------------------------------
    @property
    def _reserved(self) -> list[str]:
        return [MASK_TOKEN, OOV_TOKEN] if self.output_mode == "int" else [OOV_TOKEN]

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Use ``vocabulary`` (a list, or a file with one token per line) instead of ``adapt``."""
        name = f"TextVectorization {self.name!r}"
        if isinstance(vocabulary, (str, os.PathLike)):
            with open(vocabulary, encoding="utf-8") as f:
                vocabulary = f.read().splitlines()
            while vocabulary and vocabulary[-1] == "":
                vocabulary.pop()  # a trailing newline is not an empty token
        tokens = list(vocabulary) if isinstance(vocabulary, list) else list(np.asarray(vocabulary, dtype=object).ravel())
        bad = next((t for t in tokens if not isinstance(t, str)), None)
        if bad is not None:
            raise ValueError(f"{name}: the vocabulary must hold strings; got {bad!r} ({type(bad).__name__}).")
        reserved = self._reserved
        has_reserved = tokens[:len(reserved)] == reserved
        if has_reserved:
            tokens = tokens[len(reserved):]
        for special in reserved:
            if special in tokens:
                raise ValueError(f"{name}: the reserved token {special!r} is in the vocabulary at index "
                                 f"{tokens.index(special) + (len(reserved) if has_reserved else 0)}; remove it, "
                                 f"or put the reserved tokens {reserved} first, in that order.")
        repeated = sorted(t for t, n in Counter(tokens).items() if n > 1)
        if repeated:
            raise ValueError(f"{name}: the vocabulary repeats {repeated[:5]}; each token must appear once.")
        if self.max_tokens is not None and len(tokens) + len(reserved) > self.max_tokens:
            raise ValueError(f"{name}: the vocabulary has {len(tokens) + len(reserved)} entries with the reserved "
                             f"ones, more than max_tokens={self.max_tokens}.")
        idf = None
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"{name}: output_mode='tf_idf' with a vocabulary needs idf_weights, one per entry.")
            weights = np.asarray(idf_weights, dtype=np.float64).reshape(-1)
            expected = len(tokens) + (len(reserved) if has_reserved else 0)
            if weights.size != expected or not np.isfinite(weights).all():
                raise ValueError(f"{name}: idf_weights must be {expected} finite numbers, one per vocabulary "
                                 f"entry; got {weights.size}.")
            weights = weights.astype(self.dtype)
            # No document frequency is known for out-of-vocabulary tokens: Keras gives them the mean.
            idf = weights if has_reserved else np.concatenate([[weights.mean(dtype=self.dtype)], weights])
            idf = idf.astype(self.dtype)
        elif idf_weights is not None:
            raise ValueError(f"{name}: idf_weights is for output_mode='tf_idf' only; got {self.output_mode!r}.")
        self._commit(tokens, idf)

    def _commit(self, tokens: list[str], idf: np.ndarray | None) -> None:
        """Install a vocabulary, refusing one that would change the width the next layer was built for."""
        width = len(tokens) + len(self._reserved)
        if (self.built and self.output_mode != "int" and not self.pad_to_max_tokens
                and self.output_shape[-1] != width):
            raise ValueError(
                f"TextVectorization {self.name!r} was built with a vocabulary of {self.output_shape[-1]} entries "
                f"and the new one has {width}: the layers after it expect {self.output_shape[-1]} columns. "
                f"Adapt (or set the vocabulary) before building the model, or pass pad_to_max_tokens=True.")
        self._vocabulary = tokens
        start = len(self._reserved)
        self._index = {t: i + start for i, t in enumerate(tokens)}
        self._idf = idf

    def adapt(self, data, batch_size=None, steps=None) -> None:
        """Learn the vocabulary (and the idf weights in tf_idf mode) from ``data``.

        Args:
            data: strings, (N,) or (N, 1): a list, a NumPy array or a pandas Series; or a batch
                source (``text_dataset_from_directory(..., batch_size=n)``, ``ArraySource``)
                whose batches' first element holds the strings.
            batch_size: strings per step for array data (Keras' default 32); only ``steps`` uses it.
            steps: read only this many batches (of a source) or ``steps · batch_size`` strings
                (of an array); None reads everything, as Keras does.
        """
        from glassnet.datasets.sources import is_batch_source
        from glassnet.models import data as data_module

        name = f"TextVectorization {self.name!r}"
        for arg, value in (("batch_size", batch_size), ("steps", steps)):
            check_positive_int(value, arg, f"{name}.adapt", none_ok=True)
        if hasattr(data, "x") and hasattr(data, "class_names"):  # TextData from text_dataset_from_directory
            data = data.x
        if is_batch_source(data):  # one batch read at a time: a folder larger than memory adapts too
            batches = (data[i][0] for i in range(len(data) if steps is None else min(steps, len(data))))
        else:
            texts = data_module.as_text(data, f"{name}.adapt: data")
            batches = [texts if steps is None else texts[:steps * (batch_size or 32)]]
        counts, document_counts, documents = Counter(), Counter(), 0
        for batch in batches:
            texts = data_module.as_text(batch, f"{name}.adapt: data")
            for tokens in self._tokenize(texts):
                counts.update(tokens)
                if self.output_mode == "tf_idf":
                    document_counts.update(set(tokens))
            documents += texts.shape[0]
        if documents == 0:
            raise ValueError(f"{name}.adapt: the batch source holds no batches, so there is no text to learn from.")
        counts.pop(MASK_TOKEN, None)  # the padding token is never learned (Keras drops the mask token)
        counts.pop(OOV_TOKEN, None)
        # Most frequent first, ties by the token in reverse order (Keras: lexsort(tokens, counts)[::-1]).
        ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
        if self.max_tokens is not None:
            ranked = ranked[:self.max_tokens - len(self._reserved)]
        tokens = [t for t, _ in ranked]
        idf = None
        if self.output_mode == "tf_idf":
            df = np.array([document_counts[t] for t in tokens], dtype=np.float64)
            learned = np.log(1 + documents / (1 + df)).astype(self.dtype)
            mean = learned.mean(dtype=self.dtype) if learned.size else np.zeros((), self.dtype)
            idf = np.concatenate([[mean], learned]).astype(self.dtype)
        self._commit(tokens, idf)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        """The vocabulary in index order (with the reserved tokens first, unless asked not to)."""
        self._require_vocabulary("get_vocabulary")
        return ([*self._reserved] if include_special_tokens else []) + list(self._vocabulary)

    def vocabulary_size(self) -> int:
        """Entries in the vocabulary, the reserved ones included."""
        self._require_vocabulary("vocabulary_size")
        return len(self._vocabulary) + len(self._reserved)

    @property
    def idf_weights(self) -> np.ndarray | None:
        """tf_idf mode: the weight of each vocabulary entry (index 0: out-of-vocabulary)."""
        return None if self._idf is None else self._idf.copy()

    def _require_vocabulary(self, action: str) -> None:
        if self._vocabulary is None:
            raise ValueError(f"TextVectorization {self.name!r} has no vocabulary yet, so it cannot {action}: "
                             f"call layer.adapt(texts) first (or pass vocabulary=[...]).")

    # -- strings to tokens ---------------------------------------------------------------------------
    def _tokenize(self, texts: np.ndarray) -> list[list[str]]:
        """Each string's tokens and n-grams. String work has no vectorised NumPy form, so this
        is one pass of Python string methods per string."""
        texts = texts.reshape(-1)
        standardize, split, sizes = self.standardize, self.split, self.ngrams
        out = []
        for text in texts:
            if standardize in ("lower_and_strip_punctuation", "lower"):
                text = text.lower()
            if standardize in ("lower_and_strip_punctuation", "strip_punctuation"):
                text = STRIP_REGEX.sub("", text)
            elif callable(standardize):
                text = standardize(text)
                if not isinstance(text, str):  # else a list fails later as "'list' has no attribute 'split'"
                    raise TypeError(self._callable_error("standardize", "one string", text))
            if split == "whitespace":
                tokens = text.split()
            elif split == "character":
                tokens = list(text)
            elif split is None:
                tokens = [text]
            else:
                got = split(text)
                # A string returned here would be read as its characters, silently.
                tokens = [] if isinstance(got, str) else list(got)
                if isinstance(got, str) or not all(isinstance(t, str) for t in tokens):
                    raise TypeError(self._callable_error("split", "a list (or iterable) of strings", got))
            if sizes is not None:
                tokens = [" ".join(tokens[i:i + n]) for n in sizes for i in range(len(tokens) - n + 1)]
            out.append(tokens)
        return out

    def _callable_error(self, argument: str, expected: str, got) -> str:
        shown = repr(got) if len(repr(got)) <= 60 else repr(got)[:57] + "..."
        return (f"TextVectorization {self.name!r}: the {argument} function must return {expected} for each "
                f"string; it returned {type(got).__name__} {shown}. Keras' functions take a tensor of strings; "
                f"here {argument} takes one Python string at a time.")

    # -- the layer -----------------------------------------------------------------------------------
    def __call__(self, x, training: bool = False):
        if symbolic.is_symbolic(x):
            return symbolic.call(self, x)
        from glassnet.models import data as data_module

        # Not built here: a look at some texts must leave the layer free to join a model taking
        # (N,) or (N, 1) strings, and to adapt again.
        x = data_module.as_text(x, f"TextVectorization {self.name!r}: x")
        return self.forward(x, training=training)

    def compute_output_shape(self, input_shape):
        if len(input_shape) not in (1, 2) or (len(input_shape) == 2 and input_shape[1] not in (1, None)):
            raise ValueError(f"TextVectorization {self.name!r} takes one string per sample, shape (N,) or (N, 1); "
                             f"got inputs of shape {tuple(input_shape)}.")
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        return (input_shape[0], self._width("build a model"))

    def _width(self, action: str) -> int:
        if self.pad_to_max_tokens:
            return self.max_tokens
        self._require_vocabulary(action)
        return self.vocabulary_size()

    def forward(self, x, training=False):
        """Strings (N,) or (N, 1) -> ids (N, L) int64, or (N, V) vectors in the layer's dtype.

        Strings live on the host; the result goes to the current device (gn.config.set_device):
        the batch's one transfer, as fit moves other inputs."""
        self._require_vocabulary("vectorize text")
        tokens = self._tokenize(np.asarray(x, dtype=object))
        oov = self._index.get  # unknown tokens -> OOV; the padding token "" -> 0 (int) or dropped
        if self.output_mode == "int":
            ids = [[oov(t, 1) if t else 0 for t in row] for row in tokens]
            length = self.output_sequence_length or max((len(row) for row in ids), default=0)
            out = np.zeros((len(ids), length), dtype=np.int64)
            for i, row in enumerate(ids):  # rows differ in length: no rectangular array to vectorise over
                row = row[:length]
                out[i, :len(row)] = row
            return backend.to_device(out)
        ids = np.array([oov(t, 0) for row in tokens for t in row if t], dtype=np.int64)
        rows = np.repeat(np.arange(len(tokens)), [sum(1 for t in row if t) for row in tokens])
        width = self._width("vectorize text")
        # Each (row, id) pair is one occurrence: count them all at once as flat cell indices.
        counts = np.bincount(rows * width + ids, minlength=len(tokens) * width)
        counts = counts.reshape(len(tokens), width).astype(self.dtype)
        if self.output_mode == "multi_hot":
            return backend.to_device(np.minimum(counts, 1, out=counts))
        if self.output_mode == "tf_idf":
            idf = np.zeros(width, dtype=self.dtype)
            idf[:self._idf.size] = self._idf  # pad_to_max_tokens: the unused columns weigh 0
            counts *= idf
        return backend.to_device(counts)

    def backward(self, grad):
        # Strings have no gradient; the model stops its backward pass at the layer above this one.
        return None

    def get_config(self):
        config = {**super().get_config(), "max_tokens": self.max_tokens, "standardize": self.standardize,
                  "split": self.split, "ngrams": None if self.ngrams is None else list(self.ngrams),
                  "output_mode": self.output_mode, "output_sequence_length": self.output_sequence_length,
                  "pad_to_max_tokens": self.pad_to_max_tokens,
                  # The learned vocabulary travels as constructor data, so a model file (plain JSON)
                  # restores it; the reserved tokens are included and then recognised, as in Keras.
                  "vocabulary": None if self._vocabulary is None else self.get_vocabulary(),
                  "idf_weights": None if self._idf is None else [float(w) for w in self._idf]}
        return config


def _ngram_sizes(ngrams, name: str):
    if ngrams is None:
        return None
    if isinstance(ngrams, (int, np.integer)) and not isinstance(ngrams, bool):
        sizes = tuple(range(1, int(ngrams) + 1))
    elif isinstance(ngrams, (tuple, list)):
        sizes = tuple(ngrams)
    else:
        sizes = ()
    if not sizes or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n > 0 for n in sizes):
        raise ValueError(f"{name}: ngrams must be None, a positive integer or a tuple of them; got {ngrams!r}.")
    return tuple(int(n) for n in sizes)
