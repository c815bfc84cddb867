#!/usr/bin/python3
"""npy_reader with files written by NumPy (python3-numpy): the quick config's MNIST subset saved as .npy trains to
exactly the history the IDX files give (same samples, same order, same numbers), in uint8 (N, H, W) and in float32
(N, H, W, 1) form; every kind of bad file is an error naming the file and what is wrong."""
import gzip
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, failures, summary  # noqa: E402
from light import LIGHT, QUICK_IMAGES as n, quick_limits  # noqa: E402

pipeline, source, data = sys.argv[1:4]
# scripts/sanitize (PIPELINE_TEST_LIGHT=1): one epoch per comparison instead of two, on n = 500 images a split.
epochs = "1" if LIGHT else "2"
out = tempfile.mkdtemp(prefix="pipeline-npy-")


def idx(name):
    with gzip.open(os.path.join(data, name)) as f:
        raw = f.read()
    dims = raw[3]
    shape = struct.unpack(">" + "I" * dims, raw[4:4 + 4 * dims])
    return numpy.frombuffer(raw, dtype=numpy.uint8, offset=4 + 4 * dims).reshape(shape)


def run(*settings, config="configs/lenet_mnist_quick.yaml"):
    return subprocess.run([pipeline, "run", config, *settings], cwd=source, capture_output=True, text=True,
                          timeout=600)


def run_npy(train_images, train_labels, *settings):
    return run("--set", f"vars.train_images={train_images}", "--set", f"vars.train_labels={train_labels}",
               *settings, config="configs/lenet_npy_quick.yaml")


def history(folder):
    return [{k: v for k, v in row.items() if k != "seconds"}
            for row in json.load(open(os.path.join(folder, "history.json")))["history"]]


def scaled(images):
    """As the scale stage computes it, in float32: pixel * float32(1/255)."""
    return images.astype(numpy.float32) * numpy.float32(1 / 255)


train_x, train_y = idx("train-images-idx3-ubyte.gz")[:n], idx("train-labels-idx1-ubyte.gz")[:n]
test_x, test_y = idx("t10k-images-idx3-ubyte.gz")[:n], idx("t10k-labels-idx1-ubyte.gz")[:n]
files = {"train_u8": train_x, "test_u8": test_x, "train_f32": scaled(train_x)[..., None],
         "test_f32": scaled(test_x)[..., None], "train_labels": train_y.astype(numpy.int64),
         "test_labels": test_y.astype(numpy.uint8)}
for name, array in files.items():
    numpy.save(os.path.join(out, name + ".npy"), array)

reference = run("--set", f"vars.data_dir={data}", "--set", f"output_dir={out}/idx", "--set", f"epochs={epochs}",
                *quick_limits())
check(reference.returncode == 0, f"IDX run: {reference.stderr[-400:]}")
for form in ("u8", "f32"):
    # npy_reader scales uint8 by 1/255 itself: its config has no scale stage.
    done = run_npy(f"{out}/train_{form}.npy", f"{out}/train_labels.npy", "--set", f"vars.test_images={out}/test_{form}.npy",
                   "--set", f"vars.test_labels={out}/test_labels.npy", "--set", f"output_dir={out}/{form}",
                   "--set", f"epochs={epochs}")
    check(done.returncode == 0, f"npy {form} run: {done.stderr[-600:]}")
    if done.returncode == 0 and reference.returncode == 0:
        check(history(f"{out}/{form}") == history(f"{out}/idx"),
              f"npy {form}: the same history as the IDX files: {history(out + '/' + form)} vs {history(out + '/idx')}")

# Bad files, each written by NumPy, each an error naming the file.
bad = {
    "float64.npy": (train_x.astype(numpy.float64), "images must be uint8 or float32, got dtype '<f8'"),
    "fortran.npy": (numpy.asfortranarray(train_x[:10]), "stored in Fortran order"),
    "bigendian.npy": (train_x[:10].astype(">f4"), "is big-endian"),
    "flat.npy": (train_x.reshape(n, 784), "must be shaped (N, height, width) or (N, height, width, channels)"),
    "labels_float.npy": (train_y.astype(numpy.float32), "labels must be integers"),
    "labels_range.npy": (numpy.where(numpy.arange(n) == 5, 12, train_y).astype(numpy.int32),
                         "label 12 of item 5 is out of range 0..9"),
    "labels_short.npy": (train_y[:n - 1].astype(numpy.int64), f"holds {n} images but"),
    "labels_2d.npy": (train_y.reshape(n // 2, 2).astype(numpy.int64), f"labels must be shaped (N,), got ({n // 2}, 2)"),
}
for name, (array, _) in bad.items():
    numpy.save(os.path.join(out, name), array)
with open(os.path.join(out, "train_u8.npy"), "rb") as f:
    whole = f.read()
with open(os.path.join(out, "truncated.npy"), "wb") as f:
    f.write(whole[:-100])
bad["truncated.npy"] = (None, f"truncated: shape ({n}, 28, 28) of |u1 needs {n * 784} data bytes, the file has {n * 784 - 100}")
with open(os.path.join(out, "notnpy.npy"), "wb") as f:
    f.write(b"P5\n28 28\n255\n" + bytes(784))
bad["notnpy.npy"] = (None, "not a .npy file")
for name, (_, message) in bad.items():
    images, labels = (f"{out}/train_u8.npy", f"{out}/{name}") if name.startswith("labels") else (f"{out}/{name}", f"{out}/train_labels.npy")
    done = run_npy(images, labels, "--set", f"vars.test_images={out}/test_u8.npy",
                   "--set", f"vars.test_labels={out}/test_labels.npy", "--set", f"output_dir={out}/bad")
    check(done.returncode == 1 and message in done.stderr and f"{out}/{name}" in done.stderr and
          "stage 'train_data'" in done.stderr, f"{name}: exit {done.returncode}, {done.stderr.strip()[-300:]}")

status = summary()
if not failures:
    shutil.rmtree(out, ignore_errors=True)
sys.exit(status)
