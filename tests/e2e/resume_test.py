#!/usr/bin/python3
"""Durable runs. A run is killed (SIGKILL) again and again at seeded random instants, some of them chosen while a
file is being written, and resumed with --resume after each kill until it ends on its own; another is stopped
with SIGINT mid-epoch; a finished one is resumed with no epoch left. Each must end with the same outputs as an
uninterrupted run: model.ckpt, predictions.csv and the TensorBoard records byte for byte, history.csv/json and
report.html apart from measured times."""
import glob
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, failures, summary  # noqa: E402
from light import LIGHT, quick_limits  # noqa: E402
import time

pipeline, source, data = sys.argv[1:4]
seed = int(os.environ.get("PIPELINE_RESUME_SEED", "20261127"))
# Kills to land in all; scripts/sanitize asks for fewer (a sanitized run is about 15 times slower).
wanted_kills = int(os.environ.get("PIPELINE_RESUME_KILLS", "12"))
# And on fewer epochs and images (PIPELINE_TEST_LIGHT): 2 epochs still give kills on both sides of an epoch's end.
epochs = "2" if LIGHT else "4"
# 500 + 500 images would fit in the default 1,024 in flight: the sources would finish the last epoch before SIGINT.
in_flight = ["--set", "buffer=256"] if LIGHT else []


def command(out, *extra):
    return [pipeline, "run", "configs/lenet_mnist_quick.yaml", "--set", f"epochs={epochs}", "--set", f"vars.data_dir={data}",
            "--set", f"output_dir={out}", *quick_limits(), *in_flight, *extra]


def read(path, mode="rb"):
    with open(path, mode) as f:
        return f.read()


def without_times(text):
    text = re.sub(r",[0-9.]+\n", ",<seconds>\n", text)                       # history.csv: the seconds column
    text = re.sub(r'"seconds": ?[-0-9.e+]+', '"seconds": 0', text)           # history.json
    text = re.sub(r"<tr><td>(finished|wall time)</td><td>[^<]*</td></tr>", "", text)  # report.html: when, how long
    return re.sub(r'<h2>Pipeline profile</h2>.*?</table>', "", text, flags=re.S)  # and how long stages took


def tensorboard_records(out):
    """Per run folder, the event records with wall_time (Event field 1, the first 9 bytes) masked."""
    runs = {}
    for run in sorted(os.listdir(os.path.join(out, "logs"))):
        files = glob.glob(os.path.join(out, "logs", run, "events.out.tfevents.*"))
        records, data_bytes = [], b"".join(read(f) for f in sorted(files))
        pos = 0
        while pos < len(data_bytes):
            length, = struct.unpack("<Q", data_bytes[pos:pos + 8])
            payload = data_bytes[pos + 12:pos + 12 + length]
            records.append(payload[9:] if payload[:1] == b"\x09" else payload)
            pos += 16 + length
        runs[run] = (len(files), records)
    return runs


def outputs(out):
    def text(name):  # the output folder is in the config the reports quote
        return without_times(read(os.path.join(out, name), "r")).replace(out, "<output_dir>")
    return {
        "model.ckpt": read(os.path.join(out, "model.ckpt")),
        "predictions.csv": read(os.path.join(out, "predictions.csv")),
        "history.csv": text("history.csv"),
        "history.json": text("history.json"),
        "report.html": text("report.html"),
        "tensorboard": tensorboard_records(out),
    }


def compare(out, reference, label):
    got = outputs(out)
    for name, expected in reference.items():
        check(got[name] == expected, f"{label}: {name} differs from the uninterrupted run's")


def writing(out):
    """A temporary file of an atomic write exists: the run is inside a write."""
    return bool(glob.glob(os.path.join(out, "*.tmp")) or glob.glob(os.path.join(out, "logs", "*", "*.tmp")))


in_writes = 0


def kill_at(proc, out, delay, during_write):
    global in_writes
    deadline = time.time() + delay
    while proc.poll() is None and time.time() < deadline:
        if during_write and writing(out):
            in_writes += 1
            break
        time.sleep(0.0005 if during_write else 0.005)
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=300)
    return proc.returncode


root = tempfile.mkdtemp(prefix="pipeline-resume-")
reference_dir = os.path.join(root, "reference")
started = time.time()
done = subprocess.run(command(reference_dir), cwd=source, capture_output=True, text=True, timeout=600)
duration = time.time() - started
check(done.returncode == 0, f"uninterrupted run: {done.stderr}")
reference = outputs(reference_dir)

# Resumed after its last epoch (as a kill between the last state save and the outputs leaves it): no epoch runs,
# yet every output is written again from the saved state alone.
finished = os.path.join(root, "finished")
shutil.copytree(reference_dir, finished)
again = subprocess.run(command(finished, "--resume"), cwd=source, capture_output=True, text=True, timeout=600)
check(again.returncode == 0, f"resuming a finished run: {again.stderr[-500:]}")
check(f"after {epochs} complete epochs" in again.stderr, f"resuming a finished run: {again.stderr[-300:]}")
compare(finished, reference, "resumed after the last epoch")

# SIGKILL at random instants, resuming after each, until the run completes by itself; chains of such runs until
# enough kills landed.
rng = random.Random(seed)
kills, chains = 0, 0
while kills < wanted_kills:
    chains += 1
    out = os.path.join(root, f"killed{chains}")
    attempt, chain_kills = 0, 0
    while True:
        attempt += 1
        resume = ["--resume"] if os.path.exists(os.path.join(out, "run.state")) else []
        proc = subprocess.Popen(command(out, *resume), cwd=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        # Over the whole run and past its end: a run resumes from its last complete epoch, and where starting up
        # takes longer than an epoch (a sanitized build, the light data) kills before 60% of the run never let it
        # get further (a chain of 42 kills once; an endless one on the light data unsanitized). One attempt in 6
        # outlasts even a fresh run, so every chain ends.
        code = kill_at(proc, out, rng.uniform(0.02, 1.2) * duration, during_write=attempt % 2 == 0)
        if code == 0:
            break  # finished before the kill came
        check(code == -signal.SIGKILL, f"chain {chains}, attempt {attempt}: exit {code}, expected SIGKILL")
        if code != -signal.SIGKILL:
            break
        chain_kills += 1
    kills += chain_kills
    compare(out, reference, f"chain {chains}, after {chain_kills} SIGKILLs")
print(f"SIGKILL: {kills} kills in {chains} chains (seed {seed}), {in_writes} while a file was being written",
      flush=True)
check(in_writes >= min(2, wanted_kills // 3), f"only {in_writes} kills landed inside a write")

# SIGINT mid-epoch: the model saves where it stopped, and --resume replays the trained batches.
out = os.path.join(root, "interrupted")
proc = subprocess.Popen(command(out), cwd=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
deadline = time.time() + 300
while not os.path.exists(os.path.join(out, "run.state")) and time.time() < deadline and proc.poll() is None:
    time.sleep(0.005)
time.sleep(duration / 8)  # into the next epoch
proc.send_signal(signal.SIGINT)
stdout, stderr = proc.communicate(timeout=300)
check(proc.returncode == 130, f"SIGINT: exit {proc.returncode}, expected 130 (stopped mid-run?)")
check("saved the model after" in stderr, f"SIGINT saves the model: {stderr[-300:]}")
resumed = subprocess.run(command(out, "--resume"), cwd=source, capture_output=True, text=True, timeout=600)
check(resumed.returncode == 0, f"SIGINT: resumed run failed: {resumed.stderr[-500:]}")
check("and part of the next" in resumed.stderr, f"SIGINT: resumed mid-epoch: {resumed.stderr[-300:]}")
compare(out, reference, "after SIGINT")

status = summary()
if not failures:
    shutil.rmtree(root, ignore_errors=True)
sys.exit(status)
