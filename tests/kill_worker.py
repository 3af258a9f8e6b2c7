"""The training run that tests/test_kill.py starts in a subprocess and kills at random moments.

Run as ``python kill_worker.py FOLDER EPOCHS``: it prints "ready" once set up and "epoch k" at the
end of each epoch, and trains with a checkpoint per epoch (``ckpt-<epoch>.glassnet``) and an
overwritten ``last.glassnet``.
"""

import sys

import numpy as np

import glassnet as gn


def make_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    return x, (x[:, 0] - x[:, 4] > 0).astype("int64")


def make_model():
    model = gn.Sequential([gn.layers.Dense(16, activation="relu", input_shape=(5,)), gn.layers.Dropout(0.2),
                           gn.layers.Dense(2, activation="softmax")], seed=21)
    model.compile(optimizer=gn.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def checkpoints(folder):
    return [gn.callbacks.ModelCheckpoint(f"{folder}/ckpt-{{epoch:03d}}.glassnet"),
            gn.callbacks.ModelCheckpoint(f"{folder}/last.glassnet")]


if __name__ == "__main__":
    folder, epochs = sys.argv[1], int(sys.argv[2])
    x, y = make_data()
    model = make_model()
    print("ready", flush=True)
    # Says when an epoch ends (before its checkpoints are written), so the test can aim its kill.
    report = gn.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(f"epoch {epoch + 1}", flush=True))
    model.fit(x, y, epochs=epochs, batch_size=8, verbose=0, callbacks=[report, *checkpoints(folder)])
    print("done", flush=True)
