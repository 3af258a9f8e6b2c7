"""TextVectorization in standard ONNX string operators (opset ``TEXT_OPSET``), where they reproduce it exactly.

Exported: every standardize but a function, split "whitespace" or None, any ngrams, every output
mode, output_sequence_length, pad_to_max_tokens. The strings are lowered (StringNormalizer), split
(StringSplit: on runs of spaces, then on each other character Python's ``str.split()`` treats as
whitespace), stripped of punctuation (each token split on each punctuation character and joined
again by a Loop of StringConcat: ONNX has no regex replace), joined into n-grams (StringConcat),
looked up in the vocabulary (ai.onnx.ml LabelEncoder) and, outside int mode, counted per
vocabulary entry (ScatterElements with reduction "add"). Refused, with what to do instead:
split="character" (no operator cuts a string into characters) and functions as standardize or split.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from glassnet.export import ML_OPSET, TEXT_OPSET
from glassnet.export.registry import ExportError, converts
from glassnet.layers.text_vectorization import STRIP_REGEX, TextVectorization

#: the characters Python's ``str.split()`` splits on besides the space (``str.isspace``); ONNX's
#: StringSplit without a delimiter splits on runs of spaces only.
OTHER_WHITESPACE = tuple(chr(c) for c in range(0x110000) if chr(c).isspace() and c != 0x20)
#: the characters the "strip_punctuation" standardizations remove (Keras' set, ASCII).
PUNCTUATION = tuple(chr(c) for c in range(128) if STRIP_REGEX.fullmatch(chr(c)))
#: the locale StringNormalizer lowers in: ONNX Runtime's default (en_US.UTF-8) is missing from most
#: containers, and a session then fails to start; C.UTF-8 is built into glibc 2.35+ and maps case as Python
#: does, except U+0130 (İ, which Python lowers to two characters) and Σ at a word's end (Python: ς).
LOWER_LOCALE = "C.UTF-8"
EXPORTABLE = ('any built-in standardize, split "whitespace" or None (any ngrams, output_mode, '
              'output_sequence_length)')


def refusal(layer) -> str | None:
    """Why ``layer``'s settings cannot be written in standard ONNX operators exactly, or None."""
    if callable(layer.standardize) or callable(layer.split):
        which = "standardize" if callable(layer.standardize) else "split"
        return f"{which} is a Python function, which ONNX cannot run"
    if layer.split == "character":
        return "split='character' cuts strings into characters, which no standard ONNX operator does"
    return None


def check_exportable(layer) -> None:
    """Raise an ExportError naming the layer, the setting and what to do, unless it exports exactly."""
    reason = refusal(layer)
    if reason is not None:
        raise ExportError(
            f"TextVectorization {layer.name!r} cannot be exported into the ONNX graph: {reason}. Either export "
            f"the model after it with model.export(path, include_text_vectorization=False) (the ONNX model then "
            f"takes the layer's output, and its vocabulary and settings are in the file's metadata_props under "
            f"'text_vectorization', to vectorize the text before calling it; CLI: --no-text-vectorization), or "
            f"retrain with settings that export: {EXPORTABLE}.")


@converts(TextVectorization)
def text_vectorization(g, layer, x):
    check_exportable(layer)
    layer.get_vocabulary()  # raises, saying to adapt, when there is none yet
    g.domains[""] = max(g.domains[""], TEXT_OPSET)
    g.domains["ai.onnx.ml"] = ML_OPSET
    text = g.node("Reshape", [x, g.const([-1], dtype=np.int64)])  # (N,) or (N, 1) -> (N,)
    if layer.standardize in ("lower", "lower_and_strip_punctuation"):
        text = g.node("StringNormalizer", [text], case_change_action="LOWER", locale=LOWER_LOCALE)
    if layer.split is None:
        tokens = g.node("Unsqueeze", [text, g.const([1], dtype=np.int64)])  # (N, 1): the string is the token
        if layer.standardize in ("lower_and_strip_punctuation", "strip_punctuation"):
            tokens = _strip_punctuation(g, tokens)  # "" stays a token here, as in forward
    else:
        tokens = _split_whitespace(g, text)  # (N, T), "" after each row's tokens
        if layer.standardize in ("lower_and_strip_punctuation", "strip_punctuation"):
            # Punctuation is never whitespace, so stripping each token and dropping the ones left
            # empty gives the tokens of the stripped string.
            tokens = _compact(g, _strip_punctuation(g, tokens))
    if layer.ngrams is not None:
        tokens = _ngrams(g, tokens, layer.ngrams)
    if layer.output_mode == "int":
        return _sequence(g, layer, tokens)
    return _bag(g, layer, tokens)


def _split_whitespace(g, text: str) -> str:
    """(N,) strings -> (N, T) tokens as ``str.split()`` gives them, each row padded with "" to T."""
    tokens, _ = g.node_outputs("StringSplit", [text], 2)  # runs of spaces; (N, T)
    for char in OTHER_WHITESPACE:
        # With a delimiter, StringSplit keeps the empty strings between two of them: (N, T, P);
        # flatten the parts of each row and drop the empty ones.
        parts, _ = g.node_outputs("StringSplit", [tokens], 2, delimiter=char)
        tokens = _compact(g, _merge_last_axes(g, parts))
    return tokens


def _strip_punctuation(g, tokens: str) -> str:
    """(N, T) strings -> (N, T): each without the characters of ``STRIP_REGEX``.

    Each string is split on one punctuation character after the other, keeping the non-empty
    parts in order, (N, T, P); the parts are then joined again by a Loop of StringConcat.
    """
    parts = g.node("Unsqueeze", [tokens, g.const([-1], dtype=np.int64)])  # (N, T, 1)
    for char in PUNCTUATION:
        split, _ = g.node_outputs("StringSplit", [parts], 2, delimiter=char)  # (N, T, P, Q)
        parts = _compact(g, _merge_last_axes(g, split))
    return _join_last_axis(g, parts)


def _merge_last_axes(g, x: str) -> str:
    """(..., P, Q) -> (..., P·Q), the shape computed rather than inferred: a -1 cannot be
    inferred when some axis is 0 (a batch of empty strings)."""
    outer = g.node("Shape", [x], end=-2)
    inner = g.node("Mul", [g.node("Shape", [x], start=-2, end=-1), g.node("Shape", [x], start=-1)])
    return g.node("Reshape", [x, g.node("Concat", [outer, inner], axis=0)], allowzero=1)  # 0 means 0


def _join_last_axis(g, parts: str) -> str:
    """(N, T, P) strings -> (N, T): each token's P parts concatenated, by a Loop over P."""
    count = g.node("Squeeze", [g.node("Shape", [parts], start=-1)])  # the trip count, a scalar
    every = g.node("Expand", [g.const([True], dtype=np.bool_), g.node("Shape", [parts], end=-1)])
    empty = g.node("Where", [every, *[g.const(np.array([""], dtype=object))] * 2])  # (N, T) of ""
    # The body: (i, condition, joined) -> (condition, joined + parts[:, :, i]).
    body = g.subgraph("join")
    i = body.add_input(f"{parts}/i", np.int64, ())  # named after ``parts``: one Loop per ``parts``
    condition = body.add_input(f"{parts}/condition", np.bool_, ())
    joined = body.add_input(f"{parts}/joined", str, (None, None))
    body.add_output(condition, f"{parts}/condition_out", np.bool_, ())
    body.add_output(body.node("StringConcat", [joined, body.node("Gather", [parts, i], axis=-1)]),
                    f"{parts}/joined_out", str, (None, None))
    (result,) = g.node_outputs("Loop", [count, "", empty], 1, body=body.graph("join"))
    return result


def _compact(g, strings: str) -> str:
    """(..., W) strings -> (..., T): along the last axis the non-empty strings first, in order,
    then ""; T the most any row holds."""
    present = g.node("Not", [g.node("Equal", [strings, g.const(np.array([""], dtype=object))])])
    width = g.node("Shape", [strings], start=-1)  # (1,)
    position = g.node("Range", [g.const(0, dtype=np.int64), g.node("Squeeze", [width]), g.const(1, dtype=np.int64)])
    # Sort key: a present string's position, an empty one's position + W; TopK's smallest keys
    # are then the present strings in order (keys are distinct, so the order is exact).
    key = g.node("Where", [present, position, g.node("Add", [position, width])])
    _, order = g.node_outputs("TopK", [key, width], 2, axis=-1, largest=0, sorted=1)  # smallest first
    ordered = g.node("GatherElements", [strings, order], axis=-1)
    counts = g.node("ReduceSum", [g.node("Cast", [present], to=TensorProto.INT64), g.const([-1], dtype=np.int64)],
                    keepdims=0)
    most = g.node("Reshape", [g.node("ReduceMax", [counts], keepdims=0), g.const([1], dtype=np.int64)])  # (1,)
    # Clip at 0: ReduceMax over no rows at all gives the lowest int64.
    most = g.node("Max", [most, g.const([0], dtype=np.int64)])
    return g.node("Slice", [ordered, g.const([0], dtype=np.int64), most, g.const([-1], dtype=np.int64)])


def _ngrams(g, tokens: str, sizes: tuple[int, ...]) -> str:
    """(N, T) tokens -> (N, G): the n-grams of each size in ``sizes`` in turn, joined by one space,
    compacted as the layer lists them (every 1-gram, then every 2-gram, ...)."""
    present = g.node("Not", [g.node("Equal", [tokens, g.const(np.array([""], dtype=object))])])
    blocks = []
    for n in sizes:
        end = g.const([np.iinfo(np.int64).max], dtype=np.int64)
        gram = _shift(g, tokens, 0, n)
        for i in range(1, n):
            gram = g.node("StringConcat", [g.node("StringConcat", [gram, g.const(np.array([" "], dtype=object))]),
                                           _shift(g, tokens, i, n)])
        # An n-gram exists where its last token does (rows are padded with "" after their tokens).
        last = g.node("Slice", [present, g.const([n - 1], dtype=np.int64), end, g.const([1], dtype=np.int64)])
        blocks.append(g.node("Where", [last, gram, g.const(np.array([""], dtype=object))]))
    grams = g.node("Concat", blocks, axis=1) if len(blocks) > 1 else blocks[0]
    return _compact(g, grams)


def _shift(g, tokens: str, start: int, n: int) -> str:
    """tokens[:, start : T - (n - 1 - start)]: the i-th token of every n-gram, (N, T - n + 1)."""
    stop = -(n - 1 - start) if n - 1 - start else np.iinfo(np.int64).max
    return g.node("Slice", [tokens, g.const([start], dtype=np.int64), g.const([stop], dtype=np.int64),
                            g.const([1], dtype=np.int64)])


def _lookup(g, layer, tokens: str, empty: int, unknown: int) -> str:
    """(N, T) tokens -> (N, T) int64 vocabulary indices; "" -> ``empty``, unseen tokens -> ``unknown``."""
    learned = layer.get_vocabulary(include_special_tokens=False)
    start = layer.vocabulary_size() - len(learned)  # after the reserved indices
    keys, values = ["", *learned], [empty, *range(start, start + len(learned))]
    return g.node("LabelEncoder", [tokens], domain="ai.onnx.ml", keys_strings=keys, values_int64s=values,
                  default_int64=unknown)


def _sequence(g, layer, tokens: str) -> str:
    """int mode: (N, L) int64 ids, 0 padding, 1 out-of-vocabulary; cut or padded to output_sequence_length."""
    ids = _lookup(g, layer, tokens, empty=0, unknown=1)
    length = layer.output_sequence_length
    if length is None:
        return ids  # already as wide as the batch's longest row, as forward pads
    batch = g.node("Shape", [ids], start=0, end=1)
    zeros = g.node("Expand", [g.const([[0]], dtype=np.int64),
                              g.node("Concat", [batch, g.const([length], dtype=np.int64)], axis=0)])
    padded = g.node("Concat", [ids, zeros], axis=1)
    return g.node("Slice", [padded, g.const([0], dtype=np.int64), g.const([length], dtype=np.int64),
                            g.const([1], dtype=np.int64)])


def _bag(g, layer, tokens: str) -> str:
    """multi_hot / count / tf_idf: (N, V) in the layer's dtype, column 0 the out-of-vocabulary tokens."""
    width = layer.output_shape[-1]  # the vocabulary size, or max_tokens with pad_to_max_tokens
    # "" (padding, or an empty string as a token) -> -1, shifted to the extra column 0 and dropped.
    ids = g.node("Add", [_lookup(g, layer, tokens, empty=-1, unknown=0), g.const([1], dtype=np.int64)])
    batch = g.node("Shape", [ids], start=0, end=1)
    dtype = np.dtype(layer.dtype)
    zeros = g.node("Expand", [g.const([[0]], dtype=dtype),
                              g.node("Concat", [batch, g.const([width + 1], dtype=np.int64)], axis=0)])
    ones = g.node("Expand", [g.const(np.ones(1, dtype=dtype), dtype=dtype), g.node("Shape", [ids])])
    # Each (row, id) pair adds one: sums of ones in float32 are exact up to 2**24 occurrences.
    counts = g.node("ScatterElements", [zeros, ids, ones], axis=1, reduction="add")
    counts = g.node("Slice", [counts, g.const([1], dtype=np.int64), g.const([width + 1], dtype=np.int64),
                              g.const([1], dtype=np.int64)])
    if layer.output_mode == "multi_hot":
        return g.node("Min", [counts, g.const(np.ones(1, dtype=dtype), dtype=dtype)])
    if layer.output_mode == "tf_idf":
        idf = np.zeros(width, dtype=dtype)
        idf[:layer.idf_weights.size] = layer.idf_weights  # pad_to_max_tokens: unused columns weigh 0
        return g.node("Mul", [counts, g.const(idf, dtype=dtype)])
    return counts
