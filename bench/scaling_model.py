#!/usr/bin/python3
"""A model, on paper, of data-parallel LeNet training on 8 and 64 machines (2 cores each, as the development machine)
over 10 and 100 Gb/s links, with a ring all-reduce of the gradients overlapped with the backward pass.

Inputs (measured on the development machine, bench/README.md sections 3, 4 and 8):
  - one machine trains 5,200 images/s (batch 128: 24.6 ms per step);
  - of a step, 48% is backward work that comes after the dense layer's gradient (98% of the bytes) is final
    (conv2 and conv1 backward, layers_bench), so an all-reduce of it can hide behind that much computation;
  - the gradients: 1,256,080 float32 = 5.02 MB per step.
Ring all-reduce (Patarasuk and Yuan; Horovod's and NCCL's): each rank sends and receives 2(N-1)/N of the bytes,
in 2(N-1) messages: time = 2(N-1)/N * S / bandwidth + 2(N-1) * latency. Latency per message: 25 us (TCP over
Ethernet; RDMA would be about 3 us). Small per-rank batches are assumed to run as fast per image as batch 128,
which flatters the strong-scaling rows (a 2-image batch keeps 2 cores far from busy)."""

IMAGES_PER_SECOND = 5200.0
HIDEABLE = 0.48
GRADIENT_BYTES = 1_256_080 * 4
LATENCY = 25e-6


def ring_allreduce_seconds(ranks, gigabits):
    bandwidth = gigabits * 1e9 / 8
    return 2 * (ranks - 1) / ranks * GRADIENT_BYTES / bandwidth + 2 * (ranks - 1) * LATENCY


def step(ranks, gigabits, per_rank_batch):
    compute = per_rank_batch / IMAGES_PER_SECOND
    comm = ring_allreduce_seconds(ranks, gigabits)
    exposed = max(0.0, comm - HIDEABLE * compute)
    return compute + exposed, compute, comm, exposed


print("| machines | link | global batch | per machine | compute (ms) | all-reduce (ms) | exposed (ms) | images/s | "
      "speed-up | limited by |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for global_batch_rule in ("fixed", "scaled"):
    for ranks in (8, 64):
        for gigabits in (10, 100):
            global_batch = 128 if global_batch_rule == "fixed" else 128 * ranks
            per_rank = global_batch / ranks
            seconds, compute, comm, exposed = step(ranks, gigabits, per_rank)
            rate = global_batch / seconds
            limit = "communication" if exposed > 0.1 * compute else "computation"
            print(f"| {ranks} | {gigabits} Gb/s | {global_batch} | {per_rank:g} | {1e3 * compute:.2f} | {1e3 * comm:.2f} | "
                  f"{1e3 * exposed:.2f} | {rate:,.0f} | {rate / IMAGES_PER_SECOND:.1f}x | {limit} |")
