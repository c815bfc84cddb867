"""Reads pipeline checkpoints (the layout in stages/model/nn/checkpoint.hpp) independently of the C++ code."""
import struct
import zlib

import numpy


def read_checkpoint(path):
    data = open(path, "rb").read()
    if data[:8] != b"PLNCKPT1":
        raise ValueError(f"{path}: not a pipeline checkpoint")
    if zlib.crc32(data[:-4]) != struct.unpack_from("<I", data, len(data) - 4)[0]:
        raise ValueError(f"{path}: CRC mismatch")
    at = 8
    version, header_length = struct.unpack_from("<II", data, at)
    at += 8 + header_length
    epochs_done, run_epochs, seed, iterations = struct.unpack_from("<4Q", data, at)
    at += 32
    (records,) = struct.unpack_from("<I", data, at)
    at += 4 + records * 24
    (count,) = struct.unpack_from("<I", data, at)
    at += 4
    tensors = {}
    for _ in range(count):
        (name_length,) = struct.unpack_from("<I", data, at)
        at += 4
        name = data[at:at + name_length].decode()
        at += name_length
        (rank,) = struct.unpack_from("<I", data, at)
        at += 4
        shape = struct.unpack_from(f"<{rank}Q", data, at)
        at += 8 * rank
        size = int(numpy.prod(shape)) if rank else 1
        tensors[name] = numpy.frombuffer(data, dtype="<f4", count=size, offset=at).reshape(shape)
        at += 4 * size
    return {"version": version, "epochs_done": epochs_done, "iterations": iterations, "tensors": tensors}
