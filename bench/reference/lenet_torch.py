#!/usr/bin/python3
"""The seed recipe of configs/lenet_mnist.yaml in PyTorch (Debian's python3-torch, CPU): the reference for
our accuracy curve and our speed.

LeNet (conv 20 5x5 same, relu, maxpool 2, conv 50 5x5 same, relu, maxpool 2, dense 500, relu, dense 10),
Glorot-uniform weights and zero biases as Keras, softmax cross-entropy averaged over the batch, plain SGD
lr 0.01, batch 128, reshuffled every epoch. Data is preloaded as tensors so loading costs nothing.

  /usr/bin/python3 bench/reference/lenet_torch.py --data data/mnist --epochs 20 --threads 2 [--best] [--json out.json]
  --best: what PyTorch is fastest with here: channels_last, its BLAS on one thread, and tcmalloc (Debian's
          libtcmalloc-minimal4, preloaded by re-running this script) in place of glibc's malloc, whose returns of
          freed pages to the system made PyTorch's training 1.8-1.9x slower (bench/README.md, section 10)
  --bench N: no training run; time N training batches (after warm-up) and inference on the test set, print JSON
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn


TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"


def allocator():
    return "tcmalloc" if TCMALLOC in os.environ.get("LD_PRELOAD", "") else "glibc malloc"


def rerun_at_best():
    """Runs this script again with tcmalloc preloaded and one BLAS thread, unless it already has them."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    if os.path.exists(TCMALLOC) and allocator() != "tcmalloc":
        env["LD_PRELOAD"] = " ".join(filter(None, [TCMALLOC, os.environ.get("LD_PRELOAD", "")]))
    if env != dict(os.environ):
        os.execve(sys.executable, [sys.executable] + sys.argv, env)
    if not os.path.exists(TCMALLOC):
        print(f"lenet_torch.py: {TCMALLOC} is missing (apt-get install libtcmalloc-minimal4), so PyTorch at its "
              "best runs on glibc's malloc, with which it trains up to 1.9x slower", file=sys.stderr)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    ndims = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndims).reshape(dims)


def load(data_dir):
    def images(name):
        return torch.from_numpy(read_idx(f"{data_dir}/{name}").astype(np.float32) / 255.0).unsqueeze(1)

    def labels(name):
        return torch.from_numpy(read_idx(f"{data_dir}/{name}").astype(np.int64))

    return (images("train-images-idx3-ubyte.gz"), labels("train-labels-idx1-ubyte.gz"),
            images("t10k-images-idx3-ubyte.gz"), labels("t10k-labels-idx1-ubyte.gz"))


def lenet():
    model = nn.Sequential(
        nn.Conv2d(1, 20, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 50, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(50 * 7 * 7, 500), nn.ReLU(), nn.Linear(500, 10))
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def evaluate(model, x, y, batch, fmt):
    model.eval()
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    total, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = x[i:i + batch].contiguous(memory_format=fmt)
            out = model(xb)
            total += loss_fn(out, y[i:i + batch]).item()
            correct += (out.argmax(1) == y[i:i + batch]).sum().item()
    return total / len(x), correct / len(x)


def bench(model, opt, loss_fn, x_train, y_train, x_test, y_test, args, fmt):
    """Steady-state images/s, as build/bench/train_bench measures ours: median of --repeats."""
    batches = [(x_train[i:i + args.batch].contiguous(memory_format=fmt), y_train[i:i + args.batch])
               for i in range(0, args.batch * args.bench, args.batch)]
    test = [x_test[i:i + args.batch].contiguous(memory_format=fmt) for i in range(0, len(x_test), args.batch)]

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss_fn(model(xb), yb).backward()
        opt.step()

    model.train()
    for xb, yb in batches[:5]:
        step(xb, yb)
    train, infer = [], []
    for _ in range(args.repeats):
        model.train()
        start = time.perf_counter()
        for xb, yb in batches:
            step(xb, yb)
        train.append(args.batch * len(batches) / (time.perf_counter() - start))
        model.eval()
        start = time.perf_counter()
        with torch.no_grad():
            for xb in test:
                model(xb)
        infer.append(len(x_test) / (time.perf_counter() - start))
    print(json.dumps({"threads": args.threads, "best": args.best, "train_images_per_second": sorted(train)[len(train) // 2],
                      "inference_images_per_second": sorted(infer)[len(infer) // 2],
                      "batch1_latency_ms": single_image_latency_ms(model, x_test, fmt), "torch": torch.__version__,
                      "allocator": allocator()}))


def single_image_latency_ms(model, x_test, fmt, images=500):
    """Median time to predict one image (batch 1), as a service answering one request would."""
    model.eval()
    times = []
    with torch.no_grad():
        for i in range(images + 20):
            xb = x_test[i:i + 1].contiguous(memory_format=fmt)
            start = time.perf_counter()
            model(xb)
            times.append(time.perf_counter() - start)
    return 1e3 * sorted(times[20:])[images // 2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="data/mnist")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--best", action="store_true", help="channels_last, 1 BLAS thread, tcmalloc")
    p.add_argument("--json", help="write the per-epoch history here")
    p.add_argument("--bench", type=int, default=0, help="time this many training batches and print JSON")
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    if args.best:
        rerun_at_best()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    fmt = torch.channels_last if args.best else torch.contiguous_format
    x_train, y_train, x_test, y_test = load(args.data)
    model = lenet().to(memory_format=fmt)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    if args.bench:
        bench(model, opt, loss_fn, x_train, y_train, x_test, y_test, args, fmt)
        return
    history = []
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, best={args.best}, {allocator()}", flush=True)
    for epoch in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(len(x_train))
        total, correct = 0.0, 0
        for i in range(0, len(order), args.batch):
            idx = order[i:i + args.batch]
            xb = x_train[idx].contiguous(memory_format=fmt)
            yb = y_train[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += (out.argmax(1) == yb).sum().item()
        train_seconds = time.perf_counter() - start
        start = time.perf_counter()
        val_loss, val_acc = evaluate(model, x_test, y_test, args.batch, fmt)
        eval_seconds = time.perf_counter() - start
        row = {"epoch": epoch + 1, "loss": total / len(order), "accuracy": correct / len(order),
               "val_loss": val_loss, "val_accuracy": val_acc, "train_seconds": train_seconds,
               "eval_seconds": eval_seconds, "train_images_per_second": len(order) / train_seconds,
               "eval_images_per_second": len(x_test) / eval_seconds}
        history.append(row)
        print(f"Epoch {epoch + 1}/{args.epochs} - {train_seconds + eval_seconds:.1f}s - loss: {row['loss']:.4f} - "
              f"accuracy: {row['accuracy']:.4f} - val_loss: {val_loss:.4f} - val_accuracy: {val_acc:.4f} "
              f"({row['train_images_per_second']:.0f} train img/s, {row['eval_images_per_second']:.0f} eval img/s)",
              flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "best": args.best, "torch": torch.__version__, "allocator": allocator(),
                       "history": history}, f, indent=1)


if __name__ == "__main__":
    main()
