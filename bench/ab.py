#!/usr/bin/env python3
"""A/B of two or more builds on a noisy host: runs them in alternation, round after round, and prints each one's
median and its per-round ratios against the first (above 1: faster than the first).

  # copies of build/bench/train_bench (or kernels_bench) from each commit, then:
  bench/ab.py train /tmp/ab/train_bench.old /tmp/ab/train_bench.new --threads 1 --rounds 5
  bench/ab.py kernels /tmp/ab/kernels_bench.old /tmp/ab/kernels_bench.new --filter 'conv2_.*_slice/avx512' --rounds 7

train: `train_bench --threads N --train-batches 40 --repeats 3`, training and inference images/s.
kernels: `kernels_bench --benchmark_filter=F --benchmark_min_time=0.3`, each benchmark's time (ratio: old / new).
"""
import argparse
import json
import statistics
import subprocess


def run(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    except OSError as e:
        raise SystemExit(f"ab.py: cannot run {command[0]}: {e.strerror}")
    if done.returncode != 0:
        raise SystemExit(f"ab.py: {' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return done.stdout


def train_round(binary, args):
    row = json.loads(run([binary, "--threads", str(args.threads), "--train-batches", "40", "--repeats", "3"]))
    # images/s: higher is better, so the ratio is new / old
    return {"train img/s": (row["train_images_per_second"], True),
            "inference img/s": (row["inference_images_per_second"], True)}


def kernels_round(binary, args):
    out = run([binary, f"--benchmark_filter={args.filter}", "--benchmark_min_time=0.3", "--benchmark_format=json"])
    benchmarks = json.loads(out).get("benchmarks", []) if out.strip() else []
    if not benchmarks:
        raise SystemExit(f"ab.py: {binary} ran no benchmark matching --filter {args.filter!r}")
    return {b["name"]: (b["real_time"], False) for b in benchmarks}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("kind", choices=["train", "kernels"])
    p.add_argument("binaries", nargs="+", help="the first is the baseline")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="train: threads")
    p.add_argument("--filter", default=".", help="kernels: the benchmark filter")
    args = p.parse_args()
    if len(args.binaries) < 2:
        p.error("give the baseline and at least one build to compare with it")
    if args.rounds < 1 or args.threads < 1:
        p.error("--rounds and --threads must be at least 1")
    one_round = train_round if args.kind == "train" else kernels_round
    rounds = []
    for r in range(args.rounds):
        rounds.append([one_round(b, args) for b in args.binaries])
        print(f"round {r + 1}: done", flush=True)
    for measure in rounds[0][0]:
        higher_is_better = rounds[0][0][measure][1]
        values = [[rnd[i][measure][0] for rnd in rounds] for i in range(len(args.binaries))]
        line = f"{measure}: {args.binaries[0]} {statistics.median(values[0]):.6g}"
        for i, binary in enumerate(args.binaries[1:], start=1):
            ratios = [(new / old if higher_is_better else old / new) for old, new in zip(values[0], values[i])]
            line += (f" | {binary} {statistics.median(values[i]):.6g}, median ratio {statistics.median(ratios):.3f}x"
                     f" (rounds: {', '.join(f'{x:.3f}' for x in ratios)})")
        print(line)


if __name__ == "__main__":
    main()
