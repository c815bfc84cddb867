#!/usr/bin/python3
"""Soak: a config run several times back to back (by default the seed recipe, 3 times, with the ASan build),
sampling the process's resident memory and open file descriptors every 0.2 s. Per epoch (read off the run's
history.csv) it prints the peak and the median RSS and the fewest descriptors open at once; the check fails
when the median RSS grows from the second epoch on by more than --rss-slack MB (peaks are transient buffers of
the epoch's end and come and go), when the descriptors change, or when a run fails (ASan's leak check at exit
included).

  python3 bench/soak.py build/pipeline configs/lenet_mnist.yaml --runs 3 --malloc-checks
  python3 bench/soak.py build-soak/pipeline configs/lenet_mnist.yaml --runs 3 --set epochs=2   (an ASan build)

--malloc-checks runs the release build under glibc's checking allocator (libc_malloc_debug: heap consistency
checked on every call, freed memory overwritten), which keeps the seed recipe's speed; an ASan build (cmake
-DPIPELINE_SANITIZE=address) adds leak and use-after-free detection at about 15 times the time.
"""
import argparse
import os
import shutil
import subprocess
import statistics
import sys
import tempfile
import time


def sample(pid):
    rss_kb = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
    return rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd"))


def epochs_done(out):
    try:
        with open(os.path.join(out, "history.csv")) as f:
            return max(0, sum(1 for _ in f) - 1)
    except OSError:
        return 0


def soak_once(args, run, root):
    out = os.path.join(root, f"run{run}")
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1")
    if args.malloc_checks:
        env["LD_PRELOAD"] = "libc_malloc_debug.so.0"
        env["GLIBC_TUNABLES"] = "glibc.malloc.check=3:glibc.malloc.perturb=165"
    proc = subprocess.Popen([args.pipeline, "run", args.config, "--set", f"output_dir={out}",
                             "--set", f"vars.data_dir={args.data}"] + args.set,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    samples = {}  # epoch -> ([rss MB...], fds at its last sample)
    while proc.poll() is None:
        try:
            rss, fds = sample(proc.pid)
        except (OSError, ValueError):
            break
        epoch = epochs_done(out) + 1
        samples.setdefault(epoch, [[], fds])
        samples[epoch][0].append(rss)
        # The fewest open at once: a file being written holds one for a moment; a leaked one never closes.
        samples[epoch][1] = min(samples[epoch][1], fds)
        time.sleep(0.2)
    _, stderr = proc.communicate()
    per_epoch = {e: (max(r), statistics.median(r), fds) for e, (r, fds) in samples.items()}
    return proc.returncode, stderr, per_epoch, epochs_done(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pipeline")
    parser.add_argument("config")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "mnist"))
    parser.add_argument("--rss-slack", type=float, default=8.0, help="MB of growth tolerated (allocator noise)")
    parser.add_argument("--set", action="append", default=[], help="more --set KEY=VALUE for the runs")
    parser.add_argument("--malloc-checks", action="store_true", help="glibc's checking allocator (see above)")
    args = parser.parse_args()
    args.set = [x for kv in args.set for x in ("--set", kv)]
    root = tempfile.mkdtemp(prefix="pipeline-soak-")
    failures = []
    print(f"{'run':>3} {'epoch':>5} {'peak RSS MB':>11} {'median RSS MB':>13} {'fds':>4}", flush=True)
    for run in range(1, args.runs + 1):
        code, stderr, per_epoch, trained = soak_once(args, run, root)  # after the trained epochs: the run's end
        for e in sorted(per_epoch):
            peak, median, fds = per_epoch[e]
            label = str(e) if e <= trained else "end"
            print(f"{run:>3} {label:>5} {peak:>11.1f} {median:>13.1f} {fds:>4}", flush=True)
        if code != 0:
            failures.append(f"run {run}: exit {code}: {stderr[-2000:]}")
        steady = [per_epoch[e] for e in sorted(per_epoch) if 2 <= e <= trained]
        if len(steady) >= 2:
            growth = max(m for _, m, _ in steady) - steady[0][1]
            fds = {f for _, _, f in steady}
            print(f"run {run}: peak RSS {max(p for p, _, _ in per_epoch.values()):.1f} MB, median RSS growth from "
                  f"epoch 2 {growth:+.1f} MB, descriptors {sorted(fds)}", flush=True)
            if growth > args.rss_slack:
                failures.append(f"run {run}: memory grew {growth:.1f} MB from epoch 2 on")
            if len(fds) > 1:
                failures.append(f"run {run}: open descriptors changed between epochs: {sorted(fds)}")
    for f in failures:
        print("FAIL:", f)
    print("soak: " + ("ok" if not failures else f"{len(failures)} failure(s)"))
    if not failures:
        shutil.rmtree(root, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
