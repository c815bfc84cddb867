#!/usr/bin/python3
"""Paired seeds: the default convolution kernels against the exact im2col + SGEMM path, on one config.

Runs CONFIG once per seed and algorithm (the default `auto`, and `algorithm: im2col` on every conv2d layer), reads
each run's history.csv and prints the last epoch's test accuracy and loss per pair, their difference and the mean.
Results are deterministic per seed, so a pair's difference is the kernels' doing, not the machine's.

  /usr/bin/python3 bench/conv_accuracy.py --seeds 42 1 2 3 4 [--config configs/lenet_fashion_mnist.yaml]
      [--algorithms auto im2col] [--binary build/pipeline] [--work /tmp/conv_accuracy]
"""
import argparse
import csv
import pathlib
import re
import statistics
import subprocess
import sys


def config_for(config_text, algorithm):
    """The config with `algorithm: ALGORITHM` in every conv2d layer's options (auto: unchanged)."""
    if algorithm == "auto":
        return config_text
    changed, count = re.subn(r"conv2d: \{", f"conv2d: {{algorithm: {algorithm}, ", config_text)
    if count == 0:
        sys.exit("no 'conv2d: {' layer in the config to set the algorithm of")
    return changed


def run(binary, config_path, seed, output_dir):
    """The last epoch's (test accuracy %, test loss) of one run; a run finished earlier in output_dir is reused."""
    history, finished = output_dir / "history.csv", output_dir / "finished"
    if not finished.exists():
        command = [binary, "run", str(config_path), "--set", f"seed={seed}", "--set",
                   f"output_dir={output_dir}"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        finished.touch()
    with open(history) as f:
        last = list(csv.DictReader(f))[-1]
    return 100 * float(last["val_accuracy"]), float(last["val_loss"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="configs/lenet_fashion_mnist.yaml")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 1, 2, 3, 4])
    parser.add_argument("--algorithms", nargs=2, default=["auto", "im2col"])
    parser.add_argument("--binary", default="build/pipeline")
    parser.add_argument("--work", default="/tmp/conv_accuracy")
    args = parser.parse_args()

    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    text = pathlib.Path(args.config).read_text()
    configs = {}
    for algorithm in args.algorithms:
        configs[algorithm] = work / f"{algorithm}.yaml"
        configs[algorithm].write_text(config_for(text, algorithm))

    first, second = args.algorithms
    print(f"| seed | {first} | {second} | difference (pp) |\n| --- | --- | --- | --- |", flush=True)
    differences = []
    for seed in args.seeds:
        results = {a: run(args.binary, configs[a], seed, work / f"{a}_seed{seed}") for a in args.algorithms}
        difference = results[first][0] - results[second][0]
        differences.append(difference)
        cells = [f"{results[a][0]:.2f}% / {results[a][1]:.4f}" for a in args.algorithms]
        print(f"| {seed} | {cells[0]} | {cells[1]} | {difference:+.2f} |", flush=True)
    spread = statistics.stdev(differences) if len(differences) > 1 else 0.0
    print(f"\nmean difference {statistics.mean(differences):+.3f} pp over {len(differences)} seeds "
          f"(standard deviation {spread:.3f}); {first} lower in {sum(d < 0 for d in differences)} of them")


if __name__ == "__main__":
    main()
