#!/usr/bin/python3
"""`pipeline export` checked by others: trains the quick config, evaluates the checkpoint on the 10,000 MNIST test
images (predictions.csv holds every class's probability), exports it as ONNX, checks the file with python3-onnx's
checker and strict shape inference, runs it in ONNX Runtime (npm's onnxruntime-node, CPU, installed into the build
folder once) and compares: the same class for >= 99.9% of the images and probabilities within 1e-4. The same for a
small network with every exportable layer type (strided 'valid' convolution, batch_norm, avg_pool2d, dropout) on
1,000 images. Then the export's errors: a plugin layer with no ONNX form, a missing checkpoint, a config without a
model."""

EVERY_LAYER = ("[{conv2d: {filters: 6, kernel: 3, stride: 2}}, batch_norm, relu, {avg_pool2d: {pool: 2}}, "
               "{dropout: {rate: 0.2}}, {conv2d: {filters: 8, kernel: 3, padding: same}}, relu, "
               "{max_pool2d: {pool: 2, stride: 1}}, flatten, {dense: {units: 32}}, batch_norm, relu, "
               "{dense: {units: 10}}, softmax]")
import csv
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import numpy
import onnx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, failures, summary  # noqa: E402

ORT_VERSION = "1.30.0"


def run(*command, cwd):
    return subprocess.run(list(command), cwd=cwd, capture_output=True, text=True, timeout=900)


def test_images(data):
    with gzip.open(os.path.join(data, "t10k-images-idx3-ubyte.gz")) as f:
        raw = f.read()
    magic, count, rows, cols = struct.unpack(">IIII", raw[:16])
    return numpy.frombuffer(raw, dtype=numpy.uint8, offset=16).reshape(count, rows, cols, 1).astype(numpy.float32) / 255


def onnx_runtime(cache):
    """onnxruntime-node in cache/node_modules, installed once (npm's package carries its CPU build)."""
    if not os.path.exists(os.path.join(cache, "node_modules", "onnxruntime-node", "package.json")):
        os.makedirs(cache, exist_ok=True)
        done = subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--prefix", cache,
                               f"onnxruntime-node@{ORT_VERSION}"], capture_output=True, text=True, timeout=600)
        check(done.returncode == 0, f"npm install onnxruntime-node: {done.stderr[-500:]}")
    return cache


def compare_in_runtime(module, source, out, model_path, predictions_csv, images, what):
    """ONNX Runtime's probabilities for `images` against predictions.csv's (every class's probability)."""
    count = len(images)
    inputs, outputs = os.path.join(out, "images.f32"), os.path.join(out, "probabilities.f32")
    images.tofile(inputs)
    ran = run("node", os.path.join(source, "tests", "onnx", "run_onnx.js"), module, model_path, inputs, "28", "28", "1",
              outputs, cwd=out)
    print(ran.stdout.strip())
    check(ran.returncode == 0, f"{what}: onnxruntime: {ran.stderr[-800:]}")
    runtime = numpy.fromfile(outputs, dtype=numpy.float32).reshape(-1, 10) if ran.returncode == 0 else numpy.zeros((0, 10))
    ours = numpy.zeros((count, 10), dtype=numpy.float64)
    rows = list(csv.DictReader(open(predictions_csv))) if os.path.exists(predictions_csv) else []
    for r in rows:
        ours[int(r["index"])] = [float(r[f"p{k}"]) for k in range(10)]
    check(len(rows) == count and runtime.shape == (count, 10), f"{what}: {count} predictions each: {len(rows)}, {runtime.shape}")
    if runtime.shape != (count, 10):
        return
    same = float((runtime.argmax(1) == ours.argmax(1)).mean())
    worst = float(numpy.abs(runtime - ours).max())
    print(f"{what}: ONNX Runtime vs pipeline on {count} test images: same class {100 * same:.2f}%, "
          f"largest probability difference {worst:.2e}")
    check(same >= 0.999, f"{what}: same class for {100 * same:.2f}% (need 99.9%)")
    check(worst <= 1e-4, f"{what}: probabilities differ by up to {worst:.2e} (limit 1e-4)")


def main():
    pipeline, source, data, cache = sys.argv[1:5]
    # scripts/sanitize (PIPELINE_TEST_LIGHT=1): 1,000 test images instead of 10,000 (a sanitized run is ~15x slower).
    count = 1000 if os.environ.get("PIPELINE_TEST_LIGHT") == "1" else 10000
    out = tempfile.mkdtemp(prefix="pipeline-onnx-")
    common = ["--set", f"vars.data_dir={data}"]
    trained = run(pipeline, "run", "configs/lenet_mnist_quick.yaml", *common, "--set", f"output_dir={out}/train",
                  cwd=source)
    check(trained.returncode == 0, f"training: {trained.stderr[-500:]}")
    checkpoint = os.path.join(out, "train", "model.ckpt")
    evaluated = run(pipeline, "run", "configs/lenet_mnist_eval.yaml", *common, "--set", f"vars.checkpoint={checkpoint}",
                    "--set", f"output_dir={out}/eval", "--set", f"test_data.limit={count}", cwd=source)
    check(evaluated.returncode == 0, f"evaluation: {evaluated.stderr[-500:]}")
    model_path = os.path.join(out, "lenet.onnx")
    exported = run(pipeline, "export", "configs/lenet_mnist_eval.yaml", *common, "--set", f"vars.checkpoint={checkpoint}",
                   "-o", model_path, cwd=source)
    check(exported.returncode == 0 and "wrote" in exported.stdout, f"export: {exported.stdout} {exported.stderr}")

    model = onnx.load(model_path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    output = inferred.graph.output[0].type.tensor_type.shape.dim
    check([d.dim_param or d.dim_value for d in output] == ["batch", 10], f"output shape {output}")
    check(any(o.version >= 13 for o in model.opset_import if o.domain in ("", "ai.onnx")), "opset 13 or later")
    check([i.name for i in model.graph.input] == ["input"], "one input")

    images = test_images(data)
    module = onnx_runtime(cache)
    compare_in_runtime(module, source, out, model_path, os.path.join(out, "eval", "predictions.csv"), images[:count],
                       "LeNet")

    # Every exportable layer type, in a small network trained briefly (1,000 images) and evaluated on 1,000.
    every = ["--set", f"model.layers={EVERY_LAYER}", "--set", "train_data.limit=1000", "--set", "test_data.limit=1000"]
    small = run(pipeline, "run", "configs/lenet_mnist_quick.yaml", *common, *every, "--set", f"output_dir={out}/every",
                cwd=source)
    check(small.returncode == 0, f"every-layer network: {small.stderr[-500:]}")
    small_path = os.path.join(out, "every.onnx")
    exported = run(pipeline, "export", "configs/lenet_mnist_quick.yaml", *common, *every, "--set",
                   f"output_dir={out}/every", "-o", small_path, cwd=source)
    check(exported.returncode == 0, f"export of every layer type: {exported.stderr}")
    onnx.checker.check_model(onnx.load(small_path), full_check=True)
    ops = {n.op_type for n in onnx.load(small_path).graph.node}
    check({"Conv", "BatchNormalization", "AveragePool", "MaxPool", "Gemm", "Flatten", "Softmax"} <= ops, f"ops {ops}")
    compare_in_runtime(module, source, out, small_path, os.path.join(out, "every", "predictions.csv"), images[:1000],
                       "every layer type")

    # Errors: each names what is wrong.
    plugin = run(pipeline, "export", "examples/plugin/leaky_mnist.yaml", "--set", f"vars.data_dir={data}",
                 "--set", f"vars.plugin_dir={os.path.dirname(os.path.abspath(pipeline))}/examples",
                 "--checkpoint", checkpoint, "-o", os.path.join(out, "leaky.onnx"), cwd=source)
    check(plugin.returncode == 1 and "cannot be exported to ONNX" in plugin.stderr and "leaky_relu" in plugin.stderr,
          f"plugin layer: {plugin.returncode} {plugin.stderr}")
    missing = run(pipeline, "export", "configs/lenet_mnist_quick.yaml", *common, "--set", f"output_dir={out}/none",
                  "-o", os.path.join(out, "none.onnx"), cwd=source)
    check(missing.returncode == 1 and "no checkpoint at" in missing.stderr, f"no checkpoint: {missing.stderr}")
    nothing = run(pipeline, "export", "configs/mnist_data_only.yaml", *common, "-o", os.path.join(out, "x.onnx"),
                  cwd=source)
    check(nothing.returncode == 2 and "exports 'onnx'" in nothing.stderr, f"no model: {nothing.stderr}")
    for bad in ("leaky.onnx", "none.onnx", "x.onnx"):
        check(not os.path.exists(os.path.join(out, bad)), f"nothing written for {bad}")

    status = summary()
    if not failures:
        shutil.rmtree(out, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
