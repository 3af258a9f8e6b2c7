import sys, numpy as np, glassnet as gn
from glassnet import layers
out = sys.argv[1]
rng = np.random.default_rng(0)
# a small CNN with BatchNorm and Dropout, fitted two epochs (optimizer state saved too)
cnn = gn.Sequential([layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), layers.MaxPooling2D(),
                     layers.BatchNormalization(), layers.Flatten(), layers.Dropout(0.2),
                     layers.Dense(3, activation="softmax")], seed=0)
cnn.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
x = rng.random((32, 8, 8, 1), dtype=np.float32); y = rng.integers(0, 3, 32)
cnn.fit(x, y, epochs=2, batch_size=8, verbose=0)
# an LSTM text classifier with a mask
rnn = gn.Sequential([layers.Embedding(20, 4, mask_zero=True, input_shape=(6,)), layers.LSTM(5),
                     layers.Dense(1, activation="sigmoid")], seed=0)
rnn.compile("adam", "binary_crossentropy")
t = rng.integers(1, 20, (16, 6)); t[::2, 4:] = 0
rnn.fit(t, rng.integers(0, 2, 16), epochs=1, verbose=0)
# a two-input, two-output graph with a residual connection
a, b = gn.Input((3,), name="a"), gn.Input((2,), name="b")
h = layers.Dense(3, activation="relu")(a)
h = layers.Add()([a, h])
h = layers.Concatenate()([h, b])
risk = layers.Dense(1, activation="sigmoid", name="risk")(h)
days = layers.Dense(1, name="days")(h)
graph = gn.Model([a, b], [risk, days], seed=0)
graph.compile("adam", {"risk": "binary_crossentropy", "days": "mse"}, loss_weights={"risk": 1.0, "days": 0.1})
xa, xb = rng.random((16, 3), dtype=np.float32), rng.random((16, 2), dtype=np.float32)
graph.fit([xa, xb], [rng.integers(0, 2, 16), rng.random(16)], epochs=1, verbose=0)
preds = {}
for name, model, inp in (("cnn", cnn, x[:4]), ("lstm", rnn, t[:4]), ("graph", graph, [xa[:4], xb[:4]])):
    model.save(f"{out}/{name}.glassnet")
    p = model.predict(inp)
    preds[name] = p if not isinstance(p, list) else np.concatenate(p, axis=1)
np.savez(f"{out}/inputs_and_predictions.npz", x=x[:4], t=t[:4], xa=xa[:4], xb=xb[:4], **{f"pred_{k}": v for k, v in preds.items()})
print(gn.__version__, gn.__file__)
