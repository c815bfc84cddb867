#!/usr/bin/python3
"""Data-parallel training on Open MPI (mpirun -np 2) against one process: the same weights, history and predictions;
reruns and the overlapped all-reduce give the same bits; a killed rank stops the job and --resume continues it;
a config error is reported once; with several file pairs each rank reads only its own.

usage: mpi_test.py PIPELINE SOURCE_DIR MNIST_DIR [quick|lenet]"""
import csv
import gzip
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

import numpy

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_file import read_checkpoint  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, summary, verbose  # noqa: E402

pipeline, source, data = sys.argv[1:4]
suite = sys.argv[4] if len(sys.argv) > 4 else "quick"
# scripts/sanitize: a sanitized run is about 15 times slower; skip the reruns that only check determinism.
light = os.environ.get("PIPELINE_MPI_LIGHT") == "1"
MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"]
verbose()  # the suite's log lists every check


def run(out, *settings, ranks=1, config="configs/lenet_mnist_quick.yaml", timeout=900, verb="run"):
    command = [pipeline, verb, config, "--set", f"vars.data_dir={data}", "--set", f"output_dir={out}"]
    with open(os.path.join(source, config)) as f:
        if "type: console" in f.read():
            command += ["--set", "console.progress=none"]
    for s in settings:
        command += ["--set", s] if "=" in s else [s]
    if ranks > 1:
        command = MPIRUN + command
    return subprocess.run(command, cwd=source, capture_output=True, text=True, timeout=timeout)


def history(out):
    with open(os.path.join(out, "history.csv")) as f:
        return list(csv.DictReader(f))


def predictions(out):
    with open(os.path.join(out, "predictions.csv")) as f:
        return list(csv.DictReader(f))


def weights(out):
    return read_checkpoint(os.path.join(out, "model.ckpt"))["tensors"]


def compare_weights(a, b, tolerance):
    """Relative difference of all parameters together, and the largest difference of any one value."""
    names = [n for n in a if not n.startswith("velocity/")]
    da = numpy.concatenate([a[n].ravel() for n in names]).astype(numpy.float64)
    db = numpy.concatenate([b[n].ravel() for n in names]).astype(numpy.float64)
    relative = numpy.linalg.norm(da - db) / numpy.linalg.norm(da)
    largest = numpy.abs(da - db).max()
    print(f"      weights: relative difference {relative:.3g}, largest {largest:.3g}")
    return relative <= tolerance and largest <= tolerance


def same_file(a, b, name):
    with open(os.path.join(a, name), "rb") as fa, open(os.path.join(b, name), "rb") as fb:
        return fa.read() == fb.read()


def quick_against_one_process(tmp):
    # Three steps (96 images, batch 32): each rank takes 16 images of every batch. Float sums in another order
    # (each rank sums its share, then the ranks' sums are added) round differently, about 1e-8 relative per step,
    # and training amplifies such differences as it goes, by jumps: once two values in a max-pooling window are
    # close enough for that rounding to reorder them, the gradient takes the other path (measured: 4e-8 after 8
    # steps, 3e-6 after 9, 1e-4 after 10 with momentum; the step at which that happens moves with any change in
    # rounding: Dense's depth blocks moved it to the fourth step, 1.5e-8 after three, 1.8e-5 after four). So the
    # weights are compared after three steps, where a sum missing from the all-reduce or scaled wrong is still 1e-3
    # or more, and the history within a tolerance.
    settings = ["train_data.limit=96", "test_data.limit=500", "epochs=1"]
    one, two = os.path.join(tmp, "one"), os.path.join(tmp, "two")
    r1, r2 = run(one, *settings), run(two, *settings, ranks=2)
    check(r1.returncode == 0 and r2.returncode == 0, f"1 process and 2 ranks run (exit {r1.returncode}, "
          f"{r2.returncode}): {r2.stderr[-800:]}")
    if r1.returncode or r2.returncode:
        return
    check(compare_weights(weights(one), weights(two), 1e-6), "2 ranks end with the weights of 1 process (1e-6)")
    h1, h2 = history(one), history(two)
    check(len(h1) == len(h2) == 1, "both histories have 1 epoch")
    for a, b in zip(h1, h2):
        check(a["accuracy"] == b["accuracy"] and a["val_accuracy"] == b["val_accuracy"],
              f"epoch {a['epoch']}: the same accuracies ({a['accuracy']}, {a['val_accuracy']} against "
              f"{b['accuracy']}, {b['val_accuracy']})")
        for key in ("loss", "val_loss"):
            check(abs(float(a[key]) - float(b[key])) <= 1e-5 * abs(float(a[key])),
                  f"epoch {a['epoch']}: {key} {a[key]} against {b[key]} (1e-5 relative)")
    p1, p2 = predictions(one), predictions(two)
    check([(p["index"], p["predicted"]) for p in p1] == [(p["index"], p["predicted"]) for p in p2],
          f"predictions.csv: the same {len(p1)} rows in the same order with the same classes")
    check(os.listdir(two) and not os.path.exists(os.path.join(two, "rank1")), "only rank 0 wrote outputs")
    if light:
        return
    # Reruns and the all-reduce after the backward pass (no overlap) give the same bits.
    again, blocking = os.path.join(tmp, "again"), os.path.join(tmp, "blocking")
    run(again, *settings, ranks=2)
    run(blocking, *settings, "model.overlap_allreduce=false", ranks=2)
    check(same_file(two, again, "model.ckpt"), "a rerun on 2 ranks gives the same model.ckpt byte for byte")
    check(same_file(two, blocking, "model.ckpt"), "overlapped and blocking all-reduce give the same model.ckpt")


def config_error_once(tmp):
    r = run(os.path.join(tmp, "bad"), "batches.batch_size=33", ranks=2)
    reports = r.stderr.count("does not divide among the 2 ranks")
    check(r.returncode != 0 and reports == 1,
          f"batch_size 33 on 2 ranks: one config error naming the line (exit {r.returncode}, {reports} reports)")
    check("--set batches.batch_size=33: stage 'batches': parameter 'batch_size'" in r.stderr,
          "the error names where batch_size was set, the stage and the parameter")
    bad = os.path.join(tmp, "bad.yaml")
    with open(os.path.join(source, "configs/lenet_mnist_quick.yaml")) as f:
        text = f.read().replace("batch_size: 32", "batch_size: 31")
    with open(bad, "w") as f:
        f.write(text)
    r = run(os.path.join(tmp, "bad_file"), config=bad, ranks=2)
    check(r.stderr.count("bad.yaml:") == 1 and "does not divide" in r.stderr,
          "in a config file: one error naming the file and line: " + r.stderr[:200])


def share_warnings(tmp):
    r = run(os.path.join(tmp, "data_only"), config="configs/mnist_data_only.yaml", ranks=2, verb="validate")
    check(r.returncode == 0 and "sees rank 0's share of the data only" in r.stderr,
          "a sink with no model before it: a warning that it sees rank 0's share: " + r.stderr[-300:])
    r = run(os.path.join(tmp, "quick_validate"), ranks=2, verb="validate")
    check(r.returncode == 0 and "share of the data" not in r.stderr, "sinks behind the model: no such warning")


def rank_pids(mpirun_pid):
    """The ranks mpirun started, by rank."""
    found = {}
    for child in subprocess.run(["pgrep", "-P", str(mpirun_pid)], capture_output=True, text=True).stdout.split():
        try:
            with open(f"/proc/{child}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
        except OSError:
            continue
        if b"OMPI_COMM_WORLD_RANK" in env:
            found[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(child)
    return found


def kill_a_rank_then_resume(tmp):
    settings = ["train_data.limit=" + ("320" if light else "1200"), "test_data.limit=300", "epochs=4"]
    whole, killed = os.path.join(tmp, "whole"), os.path.join(tmp, "killed")
    run(whole, *settings, ranks=2)
    command = MPIRUN + [pipeline, "run", "configs/lenet_mnist_quick.yaml", "--set", f"vars.data_dir={data}",
                        "--set", f"output_dir={killed}", "--set", "console.progress=none"]
    for s in settings:
        command += ["--set", s]
    job = subprocess.Popen(command, cwd=source, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    state = os.path.join(killed, "run.state")
    deadline = time.time() + 120
    while not os.path.exists(state) and time.time() < deadline and job.poll() is None:
        time.sleep(0.02)
    time.sleep(0.3)  # into the second epoch
    pids = rank_pids(job.pid)
    check(1 in pids and job.poll() is None, f"the job runs with its ranks ({pids})")
    if 1 not in pids:
        job.kill()
        return
    killed_at = time.time()
    os.kill(pids[1], signal.SIGKILL)
    try:
        output, _ = job.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        job.kill()
        output = job.communicate()[0]
        check(False, "the job ends when a rank is killed (it hung for 60 s)")
        return
    check(job.returncode != 0, f"a killed rank ends the job with a failure (exit {job.returncode}, after "
          f"{time.time() - killed_at:.1f} s)")
    check("signal 9" in output or "Killed" in output, "mpirun says which rank died and how: " + output[-300:])
    check(len(history(killed)) >= 1, "the epochs saved before the kill are on disk")
    r = run(killed, *settings, "--resume", ranks=2)
    check(r.returncode == 0, f"--resume on 2 ranks finishes the run (exit {r.returncode}): {r.stderr[-500:]}")
    check("resuming 'lenet_mnist_quick' after" in r.stderr, "the resumed run says where it continues")
    check(same_file(whole, killed, "model.ckpt"), "killed and resumed: the same model.ckpt as the run never killed")
    check([h["val_accuracy"] for h in history(whole)] == [h["val_accuracy"] for h in history(killed)],
          "killed and resumed: the same history")


def idx_file(path, magic, dims, payload):
    with gzip.open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload)


def files_per_rank(tmp):
    """Four file pairs of 300/500/300/500 images cut from MNIST: rank 0 reads pairs 0 and 2, rank 1 pairs 1 and 3.
    Pair 1 is then damaged: only rank 1 may fail, naming it; with shard: samples every rank reads it."""
    with gzip.open(os.path.join(data, "train-images-idx3-ubyte.gz")) as f:
        images = f.read()[16:16 + 1600 * 784]
    with gzip.open(os.path.join(data, "train-labels-idx1-ubyte.gz")) as f:
        labels = f.read()[8:8 + 1600]
    parts, start = os.path.join(tmp, "parts"), 0
    os.makedirs(parts)
    for i, n in enumerate([300, 500, 300, 500]):
        idx_file(os.path.join(parts, f"part-{i}-images.gz"), 0x803, [n, 28, 28], images[start * 784:(start + n) * 784])
        idx_file(os.path.join(parts, f"part-{i}-labels.gz"), 0x801, [n], labels[start:start + n])
        start += n
    settings = [f"train_data.images={parts}/part-*-images.gz", f"train_data.labels={parts}/part-*-labels.gz",
                "train_data.limit=0", "test_data.limit=500"]
    r = run(os.path.join(tmp, "parts_run"), *settings, ranks=2)
    check(r.returncode == 0, f"2 ranks train on 4 file pairs (exit {r.returncode}): {r.stderr[-500:]}")
    if r.returncode == 0:
        rows = history(os.path.join(tmp, "parts_run"))
        check(len(rows) == 1 and float(rows[0]["val_accuracy"]) > 0.6, f"and learn (val_accuracy {rows[0]['val_accuracy']})")
    with open(os.path.join(parts, "part-1-labels.gz"), "wb") as f:
        f.write(b"not gzip at all")
    r = run(os.path.join(tmp, "parts_bad"), *settings, ranks=2)
    check(r.returncode != 0 and "part-1-labels.gz" in r.stderr and "on rank 1 of 2" in r.stderr,
          "a damaged file of rank 1's share: rank 1 names it: " + r.stderr[-300:])
    check("on rank 0" not in r.stderr, "rank 0 never opened it")
    r = run(os.path.join(tmp, "parts_samples"), *settings, "train_data.shard=samples", ranks=2)
    # Both ranks now fail on it; whichever aborts first may end the other before it prints.
    check(r.returncode != 0 and "part-1-labels.gz" in r.stderr, "shard: samples: the damaged file fails the job")


def lenet_two_epochs(tmp):
    one, two = os.path.join(tmp, "lenet_one"), os.path.join(tmp, "lenet_two")
    settings = ["epochs=2"]
    r1 = run(one, *settings, config="configs/lenet_mnist.yaml")
    r2 = run(two, *settings, config="configs/lenet_mnist.yaml", ranks=2)
    check(r1.returncode == 0 and r2.returncode == 0, f"LeNet 2 epochs on 1 process and 2 ranks: {r2.stderr[-500:]}")
    if r1.returncode or r2.returncode:
        return
    a, b = float(history(one)[-1]["val_accuracy"]), float(history(two)[-1]["val_accuracy"])
    check(abs(a - b) <= 0.001 + 1e-12, f"LeNet after 2 epochs: 2 ranks {b:.4f} against 1 process {a:.4f} "
          f"(within 0.1 pp)")


with tempfile.TemporaryDirectory(prefix="pipeline-mpi-") as tmp:
    if suite == "lenet":
        lenet_two_epochs(tmp)
    else:
        quick_against_one_process(tmp)
        config_error_once(tmp)
        share_warnings(tmp)
        kill_a_rank_then_resume(tmp)
        files_per_rank(tmp)

sys.exit(summary())
