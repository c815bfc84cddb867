#!/usr/bin/python3
"""The console's progress bar in a pseudo-terminal, as a user sees it: "Epoch n/N" before the epoch's bar, a bar with
its total and an ETA from the first epoch on (the source knows its size), ms/step and img/s, the evaluation's
own speed, and Keras' closing line per epoch."""
import os
import pty
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from checks import check, failures, summary  # noqa: E402
from light import QUICK_IMAGES, quick_limits  # noqa: E402

pipeline, source, data, out = sys.argv[1:5]


master, slave = pty.openpty()
proc = subprocess.Popen([pipeline, "run", "configs/lenet_mnist_quick.yaml", "--set", "epochs=2", "--set",
                         f"vars.data_dir={data}", "--set", f"output_dir={out}", "--set", "console.report=false", *quick_limits()],
                        cwd=source, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
raw = b""
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:
        break
    if not chunk:
        break
    raw += chunk
proc.wait()
check(proc.returncode == 0, f"run exit {proc.returncode}")
# What the terminal shows over time: every redraw (\r ESC[K) or new line is a frame.
frames = [f.rstrip("\r") for f in re.split(r"\r\x1b\[K|\n", raw.decode())]
epoch1 = frames.index("Epoch 1/2") if "Epoch 1/2" in frames else -1
check(epoch1 >= 0, "an 'Epoch 1/2' line heads the first epoch")
bar = re.compile(r"^(train|test) (\d+)/(\d+) \[[=>.]{30}\] - (ETA: \d+s|\d+s) - (\d+)ms/step - (\d+) img/s - loss: ")
first_epoch = frames[epoch1 + 1:frames.index("Epoch 2/2")] if "Epoch 2/2" in frames else []
bars = [m for m in map(bar.match, first_epoch) if m]
batches = -(-QUICK_IMAGES // 32)  # 63 for 2,000 images
check(len(bars) > 0.79 * 2 * batches, f"the bar redraws batch by batch in the first epoch ({len(bars)} frames)")
check(all(m.group(3) == str(batches) for m in bars),
      f"its total ({QUICK_IMAGES} samples / 32 = {batches} batches) is known from the first epoch")
check(any(m.group(4).startswith("ETA") for m in bars), "an ETA while the epoch runs")
train = [m for m in bars if m.group(1) == "train"]
test = [m for m in bars if m.group(1) == "test"]
check(train and test, "both streams shown")
if train and test:
    train_rate, test_rate = int(train[-1].group(6)), int(test[-1].group(6))
    # Evaluation runs only the forward pass: its own speed is higher than training's, not ten times lower.
    check(test_rate > train_rate, f"evaluation speed {test_rate} img/s against training's {train_rate}")
closing_line = re.compile(rf"^{batches}/{batches} \[={{30}}\] - [\d.]+s \d+ms/step - loss: .* - val_accuracy: ")
closing = [f for f in first_epoch if closing_line.match(f)]
check(len(closing) == 1, "Keras' closing line ends the epoch")
sys.exit(summary())
