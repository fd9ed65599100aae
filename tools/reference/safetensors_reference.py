"""Well-formed safetensors files written independently of @symseq/nn's writer (struct + json only).

The `safetensors` Python package is not in Debian, so this follows its format description
(huggingface/safetensors README) by hand, including things our writer never produces: tensor names
whose alphabetical order differs from their byte order, a zero-element and a scalar tensor,
non-ASCII names, an I64 tensor, an empty file. Run with /usr/bin/python3; writes
packages/nn/test/fixtures/reference_*.safetensors and reference_layout.expected.json.
"""
import json
import struct
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[2] / "packages/nn/test/fixtures"
OUT.mkdir(parents=True, exist_ok=True)


def bf16_bytes(values):
    """bfloat16 = the high 16 bits of float32 (round-to-nearest-even), little-endian."""
    u = np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return rounded.tobytes(), rounded.astype(np.uint32) << 16


def write(path, order, tensors, metadata=None, pad=True):
    """tensors: name -> (dtype, shape, raw bytes); `order` lays the data out in this name order."""
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name in order:
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, ensure_ascii=False).encode("utf-8")
    if pad:
        h += b" " * ((8 - len(h) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


f32 = np.array([[0.25, -1.5, 3.0], [1e-20, -0.0, 7.5]], dtype=np.float32)
f16 = np.array([0.5, -2.0, 65504.0, 6.103515625e-05], dtype=np.float16)
bf16_raw, bf16_bits = bf16_bytes([1.0, -3.5, 1e10, 0.0078125, 3.14159])
bf16_vals = bf16_bits.astype(np.uint32).view(np.float32)
scalar = np.array(42.0, dtype=np.float32)
tensors = {
    "z.first_in_bytes": ("F32", list(f32.shape), f32.tobytes()),
    "a.half": ("F16", list(f16.shape), f16.tobytes()),
    "m.empty": ("F32", [0, 3], b""),
    "größe.β": ("BF16", [5], bf16_raw),
    "s.scalar": ("F32", [], scalar.tobytes()),
}
# Byte order differs from name order (the reference reader sorts by offsets, not names).
order = ["z.first_in_bytes", "m.empty", "größe.β", "a.half", "s.scalar"]
write(OUT / "reference_layout.safetensors", order, tensors, metadata={"framework": "numpy", "note": "ünï"})
expected = {
    "z.first_in_bytes": {"shape": [2, 3], "data": f32.reshape(-1).astype(float).tolist()},
    "a.half": {"shape": [4], "data": f16.astype(np.float32).astype(float).tolist()},
    "m.empty": {"shape": [0, 3], "data": []},
    "größe.β": {"shape": [5], "data": bf16_vals.astype(float).tolist()},
    "s.scalar": {"shape": [], "data": [42.0]},
}
(OUT / "reference_layout.expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n")

# Unpadded header and an I64 tensor: the layout is valid, the dtype is one the reader does not convert.
i64 = np.array([0, 1, 2, 3], dtype=np.int64)
write(
    OUT / "reference_int64.safetensors",
    ["w", "position_ids"],
    {"w": ("F32", [2], np.array([1, 2], dtype=np.float32).tobytes()), "position_ids": ("I64", [4], i64.tobytes())},
    pad=False,
)
# No tensors at all: `{}` padded to 8 bytes, as the reference writer does for an empty dict.
write(OUT / "reference_empty.safetensors", [], {})
print("wrote", OUT)
