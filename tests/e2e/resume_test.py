#!/usr/bin/python3
"""Crash-safe training: a run killed with SIGKILL (or stopped with SIGINT) mid-epoch and continued with
--resume ends with a model file byte-identical to an uninterrupted run's, and the same metrics."""
import csv
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

pipeline, source, data = sys.argv[1:4]
failures, passed = [], 0


def check(ok, what):
    global passed
    if ok:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what, flush=True)


def command(out, *extra):
    return [pipeline, "run", "configs/lenet_mnist_quick.yaml", "--set", "epochs=3", "--set", f"vars.data_dir={data}",
            "--set", f"output_dir={out}", "--set", "model.checkpoint_every=1", *extra]


def metrics(out):
    with open(os.path.join(out, "history.csv")) as f:
        return [{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)]


def model_bytes(out):
    with open(os.path.join(out, "model.ckpt"), "rb") as f:
        return f.read()


root = tempfile.mkdtemp(prefix="pipeline-resume-")
reference = os.path.join(root, "reference")
done = subprocess.run(command(reference), cwd=source, capture_output=True, text=True, timeout=600)
check(done.returncode == 0, f"uninterrupted run: {done.stderr}")

for how in (signal.SIGKILL, signal.SIGINT):
    out = os.path.join(root, how.name)
    proc = subprocess.Popen(command(out), cwd=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoint = os.path.join(out, "model.ckpt")
    deadline = time.time() + 300
    while not os.path.exists(checkpoint) and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(0.4)  # into the second epoch
    proc.send_signal(how)
    stdout, stderr = proc.communicate(timeout=300)
    expected = -9 if how == signal.SIGKILL else 130
    check(proc.returncode == expected, f"{how.name}: exit {proc.returncode}, expected {expected} (stopped mid-run?)")
    if how == signal.SIGINT:
        check("saved the model after" in stderr, f"SIGINT saves a checkpoint: {stderr[-300:]}")
    resumed = subprocess.run(command(out, "--resume"), cwd=source, capture_output=True, text=True, timeout=600)
    check(resumed.returncode == 0, f"{how.name}: resumed run failed: {resumed.stderr[-500:]}")
    check("resuming from" in resumed.stderr, f"{how.name}: resumed from a checkpoint")
    check(model_bytes(out) == model_bytes(reference), f"{how.name}: final model differs from the uninterrupted run")
    check(metrics(out) == metrics(reference), f"{how.name}: history differs:\n{metrics(out)}\n{metrics(reference)}")

print(f"{passed} passed, {len(failures)} failed")
if not failures:
    shutil.rmtree(root, ignore_errors=True)
sys.exit(1 if failures else 0)
