#!/usr/bin/python3
"""Predicting a folder of new images (configs/lenet_predict.yaml), as the README shows it: PNG digits made from the
test set by scripts/mnist-to-png, a trained checkpoint, and top_predictions.csv with each file's three most probable
digits, checked against the evaluation of the same checkpoint on the same images (predictions.csv). Then the
folder's bad files: a damaged PNG (an error naming it, or skipped with a warning), another size, no images."""
import csv
import importlib.machinery
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, failures, summary  # noqa: E402
from light import quick_limits  # noqa: E402

pipeline, source, data = sys.argv[1:4]
out = tempfile.mkdtemp(prefix="pipeline-predict-")
COUNT = 300


def run(config, *settings):
    return subprocess.run([pipeline, "run", config, "--set", f"vars.data_dir={data}", *settings], cwd=source,
                          capture_output=True, text=True, timeout=600)


def predict(folder, *settings):
    return run("configs/lenet_predict.yaml", "--set", f"vars.images={folder}", "--set", f"vars.checkpoint={checkpoint}",
               "--set", f"output_dir={out}/predict", *settings)


digits = os.path.join(out, "digits")
made = subprocess.run([os.path.join(source, "scripts", "mnist-to-png"), "--data", data, "--count", str(COUNT), digits],
                      capture_output=True, text=True)
check(made.returncode == 0 and len(os.listdir(digits)) == COUNT, f"mnist-to-png: {made.stdout} {made.stderr}")
checkpoint = os.path.join(out, "train", "model.ckpt")
trained = run("configs/lenet_mnist_quick.yaml", "--set", f"output_dir={out}/train", *quick_limits())
check(trained.returncode == 0, f"training: {trained.stderr[-400:]}")
evaluated = run("configs/lenet_mnist_eval.yaml", "--set", f"vars.checkpoint={checkpoint}", "--set", f"output_dir={out}/eval",
                "--set", f"test_data.limit={COUNT}")
check(evaluated.returncode == 0, f"evaluation: {evaluated.stderr[-400:]}")
expected = {int(r["index"]): [float(r[f"p{k}"]) for k in range(10)]
            for r in csv.DictReader(open(os.path.join(out, "eval", "predictions.csv")))}

done = predict(digits)
check(done.returncode == 0, f"predict: {done.stderr[-600:]}")
rows = list(csv.DictReader(open(os.path.join(out, "predict", "top_predictions.csv")))) if done.returncode == 0 else []
check([r["file"] for r in rows] == [f"{i:05d}.png" for i in range(COUNT)], "one row per file, in file order")
check(rows and list(rows[0].keys()) == ["file", "class_1", "probability_1", "class_2", "probability_2", "class_3",
                                        "probability_3"], "columns: file and three classes with probabilities")
worst, agree = 0.0, 0
for i, r in enumerate(rows):
    p = expected[i]
    top = sorted(range(10), key=lambda k: (-p[k], k))[:3]
    agree += [int(r[f"class_{j}"]) for j in (1, 2, 3)] == top
    worst = max(worst, max(abs(float(r[f"probability_{j}"]) - p[top[j - 1]]) for j in (1, 2, 3)))
    check(float(r["probability_1"]) >= float(r["probability_2"]) >= float(r["probability_3"]), f"row {i} sorted")
print(f"top-3 classes as the evaluation's for {agree} of {len(rows)} files; largest probability difference {worst:.1e}")
check(agree == COUNT and worst < 1e-5, f"the PNG files predict as the test set's images: {agree}/{COUNT}, {worst}")

# A damaged file: an error naming it; with on_error: skip, a warning naming it and the other files predicted.
with open(os.path.join(digits, "00007.png"), "r+b") as f:
    f.seek(40)
    f.write(b"\0" * 40)
failed = predict(digits)
check(failed.returncode == 1 and "00007.png" in failed.stderr and "PNG" in failed.stderr,
      f"damaged PNG: {failed.returncode} {failed.stderr[-300:]}")
skipped = predict(digits, "--set", "images.on_error=skip")
lines = open(os.path.join(out, "predict", "top_predictions.csv")).read().splitlines() if skipped.returncode == 0 else []
check(skipped.returncode == 0 and "warning: image_folder: skipped" in skipped.stderr and "00007.png" in skipped.stderr
      and len(lines) == COUNT and not any(l.startswith("00007.png") for l in lines),
      f"on_error: skip: {skipped.returncode} {skipped.stderr[-300:]} ({len(lines)} lines)")
# Another size: a 20x20 PNG written with the script's own encoder.
loader = importlib.machinery.SourceFileLoader("mnist_to_png", os.path.join(source, "scripts", "mnist-to-png"))
mnist_to_png = importlib.util.module_from_spec(importlib.util.spec_from_loader("mnist_to_png", loader))
loader.exec_module(mnist_to_png)
with open(os.path.join(digits, "00003.png"), "wb") as f:
    f.write(mnist_to_png.png_gray(20, 20, bytes(400)))
sized = predict(digits, "--set", "images.on_error=skip")
check(sized.returncode == 1 and "00003.png: an image of 20x20 pixels" in sized.stderr and "28x28" in sized.stderr,
      f"another size: {sized.returncode} {sized.stderr[-300:]}")
empty = os.path.join(out, "empty")
os.makedirs(empty)
nothing = predict(empty)
check(nothing.returncode == 1 and "no .png file in" in nothing.stderr and "stage 'images'" in nothing.stderr,
      f"no images: {nothing.returncode} {nothing.stderr[-300:]}")

status = summary()
if not failures:
    shutil.rmtree(out, ignore_errors=True)
sys.exit(status)
