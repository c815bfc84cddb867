#!/usr/bin/python3
"""End to end: runs the quick config for two epochs on real MNIST, then checks every output file with
independent readers: the history CSV/JSON with Python's csv/json, the TensorBoard event files with
protoc-generated protobuf code and our own CRC-32C, and the HTML report in headless Chromium."""
import argparse
import csv
import glob
import importlib
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

failures = []
passed = 0


def check(condition, message):
    global passed
    if condition:
        passed += 1
    else:
        failures.append(message)
        print("FAIL:", message, flush=True)


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(crc):
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def read_records(path):
    data = open(path, "rb").read()
    pos, records = 0, []
    while pos < len(data):
        header = data[pos:pos + 8]
        check(len(header) == 8, f"{path}: truncated record length at {pos}")
        length, = struct.unpack("<Q", header)
        length_crc, = struct.unpack("<I", data[pos + 8:pos + 12])
        check(length_crc == masked(crc32c(header)), f"{path}: bad length CRC at {pos}")
        payload = data[pos + 12:pos + 12 + length]
        check(len(payload) == length, f"{path}: truncated record at {pos}")
        data_crc, = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        check(data_crc == masked(crc32c(payload)), f"{path}: bad data CRC at {pos}")
        records.append(payload)
        pos += 16 + length
    return records


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pipeline", required=True)
    p.add_argument("--source", required=True)
    p.add_argument("--data", required=True)
    args = p.parse_args()
    if not os.path.exists(os.path.join(args.data, "train-images-idx3-ubyte.gz")):
        print(f"real MNIST not found in {args.data}; run scripts/get-data", file=sys.stderr)
        return 1
    out = tempfile.mkdtemp(prefix="pipeline-e2e-")
    run = subprocess.run([args.pipeline, "run", "configs/lenet_mnist_quick.yaml", "--set", "epochs=2",
                          "--set", f"vars.data_dir={args.data}", "--set", f"output_dir={out}"],
                         cwd=args.source, capture_output=True, text=True, timeout=300)
    print(run.stdout[-600:])
    check(run.returncode == 0, f"pipeline exited {run.returncode}: {run.stderr}")

    # History: CSV and JSON agree, in Keras' CSVLogger layout.
    rows = list(csv.DictReader(open(os.path.join(out, "history.csv"))))
    check(list(rows[0].keys()) == ["epoch", "accuracy", "loss", "val_accuracy", "val_loss", "lr", "seconds"],
          f"CSV header {list(rows[0].keys())}")
    check([r["epoch"] for r in rows] == ["0", "1"], "CSV epochs 0 and 1")
    history = json.load(open(os.path.join(out, "history.json")))
    check(history["finished"] is True and history["seed"] == 42, "JSON run information")
    check(len(history["history"]) == 2, "JSON has two epochs")
    for row, entry in zip(rows, history["history"]):
        check(int(row["epoch"]) == entry["epoch"], "CSV and JSON number epochs alike (from 0)")
        for key in ("accuracy", "loss", "val_accuracy", "val_loss", "lr"):
            # Both at full precision: the same double, not merely close.
            check(float(row[key]) == entry[key], f"CSV and JSON disagree on {key}: {row[key]} {entry[key]}")
    check(history["final"]["val_accuracy"] > 0.8, f"final val_accuracy {history['final']['val_accuracy']}")
    report = history["classification_report"]["test"]
    check(sum(c["support"] for c in report["classes"]) == 2000, "report support adds up to the test subset")
    # The averages as scikit-learn's classification_report computes them.
    n = len(report["classes"])
    macro = sum(c["f1-score"] for c in report["classes"]) / n
    weighted = sum(c["f1-score"] * c["support"] for c in report["classes"]) / 2000
    check(abs(report["macro avg"]["f1-score"] - macro) < 1e-12, "macro avg f1")
    check(abs(report["weighted avg"]["f1-score"] - weighted) < 1e-12, "weighted avg f1")

    # TensorBoard: decode with protoc-generated code.
    gen = tempfile.mkdtemp(prefix="pipeline-proto-")
    proto_dir = os.path.join(args.source, "tests", "e2e")
    subprocess.run(["protoc", f"--proto_path={proto_dir}", f"--python_out={gen}", "tensorboard_event.proto"], check=True)
    sys.path.insert(0, gen)
    event_pb2 = importlib.import_module("tensorboard_event_pb2")
    expected = {"train": ("loss", "accuracy"), "validation": ("val_loss", "val_accuracy")}
    for run_name, (loss_key, acc_key) in expected.items():
        files = glob.glob(os.path.join(out, "logs", run_name, "events.out.tfevents.*"))
        check(len(files) == 1, f"one event file in logs/{run_name}")
        events = []
        for payload in read_records(files[0]):
            e = event_pb2.Event()
            e.ParseFromString(payload)
            events.append(e)
        check(events[0].file_version == "brain.Event:2", "file_version first")
        scalars = {}
        for e in events[1:]:
            check(e.wall_time > 1.6e9, "wall_time is a Unix time")
            for v in e.summary.value:
                scalars[(v.tag, e.step)] = v.simple_value
        for step, entry in enumerate(history["history"]):
            for tag, key in (("epoch_loss", loss_key), ("epoch_accuracy", acc_key)):
                got = scalars.get((tag, step))
                check(got is not None and abs(got - entry[key]) < 1e-5 * max(1, abs(entry[key])),
                      f"{run_name} {tag} step {step}: {got} vs {entry[key]}")
        if run_name == "train":
            check(abs(scalars.get(("epoch_learning_rate", 0), -1) - 0.02) < 1e-7, "train learning rate logged")

    # HTML: rendered by a real browser; the page's script counts what it shows.
    report_path = os.path.join(out, "report.html")
    chrome = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                             "--disable-background-networking", "--disable-component-update", "--disable-sync",
                             f"--user-data-dir={tempfile.mkdtemp(prefix='pipeline-chromium-')}", "--virtual-time-budget=5000",
                             "--dump-dom", "file://" + report_path], capture_output=True, text=True, timeout=120)
    dom = chrome.stdout
    check(chrome.returncode == 0 and "<body" in dom, f"chromium rendered the report: {chrome.stderr[-300:]}")
    check('data-charts="4"' in dom, "four curves drawn (loss, val_loss, accuracy, val_accuracy)")
    images = dom.count("<img ")
    check(images > 0 and f'data-images="{images}"' in dom, f"every misclassified image decoded ({images} images)")
    for element in ('id="summary"', 'id="confusion"', 'id="classes"', 'id="misclassified"', 'id="profile"', 'id="config"'):
        check(element in dom, f"report holds {element}")
    check("<td>model</td><td>sequential</td>" in dom, "profile lists the model stage")
    # Charts: y ticks on round numbers in 1-2-5 steps, accuracy never above 1, no label cut off, axis titles.
    check('data-clipped-labels="0"' in dom, "no chart label drawn outside its chart")
    for chart in re.findall(r'<svg class="chart".*?</svg>', dom, flags=re.S):
        ticks = [float(t) for t in re.findall(r'class="tick y-tick">([^<]*)<', chart)]
        steps = {round(b - a, 12) for a, b in zip(ticks, ticks[1:])}
        check(len(ticks) >= 3 and len(steps) == 1, f"evenly spaced y ticks: {ticks}")
        step = steps.pop() if steps else 0
        mantissa = step / 10 ** math.floor(math.log10(step)) if step > 0 else 0
        check(any(abs(mantissa - m) < 1e-9 for m in (1, 2, 5)), f"y tick step {step} is 1, 2 or 5 times a power of ten")
        check(all(abs(t / step - round(t / step)) < 1e-9 for t in ticks), f"ticks on multiples of the step: {ticks}")
        if 'aria-label="accuracy"' in chart:
            check(max(ticks) <= 1, f"accuracy ticks never above 1: {ticks}")
        check('class="tick axis-title"' in chart, "the chart has axis titles")
    # A screenshot to look at (kept in the output folder when a check fails).
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
                    f"--user-data-dir={tempfile.mkdtemp(prefix='pipeline-chromium-')}", "--window-size=1200,900",
                    f"--screenshot={os.path.join(out, 'report.png')}", "file://" + report_path],
                   capture_output=True, timeout=120)
    if os.environ.get("PIPELINE_KEEP_SCREENSHOT"):
        shutil.copy(os.path.join(out, "report.png"), os.environ["PIPELINE_KEEP_SCREENSHOT"])

    print(f"{passed} passed, {len(failures)} failed")
    if not failures:
        for folder in (out, gen):
            shutil.rmtree(folder, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
