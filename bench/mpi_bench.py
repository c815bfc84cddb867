#!/usr/bin/python3
"""Data-parallel training on one machine: 1 process x 2 threads against 2 ranks x 1 thread (mpirun -np 2), with the
gradients' all-reduce overlapped with the backward pass and after it. Alternating rounds, medians.

usage: bench/mpi_bench.py [--rounds 3] [--train 20000] [--pipeline build/pipeline] [--data data/mnist]
Prints a Markdown table for bench/README.md section 8."""
import argparse
import csv
import os
import re
import statistics
import subprocess
import tempfile

parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=3)
parser.add_argument("--train", type=int, default=20000, help="training images per epoch")
parser.add_argument("--pipeline", default="build/pipeline")
parser.add_argument("--data", default="data/mnist")
args = parser.parse_args()

MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"]
setups = {
    "1 process x 2 threads": ([], []),
    "2 ranks x 1 thread, overlapped": (MPIRUN, []),
    "2 ranks x 1 thread, after backward": (MPIRUN, ["model.overlap_allreduce=false"]),
}


def cpu_name():
    fields = {}
    for line in open("/proc/cpuinfo"):
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    vector = "AVX-512" if "avx512f" in fields.get("flags", "").split() else "AVX2" if "avx2" in fields.get(
        "flags", "").split() else "SSE"
    return (f"{fields.get('model name', 'unknown CPU')} (family {fields.get('cpu family', '?')} model "
            f"{fields.get('model', '?')}, {vector})")


def run(launcher, settings, out):
    command = launcher + [args.pipeline, "run", "configs/lenet_mnist.yaml", "--set", "epochs=1",
                          "--set", f"vars.data_dir={args.data}", "--set", f"output_dir={out}",
                          "--set", f"train_data.limit={args.train}", "--set", "test_data.limit=2000",
                          "--set", "console.progress=none"]
    for s in settings:
        command += ["--set", s]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    with open(os.path.join(out, "history.csv")) as f:
        seconds = float(list(csv.DictReader(f))[-1]["seconds"])
    stats = re.search(r"per step: ([0-9.]+ [KMG]?i?B), ([0-9.]+) ms summing, ([0-9.]+) ms of it not hidden", result.stdout)
    return seconds, stats.groups() if stats else None


results = {name: [] for name in setups}
with tempfile.TemporaryDirectory() as tmp:
    for round_ in range(args.rounds):
        for name, (launcher, settings) in setups.items():
            results[name].append(run(launcher, settings, os.path.join(tmp, f"r{round_}")))

images = args.train + 2000
base = statistics.median(s for s, _ in results["1 process x 2 threads"])
print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; LeNet, batch 128, {args.train} training + 2000 test images, "
      f"{args.rounds} alternating rounds, medians\n")
print("| setup | epoch (s) | images/s | vs 1 process | all-reduce per step | summing (ms/step) | not hidden (ms/step) |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, runs in results.items():
    seconds = statistics.median(s for s, _ in runs)
    stats = [st for _, st in runs if st]
    if stats:
        size = stats[0][0]
        summing = statistics.median(float(st[1]) for st in stats)
        hidden = statistics.median(float(st[2]) for st in stats)
        extra = f"{size} | {summing:.2f} | {hidden:.2f}"
    else:
        extra = "- | - | -"
    print(f"| {name} | {seconds:.2f} | {images / seconds:.0f} | {base / seconds:.2f}x | {extra} |")
