"""Read TensorFlow-1 checkpoints (``.index`` + ``.data-*``) without TensorFlow.

The ``.index`` file is a LevelDB-format SSTable mapping variable names to
``BundleEntryProto`` messages that point into the raw ``.data`` shard.
"""
from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

_MAGIC = 0xDB4775248B80FB57
_FOOTER_SIZE = 48
_BLOCK_TRAILER = 5  # compression type byte + crc32
_DTYPES = {1: np.float32, 2: np.float64, 3: np.int32, 9: np.int64}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, pos
        shift += 7


def _proto_fields(buf: bytes) -> dict[int, list]:
    """Minimal protobuf decoder: field number -> list of raw values (ints or bytes)."""
    fields: dict[int, list] = {}
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        fields.setdefault(number, []).append(value)
    return fields


def _block_entries(data: bytes, offset: int, size: int):
    """Yield (key, value) from one uncompressed SSTable block."""
    block = data[offset:offset + size]
    if data[offset + size] != 0:
        raise ValueError("compressed SSTable blocks are not supported")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * num_restarts
    pos, key = 0, b""
    while pos < end:
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + value_len]
        pos += value_len


def _read_handle(buf: bytes, pos: int) -> tuple[int, int, int]:
    offset, pos = _varint(buf, pos)
    size, pos = _varint(buf, pos)
    return offset, size, pos


def read_checkpoint(prefix: str | Path) -> dict[str, np.ndarray]:
    """Return every float/int variable of the checkpoint at ``prefix`` (path without suffix)."""
    prefix = str(prefix)
    index = Path(prefix + ".index").read_bytes()
    if len(index) < _FOOTER_SIZE or struct.unpack_from("<Q", index, len(index) - 8)[0] != _MAGIC:
        raise ValueError(f"{prefix}.index is not a TensorFlow checkpoint index")
    footer = index[-_FOOTER_SIZE:]
    _, _, pos = _read_handle(footer, 0)  # metaindex handle: unused
    idx_offset, idx_size, _ = _read_handle(footer, pos)

    data_files: dict[int, bytes] = {}
    tensors: dict[str, np.ndarray] = {}
    for _, handle in _block_entries(index, idx_offset, idx_size):
        blk_offset, blk_size, _ = _read_handle(handle, 0)
        for key, value in _block_entries(index, blk_offset, blk_size):
            if not key:  # the header entry
                continue
            fields = _proto_fields(value)
            dtype = _DTYPES.get(fields.get(1, [0])[0])
            if dtype is None:
                continue
            dims = [_proto_fields(d).get(1, [0])[0]
                    for d in _proto_fields(fields[2][0]).get(2, [])] if 2 in fields else []
            shard = fields.get(3, [0])[0]
            offset, nbytes = fields.get(4, [0])[0], fields.get(5, [0])[0]
            if shard not in data_files:
                data_files[shard] = Path(f"{prefix}.data-{shard:05d}-of-00001").read_bytes()
            raw = data_files[shard][offset:offset + nbytes]
            tensors[key.decode()] = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(dims).copy()
    return tensors
