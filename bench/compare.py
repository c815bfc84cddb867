#!/usr/bin/python3
"""This project against PyTorch (Debian's python3-torch, CPU) on this machine, measured side by side.

Alternates runs (ours, PyTorch as installed, PyTorch at its best) so that the load of a shared machine hits
all three alike, and reports medians and ratios:
  - steady-state training and inference images/s of the LeNet model alone, with the data preloaded
    (build/bench/train_bench vs bench/reference/lenet_torch.py --bench), on 1 and 2 threads;
  - achieved training GFLOP/s against the SGEMM peak measured on the same threads, counting the direct
    convolution's FLOPs (39.1 MFLOP per image, as the issue does); Winograd does fewer, so this is an effective rate;
  - the whole pipeline for one epoch (`pipeline run configs/lenet_mnist.yaml --set epochs=1`): seconds per
    epoch, peak RSS and the per-stage profile.
PyTorch "at its best" (lenet_torch.py --best): channels_last memory format, its BLAS on one thread and tcmalloc
preloaded (libtcmalloc-minimal4); "as installed": none of these. torch.set_num_threads(N) in every case.

  /usr/bin/python3 bench/compare.py [--repeats 3] [--batches 60] [--data data/mnist]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_json(cmd, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def pipeline_epoch(threads, data):
    out_dir = tempfile.mkdtemp(prefix="pipeline-bench-")
    cmd = ["/usr/bin/time", "-v", os.path.join(ROOT, "build/pipeline"), "run", "configs/lenet_mnist.yaml", "--set", "epochs=1",
           "--threads", str(threads), "--profile", "--set", f"vars.data_dir={data}", "--set", f"output_dir={out_dir}",
           "--set", "console.report=false"]
    r = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    epoch = float(re.search(r"Epoch 1/1 - ([0-9.]+)s", r.stdout).group(1))
    rss_mb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    profile = r.stdout[r.stdout.index("profile:"):]
    return epoch, rss_mb, profile


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--batches", type=int, default=60)
    p.add_argument("--data", default=os.path.join(ROOT, "data/mnist"))
    args = p.parse_args()
    torch_script = os.path.join(ROOT, "bench/reference/lenet_torch.py")
    results = {}
    for threads in (2, 1):
        rows = {"ours": [], "torch": [], "torch_best": []}
        for _ in range(args.repeats):
            rows["ours"].append(run_json([os.path.join(ROOT, "build/bench/train_bench"), "--threads", str(threads),
                                          "--train-batches", str(args.batches), "--repeats", "1"]))
            base = ["/usr/bin/python3", torch_script, "--data", args.data, "--threads", str(threads), "--bench",
                    str(args.batches), "--repeats", "1"]
            rows["torch"].append(run_json(base))
            rows["torch_best"].append(run_json(base + ["--best"]))
        results[threads] = {k: {m: statistics.median(r[m] for r in v)
                                for m in ("train_images_per_second", "inference_images_per_second",
                                          "batch1_latency_ms")}
                            for k, v in rows.items()}
        results[threads]["ours"]["train_gflops"] = statistics.median(r["train_gflops"] for r in rows["ours"])
        for m in ("sgemm_peak_gflops", "performed_train_gflops", "performed_mflop_per_train_image"):
            results[threads]["ours"][m] = statistics.median(r[m] for r in rows["ours"])
        results[threads]["blas"] = rows["ours"][0]["blas"]
        results[threads]["best_allocator"] = rows["torch_best"][0]["allocator"]
    for threads in (2, 1):
        epoch, rss, profile = pipeline_epoch(threads, args.data)
        results[threads]["pipeline_epoch_seconds"] = epoch
        results[threads]["pipeline_peak_rss_mb"] = rss
        results[threads]["profile"] = profile

    print(f"BLAS: {results[2]['blas']}; PyTorch at its best on {results[2]['best_allocator']}")
    print("| threads | measure | this project | PyTorch as installed | PyTorch at its best | vs installed | vs best |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for threads in (2, 1):
        r = results[threads]
        for m, label in (("train_images_per_second", "train img/s"), ("inference_images_per_second", "inference img/s")):
            ours, t, tb = r["ours"][m], r["torch"][m], r["torch_best"][m]
            print(f"| {threads} | {label} | {ours:.0f} | {t:.0f} | {tb:.0f} | {ours / t:.2f}x | {ours / tb:.2f}x |")
        ours, t, tb = (r[k]["batch1_latency_ms"] for k in ("ours", "torch", "torch_best"))
        print(f"| {threads} | batch-1 latency, ms | {ours:.3f} | {t:.3f} | {tb:.3f} | {ours / t:.2f}x | {ours / tb:.2f}x |")
        o = r["ours"]
        print(f"| {threads} | performed train GFLOP/s ({o['performed_mflop_per_train_image']:.1f} MFLOP an image; "
              f"SGEMM peak) | {o['performed_train_gflops']:.1f} ({o['sgemm_peak_gflops']:.0f}, "
              f"{100 * o['performed_train_gflops'] / o['sgemm_peak_gflops']:.0f}%) | | | | |")
        print(f"| {threads} | effective train GFLOP/s (SGEMM peak) | {o['train_gflops']:.1f} ({o['sgemm_peak_gflops']:.0f}, "
              f"{100 * o['train_gflops'] / o['sgemm_peak_gflops']:.0f}%) | | | | |")
        print(f"| {threads} | pipeline: s per epoch, peak RSS | {r['pipeline_epoch_seconds']:.1f} s, "
              f"{r['pipeline_peak_rss_mb']:.0f} MB | | | | |")
    scaling = results[2]["ours"]["train_images_per_second"] / results[1]["ours"]["train_images_per_second"]
    print(f"\n2 threads / 1 thread, training: {scaling:.2f}x")
    print(f"\nprofile of one epoch on 2 threads:\n{results[2]['profile']}")


if __name__ == "__main__":
    main()
