"""Jane Austen one character at a time: an LSTM language model that writes text.

Reads ../shared/data/austen_books.csv.gz (the six novels, one printed line a row), joins each
paragraph's lines, and splits by chapter, not by line: chapters 5, 15, 25, ... of every novel
are the validation text, so no validation sentence has its neighbours in training. The model,
Embedding(32) - LSTM(128, return_sequences) - Dense(softmax), learns to predict every next
character of 64-character windows cut at random places in the training text. Its validation
bits per character stand beside two baselines computed here on the same characters of the same
split: a unigram (character frequencies) and a bigram (the next character given the previous
one), both with add-one smoothing. Then it writes text from a prompt by temperature sampling,
with a seeded generator (same seed, same text).

Each validation character is predicted from the characters before it in its 64-character window
(32 on average; the window's first target from one character alone, as the bigram sees it).

The full run (8 epochs of 250 batches, 132-157 s of training on an AMD EPYC, 2 cores shared, load
average 4): validation bits per character unigram 4.403, bigram 3.453, LSTM 2.306 (training loss
still falling: more epochs or units buy more, at minutes each). At temperature 0.5 it writes
English-looking words and phrases ("the manners and the had been to man"), at 1.0 more invented
words; the sampler's seed fixes the text.

    python examples/14_austen_char_lm.py               # the full run (under 3 minutes on 2 cores)
    python examples/14_austen_char_lm.py --epochs 1 --steps 150 --units 64 --val-chars 20000   # the tests' run
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

import glassnet as gn
from glassnet import layers
from glassnet.datasets import BatchSource

PROMPT = ("It is a truth universally acknowledged, that a single man in possession of a good fortune, "
          "must be in want of a wife.")

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data" /
                                          "austen_books.csv.gz"), help="the novels, columns book and text")
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--steps", type=int, default=250, help="batches per epoch (random windows)")
parser.add_argument("--units", type=int, default=128, help="LSTM units")
parser.add_argument("--window", type=int, default=64, help="characters per training window")
parser.add_argument("--val-chars", type=int, default=None, help="score only this many validation characters")
parser.add_argument("--generate", type=int, default=300, help="characters to write per temperature")
parser.add_argument("--seed", type=int, default=0, help="the model's and the sampler's seed")
args = parser.parse_args()


def read_chapters(path: str) -> pd.DataFrame:
    """One row per chapter: book, chapter number (0 = the title pages) and its text, paragraphs
    joined by newlines and the printed lines of a paragraph by spaces."""
    if not Path(path).exists():
        raise SystemExit(f"{path} not found: this example needs austen_books.csv.gz (see the data README in "
                         "../shared/data), or pass its location with --data")
    rows = pd.read_csv(path, keep_default_na=False)  # blank lines are empty strings, not NaN
    rows["chapter"] = rows["text"].str.match(r"^chapter\b", case=False).groupby(rows["book"]).cumsum()
    # A blank line closes a paragraph: number the paragraphs, then join each one's lines.
    rows["paragraph"] = (rows["text"] == "").cumsum()
    rows = rows[rows["text"] != ""]
    paragraphs = rows.groupby(["book", "chapter", "paragraph"], sort=False)["text"].agg(" ".join)
    return paragraphs.groupby(["book", "chapter"], sort=False).agg("\n".join).rename("text").reset_index()


chapters = read_chapters(args.data)
is_val = chapters["chapter"] % 10 == 5
train_text, val_text = ("\n".join(chapters.loc[mask, "text"]) + "\n" for mask in (~is_val, is_val))
print(f"{(chapters['chapter'] > 0).sum()} chapters of {chapters['book'].nunique()} novels (title pages in "
      f"training); training: {(~is_val).sum()} chapters, "
      f"{len(train_text):,} characters; validation: {is_val.sum()} chapters, {len(val_text):,} characters")

# Character ids through a lookup table over code points; id 0 stands for any character never seen
# in training (the validation text may hold one), so the vocabulary comes from training alone.
vocab = sorted(set(train_text))
V = len(vocab) + 1
lookup = np.zeros(max(map(ord, train_text + val_text)) + 1, dtype=np.int64)
lookup[[ord(c) for c in vocab]] = np.arange(1, V)


def encode(text: str) -> np.ndarray:
    return lookup[np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)]


train_ids, val_ids = encode(train_text), encode(val_text)
if args.val_chars:
    val_ids = val_ids[:args.val_chars + 1]
T = args.window
# Validation windows side by side, no overlap: x = the characters, y = each one's successor.
n_val = (len(val_ids) - 1) // T
x_val, y_val = val_ids[:n_val * T].reshape(n_val, T), val_ids[1:n_val * T + 1].reshape(n_val, T)
print(f"vocabulary: {V} ids ({V - 1} characters and one for unseen ones); "
      f"{y_val.size:,} validation characters scored")


def bits_per_character(p_target: np.ndarray) -> float:
    return float(-np.mean(np.log2(p_target)))


# Baselines, counted on the training ids and scored on exactly the characters the model predicts.
unigram = (np.bincount(train_ids, minlength=V) + 1) / (len(train_ids) + V)
pairs = np.bincount(train_ids[:-1] * V + train_ids[1:], minlength=V * V).reshape(V, V)  # [previous, next]
bigram = (pairs + 1) / (pairs.sum(axis=1, keepdims=True) + V)  # row a: p(next | previous = a)
unigram_bpc = bits_per_character(unigram[y_val])
bigram_bpc = bits_per_character(bigram[x_val, y_val])


class CharWindows(BatchSource):
    """``steps`` batches of windows cut at random places in ``ids``, fresh places every epoch;
    targets one-hot, (B, T, V), built per batch (the whole text one-hot would take gigabytes;
    sparse_categorical_crossentropy does not take one label per step, (B, T), yet)."""

    def __init__(self, ids: np.ndarray, window: int, batch_size: int, steps: int, seed: int):
        self.ids, self.window, self.batch_size, self.steps = ids, window, batch_size, steps
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return self.steps

    def on_epoch_end(self) -> None:
        # Drawn up front, so batch i is the same whatever order fit asks for the batches in.
        self.starts = self.rng.integers(0, len(self.ids) - self.window - 1, (self.steps, self.batch_size))

    def __getitem__(self, i: int):
        rows = self.starts[i][:, None] + np.arange(self.window + 1)  # (B, T + 1)
        chunk = self.ids[rows]
        return chunk[:, :-1], np.eye(V, dtype=np.float32)[chunk[:, 1:]]


model = gn.Sequential([
    layers.Embedding(V, 32, input_shape=(T,)),
    layers.LSTM(args.units, return_sequences=True),  # (B, T, 32) -> (B, T, U)
    layers.Dense(V, activation="softmax"),  # at every step: (B, T, U) -> (B, T, V)
], seed=args.seed)
# Clipping the gradient's norm keeps one unlucky window from throwing the LSTM's weights far off.
model.compile(optimizer=gn.optimizers.Adam(learning_rate=3e-3, global_clipnorm=1.0),
              loss="categorical_crossentropy")
model.summary()

start = time.perf_counter()
model.fit(CharWindows(train_ids, T, batch_size=64, steps=args.steps, seed=args.seed), epochs=args.epochs,
          verbose=2, callbacks=[gn.callbacks.LearningRateScheduler(
              lambda epoch, lr: 3e-3 * 0.5 ** max(0, epoch - args.epochs // 2))])
elapsed = time.perf_counter() - start
print(f"trained {args.epochs} epochs of {args.steps} batches (64 windows of {T}) in {elapsed:.0f} s "
      f"on {gn.utils.cpu_model()}; loss is in nats per character "
      f"(bits = nats / ln 2 = nats x {1 / math.log(2):.3f})")

p_target = np.concatenate([np.take_along_axis(model.predict(x_val[i:i + 256]), y_val[i:i + 256, :, None], -1)
                           for i in range(0, n_val, 256)]).ravel()
# float32 probabilities can round to 0 for a character the model rules out: floor them there.
model_bpc = bits_per_character(np.maximum(p_target, np.finfo(np.float32).tiny))
print(f"validation bits per character: unigram {unigram_bpc:.3f}, bigram {bigram_bpc:.3f}, "
      f"LSTM {model_bpc:.3f}")


def generate(prompt: str, length: int, temperatures: list[float], seed: int) -> list[str]:
    """Continue ``prompt`` once per temperature (one batch row each), sampling every character
    from p ** (1 / temperature), renormalised: below 1 the likely characters gain, above 1 the
    rare ones. The last T characters written are the model's context for the next one."""
    if len(prompt) < T:
        raise ValueError(f"the prompt needs at least {T} characters (the window); got {len(prompt)}")
    rng = np.random.default_rng(seed)
    ids = np.tile(encode(prompt), (len(temperatures), 1))
    inverse = np.array(temperatures)[:, None]
    for _ in range(length):
        p = model.predict(ids[:, -T:])[:, -1].astype(np.float64)  # (rows, V): the next character
        p[:, 0] = 0.0  # never write the unseen-character id
        logits = np.log(np.maximum(p, 1e-300)) / inverse
        weights = np.exp(logits - logits.max(axis=1, keepdims=True))
        cumulative = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
        draws = rng.random((len(temperatures), 1))
        ids = np.hstack([ids, np.minimum((cumulative <= draws).sum(axis=1), V - 1)[:, None]])
    return ["".join(vocab[i - 1] for i in row[len(prompt):]) for row in ids]


temperatures = [0.5, 1.0]
for temperature, text in zip(temperatures, generate(PROMPT, args.generate, temperatures, args.seed)):
    print(f"\n--- written at temperature {temperature} (seed {args.seed}), after the prompt "
          f"{PROMPT[:40]!r}...:\n{text}")
