#!/usr/bin/python3
"""Steady-state samples/s of configs/mnist_data_only.yaml (reader, scale, one_hot, batcher, counting sinks).

Runs each binary for 2 and for 2 + E epochs and divides the samples of the E extra epochs (70,000 each) by the
extra wall time, so that start-up (reading and inflating the files) drops out. Binaries alternate round by round
so that a shared machine's load hits all alike; prints each round and the medians, and the CPU time of the
longer run.

  /usr/bin/python3 bench/data_throughput.py [--rounds 5] [--epochs 20] [--threads 2] [--data ../shared/data/mnist]
      [--config configs/mnist_data_only.yaml]
      [LABEL=BINARY ...]        (default: ours=build/pipeline; e.g. old=/tmp/old/pipeline new=build/pipeline)
"""
import argparse
import os
import resource
import statistics
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES_PER_EPOCH = 70000


def run(binary, config, epochs, threads, data):
    """Wall seconds and CPU seconds (user + system) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([binary, "run", config, "--set", f"epochs={epochs}",
                    "--threads", str(threads), "--set", f"vars.data_dir={data}"],
                   check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=20, help="steady epochs measured (beyond the first 2)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=os.path.join(ROOT, "data/mnist"))
    p.add_argument("--config", default=os.path.join(ROOT, "configs/mnist_data_only.yaml"),
                   help="a data-only config (70,000 samples an epoch; e.g. with augment added)")
    p.add_argument("binaries", nargs="*", default=["ours=build/pipeline"])
    args = p.parse_args()
    builds = [b.split("=", 1) if "=" in b else (b, b) for b in args.binaries]
    rates = {label: [] for label, _ in builds}
    for r in range(args.rounds):
        for label, binary in builds:
            short, _ = run(binary, args.config, 2, args.threads, args.data)
            long, cpu = run(binary, args.config, 2 + args.epochs, args.threads, args.data)
            rate = args.epochs * SAMPLES_PER_EPOCH / (long - short)
            rates[label].append(rate)
            print(f"round {r + 1} {label}: {rate / 1e6:.3f} M samples/s ({long:.2f} s wall, {cpu:.2f} s CPU for "
                  f"{2 + args.epochs} epochs)", flush=True)
    for label, values in rates.items():
        print(f"{label}: median {statistics.median(values) / 1e6:.3f} M samples/s over {len(values)} rounds")


if __name__ == "__main__":
    main()
