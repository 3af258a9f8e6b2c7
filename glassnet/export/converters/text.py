"""TextVectorization in standard ONNX string operators (opset ``TEXT_OPSET``), where they reproduce it exactly.

Exported: standardize "lower" or None, split "whitespace" or None, any ngrams, every output mode,
output_sequence_length, pad_to_max_tokens. The strings are lowered (StringNormalizer), split
(StringSplit: on runs of spaces, then on each other character Python's ``str.split()`` treats as
whitespace), joined into n-grams (StringConcat), looked up in the vocabulary (ai.onnx.ml
LabelEncoder) and, outside int mode, counted per vocabulary entry (ScatterElements with
reduction "add"). Refused, with what to do instead: punctuation stripping (ONNX has no operator
that removes characters from a string), split="character", and functions as standardize or split.
"""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper, numpy_helper

from glassnet.export import ML_OPSET, TEXT_OPSET
from glassnet.export.registry import ExportError, converts
from glassnet.layers.text_vectorization import TextVectorization

#: the characters Python's ``str.split()`` splits on besides the space (``str.isspace``); ONNX's
#: StringSplit without a delimiter splits on runs of spaces only.
OTHER_WHITESPACE = tuple(chr(c) for c in range(0x110000) if chr(c).isspace() and c != 0x20)
#: the locale StringNormalizer lowers in: ONNX Runtime's default (en_US.UTF-8) is missing from most
#: containers, and a session then fails to start; C.UTF-8 is built into glibc and maps case as Python
#: does, except U+0130 (İ, which Python lowers to two characters) and Σ at a word's end (Python: ς).
LOWER_LOCALE = "C.UTF-8"
EXPORTABLE = ('standardize "lower" or None, split "whitespace" or None (any ngrams, output_mode, '
              'output_sequence_length)')


def refusal(layer) -> str | None:
    """Why ``layer``'s settings cannot be written in standard ONNX operators exactly, or None."""
    if callable(layer.standardize) or callable(layer.split):
        which = "standardize" if callable(layer.standardize) else "split"
        return f"{which} is a Python function, which ONNX cannot run"
    if layer.standardize in ("lower_and_strip_punctuation", "strip_punctuation"):
        return (f"standardize={layer.standardize!r} removes punctuation inside strings, and standard ONNX "
                f"has no operator that removes characters from a string (no regex replace)")
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
    layer._require_vocabulary("be exported")
    g.domains[""] = max(g.domains[""], TEXT_OPSET)
    g.domains["ai.onnx.ml"] = ML_OPSET
    text = g.node("Reshape", [x, g.const([-1], dtype=np.int64)])  # (N,) or (N, 1) -> (N,)
    if layer.standardize == "lower":
        text = g.node("StringNormalizer", [text], case_change_action="LOWER", locale=LOWER_LOCALE)
    if layer.split is None:
        tokens = g.node("Unsqueeze", [text, g.const([1], dtype=np.int64)])  # (N, 1): the string is the token
    else:
        tokens = _split_whitespace(g, text)  # (N, T), "" after each row's tokens
    if layer.ngrams is not None:
        tokens = _ngrams(g, tokens, layer.ngrams)
    if layer.output_mode == "int":
        return _sequence(g, layer, tokens)
    return _bag(g, layer, tokens)


def _split_whitespace(g, text: str) -> str:
    """(N,) strings -> (N, T) tokens as ``str.split()`` gives them, each row padded with "" to T."""
    tokens, _ = _two_outputs(g, "StringSplit", [text])  # runs of spaces; (N, T)
    for char in OTHER_WHITESPACE:
        # With a delimiter, StringSplit keeps the empty strings between two of them: (N, T, P);
        # flatten the parts of each row and drop the empty ones.
        parts, _ = _two_outputs(g, "StringSplit", [tokens], delimiter=char)
        tokens = _compact(g, g.node("Reshape", [parts, g.const([0, -1], dtype=np.int64)]))
    return tokens


def _compact(g, tokens: str) -> str:
    """(N, W) strings -> (N, T): each row's non-empty strings first, in order, then ""; T the most of any row."""
    present = g.node("Not", [g.node("Equal", [tokens, g.const(np.array([""], dtype=object))])])
    width = g.node("Shape", [tokens], start=1, end=2)  # (1,)
    position = g.node("Range", [g.const(0, dtype=np.int64), g.node("Squeeze", [width]), g.const(1, dtype=np.int64)])
    # Sort key: a present string's position, an empty one's position + W; TopK's smallest keys
    # are then the present strings in order (keys are distinct, so the order is exact).
    key = g.node("Where", [present, position, g.node("Add", [position, width])])
    _, order = _two_outputs(g, "TopK", [key, width], axis=1, largest=0, sorted=1)  # smallest first
    ordered = g.node("GatherElements", [tokens, order], axis=1)
    most = g.node("ReduceMax", [g.node("ReduceSum", [g.node("Cast", [present], to=TensorProto.INT64),
                                                    g.const([1], dtype=np.int64)], keepdims=0)],
                  keepdims=1)  # (1,)
    return g.node("Slice", [ordered, g.const([0], dtype=np.int64), most, g.const([1], dtype=np.int64)])


def _two_outputs(g, op: str, inputs: list[str], **attributes) -> tuple[str, str]:
    """A node with two outputs (TopK's values and indices, StringSplit's parts and counts)."""
    first, second = g.fresh(op), g.fresh(op)
    g.nodes.append(helper.make_node(op, inputs, [first, second], name=f"node/{first}", **attributes))
    return first, second


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
    zeros = g.node("ConstantOfShape", [g.node("Concat", [batch, g.const([length], dtype=np.int64)], axis=0)],
                   value=_scalar(np.int64(0)))
    padded = g.node("Concat", [ids, zeros], axis=1)
    return g.node("Slice", [padded, g.const([0], dtype=np.int64), g.const([length], dtype=np.int64),
                            g.const([1], dtype=np.int64)])


def _bag(g, layer, tokens: str) -> str:
    """multi_hot / count / tf_idf: (N, V) in the layer's dtype, column 0 the out-of-vocabulary tokens."""
    width = layer._width("be exported")
    # "" (padding, or an empty string as a token) -> -1, shifted to the extra column 0 and dropped.
    ids = g.node("Add", [_lookup(g, layer, tokens, empty=-1, unknown=0), g.const([1], dtype=np.int64)])
    batch = g.node("Shape", [ids], start=0, end=1)
    dtype = np.dtype(layer.dtype)
    zeros = g.node("ConstantOfShape", [g.node("Concat", [batch, g.const([width + 1], dtype=np.int64)], axis=0)],
                   value=_scalar(dtype.type(0)))
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


def _scalar(value):
    """ConstantOfShape's ``value`` attribute: a one-element tensor."""
    return numpy_helper.from_array(np.asarray([value]), "value")
